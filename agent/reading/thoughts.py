"""Statements grouped into thoughts, who said a quote, and an item made from a statement."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.lang import Pack, load_pack
from agent.profile.models import Evidence, Item
from agent.reading.meaning import Meaning, read_answer
from agent.reading.sections import STRONG, section_scores
from agent.reading.statements import (
    BULLET,
    Reading,
    Span,
    find_quotes,
    is_filler,
)

CONTINUATION_WORDS = 10  # "That renews them." follows on; a full sentence of its own does not
_LETTER_DIGIT_LETTER = re.compile(r"[a-z]\d[a-z]")


def said_by(statement: str, quote_start: int, pack: Pack | None = None) -> str:
    """Who said the quoted words, from the words before the quote ("one controller told us")."""
    words = (pack or load_pack()).reading.said_by
    matches = list(words.pattern.finditer(statement[:quote_start]))
    if not matches:
        return ""
    who = words.determiner.sub("", matches[-1].group(1).strip())
    return "" if who.lower() in words.nobody else who


def tidy(text: str) -> str:
    """Item text from a statement: first letter capitalised, whitespace collapsed.

    A first word like "b2b" or "p2p" is an acronym: "B2B saas", not "B2b saas".
    """
    text = " ".join(text.split())
    first, _, rest = text.partition(" ")
    if _LETTER_DIGIT_LETTER.fullmatch(first):
        return f"{first.upper()} {rest}".rstrip()
    return text[:1].upper() + text[1:]


@dataclass
class Thought:
    """One or more statements that make one fact: what it says, where it was said, and how."""

    span: Span  # the words as said: the evidence
    text: str  # what the item says (corrections applied)
    meanings: list[Meaning]

    @property
    def excludes(self) -> bool:
        """It says who is not a fit."""
        return any(m.excludes for m in self.meanings)

    @property
    def targets(self) -> bool:
        """It says it is about the best customers."""
        return any(m.targets for m in self.meanings)

    @property
    def negations(self) -> list[str]:
        """The phrases it denies."""
        return [n for m in self.meanings for n in m.negations]

    @property
    def aside(self) -> bool:
        """Every statement of it opens with the speaker or their company, not the customers."""
        return all(m.aside for m in self.meanings)

    @property
    def corrects_previous(self) -> bool:
        """It opens as a correction of the thought before it."""
        return self.meanings[0].corrects_previous

    @property
    def certain(self) -> bool:
        """Read without doubt."""
        return all(m.certain for m in self.meanings) and not (self.excludes and self.targets)


def thoughts(answer: str, pack: Pack, topic: str | None = None) -> list[Thought]:
    """The content statements of an answer grouped into thoughts: a short follow-on sentence
    with no cue of its own ("An acquisition. Thousands of inherited contracts nobody can
    find.") stays with the one before it, so a fact is never split across sections. Statements
    that answer nothing are left out, and never glued to their neighbours."""
    groups: list[Thought] = []
    joinable, size = False, 0
    for meaning in read_answer(answer, pack, topic):
        span = meaning.content
        if not meaning.says or is_filler(span.text, pack) or not _says(span.text, pack):
            joinable = False
            continue
        follows = (
            joinable
            and size < 3
            and not meaning.corrects_previous
            and not meaning.about_us
            and not meaning.aside
            and not _listed(answer, span)
            and len(span.text.split()) <= CONTINUATION_WORDS
            and max(section_scores(span.text, pack.guide).values()) < STRONG
            and not find_quotes(span.text)
        )
        if follows:
            last = groups[-1]
            whole = Span(last.span.start, span.end, answer[last.span.start : span.end])
            groups[-1] = Thought(whole, f"{last.text} {meaning.text}", [*last.meanings, meaning])
            size += 1
        else:
            groups.append(Thought(span, meaning.text, [meaning]))
            size = 1
        joinable = not find_quotes(span.text)
    return groups


def _says(text: str, pack: Pack) -> bool:
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
        and word not in pack.reading.replies
        and word not in pack.reading.talk_words
        and not word.endswith(tuple(pack.reading.adverb_endings))
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


def item_from(text: str, turn: int, reading: Reading, quote: str | None = None) -> Item:
    """An item from a statement: its tidied text, the words said as evidence (`quote`, else the
    text itself), what it measures."""
    return Item(
        text=tidy(text),
        evidence=[Evidence(turn=turn, quote=quote or text)],
        concrete=reading.concrete,
        quantities=reading.quantities,
    )
