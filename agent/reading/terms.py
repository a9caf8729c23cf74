"""Finding the language pack's generic B2B terms (`vocabulary.yaml`) and names in text."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from agent.lang.vocabulary import Vocabulary
from agent.reading.statements import find_entities

_OPENING_MARKS = " \t\"'“‘(*•-"  # may stand between a sentence's end and its first word
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


def vocabulary() -> Vocabulary:
    """The word lists of the default language pack."""
    from agent.lang import load_pack

    return load_pack().vocabulary


def fold(text: str) -> str:
    """Compatibility-normalised, case-folded text with plain apostrophes, for comparing."""
    return unicodedata.normalize("NFKC", text).replace("’", "'").casefold()


def _plural(term: str) -> str:
    if re.search(r"[^aeiou]y$", term):
        return re.escape(term[:-1]) + "(?:y|ies)"
    if term.endswith(("s", "x", "ch", "sh")):
        return re.escape(term) + "(?:es)?"
    return re.escape(term) + "(?:s|es)?"


@cache
def term_pattern(term: str, strict_short: bool = True) -> re.Pattern[str]:
    """A whole-word pattern for a term that also matches its plural.

    With `strict_short`, terms of three characters or fewer ("us", "it", "dso") only match
    when written in capitals, so the pronoun "us" is not the country.
    """
    body = _plural(term.lower())
    if strict_short and len(term) <= 3:
        return re.compile(rf"(?<![\w-]){body.upper()}(?![\w-])")
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", re.IGNORECASE)


_TOKEN = re.compile(r"\w+(?:-\w+)*")
_WORDS = re.compile(r"\w+(?:-\w+)*(?:\s+\w+(?:-\w+)*)*")


@cache
def _index(terms: tuple[str, ...]) -> tuple[dict[str, str], int]:
    """Every written form of a word list (plurals too) mapped to its term; the longest term's
    length in words."""
    forms: dict[str, str] = {}
    for term in terms:
        *head, last = term.split()
        plurals = [last, last + "s", last + "es"]
        if re.search(r"[^aeiou]y$", last):
            plurals.append(last[:-1] + "ies")
        for form in plurals:
            forms.setdefault(" ".join([*head, form]), term)
    return forms, max((len(t.split()) for t in terms), default=1)


def find_terms(text: str, terms: tuple[str, ...], strict_short: bool = True) -> list[str]:
    """The terms that occur in `text` as whole words, in text order; the longest term at a
    place wins ("third-party logistics", not "logistics"). With `strict_short`, terms of three
    characters or fewer ("us", "dso") only count in capitals, so the pronoun "us" is no country.
    """
    text = unicodedata.normalize("NFKC", text)
    forms, longest = _index(tuple(terms))
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    out: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        for k in range(min(longest, len(tokens) - i), 0, -1):
            start, end = tokens[i][0], tokens[i + k - 1][1]
            if k > 1 and not _WORDS.fullmatch(text, start, end):
                continue  # the words of a term are separated by spaces only
            written = " ".join(text[start:end].split())
            term = forms.get(fold(written))
            if term is None:
                continue
            if len(term) <= 3:
                if strict_short and not written[: len(term)].isupper():
                    continue
                term = term.upper()
            elif written[:1].isupper():  # keep the speaker's capitals: "Texas", "Midwest"
                term = written if fold(written) == term else term[:1].upper() + term[1:]
            out.setdefault(fold(term), term)
            i += k - 1
            break
        i += 1
    return list(out.values())


def markets(text: str, vocab: Vocabulary | None = None) -> list[str]:
    """The kinds of company and the places a text names (the vocabulary's industries, then its
    regions)."""
    vocab = vocab or vocabulary()
    return find_terms(text, vocab.industries) + find_terms(text, vocab.regions)


def has_term(value: str, term: str) -> bool:
    """True when an account's field value contains the term as a whole word (any case)."""
    return bool(term_pattern(term.lower(), False).search(unicodedata.normalize("NFKC", value)))


def singular(word: str) -> str:
    """A rough singular form, enough to match "warehouses" with "warehouse"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def content_words(text: str) -> set[str]:
    """The words that carry meaning, singular and folded: for comparing two statements."""
    stop = vocabulary().stopwords
    out = set()
    for m in _WORD.finditer(fold(text)):
        word = m.group(0).replace("'", "")
        if word in stop or len(word) < 3 or word.isdigit():
            continue
        out.add(singular(word))
    return out


def _opener(word: str) -> bool:
    """True for an ordinary word that opens sentences ("Runs", "Using", "Mostly")."""
    word = fold(word)
    forms = {word, word.removesuffix("s"), word.removesuffix("es"), word.removesuffix("d")}
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    for suffix in ("ed", "ing"):
        if word.endswith(suffix):
            stem = word.removesuffix(suffix)
            forms |= {stem, stem + "e", stem[:-1] if stem[-2:-1] == stem[-1:] else stem}
    return bool(forms & vocabulary().openers)


def _only_opens(text: str, name: str) -> bool:
    """True when every place `name` occurs in `text` starts a sentence."""
    places = [m.start() for m in re.finditer(re.escape(name), text)]
    before = [text[:i].rstrip(_OPENING_MARKS) for i in places]
    return bool(places) and all(not b or b[-1] in ".!?:;\n" for b in before)


def names(text: str) -> list[str]:
    """Named products, tools and brands in `text`: entities that are not places, titles or dates."""
    vocab = vocabulary()
    skip = vocab.not_names | set(vocab.regions) | set(vocab.roles)
    text = unicodedata.normalize("NFKC", text)
    out = []
    for name in find_entities(text):
        words = name.split()
        while words and fold(words[0]) in vocab.articles:  # "The CFO" is a title, not a name
            words = words[1:]
        # "Runs Dentrix": a verb capitalised because it opens the sentence is no part of the name
        if len(words) > 1 and _opener(words[0]) and _only_opens(text, name):
            words = words[1:]
        name = " ".join(words)
        folded = fold(name)
        if (
            name
            and folded not in skip
            and singular(folded) not in skip
            and not folded.startswith(vocab.arrivals.new + " ")
        ):
            out.append(name)
    return list(dict.fromkeys(out))


def new_roles(text: str) -> list[str]:
    """Arrivals named as triggers: "a new CFO or controller" gives ["new CFO", "new controller"]."""
    vocab = vocabulary()
    roles, arrivals = vocab.roles, vocab.arrivals
    out = []
    for m in arrivals.pattern.finditer(unicodedata.normalize("NFKC", text)):
        for part in arrivals.split.split(m.group(1)):
            head = fold(part.split()[0])
            if head in roles:
                out.append(f"{arrivals.new} {part.strip()}")
    return list(dict.fromkeys(out))
