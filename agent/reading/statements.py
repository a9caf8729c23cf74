"""Read an answer: statements, quoted customer words, hedges, numbers and named things."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import pairwise
from typing import NamedTuple

from agent.lang import Pack, load_pack
from agent.profile.models import Quantity
from agent.reading.memo import per_language
from agent.reading.quantities import find_quantities
from agent.reading.sections import cues_of
from agent.reading.text import normalise
from agent.safety import clean_text

_WORD_BEFORE = re.compile(r"([\w.]+)$")
_OPEN_DOUBLE = {'"': '"', "“": "”", "«": "»", "„": "“"}
_QUOTE_MARK = re.compile("[\"“«„'‘]")  # where a quoted passage may open
# A list marker at the start of a line: "- ", "* ", "• ", "1. ", "2) ".
BULLET = re.compile(r"^[ \t]*(?:[-*•‣▪–—]|\d{1,2}[.)])[ \t]+", re.MULTILINE)
_NUMBERING = re.compile(r"[ \t]*\d{1,2}")  # a line's text before the dot of "1. "
_ENTITY = re.compile(
    r"\b(?:[A-Z][\w&'’.-]*[A-Z0-9][\w&'’-]*|[A-Z][a-z][\w&'’-]*)(?:\s+[A-Z][\w&'’-]+)*"
)


@dataclass(frozen=True)
class Span:
    """A piece of an answer: `text == answer[start:end]`."""

    start: int
    end: int
    text: str


class Hedged(NamedTuple):
    """A hedge found in a statement: its words as said, kind, weight and where it starts."""

    text: str
    kind: str
    weight: float
    start: int


@dataclass
class Reading:
    """What one statement says and how concrete it is."""

    span: Span
    hedges: list[Hedged] = field(default_factory=list)
    quantities: list[Quantity] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    quotes: list[Span] = field(default_factory=list)
    example: bool = False
    roles: int = 0
    score: float = 0.0

    @property
    def concrete(self) -> bool:
        """A number, a named thing, quoted words or an example, not outweighed by hedges."""
        return self.score >= 1.5


def clean_answer(text: str) -> str:
    """An answer as it is stored: `safety.clean_text`."""
    return clean_text(text)


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every quoted passage, quote marks included."""
    spans, i, n = [], 0, len(text)
    while i < n:
        mark = _QUOTE_MARK.search(text, i)
        if mark is None:
            break
        i = mark.start()
        ch = text[i]
        if ch in _OPEN_DOUBLE:
            close = _OPEN_DOUBLE[ch]
            j = text.find(close, i + 1)
            if j == -1 and ch == "“":
                j = text.find('"', i + 1)
            if j > i + 1:
                spans.append((i, j + 1))
                i = j + 1
                continue
        elif (
            ch in "'‘"
            and (i == 0 or not text[i - 1].isalnum())
            and i + 1 < n
            and text[i + 1].isalpha()
        ):
            j = i + 1
            while j < n:
                if text[j] in "'’" and not (j + 1 < n and text[j + 1].isalpha()):
                    break
                j += 1
            if j < n and len(text[i + 1 : j].split()) >= 2:
                spans.append((i, j + 1))
                i = j + 1
                continue
        i += 1
    return spans


def find_quotes(text: str) -> list[Span]:
    """The customer's quoted words (without the quote marks), each at least two words long."""
    out = []
    for start, end in _quote_spans(text):
        inner_start, inner_end = start + 1, end - 1
        inner = text[inner_start:inner_end]
        stripped = inner.strip().rstrip(",")
        if len(stripped.split()) < 2:
            continue
        offset = inner.find(stripped)
        out.append(Span(inner_start + offset, inner_start + offset + len(stripped), stripped))
    return out


def split_statements(text: str, pack: Pack | None = None) -> list[Span]:
    """Split an answer into statements without breaking quotes, abbreviations or decimals."""
    words = (pack or load_pack()).reading
    protected = _quote_spans(text)  # sorted and disjoint
    starts = [a for a, _ in protected]

    def inside_quote(pos: int) -> bool:
        # Punctuation just before a closing quote mark may end the sentence: "...chaos." Then
        k = bisect_left(starts, pos) - 1  # the one span that can hold pos (linear scan was O(n²))
        return k >= 0 and pos < protected[k][1] - 2

    cuts, n = [0], len(text)
    for i, ch in enumerate(text):
        if ch == "\n":
            cuts.append(i + 1)
            continue
        if ch not in ".!?" or inside_quote(i):
            continue
        j = i + 1
        while j < n and text[j] in ".!?\"')]”’»":
            j += 1
        if j < n and not text[j].isspace():
            continue
        if ch == "." and _NUMBERING.fullmatch(text, text.rfind("\n", 0, i) + 1, i):
            continue  # "1. Fintech" numbers a line; it does not end a sentence
        if ch == ".":
            # Look back a bounded window: searching all of text[:i] made a pasted page quadratic.
            word = _WORD_BEFORE.search(text, max(0, i - words.longest_abbreviation), i)
            if word and word.group(1).lower() in words.abbreviations:
                continue
        cuts.append(j)
    cuts += [m.end() for m in words.run_on.finditer(text) if not inside_quote(m.start())]
    cuts = sorted(set(cuts))
    cuts.append(n)
    spans = []
    for a, b in pairwise(cuts):
        piece = text[a:b]
        stripped = piece.strip()
        if not stripped:
            continue
        start = a + piece.find(stripped)
        bullet = BULLET.match(stripped)
        at_line_start = not text[text.rfind("\n", 0, start) + 1 : start].strip()
        if bullet and at_line_start and bullet.end() < len(stripped):
            start += bullet.end()
            stripped = stripped[bullet.end() :]
        lead = words.leading_filler.match(stripped)
        if lead and lead.end() < len(stripped):
            start += lead.end()
            stripped = stripped[lead.end() :]
        spans.append(Span(start, start + len(stripped), stripped))
    return spans


def find_entities(text: str, pack: Pack | None = None) -> list[str]:
    """Named things: products, companies, acronyms; not ordinary sentence-initial words."""
    return list(_entities(text, pack or load_pack()))


@per_language(maxsize=8192)  # a statement is checked for names while read and while judged
def _entities(text: str, pack: Pack) -> tuple[str, ...]:
    starters = pack.reading.sentence_starters
    out = []
    for m in _ENTITY.finditer(text):
        word = m.group(0).rstrip(".")
        first = word.split()[0]
        if first in starters and " " not in word:
            continue
        at_start = m.start() == 0 or text[: m.start()].rstrip().endswith((".", "!", "?", ":"))
        camel = bool(re.search(r"[a-z][A-Z]|^[A-Z0-9]{2,}$", first))
        if at_start and not camel and " " not in word:
            continue
        out.append(word)
    return tuple(out)


def read_statement(span: Span, pack: Pack, section: str | None = None) -> Reading:
    """Judge one statement: what it contains and how concrete it is (for `section`)."""
    guide = pack.guide
    text = normalise(span.text)
    reading = Reading(span=span)
    for pattern, hedge in guide.hedge_patterns:
        for m in pattern.finditer(text):
            reading.hedges.append(
                Hedged(span.text[m.start() : m.end()], hedge.kind, hedge.weight, m.start())
            )
    reading.quantities = find_quantities(span.text, pack)
    reading.entities = find_entities(span.text, pack)
    reading.quotes = find_quotes(span.text)
    reading.example = bool(guide.example_re.search(text))
    reading.roles = len(pack.reading.title.findall(span.text))
    words = len(text.split())
    score = 2.0 * bool(reading.quantities) + 2.0 * bool(reading.quotes)
    score += min(2.0, 1.5 * len(reading.entities)) + 1.0 * reading.example
    score += min(1.0, 0.75 * reading.roles)
    score += 1.0 if words >= 10 else (-1.0 if words < 6 else 0.5)
    if section in guide.sections:
        score += min(1.0, 0.5 * len(cues_of(span.text, guide, section)))
    score -= sum(h.weight for h in reading.hedges)
    reading.score = score
    return reading


def is_dont_know(text: str, pack: Pack) -> bool:
    """True when a short answer declines: "I don't know" or "that's all" in some form."""
    guide = pack.guide
    text = _decline_text(text)
    return bool(text and (guide.dont_know_re.search(text) or guide.exhausted_re.search(text)))


def is_exhausted(text: str, pack: Pack) -> bool:
    """True when a short answer says the topic is used up ("that's all I've got")."""
    text = _decline_text(text)
    return bool(text and pack.guide.exhausted_re.search(text))


def _decline_text(text: str) -> str:
    """The answer's own words if it is short enough to be a decline, else ""."""
    if len(text.split()) > 25 or any(c.isdigit() for c in text):
        return ""
    for quote in reversed(find_quotes(text)):
        text = text[: quote.start] + text[quote.end :]
    return normalise(text)


def is_filler(text: str, pack: Pack) -> bool:
    """True for small talk that carries no content."""
    return bool(pack.guide.filler_re.search(normalise(text).strip())) and len(text.split()) < 8
