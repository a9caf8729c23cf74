"""The built-in engine: rule-based wording and extraction, no model and no network."""

from __future__ import annotations

import re

from agent.engines import Context, Wording
from agent.interview.planner import Action
from agent.lang import load_guide
from agent.lang.guide import Guide
from agent.profile.models import Item, Profile
from agent.prompts import render
from agent.reading.sections import extract
from agent.reading.statements import find_quantities

_SUMMARY_KEYS = ("company_profile", "buying_triggers", "evaluation_criteria", "exclusions")
_SUMMARY_LABELS = {
    "company_profile": "Best fit",
    "buying_triggers": "Buying now when",
    "evaluation_criteria": "They decide on",
    "exclusions": "Not a fit",
}


class OfflineEngine:
    """Words questions from the guide and extracts items with the offline rules."""

    name = "offline"

    def __init__(self, guide: Guide | None = None):
        self.guide = guide or load_guide()

    def word(self, action: Action, profile: Profile, context: Context | None = None) -> Wording:
        """Word a planned question from the guide's templates."""
        guide = self.guide
        if action.kind == "intro":
            return Wording(render(guide.intro["question"]))
        if action.kind == "close":
            lines = summary_lines(profile)
            preface = render(guide.closing["preface"], lines=lines) if lines else ""
            return Wording(render(guide.closing["question"]), preface)
        spec = guide.sections[action.section or ""]
        if action.kind == "open":
            return Wording(render(spec.opening))
        probe = action.probe
        if probe == "hedge":
            general = guide.probes.get(action.hedge, guide.probes["generic"])
            template = spec.hedge if spec.hedge and action.hedge != "depends" else general
            return Wording(render(template, phrase=_short(action.phrase), noun=spec.noun))
        if probe.startswith("facet:"):
            facet = next(f for f in spec.facets if f.id == probe.removeprefix("facet:"))
            return Wording(render(facet.probe))
        template = {"words": spec.words, "example": spec.example, "more": spec.more}[probe]
        return Wording(render(template or spec.more))

    def extract(
        self, answer: str, turn: int, topic: str | None, context: Context | None = None
    ) -> list[tuple[str, Item]]:
        """File each statement of the answer into its section."""
        return list(extract(answer, turn, topic, self.guide))


def summary_lines(profile: Profile, limit: int = 22) -> list[str]:
    """One short line per key section for the closing reflect-back."""
    lines = []
    for key in _SUMMARY_KEYS:
        items = profile.sections[key].items
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


def _short(text: str, words: int = 6) -> str:
    """At most `words` words of the respondent's text, marked when cut."""
    parts = text.split()
    return " ".join(parts[:words]) + ("..." if len(parts) > words else "")
