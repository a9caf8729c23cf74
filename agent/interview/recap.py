"""The reflect-back of the closing summary and of a quarterly review's preface."""

from __future__ import annotations

import re

from agent.profile.models import Item, Profile
from agent.reading.quantities import find_quantities
from agent.reading.terms import names

# Quantities the closing summary states as ranges, per section.
_RANGES = {  # identifiers: section -> quantity kinds
    "company_profile": ("employees", "revenue", "count"),
    "sales_cycle": ("money", "duration"),
}
# A rating of the summary at the start of the answer: "3", "3/4", "2 - the size is off".
_RATING = re.compile(r"^\W*([1-4])(?:\s*/\s*4\b|[.,;:!)](?!\d)|\s+[-–—]|\s*$)")

_SUMMARY_KEYS = ("company_profile", "buying_triggers", "evaluation_criteria", "exclusions")
_SUMMARY_LABELS = {
    "company_profile": "Best fit",
    "buying_triggers": "Buying now when",
    "evaluation_criteria": "They decide on",
    "exclusions": "Not a fit",
}


def summary_lines(profile: Profile, limit: int = 22) -> list[str]:
    """One short line per key section for the closing reflect-back."""
    lines = []
    for key in _SUMMARY_KEYS:
        items = [i for i in profile.sections[key].items if i.usable]
        best = sorted(items, key=lambda i: not i.concrete)[:1]
        if best:
            lines.append(f"{_SUMMARY_LABELS[key]}: {recap(best[0].text, limit)}")
    return lines


_CLAUSE_END = re.compile(r"[,;:](?=\s)|\s\(|\s[-\u2013\u2014]\s")


def recap(text: str, words: int = 22) -> str:
    """A statement for the reflect-back, ending in "." when whole or "…" when cut. A cut ends
    at a clause boundary when there is one, and never inside a number or range ("300 to 1,500
    hourly workers", not "300 to 1,500")."""
    text = " ".join(text.split()).rstrip(".")
    spans = list(re.finditer(r"\S+", text))
    if len(spans) <= words:
        return f"{text}."
    cut = spans[words - 1].end()
    bounds = [m.start() for m in _CLAUSE_END.finditer(text, 0, cut)]
    bounds = [b for b in bounds if len(text[:b].split()) >= words // 3]
    if bounds:
        cut = bounds[-1]
    else:
        for q in find_quantities(text):
            start = text.find(q.text)
            if start >= 0 and start < cut < start + len(q.text):
                cut = start + len(q.text)
    return text[:cut].rstrip(" ,;:-\u2013\u2014(") + "…"


def closing_summary(profile: Profile) -> dict:
    """What the closing summary states, from the structured profile: the best fit, its ranges
    (employees, revenue, deal size, cycle), the tools named, what makes them buy and decide,
    and who is not a fit. Keys are the variables of the guide's closing preface."""
    sections = profile.usable().sections  # what was read with certainty and not corrected

    def best(key: str, words: int = 12) -> str:
        items = sorted(sections[key].items, key=lambda i: not i.concrete)
        return short(items[0].text.rstrip("."), words) if items else ""

    ranges: list[str] = []
    for key, kinds in _RANGES.items():
        for item in sections[key].items:
            ranges += [q.text for q in item.quantities if q.kind in kinds]
    tools = [n for item in sections["technographics"].items for n in names(item.text)]
    exclusions = [
        short(i.text.rstrip("."), 10) for i in _concrete_first(sections["exclusions"].items)
    ]
    return {
        "fit": best("company_profile"),
        "ranges": list(dict.fromkeys(ranges))[:4],
        "tools": list(dict.fromkeys(tools))[:4],
        "triggers": best("buying_triggers", 10),
        "criteria": best("evaluation_criteria", 10),
        "exclusions": exclusions[:2],
    }


def rating(answer: str) -> int | None:
    """The 1-4 rating an answer to the closing summary starts with, if it gives one."""
    m = _RATING.match(answer)
    return int(m.group(1)) if m else None


def _concrete_first(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: not i.concrete)


def short(text: str, words: int = 6) -> str:
    """At most `words` words of the respondent's text, marked when cut."""
    parts = text.split()
    return " ".join(parts[:words]) + ("..." if len(parts) > words else "")
