"""Derive a scoring rubric from a profile: firmographic, technographic and behavioural rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.joint.conflicts import channel_terms, common_range, size_ranges
from agent.profile.models import SECTION_TITLES, Item, Profile
from agent.prompts import render
from agent.reading.clauses import (
    condition,
    fit_part,
    industries,
    mentions,
    opens_with_timing,
    overruled,
    timing,
    tools,
)
from agent.reading.numbers import fmt_range
from agent.reading.quantities import sizes
from agent.reading.terms import find_terms, fold, new_roles, singular, vocabulary
from agent.scoring.disqualify import derive_disqualifiers
from agent.scoring.rules import CATEGORIES, Category, Rubric, Rule, or_join, settings, split_points

_KIND_CATEGORY: dict[str, Category] = {  # identifiers: rule kinds and categories
    "employees": "firmographic",
    "revenue": "firmographic",
    "industry": "firmographic",
    "region": "firmographic",
    "locations": "firmographic",
    "technology": "technographic",
    "trigger": "behavioural",
    "channel": "behavioural",
}
_KIND_FIELD = {
    "technology": "technologies",
    "trigger": "signals",
    "channel": "source",
}  # identifiers: rule kinds and fields


@dataclass
class _Draft:
    kind: str
    items: list[Item]
    terms: list[str] = field(default_factory=list)
    low: float | None = None
    high: float | None = None
    days: int | None = None

    def rule(self, rid: str, points: int) -> Rule:
        money = self.kind == "revenue"
        label = render(
            settings()["labels"][self.kind],
            terms=or_join(self.terms),
            range=fmt_range(self.low, self.high, money=money),
            days=self.days or 0,
        )
        bounds = {"min": self.low, "max": self.high} if not self.terms else {}
        return Rule(
            id=rid,
            category=_KIND_CATEGORY[self.kind],
            label=label,
            points=points,
            field=_KIND_FIELD.get(self.kind, self.kind),
            any_of=self.terms or None,
            within_days=self.days,
            evidence=list(dict.fromkeys(ev for item in self.items for ev in item.evidence)),
            source=f"{_section_of(self.kind)}: " + " / ".join(i.text for i in self.items[:2]),
            **bounds,
        )


def _section_of(kind: str) -> str:
    key = {"technology": "technographics", "trigger": "buying_triggers", "channel": "channels"}
    return SECTION_TITLES[key.get(kind, "company_profile")]


def _concrete_first(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda item: not item.concrete)


def derive(profile: Profile, conflicts: list[dict] | None = None) -> Rubric:
    """The rubric a profile implies; items nothing can check are listed for manual review.

    Only items read with certainty and not corrected later make rules (`Profile.usable`).
    `conflicts` are a merged profile's conflicts (as `icp merge` stores them, with the joint
    review's decision when there is one). While one is unresolved, no positive rule comes from
    an item on the targeting or crediting side of it (a segment one respondent excludes is no
    industry term), and a size rule keeps only the range every respondent gives. Exclusions
    still disqualify: precision before recall.
    """
    doubtful = [
        f"{SECTION_TITLES[key]} (read with doubt): {item.text}"
        for key, item in profile.all_items()
        if not item.certain and not item.retracted
    ]
    present = {item.text for _, item in profile.all_items() if not item.retracted}
    profile = profile.usable()
    cfg = settings()
    conflicts = conflicts or []
    unresolved = [c for c in conflicts if not c.get("decision") and _live(c, present)]
    disputed = _disputed(unresolved)
    drafts, manual = _firmographic(profile, disputed, unresolved), list(doubtful)
    drafts += _named(profile, "technographics", "technology", manual, disputed)
    drafts += _triggers(profile, manual, disputed)
    drafts += _named(profile, "channels", "channel", manual, disputed)
    rules = []
    for category in CATEGORIES:
        mine = [d for d in drafts if _KIND_CATEGORY[d.kind] == category]
        points = split_points(cfg["categories"][category], [cfg["weights"][d.kind] for d in mine])
        counts: dict[str, int] = {}
        for draft, share in zip(mine, points, strict=True):
            counts[draft.kind] = counts.get(draft.kind, 0) + 1
            many = sum(d.kind == draft.kind for d in mine) > 1
            rid = f"{draft.kind}-{counts[draft.kind]}" if many else draft.kind
            rules.append(draft.rule(rid, share))
    disqualifiers = derive_disqualifiers(profile, manual)
    rubric = Rubric(
        company=profile.company,
        session=profile.session,
        version=profile.version,
        tiers=cfg["tiers"],
        categories=cfg["categories"],
        rules=rules,
        disqualifiers=disqualifiers,
        manual=manual,
    )
    rubric.warnings = _warnings(rubric, conflicts)
    rubric.conflicts = _conflict_lines(unresolved)
    return rubric


_DISPUTED_STANCES = ("targets", "credits")


def _kept_out(conflict: dict) -> list[str]:
    """The texts a conflict disputes: what one respondent targets or credits and another
    excludes or never mentions."""
    return [
        side["text"]
        for side in conflict.get("sides", [])
        if side.get("stance") in _DISPUTED_STANCES and side.get("text")
    ]


def _disputed(conflicts: list[dict]) -> set[str]:
    """The texts of items the conflicts dispute."""
    return {text for conflict in conflicts for text in _kept_out(conflict)}


def _live(conflict: dict, present: set[str]) -> bool:
    """False once the joint review removed or reworded every item a conflict disputes."""
    texts = _kept_out(conflict)
    return not texts or any(text in present for text in texts)


def _conflict_lines(conflicts: list[dict]) -> list[str]:
    """One line per unresolved conflict for the rules header: what, and what it keeps out."""
    out = []
    for conflict in conflicts:
        line = f"{conflict.get('title', '')}. {conflict.get('detail', '')}".strip()
        kept_out = _kept_out(conflict)
        if kept_out:
            quoted = "; ".join(f'"{t}"' for t in dict.fromkeys(kept_out))
            line += f" Kept out of the rules: {quoted}"
        elif conflict.get("kind") == "size":
            line += " The size rule keeps only the range every respondent gives."
        out.append(line)
    return out


def _firmographic(profile: Profile, disputed: set[str], conflicts: list[dict]) -> list[_Draft]:
    items = [
        item
        for item in _concrete_first(profile.sections["company_profile"].items)
        if item.text not in disputed
    ]
    fit = {id(item): fit_part(item) for item in items}  # "DSOs are not a fit" is no target
    excluded = mentions(profile, "exclusions", lambda text: industries(condition(text)))
    drafts = []
    for kind in ("employees", "revenue"):
        draft = _Draft(kind, [])
        for item in items:
            for k, low, high in sizes(fit[id(item)]):
                if k == kind:
                    _widen(draft, item, low, high)
        if draft.items and any(c.get("kind") == "size" for c in conflicts):
            ranges, _ = size_ranges(profile, kind)
            if len(set(ranges.values())) > 1:  # respondents disagree: keep what all say
                common = common_range(ranges)
                if common is None:
                    continue
                draft.low, draft.high = common
        if draft.items:
            drafts.append(draft)
    for kind, terms in (("industry", vocabulary().industries), ("region", vocabulary().regions)):
        draft = _Draft(kind, [])
        for item in items:
            text = fit[id(item)].text
            found = [t for t in find_terms(text, terms) if not overruled(t, item, excluded)]
            if found:
                draft.items.append(item)
                known = {fold(t) for t in draft.terms}
                draft.terms += [t for t in found if fold(t) not in known]
        if draft.terms:
            drafts.append(draft)
    units = set(settings()["location_units"])
    draft = _Draft("locations", [])
    for item in items:
        for q in fit[id(item)].quantities:
            unit = singular(fold(q.unit.split()[-1])) if q.unit.split() else ""
            if q.kind == "count" and unit in units:
                _widen(draft, item, q.low, q.high)
    if draft.items:
        drafts.append(draft)
    return drafts


def _widen(draft: _Draft, item: Item, low: float | None, high: float | None) -> None:
    first = not draft.items
    if item not in draft.items:
        draft.items.append(item)
    if first:
        draft.low, draft.high = low, high
        return
    draft.low = None if low is None or draft.low is None else min(draft.low, low)
    draft.high = None if high is None or draft.high is None else max(draft.high, high)


def _fresh(terms: list[str], used: set[str]) -> list[str]:
    """Terms not already in a rule, nor inside one ("peak" after "peak season")."""
    out = []
    for term in dict.fromkeys(terms):
        folded = fold(term)
        if not any(folded in u or u in folded for u in used):
            out.append(term)
    return out


def _named(
    profile: Profile, key: str, kind: str, manual: list[str], disputed: set[str]
) -> list[_Draft]:
    """One rule per item naming tools (technographics) or channels, without repeating a name."""
    limit = settings()["max_rules"][kind]
    drafts: list[_Draft] = []
    used: set[str] = set()
    excluded = mentions(profile, "exclusions", lambda text: tools(condition(text)))
    for item in _concrete_first(profile.sections[key].items):
        if item.text in disputed:
            continue
        fit = fit_part(item)  # "SAP shops are a no" filed here names no target
        found = tools(fit.text) if kind == "technology" else channel_terms(fit)
        found = [t for t in found if not overruled(t, item, excluded)]
        fresh = _fresh(found, used)
        if not fresh:
            if item.concrete and not found and kind == "technology":
                manual.append(f"{SECTION_TITLES[key]}: {item.text}")
            continue
        if len(drafts) < limit:
            used.update(fold(t) for t in fresh)
            drafts.append(_Draft(kind, [item], terms=fresh))
    return drafts


def _trigger_terms(text: str) -> list[str]:
    return new_roles(text) + find_terms(text, vocabulary().triggers)


def _triggers(profile: Profile, manual: list[str], disputed: set[str]) -> list[_Draft]:
    """One rule per item naming an event; its window only from wording that dates the event."""
    limit = settings()["max_rules"]["trigger"]
    items = [i for i in profile.sections["buying_triggers"].items if i.text not in disputed]
    drafts: dict[int, _Draft] = {}  # by the item's place in the section
    used: set[str] = set()
    rest = []
    for i in sorted(range(len(items)), key=lambda i: not items[i].concrete):
        fresh = _fresh(_trigger_terms(fit_part(items[i]).text), used)
        if not fresh:
            rest.append(i)
        elif len(drafts) < limit:
            used.update(fold(t) for t in fresh)
            days = timing(items[i], _trigger_terms, fresh)
            drafts[i] = _Draft("trigger", [items[i]], terms=fresh, days=days)
    for i in rest:
        before = drafts.get(i - 1)
        if before and before.days is None and _follows(items[i], items[i - 1]):
            before.items.append(items[i])  # "A new CFO. Within 90 days they..." dates the CFO
            before.days = timing(items[i], _trigger_terms, [])
        elif items[i].concrete:
            manual.append(f"{SECTION_TITLES['buying_triggers']}: {items[i].text}")
    return [drafts[i] for i in sorted(drafts)]


def _follows(item: Item, before: Item) -> bool:
    """True when an item only dates the one said just before it, in the same answer."""
    turns = {(ev.session, ev.turn) for ev in before.evidence}
    return opens_with_timing(item) and any((ev.session, ev.turn) in turns for ev in item.evidence)


def _warnings(rubric: Rubric, conflicts: list[dict]) -> list[str]:
    out = []
    for category in CATEGORIES:
        if not any(r.category == category for r in rubric.rules):
            out.append(settings()["missing"][category])
    if rubric.reachable < rubric.tiers["A"]:
        out.append(
            f"At most {rubric.reachable} points are reachable, below tier A ({rubric.tiers['A']:g})"
            ": add rules or lower the tiers before trusting the tiers."
        )
    unresolved = [c for c in conflicts if not c.get("decision")]
    if unresolved:
        out.append(
            f"{len(unresolved)} unresolved conflict{'s' if len(unresolved) > 1 else ''} between "
            "respondents (listed below): what they dispute makes no positive rule until you "
            "resolve it together (icp report ID: Resolve together), then add the rule here."
        )
    for conflict in conflicts:
        decision = conflict.get("decision")
        if decision:
            out.append(
                f"Respondents disagreed: {conflict['title']}. Decided in the joint review: "
                f"{decision['decision']} (owner {decision['owner']}, by {decision['due']}); "
                "check that the rules say the same."
            )
    return out
