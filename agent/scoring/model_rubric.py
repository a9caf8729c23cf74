"""The model's draft rubric folded into the derived one: repeats dropped, the rest as suggestions.

The derived rubric (agent/scoring/rubric.py) stays the authority: its rules, points and tiers
are the score. A model criterion that checks what a derived rule checks (one of its words, or
the same measure: employees, revenue, locations) is that rule and is not shown again; every
other one is shown beside the rules as a suggestion, with the profile items it cites, and is
not scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from agent.profile.models import SECTION_TITLES, Evidence, Item, Profile
from agent.reading.quantities import find_quantities
from agent.reading.terms import find_terms, fold
from agent.report.model_summary import cited
from agent.scoring.rules import Rubric, Rule, settings

CITES_SHOWN = 2  # cited items printed per suggestion; the rest are counted
CITE_WORDS = 12


@cache
def _measure_words() -> dict[str, re.Pattern[str]]:
    """Words that name a measure without a number ("Headcount in the mid-market"), from the
    language pack (scoring.yaml: measures), as whole words in any case."""
    from agent.scoring.cells import END, START, phrase, words

    return {
        kind: re.compile(START + "(?:" + "|".join(phrase(w) for w in names) + ")" + END)
        for kind, names in words().measures.items()
        if names
    }


@dataclass
class Suggestion:
    """A model criterion the derived rubric lacks: shown for checking, not scored."""

    category: str
    criterion: str
    points: int
    cites: list[tuple[str, str]]  # (section title, item text) of the first cited items
    more: int  # cited items not printed
    evidence: list[Evidence]


@dataclass
class ModelRubric:
    """What became of the model's draft rubric: its suggestions and how many repeated a rule."""

    suggestions: list[Suggestion] = field(default_factory=list)
    repeated: dict[str, str] = field(default_factory=dict)  # criterion -> derived rule id

    @property
    def drafted(self) -> int:
        """How many different criteria the model drafted."""
        return len(self.repeated) + len(self.suggestions)

    def of(self, category: str) -> list[Suggestion]:
        """The suggestions in one category, in the model's order."""
        return [s for s in self.suggestions if s.category == category]


def fold_in(rubric: Rubric, profile: Profile) -> ModelRubric:
    """Sort the profile's synthesis rubric into repeats of `rubric`'s rules and suggestions."""
    out = ModelRubric()
    seen: set[str] = set()
    for entry in profile.synthesis.rubric if profile.synthesis else []:
        criterion = " ".join(entry.criterion.split())
        if not criterion or criterion.casefold() in seen:
            continue  # the model said the same thing twice
        seen.add(criterion.casefold())
        rule = same_rule(criterion, entry.category, rubric.rules)
        if rule is not None:
            out.repeated[criterion] = rule.id
            continue
        items = [
            (ref.partition("#")[0], item)
            for ref in dict.fromkeys(entry.refs)
            for item in cited(profile, [ref])
        ]
        out.suggestions.append(
            Suggestion(
                category=entry.category,
                criterion=criterion,
                points=entry.points,
                cites=[_cite(key, item) for key, item in items[:CITES_SHOWN]],
                more=max(0, len(items) - CITES_SHOWN),
                evidence=list(dict.fromkeys(ev for _, item in items for ev in item.evidence)),
            )
        )
    return out


def same_rule(criterion: str, category: str, rules: list[Rule]) -> Rule | None:
    """The derived rule a criterion restates, preferring one of its own category."""
    matches = [rule for rule in rules if checks(criterion, rule)]
    return next((r for r in matches if r.category == category), matches[0] if matches else None)


def checks(criterion: str, rule: Rule) -> bool:
    """True when the criterion tests what the rule tests: one of its words, or its measure."""
    if rule.any_of:
        return bool(find_terms(criterion, tuple(fold(t) for t in rule.any_of)))
    return rule.field in measures(criterion)


def measures(criterion: str) -> set[str]:
    """The numeric fields a criterion is about: employees, revenue, locations."""
    found = set()
    units = tuple(settings()["location_units"])
    for q in find_quantities(criterion):
        kind = q.kind
        measure = _measure_words()
        if kind == "money" and "revenue" in measure and measure["revenue"].search(fold(criterion)):
            kind = "revenue"
        if kind in ("employees", "revenue"):
            found.add(kind)
        elif kind == "count" and find_terms(q.unit, units):
            found.add("locations")
    found.update(k for k, rx in _measure_words().items() if rx.search(fold(criterion)))
    return found


def _cite(key: str, item: Item) -> tuple[str, str]:
    words = item.text.split()
    return SECTION_TITLES[key], " ".join(words[:CITE_WORDS]) + (
        " ..." if len(words) > CITE_WORDS else ""
    )
