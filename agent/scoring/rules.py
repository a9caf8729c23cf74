"""Scoring rules: conditions over account fields, rules, disqualifiers and the rules file."""

from __future__ import annotations

import re
import textwrap
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from agent.errors import InputError
from agent.paths import resource
from agent.profile.models import Evidence

Category = Literal["firmographic", "technographic", "behavioural"]  # identifiers: rubric categories
CATEGORIES: tuple[Category, ...] = (
    "firmographic",
    "technographic",
    "behavioural",
)  # identifiers: rubric categories
NUMERIC_FIELDS = ("employees", "revenue", "locations")  # identifiers: account fields
TEXT_FIELDS = (
    "industry",
    "region",
    "technologies",
    "signals",
    "source",
)  # identifiers: account fields
RuleField = Literal["employees", "revenue", "locations", "industry", "region", "technologies",
                    "signals", "source"]  # fmt: skip  # identifiers: account fields


@cache
def settings() -> dict[str, Any]:
    """prompts/rubric.yaml: points, tiers, weights, label templates."""
    from agent.paths import load_yaml

    return load_yaml(resource("prompts") / "rubric.yaml")


class Condition(BaseModel):
    """A test of one account field: words it contains, or bounds on its number."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    field: RuleField
    any_of: list[str] | None = None
    min: float | None = None
    max: float | None = None
    below: float | None = None
    above: float | None = None
    within_days: int | None = Field(default=None, ge=1, le=36500)

    @field_validator("any_of")
    @classmethod
    def _terms(cls, terms: list[str] | None) -> list[str] | None:
        if terms is None:
            return None
        cleaned = [str(t).strip() for t in terms if str(t).strip()]
        if not cleaned:
            raise ValueError("any_of needs at least one word")
        return cleaned

    @model_validator(mode="after")
    def _shape(self) -> Condition:
        bounds = [b for b in (self.min, self.max, self.below, self.above) if b is not None]
        if self.field in NUMERIC_FIELDS:
            if self.any_of is not None or not bounds:
                raise ValueError(f"{self.field} takes min, max, below or above, not any_of")
        elif self.any_of is None or bounds:
            raise ValueError(f"{self.field} takes any_of: [words], not numbers")
        if self.within_days is not None and self.field != "signals":
            raise ValueError("within_days only applies to signals")
        return self


class Rule(Condition):
    """Points an account earns when the condition holds."""

    id: str
    category: Category
    label: str
    points: int = Field(ge=0, le=100)
    evidence: list[Evidence] = Field(default_factory=list, exclude=True)
    source: str = Field(default="", exclude=True, description="The item it came from.")


class Disqualifier(Condition):
    """An exclusion: an account matching it is out, with a reason code for the CRM."""

    id: str
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]*$")
    label: str
    reason: str = ""
    evidence: list[Evidence] = Field(default_factory=list, exclude=True)
    source: str = Field(default="", exclude=True)


class MissingData(BaseModel):
    """What `icp score` does when a rule cannot be checked (the cell or the column is empty)."""

    model_config = ConfigDict(extra="forbid")

    tier_on_checked: bool = True
    min_coverage: int = Field(default=50, ge=0, le=100)
    needs_data_below: int = Field(default=80, ge=0, le=101)


def _default_missing_data() -> MissingData:
    return MissingData.model_validate(settings()["missing_data"])


class Rubric(BaseModel):
    """The whole rubric, as `icp rules` writes it and `icp score` reads it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    company: str = ""
    session: str = ""
    version: int = 0
    tiers: dict[Literal["A", "B", "C"], Annotated[float, Field(ge=0, le=100)]]
    categories: dict[Category, Annotated[int, Field(ge=0, le=100)]]
    missing_data: MissingData = Field(default_factory=_default_missing_data)
    rules: list[Rule] = Field(default_factory=list)
    disqualifiers: list[Disqualifier] = Field(default_factory=list)
    manual: list[str] = Field(
        default_factory=list, exclude=True, description="Items no system can check."
    )
    warnings: list[str] = Field(default_factory=list, exclude=True)
    conflicts: list[str] = Field(
        default_factory=list, exclude=True, description="Unresolved conflicts, one line each."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        if set(self.tiers) != {"A", "B", "C"} or not (
            self.tiers["A"] >= self.tiers["B"] >= self.tiers["C"]
        ):
            raise ValueError("tiers needs A, B and C with A >= B >= C")
        ids = [r.id for r in self.rules] + [d.id for d in self.disqualifiers]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rule ids must be unique; repeated: {', '.join(dupes)}")
        return self

    def max_points(self, category: Category) -> int:
        """What a category can award: its cap, or less when its rules add up to less."""
        total = sum(r.points for r in self.rules if r.category == category)
        return min(self.categories.get(category, 0), total)

    @property
    def reachable(self) -> int:
        """The highest score any account can get under these rules."""
        return sum(self.max_points(c) for c in CATEGORIES)

    @property
    def segments(self) -> list[str]:
        """The values of the CRM segment field: the industries the rules target."""
        terms = [t for r in self.rules if r.field == "industry" for t in r.any_of or ()]
        return list(dict.fromkeys(terms))

    def tier(self, score: float, disqualified: bool = False) -> str:
        """A, B, C or out."""
        if disqualified:
            return "out"
        return next((t for t in ("A", "B", "C") if score >= self.tiers[t]), "out")

    def projects(self, score: int, coverage: int) -> bool:
        """True when an account is tiered on what could be checked: it earned every point that
        could be checked, enough points could be checked, and not all of them could."""
        policy = self.missing_data
        return (
            policy.tier_on_checked
            and score == coverage
            and policy.min_coverage <= coverage < self.reachable
        )

    def tier_for(self, score: int, coverage: int, disqualified: bool = False) -> str:
        """The tier of an account, under the missing-data policy: one that met every rule its
        data could check is tiered as if it met the rest (the data is short, not the fit)."""
        if disqualified:
            return "out"
        return self.tier(self.reachable if self.projects(score, coverage) else score)

    def needs_data(self, coverage: int, disqualified: bool = False) -> bool:
        """True when too few points could be checked to trust the tier."""
        return not disqualified and coverage < self.missing_data.needs_data_below


def split_points(total: int, weights: list[float]) -> list[int]:
    """Integer shares of `total` in proportion to `weights`, summing to `total` exactly."""
    if not weights or total <= 0:
        return [0] * len(weights)
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    shares = [int(x) for x in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (shares[i] - raw[i], i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def or_join(terms: list[str]) -> str:
    """ "a", "a or b", "a, b or c"."""
    terms = list(terms)
    if len(terms) <= 1:
        return "".join(terms)
    return f"{', '.join(terms[:-1])} or {terms[-1]}"


_NOT_PRINTABLE = re.compile("[^\x09\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ORDER = ("id", "category", "code", "label", "reason", "points", "field", "any_of", "min", "max",
          "below", "above", "within_days")  # fmt: skip  # identifiers: rules file keys


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _clean(text: str, limit: int = 160) -> str:
    """Text safe for one YAML comment line."""
    text = " ".join(_NOT_PRINTABLE.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _dump(data: dict, flow: bool = False) -> str:
    """YAML for a mapping: block style, lists inline (`any_of: [a, b]`), or all inline."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def represent_list(self, value: list) -> yaml.Node:
            return self.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)

    Dumper.add_representer(list, Dumper.represent_list)
    text = yaml.dump(
        _plain(data),
        Dumper=Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=flow,
    )
    return text.removesuffix("...\n").rstrip()


def distinct_turns(evidence: list[Evidence]) -> list[Evidence]:
    """The first piece of evidence from each answer (session and turn), so a turn is cited once."""
    first: dict[tuple[str, int], Evidence] = {}
    for ev in evidence:
        first.setdefault((ev.session, ev.turn), ev)
    return list(first.values())


def evidence_lines(evidence: list[Evidence], roles: dict[str, str]) -> list[str]:
    """`turn 6 (sales): "quote"` for each piece of evidence, at most three."""
    out = []
    for ev in evidence[:3]:
        who = f" ({roles.get(ev.session, ev.session)})" if ev.session else ""
        out.append(f'turn {ev.turn}{who}: "{_clean(ev.quote, 80)}"')
    return out


def to_yaml(rubric: Rubric, source: str, roles: dict[str, str] | None = None) -> str:
    """The rules file: readable YAML with a comment on each rule citing its evidence."""
    from agent.prompts import render

    roles = roles or {}
    header = render(
        "rules_header.j2",
        company=_clean(rubric.company),
        source=_clean(source),
        categories=rubric.categories,
        tiers=_plain(rubric.tiers),
        warnings=[
            textwrap.fill(_clean(w, 400), 90, subsequent_indent="#       ") for w in rubric.warnings
        ],
        conflicts=[
            textwrap.fill(_clean(c, 600), 90, subsequent_indent="#     ") for c in rubric.conflicts
        ],
        missing=rubric.missing_data,
    )
    head = rubric.model_dump(include={"company", "session", "version"})
    parts = [header, "", _dump(head)]
    parts += [
        f"{key}: {_dump(rubric.model_dump(include={key})[key], flow=True)}"
        for key in ("tiers", "categories", "missing_data")
    ]
    for key, entries in (("rules", rubric.rules), ("disqualifiers", rubric.disqualifiers)):
        parts.append(f"\n{key}:" if entries else f"\n{key}: []")
        for entry in entries:
            parts.append(f"  # From: {_clean(entry.source, 90)}" if entry.source else "  #")
            parts += [f"  #   {line}" for line in evidence_lines(entry.evidence, roles)]
            data = entry.model_dump(exclude_none=True)
            body = _dump({k: data[k] for k in _ORDER if k in data}).splitlines()
            parts += ["  - " + body[0], *("    " + line for line in body[1:])]
    if rubric.manual:
        parts.append("\n# Not rules (nothing in account data can check them); qualify by hand:")
        parts += [f"#   - {_clean(text, 94)}" for text in rubric.manual]
    return "\n".join(parts) + "\n"


def load_rules(path: Path) -> Rubric:
    """Read and check a rules file; every problem is one InputError naming where it is."""
    import yaml

    from agent.safety import Hostile, check_yaml

    try:
        text = Path(path).read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        check_yaml(text)  # 600 levels of nesting or a 5,000-digit number: refused, not parsed
        data = yaml.safe_load(text)
    except Hostile as exc:
        raise InputError(f"{path} is refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise InputError(f"{path} is not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise InputError(f"{path} is nested too deeply to be a rules file") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise InputError(f"{path} holds a value that cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a rules file (expected `rules:` and `disqualifiers:`)")
    data.setdefault("tiers", settings()["tiers"])
    data.setdefault("categories", settings()["categories"])
    try:
        return Rubric.model_validate(data)
    except RecursionError:
        raise InputError(f"{path} is nested too deeply to be a rules file") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise InputError(f"{path}: {where.lstrip('.') or 'file'}: {msg}") from None
