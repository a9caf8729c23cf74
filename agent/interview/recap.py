"""The reflect-back lines of the closing summary and of a quarterly review's preface."""

from __future__ import annotations

import re

from agent.profile.models import Profile
from agent.reading.quantities import find_quantities

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


def short(text: str, words: int = 6) -> str:
    """At most `words` words of the respondent's text, marked when cut."""
    parts = text.split()
    return " ".join(parts[:words]) + ("..." if len(parts) > words else "")
