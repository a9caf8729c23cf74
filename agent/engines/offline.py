"""The built-in engine: rule-based wording and extraction, no model and no network."""

from __future__ import annotations

from agent.engines import Context, Wording
from agent.interview.planner import Action
from agent.lang import load_guide
from agent.lang.guide import Guide
from agent.profile.models import Item, Profile
from agent.prompts import render
from agent.reading.sections import extract

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


def summary_lines(profile: Profile, limit: int = 14) -> list[str]:
    """One short line per key section for the closing reflect-back."""
    lines = []
    for key in _SUMMARY_KEYS:
        items = profile.sections[key].items
        best = sorted(items, key=lambda i: not i.concrete)[:1]
        if best:
            lines.append(f"{_SUMMARY_LABELS[key]}: {_short(best[0].text.rstrip('.'), limit)}.")
    return lines


def _short(text: str, words: int = 6) -> str:
    """At most `words` words of the respondent's text, marked when cut."""
    parts = text.split()
    return " ".join(parts[:words]) + ("..." if len(parts) > words else "")
