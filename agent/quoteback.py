"""What a follow-up quotes back from a vague answer, and which kind of follow-up fits it."""

from __future__ import annotations

import re

from .analysis import normalise

# Words a quoted-back phrase stops before, and words it may not end on (hedge_context).
_PHRASE_BREAKS = frozenset(
    "is are was were be been am do does did have has had just really also still only even "  # noqa: SIM905
    "don't doesn't didn't won't can't isn't aren't wasn't never always because but so "
    "then when if which who that like away out up off back down over around get gets got "
    "and or how what why where we they i you usually mostly often sometimes typically whose "
    "can could would should will might must haven't hasn't wouldn't couldn't weren't".split()
)
_DANGLING = frozenset(
    "of the a an to in on for with at by from and or their our its my this about into as than "  # noqa: SIM905
    "per through via your his her some here there".split()
)


def hedge_context(statement: str, hedge: str, after: int = 3) -> str:
    """The hedge with up to `after` following words, for quoting back ("some marketing").

    The phrase ends before a verb-like word ("some buildings", not "some buildings just") and
    never on a word that needs another after it ("a lot of old equipment", not "a lot of").
    """
    found = re.search(rf"(?<!\w){re.escape(hedge)}(?!\w)", statement)  # not "handsome"
    if not found:
        return hedge
    rest = re.match(rf"(?:\s+[\w'’-]+){{0,{after}}}", statement[found.end() :])
    words = rest.group(0).split() if rest else []
    cut = next((i for i, w in enumerate(words) if normalise(w).lower() in _PHRASE_BREAKS), None)
    words = words[:cut]
    while words and normalise(words[-1]).lower() in _DANGLING:
        words.pop()
    return _lower_first(" ".join([hedge, *words]).strip())


# Words that carry nothing on their own: a phrase of only these ("a lot of it", "that kind of
# thing", "the usual stuff") is no phrase to quote back.
_NOTHING = """
    stuff thing things kind kinds sort sorts way ways one ones it them they others other place
    everyone everybody everything world suspects lot lots bunch couple few several many much
    plenty some usual typical whatever etc it's there's that's there here these those very
    pretty quite all honestly mainly basically say says said go goes make makes take takes
    know mean turn
"""
_EMPTY = frozenset(_NOTHING.split()) | _PHRASE_BREAKS | _DANGLING
_LEADING = frozenset("and or but so then also plus like".split())  # noqa: SIM905
_CLAUSE = re.compile(r"[,;:()—–]|\s-\s")
_QUANTITY = re.compile(
    r"^(a few|a couple( of)?|several|many|a lot of|lots of|a bunch of|plenty( of)?)\s"
)
_PLURAL = frozenset("people staff folks men women children personnel".split())  # noqa: SIM905


def quote_back(statement: str, hedge: str, kind: str) -> tuple[str, str] | None:
    """The words to quote back for a hedge and the kind of follow-up they call for, or None.

    "some trade shows" asks which ones; "a lot of hassle" (nothing to count) asks for an
    example; "Referrals, a lot of it" quotes "referrals", since "a lot of it" says nothing.
    """
    phrase = hedge_context(statement, hedge)
    if kind == "depends" or _has_content(phrase):
        if kind == "number" and _QUANTITY.match(phrase.lower()):
            last = phrase.split()[-1].lower()
            kind = kind if last.endswith("s") or last in _PLURAL else "generic"
        return phrase, kind
    found = re.search(rf"(?<!\w){re.escape(hedge)}(?!\w)", statement)
    before = statement[: found.start()] if found else ""
    for clause in reversed(_CLAUSE.split(before)[-3:]):
        words = _trim(clause.split())
        if words and _word(clause.split()[0]) != "like":  # "like always" is an aside
            return _lower_first(" ".join(words)), "generic"
    return None


def _has_content(phrase: str) -> bool:
    return any(_word(w) not in _EMPTY for w in phrase.split())


def _word(word: str) -> str:
    return normalise(word).lower().strip(".,;:!?\"'“”()")


def _trim(words: list[str]) -> list[str]:
    """A clause without leading conjunctions or trailing function words; [] if nothing is left."""
    while words and _word(words[0]) in _LEADING:
        words = words[1:]
    while words and _word(words[-1]) in _EMPTY:
        words = words[:-1]
    return words if any(_word(w) not in _EMPTY for w in words) else []


def _lower_first(phrase: str) -> str:
    """A sentence-initial capital made lower case; names and "I" keep theirs."""
    first = phrase.split(" ", 1)[0]
    if first != "I" and first[:1].isupper() and (first[1:].islower() or len(first) == 1):
        return phrase[0].lower() + phrase[1:]
    return phrase
