"""The literal prefilter: a pattern scanned with only the alternatives a text can match finds
exactly what the whole pattern finds."""

import re

from hypothesis import given
from hypothesis import strategies as st

from agent.lang import load_pack
from agent.lang.literals import Prefiltered, needed
from tests.conftest import persona_statements, texts_of

PACK = load_pack()


def _prefiltered() -> dict[str, Prefiltered]:
    out = {}
    for owner in (PACK.meaning, PACK.guide):
        for name in dir(type(owner)):
            if name.endswith("_re") and isinstance(getattr(owner, name), Prefiltered):
                out[f"{type(owner).__name__}.{name}"] = getattr(owner, name)
    for i, (pattern, _) in enumerate(PACK.guide.hedge_patterns):
        out[f"hedge {i}"] = pattern
    return out


PATTERNS = _prefiltered()


def _words() -> list[str]:
    words = set()
    for pattern in PATTERNS.values():
        for alternative in pattern.alternatives:
            words.update(re.findall(r"[A-Za-z0-9%$/'’-]+", alternative))
    return sorted(words)


def _same(pattern: Prefiltered, text: str) -> None:
    full = pattern.pattern
    assert [m.span() for m in pattern.finditer(text)] == [m.span() for m in full.finditer(text)]
    assert bool(pattern.search(text)) == bool(full.search(text))
    found, whole = pattern.match(text), full.match(text)
    assert (found and found.span()) == (whole and whole.span())
    assert pattern.sub("#", text) == full.sub("#", text)


def test_the_pack_scans_its_long_phrase_lists_with_a_prefilter():
    assert {"MeaningWords.excluding_re", "Guide.dont_know_re", "hedge 0"} <= set(PATTERNS)


def test_prefiltered_patterns_find_what_the_whole_pattern_finds_in_persona_answers():
    texts = persona_statements(remarks=True)
    for pattern in PATTERNS.values():
        for text in texts:
            _same(pattern, text)


@given(
    texts_of(
        _words(),
        ["they", "we", "the", "30%", "of", "a", "I", "no", "-", "it's"],
        [" ", ", ", " - ", ". "],
        12,
    )
)
def test_prefiltered_patterns_hold_for_texts_made_of_their_own_words(text):
    for variant in (text, text.capitalize(), text.upper()):
        for pattern in PATTERNS.values():
            _same(pattern, variant)


def test_what_a_pattern_cannot_match_without():
    assert needed(r"\bbest (ones|customers|fit) (are|have|run)\b") == ("best ",)
    assert needed(r"\bthe (best|top) (\w+ )?channels? (is|are)\b") == ("channel",)  # rarest
    assert needed("spreadsheets?") == ("spreadsheet",)
    assert needed(r"(?:stopped|quit) (?:chasing|selling to)") == ("chasing", "selling to")
    assert needed(r"^(also |and )?when\b") == ("when",)
    assert needed(r"[$€£]\s?\d") == ("$", "€", "£")
    assert needed(r"\d+") is None
    assert needed(r"(a|\w+s) said") == (" said",)


@given(st.text(alphabet="abcdefghijklmnoprstuvwxyz ,.-$%€k", max_size=40))
def test_a_text_with_no_digit_and_no_number_word_has_no_quantity(text):
    numbers = PACK.numbers
    for variant in (text, f"{text} one", f"a dozen {text}", f"{text}half a"):
        if not any(c.isdigit() for c in variant) and not numbers.number_word.search(variant):
            assert numbers.quantity.search(variant) is None


@given(
    st.lists(
        st.sampled_from(["ab", "abc", "bc", r"b\w+", r"\bca", "c ?a", "a{2,}", r"(?<!x)bb", "cab"]),
        min_size=1,
        max_size=4,
        unique=True,
    ),
    st.text(alphabet="abcx ", max_size=30),
)
def test_alternation_matches_are_those_of_the_joined_pattern(cues, text):
    from agent.lang.literals import alternation_matches

    joined = re.compile("|".join(f"(?:{c})" for c in cues))
    alone = [re.compile(c) for c in cues]
    assert [m.span() for m in alternation_matches(alone, text)] == [
        m.span() for m in joined.finditer(text)
    ]
