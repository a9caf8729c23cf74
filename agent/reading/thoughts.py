"""Statements grouped into thoughts, who said a quote, and an item made from a statement."""

from __future__ import annotations

import re

from agent.lang.guide import Guide
from agent.profile.models import Evidence, Item
from agent.reading.sections import STRONG, section_scores
from agent.reading.statements import (
    BULLET,
    Reading,
    Span,
    find_quotes,
    is_filler,
    normalise,
    read_statement,
    split_statements,
)

CONTINUATION_WORDS = 10  # "That renews them." follows on; a full sentence of its own does not
_SAID_BY = re.compile(
    r"(?:^|[,;:]\s*|\b(?:an?|one|our|the|some|many|most|every|another)\s+)"
    r"((?:[A-Za-z-]+\s+){0,2}?[A-Za-z-]+?)\s+(?:(?:once|always|often|literally)\s+)?"
    r"(?:told us|tells us|says|said|say|put it|calls it|called it|wrote|asked|complained|"
    r"described it as|keep saying|kept saying)\b",
    re.IGNORECASE,
)
_DETERMINER = re.compile(r"^(?:an?|one|our|the|some|many|most|every|another)\s+", re.IGNORECASE)
# Words of a sentence that only talks about the talk (contentless).
_TALK = frozenset(
    "i we you they he she it that this there here what how so a an the and or but on about "  # noqa: SIM905
    "out up in to of could would can will should might do did is are was were be been go goes "
    "going went get got lot just really anyway well yeah all right know mean say said guess "
    "think talk talking always again too".split()
)
# One-word replies that answer nothing on their own (a few common non-English ones too).
_REPLIES = frozenset(
    "yep yup nope nah maybe perhaps correct true agreed thanks cool nice great good fine "  # noqa: SIM905
    "idk dunno sometimes mostly often never both neither either none everything nothing "
    "whatever depends unsure no yes sure ok okay hmm n/a na pass skip tbd tbc unknown same "
    "lol meh ditto nein ja non oui nada sí si nee doch".split()
)
_LETTER_DIGIT_LETTER = re.compile(r"[a-z]\d[a-z]")
_CLITIC = re.compile(r"'(?:s|re|ve|d|ll|m)$|n't$")
_PRONOUNS = {"they", "we", "he", "she", "i", "you", "it", "someone", "people", "everyone", "one"}


def said_by(statement: str, quote_start: int) -> str:
    """Who said the quoted words, from the words before the quote ("one controller told us")."""
    matches = list(_SAID_BY.finditer(statement[:quote_start]))
    if not matches:
        return ""
    m = matches[-1]
    who = _DETERMINER.sub("", m.group(1).strip())
    return "" if who.lower() in _PRONOUNS else who


def contentless(span: Span, guide: Guide) -> bool:
    """True for talk about talking ("I could go on about that.", "That's how it goes.").

    Only pronouns, auxiliaries and particles, with no cue, name or hedge: "Not for us.",
    "Too big." and "IT does." say something and are kept.
    """
    text = span.text
    words = [_CLITIC.sub("", w) for w in re.findall(r"[\w']+", normalise(text).lower())]
    if not all(w in _TALK for w in words) or re.search(r"\b[A-Z]{2,}\b", text):
        return False
    reading = read_statement(span, guide)
    if reading.quotes or reading.quantities or any(h.weight >= 1 for h in reading.hedges):
        return False
    return not any(section_scores(text, guide).values())


def tidy(text: str) -> str:
    """Item text from a statement: first letter capitalised, whitespace collapsed.

    A first word like "b2b" or "p2p" is an acronym: "B2B saas", not "B2b saas".
    """
    text = " ".join(text.split())
    first, _, rest = text.partition(" ")
    if _LETTER_DIGIT_LETTER.fullmatch(first):
        return f"{first.upper()} {rest}".rstrip()
    return text[:1].upper() + text[1:]


def thoughts(answer: str, guide: Guide) -> list[Span]:
    """Statements grouped into thoughts: a short follow-on sentence with no cue of its own
    ("An acquisition. Thousands of inherited contracts nobody can find.") stays with the one
    before it, so a fact is never split across sections."""
    groups: list[Span] = []
    joinable, size = False, 0
    for span in split_statements(answer):
        if is_filler(span.text, guide) or contentless(span, guide) or not _says(span.text):
            joinable = False
            continue
        follows = (
            joinable
            and size < 3
            and not _listed(answer, span)
            and len(span.text.split()) <= CONTINUATION_WORDS
            and max(section_scores(span.text, guide).values()) < STRONG
            and not find_quotes(span.text)
        )
        if follows:
            start = groups[-1].start
            groups[-1] = Span(start, span.end, answer[start : span.end])
            size += 1
        else:
            groups.append(span)
            size = 1
        joinable = not find_quotes(span.text)
    return groups


def _says(text: str) -> bool:
    """False for a one-word reply that names nothing ("Exactly.", "Nope.", "N/A", "Huh?")."""
    words = re.findall(r"[\w'&+/$%-]+", text)
    if len(words) != 1:
        return len(words) > 1
    word = words[0].lower()
    if any(c.isdigit() for c in word):
        return True  # "50.", "$20k", "G2"
    return (
        sum(c.isalpha() for c in word) >= 2
        and not text.rstrip().endswith("?")
        and word not in _REPLIES
        and word not in _TALK
        and not word.endswith("ly")
    )


def _listed(answer: str, span: Span) -> bool:
    """True for a statement that opens a line of a list: it never joins the one before.

    A line is a list entry when it has a marker ("- ", "1. ") or the line before it does not end
    a sentence ("b2b SaaS" / "50 to 200 employees"); "Usually an audit.\nThat's what..." joins.
    """
    line = answer.rfind("\n", 0, span.start) + 1
    if not line:
        return False
    if BULLET.match(answer, line):
        return True
    opens = not answer[line : span.start].strip()
    return opens and not answer[:line].rstrip().endswith((".", "!", "?", '"', "”"))


def item_from(text: str, turn: int, reading: Reading) -> Item:
    """An item from a statement: its tidied text, the statement as evidence, what it measures."""
    return Item(
        text=tidy(text),
        evidence=[Evidence(turn=turn, quote=text)],
        concrete=reading.concrete,
        quantities=reading.quantities,
    )
