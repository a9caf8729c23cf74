"""The Ideal Customer Profile: pydantic models, evidence rules and JSON Schema export."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SECTION_KEYS: tuple[str, ...] = (  # identifiers: the canonical section keys
    "company_profile",
    "technographics",
    "buying_triggers",
    "evaluation_criteria",
    "objections",
    "channels",
    "customer_language",
    "buying_committee",
    "exclusions",
    "value_outcomes",
    "sales_cycle",
)


class _SectionTitles(Mapping[str, str]):
    """Section titles in the default language pack, read on first use (`labels.yaml`)."""

    def _titles(self) -> dict[str, str]:
        from agent.lang import load_pack

        return load_pack().labels.sections

    def __getitem__(self, key: str) -> str:
        return self._titles()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(SECTION_KEYS)

    def __len__(self) -> int:
        return len(SECTION_KEYS)


SECTION_TITLES: Mapping[str, str] = _SectionTitles()

UNSORTED = "unsorted"  # where a statement no section takes waits for the joint review

Status = Literal["pending", "vague", "covered", "declined"]  # identifiers: statuses
QuantityKind = Literal[  # identifiers: kinds of quantity
    "employees", "revenue", "money", "percent", "duration", "count", "volume", "other"
]


class Evidence(BaseModel):
    """Where an item came from: the answer's turn number and an exact substring of it."""

    model_config = ConfigDict(frozen=True)

    turn: int = Field(ge=1, description="Turn number of the respondent's answer.")
    quote: str = Field(min_length=1, description="Exact substring of that answer.")
    session: str = Field(
        default="",
        exclude_if=lambda v: not v,
        description="In a merged profile: the source session whose turn this is.",
    )


class Quantity(BaseModel):
    """A number or range recognised in an item, normalised for scoring and drift."""

    kind: QuantityKind
    low: float | None = None
    high: float | None = None
    unit: str = ""
    text: str = Field(description="The words the quantity was read from.")


class Item(BaseModel):
    """One fact in a section, always backed by evidence."""

    id: str = Field(
        default="",
        description="Stable id: the section and a hash of where the item was first said; kept "
        "when the item is reviewed, edited or carried into a later version.",
    )
    text: str = Field(min_length=1)
    evidence: list[Evidence] = Field(min_length=1)
    concrete: bool = Field(
        default=False, description="Has a number, a named example or the customer's words."
    )
    quantities: list[Quantity] = Field(default_factory=list)
    said_by: str = Field(default="", description="Who said a customer phrase, when known.")
    source: str = Field(default="offline", description="Engine that extracted the item.")
    support: list[str] = Field(
        default_factory=list,
        exclude_if=lambda v: not v,
        description="In a merged profile: the respondents backing the item, as session:role.",
    )
    negations: list[str] = Field(
        default_factory=list,
        exclude_if=lambda v: not v,
        description='Parts of the text that deny something ("no Salesforce at most of them"):'
        " no rule rewards what they name.",
    )
    certain: bool = Field(
        default=True,
        exclude_if=lambda v: v,
        description="False when the reading is unsure (a guess, mixed signals): the item is shown "
        "for review, and the summary and the rules do not use it.",
    )
    retracted: bool = Field(
        default=False,
        exclude_if=lambda v: not v,
        description="The respondent corrected it later: kept as evidence, used nowhere else.",
    )
    corrected_by: str = Field(
        default="",
        exclude_if=lambda v: not v,
        description="The id of the item that corrects this one.",
    )

    @property
    def usable(self) -> bool:
        """Whether the summary, the rules and CRM fields may rest on it: read with certainty
        and not retracted."""
        return self.certain and not self.retracted


class Section(BaseModel):
    """One ICP section: its items and how well the interview covered it."""

    status: Status = "pending"
    items: list[Item] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list, description="What stayed vague: questions to validate later."
    )


SectionKey = Literal[SECTION_KEYS]  # type: ignore[valid-type]


class SummaryPoint(BaseModel):
    """One statement of the one-page summary."""

    text: str
    refs: list[str] = Field(description='Ids of the items it rests on, like "company_profile#2".')


class RubricRule(BaseModel):
    """One criterion of the draft lead-scoring rubric."""

    category: Literal["firmographic", "technographic", "behavioural"]
    criterion: str = Field(description="A rule checkable against CRM or enrichment data.")
    points: int
    refs: list[str]


class NegativePersona(BaseModel):
    """A kind of company that is never a fit, and why."""

    name: str
    why: str
    refs: list[str]


class OpenGap(BaseModel):
    """Something to validate against closed-won data."""

    section: SectionKey
    text: str
    refs: list[str]


class Synthesis(BaseModel):
    """The model's end-of-interview synthesis; every entry cites profile item ids."""

    summary: list[SummaryPoint]
    rubric: list[RubricRule]
    negative_personas: list[NegativePersona]
    open_questions: list[OpenGap]

    def grounded(self, known: set[str]) -> tuple[Synthesis, int]:
        """Only ids in `known`; entries left citing nothing are dropped (open questions stay)."""
        dropped = 0

        def keep(entries: list, required: bool = True) -> list:
            nonlocal dropped
            out = []
            for entry in entries:
                refs = [r for r in dict.fromkeys(entry.refs) if r in known]
                if required and not refs:
                    dropped += 1
                    continue
                out.append(entry.model_copy(update={"refs": refs}))
            return out

        rubric = [
            r.model_copy(update={"points": max(0, min(50, r.points))}) for r in keep(self.rubric)
        ]
        result = Synthesis(
            summary=keep(self.summary),
            rubric=rubric,
            negative_personas=keep(self.negative_personas),
            open_questions=keep(self.open_questions, required=False),
        )
        return result, dropped

    def size(self) -> int:
        """How many entries it holds."""
        return sum(
            map(len, (self.summary, self.rubric, self.negative_personas, self.open_questions))
        )


Team = Literal["sales", "marketing"]
ItemStatus = Literal["accepted", "edited", "moved"]  # identifiers: review statuses


class ItemReview(BaseModel):
    """What the joint review decided about one item, by whom and when."""

    status: ItemStatus
    by: str
    at: str
    was: str = Field(default="", description="The item's words before the review edited them.")
    moved_from: str = Field(default="", description="The section (or unsorted) it came from.")


class RejectedItem(BaseModel):
    """An item the review took out of the profile; kept here so it can be restored."""

    item: Item
    section: str
    by: str
    at: str


class ConflictDecision(BaseModel):
    """How sales and marketing settled a conflict of a merged profile."""

    decision: str
    owner: str
    due: str = Field(description="ISO date by which the owner acts or brings data.")
    by: str
    at: str


class Signoff(BaseModel):
    """One team's signature on the profile as it stood."""

    name: str
    at: str
    session: str
    version: int = Field(description="The profile version the sign-off was stored as.")
    content: str = Field(description="Hash of what was signed; a later change outdates it.")


class Review(BaseModel):
    """The joint review's record: item decisions, rejected items, conflicts, sign-offs."""

    items: dict[str, ItemReview] = Field(default_factory=dict)
    rejected: list[RejectedItem] = Field(default_factory=list)
    decisions: dict[str, ConflictDecision] = Field(default_factory=dict)
    owner: str = ""
    signoffs: dict[Team, Signoff] = Field(default_factory=dict)


def _empty_sections() -> dict[str, Section]:
    return {key: Section() for key in SECTION_KEYS}


class Profile(BaseModel):
    """The whole profile of one interview, as `icp export --format json` prints it."""

    session: str = ""
    company: str = ""
    role: str = ""
    product: str = Field(default="", description="The respondent's own one-line description.")
    version: int = 0
    sections: dict[str, Section] = Field(default_factory=_empty_sections)
    unsorted: list[Item] = Field(
        default_factory=list,
        exclude_if=lambda v: not v,
        description="Statements with content that no section took, each with its quote and turn,"
        " for the joint review to file or reject.",
    )
    review: Review | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="The joint review: item decisions, conflict decisions and sign-offs.",
    )
    synthesis: Synthesis | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="The llm engine's end-of-interview synthesis, citing item ids (section#n).",
    )

    @model_validator(mode="after")
    def _ids(self) -> Profile:
        """Items stored before ids existed get theirs, derived as a new item's would be."""
        for key, section in [*self.sections.items(), (UNSORTED, None)]:
            items = section.items if section else self.unsorted
            for item in items:
                if not item.id:
                    item.id = new_item_id(key, item, items)
        return self

    def section(self, key: str) -> Section:
        """Return the section for a canonical key."""
        return self.sections[key]

    def usable(self) -> Profile:
        """A copy holding only the items a summary or a rule may rest on (`Item.usable`)."""
        copy = self.model_copy(deep=True)
        for section in copy.sections.values():
            section.items = [item for item in section.items if item.usable]
        return copy

    def items_of(self, key: str) -> list[Item]:
        """The items of a section, or of Unsorted."""
        return self.unsorted if key == UNSORTED else self.sections[key].items

    def all_items(self) -> list[tuple[str, Item]]:
        """Every item with its section key, in canonical order."""
        return [(key, item) for key in SECTION_KEYS for item in self.sections[key].items]


def new_item_id(section: str, item: Item, taken: list[Item] = ()) -> str:
    """An item's id from its section and first evidence: the same statement filed in the same
    section gets the same id in every re-extraction; a suffix keeps ids in a section unique."""
    first = item.evidence[0]
    seed = "\0".join([section, first.session, str(first.turn), first.quote, item.text])
    base = f"{section}:{hashlib.sha256(seed.encode()).hexdigest()[:8]}"
    used = {other.id for other in taken if other is not item}
    unique, n = base, 1
    while unique in used:
        n += 1
        unique = f"{base}-{n}"
    return unique


def json_schema() -> dict:
    """The profile's JSON Schema, as `icp schema` prints it."""
    schema = Profile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ICP profile"
    sections = schema["properties"]["sections"]
    sections["propertyNames"] = {"enum": list(SECTION_KEYS)}
    sections["required"] = list(SECTION_KEYS)
    return schema


def verify_evidence(profile: Profile, answers: dict[int, str]) -> list[tuple[str, Item]]:
    """Return the items whose evidence is not an exact substring of the cited answer."""
    bad = []
    for key, item in [*profile.all_items(), *((UNSORTED, i) for i in profile.unsorted)]:
        for ev in item.evidence:
            if ev.quote not in answers.get(ev.turn, ""):
                bad.append((key, item))
                break
    return bad
