"""Derive a scoring rubric from a profile: firmographic, technographic and behavioural rules."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from .conflicts import channel_terms
from .numbers import fmt_range, sizes
from .profile import SECTION_TITLES, Item, Profile
from .prompts import render
from .rules import CATEGORIES, Category, Disqualifier, Rubric, Rule, or_join, settings, split_points
from .synthesis import persona
from .vocabulary import find_terms, fold, names, new_roles, singular, vocabulary

_INVERTED = re.compile(r"\b(?:outside|beyond|except|only|other than)\b", re.IGNORECASE)
_KIND_CATEGORY: dict[str, Category] = {
    "employees": "firmographic",
    "revenue": "firmographic",
    "industry": "firmographic",
    "region": "firmographic",
    "locations": "firmographic",
    "technology": "technographic",
    "trigger": "behavioural",
    "channel": "behavioural",
}
_KIND_FIELD = {"technology": "technologies", "trigger": "signals", "channel": "source"}


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
            evidence=[ev for item in self.items for ev in item.evidence],
            source=f"{_section_of(self.kind)}: " + " / ".join(i.text for i in self.items[:2]),
            **bounds,
        )


def _section_of(kind: str) -> str:
    key = {"technology": "technographics", "trigger": "buying_triggers", "channel": "channels"}
    return SECTION_TITLES[key.get(kind, "company_profile")]


def _concrete_first(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda item: not item.concrete)


def derive(profile: Profile, conflicts: list[dict] | None = None) -> Rubric:
    """The rubric a profile implies; items nothing can check are listed for manual review."""
    cfg = settings()
    drafts, manual = _firmographic(profile), []
    drafts += _named(profile, "technographics", "technology", manual)
    drafts += _triggers(profile, manual)
    drafts += _named(profile, "channels", "channel", manual)
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
    disqualifiers = _disqualifiers(profile, manual)
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
    rubric.warnings = _warnings(rubric, conflicts or [])
    return rubric


def _firmographic(profile: Profile) -> list[_Draft]:
    items = _concrete_first(profile.sections["company_profile"].items)
    excluded = _mentions(profile, "exclusions", lambda text: _industries(text))
    drafts = []
    for kind in ("employees", "revenue"):
        draft = _Draft(kind, [])
        for item in items:
            for k, low, high in sizes(item):
                if k == kind:
                    _widen(draft, item, low, high)
        if draft.items:
            drafts.append(draft)
    for kind, terms in (("industry", vocabulary().industries), ("region", vocabulary().regions)):
        draft = _Draft(kind, [])
        for item in items:
            found = [t for t in find_terms(item.text, terms) if not _overruled(t, item, excluded)]
            if found:
                draft.items.append(item)
                known = {fold(t) for t in draft.terms}
                draft.terms += [t for t in found if fold(t) not in known]
        if draft.terms:
            drafts.append(draft)
    units = set(settings()["location_units"])
    draft = _Draft("locations", [])
    for item in items:
        for q in item.quantities:
            unit = singular(fold(q.unit.split()[-1])) if q.unit.split() else ""
            if q.kind == "count" and unit in units:
                _widen(draft, item, q.low, q.high)
    if draft.items:
        drafts.append(draft)
    return drafts


def _supporters(item: Item) -> set[str]:
    return set(item.support) or {""}  # one respondent when the profile is not merged


def _mentions(profile: Profile, key: str, find: Callable[[str], list[str]]) -> dict[str, set]:
    """Folded term -> the respondents who use it in that section."""
    out: dict[str, set[str]] = {}
    for item in profile.sections[key].items:
        for term in find(item.text):
            out.setdefault(fold(term), set()).update(_supporters(item))
    return out


def _overruled(term: str, item: Item, other: dict[str, set[str]]) -> bool:
    """True when the other side (targets vs exclusions) uses the term and none of this item's
    respondents does. Someone who both targets "warehouses" and excludes "single-site
    warehouses" means a kind of warehouse, so their own exclusion does not overrule them."""
    users = other.get(fold(term))
    return users is not None and not users & _supporters(item)


def _industries(text: str) -> list[str]:
    return find_terms(text, vocabulary().industries)


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


def _named(profile: Profile, key: str, kind: str, manual: list[str]) -> list[_Draft]:
    """One rule per item naming tools (technographics) or channels, without repeating a name."""
    limit = settings()["max_rules"][kind]
    drafts: list[_Draft] = []
    used: set[str] = set()
    for item in _concrete_first(profile.sections[key].items):
        found = names(item.text) if kind == "technology" else channel_terms(item)
        fresh = _fresh(found, used)
        if not fresh:
            if item.concrete and not found and kind == "technology":
                manual.append(f"{SECTION_TITLES[key]}: {item.text}")
            continue
        if len(drafts) < limit:
            used.update(fold(t) for t in fresh)
            drafts.append(_Draft(kind, [item], terms=fresh))
    return drafts


def _triggers(profile: Profile, manual: list[str]) -> list[_Draft]:
    limit = settings()["max_rules"]["trigger"]
    drafts, used = [], set()
    for item in _concrete_first(profile.sections["buying_triggers"].items):
        found = new_roles(item.text) + find_terms(item.text, vocabulary().triggers)
        fresh = _fresh(found, used)
        if not fresh:
            if item.concrete:
                manual.append(f"{SECTION_TITLES['buying_triggers']}: {item.text}")
            continue
        if len(drafts) < limit:
            used.update(fold(t) for t in fresh)
            days = [q.high or q.low for q in item.quantities if q.kind == "duration"]
            within = int(max(days)) if days and 1 <= max(days) <= 365 else None
            drafts.append(_Draft("trigger", [item], terms=fresh, days=within))
    return drafts


def _disqualifiers(profile: Profile, manual: list[str]) -> list[Disqualifier]:
    out: list[Disqualifier] = []
    codes: set[str] = set()
    vocab = vocabulary()
    targeted = _mentions(profile, "company_profile", _industries)
    for key, find in (("company_profile", names), ("technographics", names)):
        for term, users in _mentions(profile, key, find).items():
            targeted.setdefault(term, set()).update(users)
    for item in profile.sections["exclusions"].items:
        who = persona(item)
        code = _code(who.name, codes)
        conditions: list[tuple[str, dict]] = []
        for kind, low, high in sizes(item):
            if low is None:
                bounds, text = {"below": high}, f"under {fmt_range(high, high, kind == 'revenue')}"
            elif high is None:
                bounds, text = {"above": low}, f"over {fmt_range(low, low, kind == 'revenue')}"
            else:
                bounds, text = {"min": low, "max": high}, fmt_range(low, high, kind == "revenue")
            conditions.append((f"{kind.capitalize()} {text}", {"field": kind, **bounds}))
        mine = _supporters(item)
        industries = [t for t in _industries(item.text) if not targeted.get(fold(t), set()) & mine]
        if industries:
            conditions.append((f"Industry: {or_join(industries)}", _terms("industry", industries)))
        skip = {fold(t) for t in _industries(item.text)}
        tools = [
            n
            for n in names(item.text)
            if fold(n) not in skip and not targeted.get(fold(n), set()) & mine
        ]
        if tools:
            conditions.append((f"Uses {or_join(tools)}", _terms("technologies", tools)))
        regions = find_terms(item.text, vocab.regions)
        if regions and not _INVERTED.search(item.text):
            conditions.append((f"Region: {or_join(regions)}", _terms("region", regions)))
        if not conditions:
            manual.append(f"{SECTION_TITLES['exclusions']}: {item.text}")
        for label, condition in conditions:
            out.append(
                Disqualifier(
                    id=f"dq-{len(out) + 1}",
                    code=code,
                    label=label,
                    reason=who.why or item.text,
                    evidence=list(item.evidence),
                    source=f"{SECTION_TITLES['exclusions']}: {item.text}",
                    **condition,
                )
            )
    return out


def _terms(field_name: str, terms: list[str]) -> dict:
    return {"field": field_name, "any_of": terms}


def _code(name: str, taken: set[str]) -> str:
    """A CRM reason code from a persona's name: "DQ-SINGLE-SITE-WAREHOUSES"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stop = vocabulary().stopwords
    words = [w for w in re.findall(r"[A-Za-z0-9]+", ascii_name) if fold(w) not in stop]
    code = "DQ-" + ("-".join(words[:3]).upper() or "EXCLUDED")
    unique, n = code, 1
    while unique in taken:
        n += 1
        unique = f"{code}-{n}"
    taken.add(unique)
    return unique


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
    for conflict in conflicts:
        if conflict.get("kind") == "size":
            out.append(
                f"Respondents disagree: {conflict['title']}. The size rule spans every range "
                "given until you resolve it together."
            )
    return out
