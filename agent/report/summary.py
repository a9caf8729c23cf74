"""Offline derivation of what the report shows beyond the raw profile: summary, roles, gaps."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel

from agent.paths import resource
from agent.profile.models import SECTION_KEYS, SECTION_TITLES, Evidence, Item, Profile, Section

Confidence = Literal["high", "medium", "low"]
Role = Literal["feels", "budget", "influences", "blocks", "other"]

ROLE_TITLES: dict[str, str] = {
    "feels": "Feels the problem / finds us",
    "budget": "Signs / owns the budget",
    "influences": "Influences the decision",
    "blocks": "Can block",
    "other": "Other roles mentioned",
}

# Keyword rules per role, matched case-insensitively on word starts; an item may hold several.
_ROLE_PATTERNS: dict[str, re.Pattern[str]] = {
    role: re.compile(r"\b(?:" + "|".join(words) + ")", re.IGNORECASE)
    for role, words in {
        "feels": [
            r"feel",
            r"pain",
            r"suffer",
            r"struggl",
            r"complain",
            r"frustrat",
            r"finds? us",
            r"found us",
            r"discover",
            r"first to",
            r"starts?\b",
            r"started",
            r"champion",
            r"day[- ]to[- ]day",
            r"hands[- ]on",
            r"end[- ]users?",
            r"lives? with",
            r"owns the problem",
        ],
        "budget": [
            r"budget",
            r"signs?\b",
            r"signed",
            r"signing",
            r"sign[- ]off",
            r"approv",
            r"pays?\b",
            r"paid",
            r"economic buyer",
            r"purchas",
            r"cheque",
            r"check ?book",
            r"final say",
            r"decision[- ]maker",
            r"decides?\b",
            r"owns the (?:money|spend|p&l)",
            r"spend",
        ],
        "influences": [
            r"influenc",
            r"recommend",
            r"evaluat",
            r"weighs? in",
            r"opinion",
            r"consult",
            r"advis",
            r"input",
            r"shortlist",
            r"trials?\b",
            r"tests?\b",
            r"pilot",
            r"sways?\b",
            r"has a say",
            r"reviews? the demo",
        ],
        "blocks": [
            r"block",
            r"veto",
            r"kills?\b",
            r"stall",
            r"security review",
            r"legal",
            r"procurement",
            r"compliance",
            r"objects?\b",
            r"resist",
            r"gatekeep",
            r"push(?:es)? back",
            r"says? no",
            r"slows? (?:it|things|deals?) down",
        ],
    }.items()
}

# What to ask the closed-won data when a section is missing or thin.
SECTION_QUESTIONS: dict[str, str] = {
    "company_profile": "Which employee and revenue ranges, industries, regions and growth "
    "stages do the last 10-20 closed-won deals actually fall in?",
    "technographics": "Which tools did recent closed-won accounts run at signature, and which "
    "integration came up in every one of those deals?",
    "buying_triggers": "What happened in the 90 days before each recent closed-won deal started "
    "(new executive, funding, audit, migration, renewal)?",
    "evaluation_criteria": "What did recent winners compare us on, and what did the deals we "
    "lost to a competitor or to doing nothing turn on?",
    "objections": "Which objections appear in the notes of won and lost deals, at which stage, "
    "and which answer preceded the win?",
    "channels": "What is the first-touch source of recent closed-won accounts, and who "
    "referred them?",
    "customer_language": "What exact words do won customers use for the problem and the outcome "
    "in call recordings, emails and reviews?",
    "buying_committee": "Who was on the won opportunities' contact roles: who started it, who "
    "signed, who could have blocked?",
    "exclusions": "Which company types churned or stalled at one stage in the last year, and "
    "should they be disqualified outright?",
    "value_outcomes": "Which outcomes do renewing and expanding accounts report, and how long "
    "after signature did they first see value?",
    "sales_cycle": "What are the median cycle length, deal size and discount of recent closed-won "
    "deals, and which steps did every deal go through?",
}

_REASONS: dict[str, str] = {
    "pending": "not covered in the interview",
    "vague": "stayed vague",
    "declined": "the respondent declined to answer",
    "thin": "no concrete example, number or quote",
}


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


_LEAD_IN = re.compile(
    r"^(?:we\s+)?(?:should\s+)?(?:never|don'?t|do not|not|no|avoid|exclude|skip|stay away from|"
    r"disqualify)\b(?:\s+(?:ever\s+)?(?:target|sell to|go after|pursue|chase|work with|take on|a "
    r"fit:?|fit:?))?[\s:,-]*",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*(?:[:;]|[.,!?](?=\s|$)|\s[-\u2013\u2014]\s)\s*")
_BECAUSE = re.compile(r"\s+\b(?:because|since|as they|as it|unless)\b\s*", re.IGNORECASE)
_BECAUSE_LEAD = re.compile(r"^(?:because|since|as)\s+", re.IGNORECASE)
_RELATIVE = {"who", "which", "that", "where", "when", "whose"}
_NO_ARTICLE = {"a", "an", "the", "any", "anyone", "anybody", "all", "every", "those", "no"}


def persona(item: Item) -> Persona:
    """Name a negative persona after the start of an exclusion item; the rest is the why."""
    text = " ".join(item.text.split())
    core = _LEAD_IN.sub("", text, count=1) or text
    parts = _SPLIT.split(core, maxsplit=1)
    if len(parts) == 1:
        parts = _BECAUSE.split(core, maxsplit=1)
    head = parts[0].strip() or core
    rest = _BECAUSE_LEAD.sub("", parts[1].strip()) if len(parts) > 1 else ""
    words = head.split() or [text]
    if len(words) > 6:
        cut = next((i for i, w in enumerate(words) if i >= 2 and w.lower() in _RELATIVE), 6)
        words, tail = words[: min(cut, 6)], words[min(cut, 6) :]
        rest = rest or re.sub(r"^who\b", "they", " ".join(tail), flags=re.IGNORECASE)
    first = words[0]
    # "The" only before lowercase words or acronyms ("The DSOs"); a capitalised first word may
    # be a brand ("Shopify stores"), so it is kept as typed instead.
    if first.lower() not in _NO_ARTICLE and (first.islower() or first.rstrip("s").isupper()):
        name = "The " + " ".join(words)
    else:
        name = " ".join([first[:1].upper() + first[1:], *words[1:]])
    why = rest[:1].upper() + rest[1:]
    return Persona(name=name.rstrip(" -/"), why=why, evidence=list(item.evidence))


def roles(item: Item) -> list[str]:
    """The roles an item's text talks about, or ["other"]."""
    found = [role for role, pattern in _ROLE_PATTERNS.items() if pattern.search(item.text)]
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
            reason = _REASONS[section.status]
        elif not any(item.concrete for item in section.items):
            reason = _REASONS["thin"] if section.items else _REASONS["pending"]
        if reason:
            out.append(
                OpenQuestion(key=key, title=title, reason=reason, text=SECTION_QUESTIONS[key])
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
