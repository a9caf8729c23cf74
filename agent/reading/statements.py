"""Read an answer: statements, quoted customer words, hedges, numbers and named things."""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import pairwise
from typing import NamedTuple

from agent.lang.guide import Guide
from agent.profile.models import Quantity
from agent.safety import clean_text

_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "st",
    "inc",
    "ltd",
    "co",
    "corp",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "approx",
    "u.s",
    "u.k",
    "no",
    "jr",
    "sr",
    "dept",
    "est",
    "fig",
    "mt",
}
_ABBREVIATION_WINDOW = 16  # longer than any abbreviation above
_WORD_BEFORE = re.compile(r"([\w.]+)$")
_OPEN_DOUBLE = {'"': '"', "“": "”", "«": "»", "„": "“"}
_LEADING_FILLER = re.compile(
    r"^(?:(?:well|so|and|but|oh|um+|uh+|yeah|yes|honestly|basically|i mean|you know|look|"
    r"ok(?:ay)?|right|actually|anyway|like)\b[,.!]?\s+)+",
    re.IGNORECASE,
)
# A list marker at the start of a line: "- ", "* ", "• ", "1. ", "2) ".
BULLET = re.compile(r"^[ \t]*(?:[-*•‣▪–—]|\d{1,2}[.)])[ \t]+", re.MULTILINE)
_NUMBERING = re.compile(r"[ \t]*\d{1,2}")  # a line's text before the dot of "1. "
_ROLE = re.compile(
    r"\b(?:CFO|CEO|CTO|CIO|CISO|COO|CRO|CMO|VP|SVP|EVP|director|manager|head of \w+|owner|"
    r"controller|founder|admin(?:istrator)?|procurement|legal|counsel|engineer|developer|"
    r"dentist|doctor|physician|nurse|principal|superintendent|partner|buyer|analyst|lead|"
    r"officer|president|IT)\b"
)
_ENTITY = re.compile(
    r"\b(?:[A-Z][\w&'’.-]*[A-Z0-9][\w&'’-]*|[A-Z][a-z][\w&'’-]*)(?:\s+[A-Z][\w&'’-]+)*"
)
_NOT_ENTITIES = {
    "I",
    "I'm",
    "I've",
    "I'd",
    "We",
    "They",
    "The",
    "A",
    "An",
    "Our",
    "Their",
    "It",
    "And",
    "But",
    "So",
    "Most",
    "Some",
    "When",
    "If",
    "That",
    "This",
    "These",
    "Those",
    "He",
    "She",
    "You",
    "Yes",
    "No",
    "Oh",
    "Well",
    "Also",
    "Usually",
    "Mostly",
    "Anyone",
    "Anything",
    "Everyone",
    "One",
    "Another",
    "Almost",
    "Then",
    "Sometimes",
    "Often",
    "Once",
    "Any",
    "All",
    "Both",
    "Good",
    "Great",
    "Honestly",
    "Actually",
    "Maybe",
    "Probably",
    "Only",
    "Just",
    "Even",
}
_WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "hundred": 100,
    "a hundred": 100,
    "a dozen": 12,
    "a thousand": 1000,
    "half a": 0.5,
}
_NUM = (
    r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\b(?:"  # "one", not the end of "phone"
    + "|".join(sorted((re.escape(w) for w in _WORD_NUMBERS), key=len, reverse=True))
    + r")\b)"
)
_SCALE = r"(?:\s?(?:k|K|m|M|mm|MM|bn|B|million|billion|thousand)\b)?"
_UNIT = (
    r"(?:(?:employees?|people|staff|FTEs?|headcount|workers?|seats?|users?|locations?|sites?|"
    r"stores?|warehouses?|offices?|clinics?|practices?|chairs?|beds?|invoices?|orders?|"
    r"shipments?|loads?|trucks?|carriers?|devices?|sensors?|machines?|lines?|plants?|"
    r"engineers?|developers?|students?|schools?|districts?|subsidiaries|entities|customers?|"
    r"deals?|contracts?|reps?|points?|pts|hours?|days?|weeks?|months?|quarters?|years?|"
    r"(?-i:hrs?|wks?|mos?|qtrs?|yrs?|ppl)|percent|per cent|"  # typed in a chat, not "HR"
    r"ARR|revenue|dollars|euros|pounds|x)\b|%)"
)
_QUANTITY = re.compile(
    rf"(?P<lead>between\s+|from\s+|over\s+|more than\s+|at least\s+|under\s+|fewer than\s+|"
    rf"less than\s+|up to\s+|about\s+|around\s+|roughly\s+|maybe\s+)?"
    rf"(?P<cur>[$€£])?\s?(?P<a>{_NUM})(?P<asc>{_SCALE})"
    rf"(?:\s?(?:-|–|—|to|and|or)\s?(?P<cur2>[$€£])?(?P<b>{_NUM})(?P<bsc>{_SCALE}))?"
    rf"(?P<plus>\+)?"
    rf"(?:\s?(?P<unit>(?:[a-z-]+\s){{0,2}}?{_UNIT}))?",
    re.IGNORECASE,
)
_OPEN_UNIT = re.compile(r"^(?:or|and)\s+(more|above|over|up|fewer|less|under|below)\s+", re.I)
_UPWARD = {"more", "above", "over", "up"}
_DURATION = {"hour": 1 / 24, "day": 1, "week": 7, "month": 30, "quarter": 91, "year": 365}
_DURATION |= {"hr": 1 / 24, "wk": 7, "mo": 30, "qtr": 91, "yr": 365}  # "2 wks", "3 mos"


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


def normalise(text: str) -> str:
    """Same-length copy with typographic apostrophes made plain, for matching only."""
    return text.replace("’", "'").replace("‘", "'")


def clean_answer(text: str) -> str:
    """An answer as it is stored: `safety.clean_text`."""
    return clean_text(text)


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every quoted passage, quote marks included."""
    spans, i, n = [], 0, len(text)
    while i < n:
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


def split_statements(text: str) -> list[Span]:
    """Split an answer into statements without breaking quotes, abbreviations or decimals."""
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
            word = _WORD_BEFORE.search(text, max(0, i - _ABBREVIATION_WINDOW), i)
            if word and word.group(1).lower() in _ABBREVIATIONS:
                continue
        cuts.append(j)
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
        lead = _LEADING_FILLER.match(stripped)
        if lead and lead.end() < len(stripped):
            start += lead.end()
            stripped = stripped[lead.end() :]
        spans.append(Span(start, start + len(stripped), stripped))
    return spans


def _number(word: str, scale: str) -> float | None:
    word = word.lower().strip()
    if word in _WORD_NUMBERS:
        value = float(_WORD_NUMBERS[word])
    else:
        try:
            value = float(word.replace(",", ""))
        except ValueError:
            return None
    factor = {
        "k": 1e3,
        "m": 1e6,
        "mm": 1e6,
        "bn": 1e9,
        "b": 1e9,
        "million": 1e6,
        "billion": 1e9,
        "thousand": 1e3,
    }.get(scale.strip().lower(), 1)
    value *= factor
    return value if math.isfinite(value) else None  # "9" * 400 is no headcount; JSON has no inf


def find_quantities(text: str) -> list[Quantity]:
    """Numbers and ranges with what they measure (employees, money, days, percent...)."""
    out = []
    for m in _QUANTITY.finditer(text):
        a = _number(m["a"], m["asc"] or "")
        b = _number(m["b"], m["bsc"] or m["asc"] or "") if m["b"] else None
        unit = (m["unit"] or "").strip()
        open_end = _OPEN_UNIT.match(unit)  # "three or more subsidiaries" is 3 and up
        unit = unit[open_end.end() :] if open_end else unit
        currency = m["cur"] or m["cur2"]
        word_number = m["a"].lower() in _WORD_NUMBERS
        if a is None or (m["b"] and b is None) or (word_number and not unit and not b):
            continue
        if not unit and not currency and not m["asc"] and not b and a < 10 and "%" not in m[0]:
            continue  # a lone small digit says nothing measurable
        base = unit.split()[-1].lower().rstrip("s") if unit else ""
        kind, scale = _kind(base, currency, unit)
        low, high = (min(a, b), max(a, b)) if b is not None else (a, a)  # "50-20" is 20-50
        lead = (m["lead"] or "").strip().lower()
        if lead in {"over", "more than", "at least"} or m["plus"]:
            high = None
        elif lead in {"under", "fewer than", "less than", "up to"}:
            low = None
        if open_end:
            low, high = (low, None) if open_end[1].lower() in _UPWARD else (None, high)
        if kind == "duration":
            low = low * scale if low is not None else None
            high = high * scale if high is not None else None
            unit = "days"
        out.append(
            Quantity(
                kind=kind, low=low, high=high, unit=unit or (currency or ""), text=m[0].strip()
            )
        )
    return out


def _kind(base: str, currency: str | None, unit: str) -> tuple[str, float]:
    if currency and base in _DURATION:
        return "money", 1  # "$30,000 a year" is a price, not a duration
    if base in _DURATION:
        return "duration", _DURATION[base]
    if base in {"percent", "per cent", "%", "cent"} or unit.endswith("%"):
        return "percent", 1
    if base in {"employee", "people", "ppl", "staff", "fte", "headcount", "worker"}:
        return "employees", 1
    if base in {"arr", "revenue"} or (currency and "revenue" in unit.lower()):
        return "revenue", 1
    if currency or base in {"dollar", "euro", "pound"}:
        return "money", 1
    if base in {"invoice", "order", "shipment", "load"}:
        return "volume", 1
    return ("count", 1) if base else ("other", 1)


def find_entities(text: str) -> list[str]:
    """Named things: products, companies, acronyms; not ordinary sentence-initial words."""
    out = []
    for m in _ENTITY.finditer(text):
        word = m.group(0).rstrip(".")
        first = word.split()[0]
        if first in _NOT_ENTITIES and " " not in word:
            continue
        at_start = m.start() == 0 or text[: m.start()].rstrip().endswith((".", "!", "?", ":"))
        camel = bool(re.search(r"[a-z][A-Z]|^[A-Z0-9]{2,}$", first))
        if at_start and not camel and " " not in word:
            continue
        out.append(word)
    return out


def read_statement(span: Span, guide: Guide, section: str | None = None) -> Reading:
    """Judge one statement: what it contains and how concrete it is (for `section`)."""
    text = normalise(span.text)
    reading = Reading(span=span)
    for pattern, hedge in guide.hedge_patterns:
        for m in pattern.finditer(text):
            reading.hedges.append(
                Hedged(span.text[m.start() : m.end()], hedge.kind, hedge.weight, m.start())
            )
    reading.quantities = find_quantities(span.text)
    reading.entities = find_entities(span.text)
    reading.quotes = find_quotes(span.text)
    reading.example = bool(guide.example_re.search(text))
    reading.roles = len(_ROLE.findall(span.text))
    words = len(text.split())
    score = 2.0 * bool(reading.quantities) + 2.0 * bool(reading.quotes)
    score += min(2.0, 1.5 * len(reading.entities)) + 1.0 * reading.example
    score += min(1.0, 0.75 * reading.roles)
    score += 1.0 if words >= 10 else (-1.0 if words < 6 else 0.5)
    if section in guide.sections:
        spec = guide.sections[section]
        cues = {m.group(0).lower() for p in (spec.defining, spec.strong) for m in p.finditer(text)}
        score += min(1.0, 0.5 * len(cues))
    score -= sum(h.weight for h in reading.hedges)
    reading.score = score
    return reading


def is_dont_know(text: str, guide: Guide) -> bool:
    """True when a short answer declines: "I don't know" or "that's all" in some form."""
    text = _decline_text(text)
    return bool(text and (guide.dont_know_re.search(text) or guide.exhausted_re.search(text)))


def is_exhausted(text: str, guide: Guide) -> bool:
    """True when a short answer says the topic is used up ("that's all I've got")."""
    text = _decline_text(text)
    return bool(text and guide.exhausted_re.search(text))


def _decline_text(text: str) -> str:
    """The answer's own words if it is short enough to be a decline, else ""."""
    if len(text.split()) > 25 or any(c.isdigit() for c in text):
        return ""
    for quote in reversed(find_quotes(text)):
        text = text[: quote.start] + text[quote.end :]
    return normalise(text)


def is_filler(text: str, guide: Guide) -> bool:
    """True for small talk that carries no content."""
    return bool(guide.filler_re.search(normalise(text).strip())) and len(text.split()) < 8
