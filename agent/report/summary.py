"""Offline derivation of what the report shows beyond the raw profile: summary, roles, gaps."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel

from agent.lang import load_pack
from agent.lang.summary import SummaryWords
from agent.paths import resource
from agent.profile.models import SECTION_KEYS, SECTION_TITLES, Evidence, Item, Profile, Section

Confidence = Literal["high", "medium", "low"]  # identifiers: confidence levels
Role = Literal["feels", "budget", "influences", "blocks", "other"]  # identifiers: committee roles


def _words() -> SummaryWords:
    return load_pack().summary


class _RoleTitles(Mapping[str, str]):
    """The committee roles' titles in the default language pack, read on first use."""

    def __getitem__(self, role: str) -> str:
        return _words().role_titles[role]

    def __iter__(self) -> Iterator[str]:
        return iter(_words().role_titles)

    def __len__(self) -> int:
        return len(_words().role_titles)


ROLE_TITLES: Mapping[str, str] = _RoleTitles()


class Persona(BaseModel):
    """A negative persona drawn from one exclusion item; `why` is empty when no reason was said."""

    name: str
    why: str
    evidence: list[Evidence]


class RoleGroup(BaseModel):
    """The buying-committee items that mention one role."""

    role: Role
    title: str
    items: list[Item]


class Coverage(BaseModel):
    """How well one section is supported."""

    key: str
    title: str
    status: str
    items: int
    concrete: int
    confidence: Confidence


class OpenQuestion(BaseModel):
    """Something to check against closed-won data, tied to a section."""

    key: str
    title: str
    reason: str
    text: str


class SummaryLine(BaseModel):
    """A statement of the model's one-page summary, with the turns its items came from."""

    text: str
    turns: list[int]


class Summary(BaseModel):
    """Everything the report derives from a profile."""

    who_we_sell_to: list[Item]
    top_triggers: list[Item]
    top_criteria: list[Item]
    never_target: list[Item]
    negative_personas: list[Persona]
    committee: list[RoleGroup]
    language_bank: list[Item]
    coverage: list[Coverage]
    open_questions: list[OpenQuestion]
    checklist: list[str]
    overview: list[SummaryLine] = []  # from the llm engine's synthesis, when it ran
    check_by_hand: list[tuple[str, Item]] = []  # (section title, item) read with doubt
    unsorted: list[Item] = []  # statements no section took


def summarize(profile: Profile) -> Summary:
    """Derive the report's summary, role map, coverage and open questions from a profile.

    The one-page summary, the negative personas, the role map and the language bank rest only
    on items read with certainty and not corrected later; the others are listed to check by
    hand, with their quotes, beside the statements no section took (Unsorted).
    """
    usable = {key: [i for i in s.items if i.usable] for key, s in profile.sections.items()}
    company = usable["company_profile"]
    who = [i for i in company if i.concrete] or top(company, 3)
    doubtful = [
        (SECTION_TITLES[key], item)
        for key, item in profile.all_items()
        if not item.certain and not item.retracted
    ]
    return Summary(
        who_we_sell_to=who + top(usable["technographics"], 2),
        top_triggers=top(usable["buying_triggers"], 3),
        top_criteria=top(usable["evaluation_criteria"], 3),
        never_target=list(usable["exclusions"]),
        negative_personas=[persona(i) for i in usable["exclusions"]],
        committee=committee(usable["buying_committee"]),
        language_bank=list(usable["customer_language"]),
        coverage=[coverage(key, profile.sections[key]) for key in SECTION_KEYS],
        open_questions=open_questions(profile),
        checklist=checklist(),
        check_by_hand=doubtful,
        unsorted=list(profile.unsorted),
    )


def top(items: list[Item], n: int) -> list[Item]:
    """The first n items, concrete ones first, otherwise in profile order."""
    return sorted(items, key=lambda item: not item.concrete)[:n]


# Where a persona's name ends and its reason starts: a colon, a semicolon, a sentence end, a dash.
_SPLIT = re.compile(r"\s*(?:[:;]|[.,!?](?=\s|$)|\s[-\u2013\u2014]\s)\s*")


def persona(item: Item) -> Persona:
    """Name a negative persona after the start of an exclusion item; the rest is the why."""
    said = _words().persona
    text = " ".join(item.text.split())
    core = said.lead_in_re.sub("", text, count=1) or text
    parts = _SPLIT.split(core, maxsplit=1)
    if len(parts) == 1:
        parts = said.because_re.split(core, maxsplit=1)
    head = parts[0].strip() or core
    rest = said.because_lead_re.sub("", parts[1].strip()) if len(parts) > 1 else ""
    words = head.split() or [text]
    if len(words) > 6:
        cut = next((i for i, w in enumerate(words) if i >= 2 and w.lower() in said.relative), 6)
        words, tail = words[: min(cut, 6)], words[min(cut, 6) :]
        who, they = said.who_they
        rest = rest or re.sub(who, they, " ".join(tail), flags=re.IGNORECASE)
    first = words[0]
    # "The" only before lowercase words or acronyms ("The DSOs"); a capitalised first word may
    # be a brand ("Shopify stores"), so it is kept as typed instead.
    if first.lower() not in said.no_article and (first.islower() or first.rstrip("s").isupper()):
        name = f"{said.article} " + " ".join(words)
    else:
        name = " ".join([first[:1].upper() + first[1:], *words[1:]])
    why = rest[:1].upper() + rest[1:]
    return Persona(name=name.rstrip(" -/"), why=why, evidence=list(item.evidence))


def roles(item: Item) -> list[str]:
    """The roles an item's text talks about, or ["other"]."""
    found = [role for role, pattern in _words().role_patterns.items() if pattern.search(item.text)]
    return found or ["other"]


def committee(items: list[Item]) -> list[RoleGroup]:
    """Buying-committee items grouped by role, in a fixed role order, empty roles dropped."""
    groups: dict[str, list[Item]] = {role: [] for role in ROLE_TITLES}
    for item in items:
        for role in roles(item):
            groups[role].append(item)
    return [
        RoleGroup(role=role, title=ROLE_TITLES[role], items=found)  # type: ignore[arg-type]
        for role, found in groups.items()
        if found
    ]


def confidence(section: Section) -> Confidence:
    """High when covered with concrete evidence, medium when partly so, low otherwise."""
    concrete = sum(item.concrete for item in section.items)
    if not section.items or section.status in ("pending", "declined"):
        return "low"
    if section.status == "covered":
        return "high" if concrete else "medium"
    return "medium" if concrete else "low"


def coverage(key: str, section: Section) -> Coverage:
    """Status, counts and confidence of one section."""
    return Coverage(
        key=key,
        title=SECTION_TITLES[key],
        status=section.status,
        items=len(section.items),
        concrete=sum(item.concrete for item in section.items),
        confidence=confidence(section),
    )


def open_questions(profile: Profile) -> list[OpenQuestion]:
    """One question per missing, vague, declined or example-less section, plus every note."""
    out = []
    for key in SECTION_KEYS:
        section = profile.sections[key]
        title = SECTION_TITLES[key]
        reason = None
        if section.status in ("pending", "vague", "declined"):
            reason = _words().reasons[section.status]
        elif not any(item.concrete for item in section.items):
            reason = _words().reasons["thin" if section.items else "pending"]
        if reason:
            out.append(
                OpenQuestion(
                    key=key, title=title, reason=reason, text=_words().section_questions[key]
                )
            )
        for note in section.notes:
            out.append(
                OpenQuestion(key=key, title=title, reason="noted in the interview", text=note)
            )
    return out


@lru_cache(maxsize=1)
def _checklist() -> tuple[str, ...]:
    import yaml

    data = yaml.safe_load((resource("report_templates") / "checklist.yaml").read_text("utf-8"))
    return tuple(str(q) for q in data["quarterly_review"])


def checklist() -> list[str]:
    """The fixed quarterly review questions, from report_templates/checklist.yaml."""
    return list(_checklist())
