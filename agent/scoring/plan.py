"""A rubric compiled for one file's columns: each rule and disqualifier as conditions on the
row's prepared cells (agent/scoring/cells.py), scored here in Python. agent/scoring/sql.py
compiles the same plan to one SQL query, so both engines test exactly the same things.

What a rule checks, per kind:
- numbers (employees, revenue, locations): the first column that holds a number;
- words (industry, technologies, signals, source): its own columns, and for industry,
  technologies and signals also the free-text columns (Description, Notes, Tags...), in both
  without what a negation cue negates; it is unknown when its own columns are empty and the
  free text does not name it (free text that is silent is no evidence against);
- region: the geography columns, as places (agent/scoring/geo.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from agent.scoring.cells import prepare_text, read_date, read_number, short, term_pattern
from agent.scoring.columns import (
    FREE_TEXT_FIELDS,
    GEO_FIELDS,
    NUMBER_FIELDS,
    TEXT_FIELDS,
    Column,
    Layout,
)
from agent.scoring.conds import Cond, Search, any_of, compile_cond
from agent.scoring.geo import Geo, GeoColumn, geo_text
from agent.scoring.rules import CATEGORIES, Disqualifier, Rubric, Rule


class RowError(ValueError):
    """A row that cannot be read as meant: it is reported and skipped."""


def text_key(column: Column, written: bool = False) -> str:
    """The key of a text column's prepared value: lower-cased, or as written."""
    return f"{'t' if written else 'l'}{column.index}"


def geo_key(column: Column) -> str:
    """The key of a geography column's prepared value."""
    return f"g{column.index}"


def words_cond(column: Column, terms: list[str], free: bool) -> Cond:
    """Any of the terms in a column: in a field's own column in any case; in free text, terms
    of three characters or fewer only in capitals ("SAP", "3PL"; not the pronoun "us")."""
    if not free:
        return Search(text_key(column), term_pattern(terms))
    long_terms = [t for t in terms if not short(t)]
    short_terms = [t for t in terms if short(t)]
    parts: list[Cond] = []
    if long_terms:
        parts.append(Search(text_key(column), term_pattern(long_terms)))
    if short_terms:
        parts.append(Search(text_key(column, True), term_pattern(short_terms, capitals=True)))
    return any_of(parts)


@dataclass
class Check:
    """One rule or disqualifier, compiled."""

    entry: Rule | Disqualifier
    kind: str  # "number", "text" or "region"
    own: list[tuple[Column, Cond]] = field(default_factory=list)
    free: list[tuple[Column, Cond]] = field(default_factory=list)
    region: Cond | None = None
    known: list[Column] = field(default_factory=list)

    @property
    def field(self) -> str:
        """The account field it tests."""
        return self.entry.field


@dataclass
class Plan:
    """Everything both engines need to score one file against one rubric."""

    rubric: Rubric
    layout: Layout
    rules: list[Check]
    disqualifiers: list[Check]
    segments: list[tuple[str, list[tuple[Column, Cond]], list[tuple[Column, Cond]]]]
    flags: dict[str, Cond]  # geography flags, computed before the region checks
    text_columns: list[Column]
    free_columns: list[Column]
    geo_columns: list[Column]
    numbers: dict[str, list[Column]]
    dates: list[Column]

    @property
    def checks(self) -> list[Check]:
        """Rules, then disqualifiers."""
        return [*self.rules, *self.disqualifiers]


def build(rubric: Rubric, layout: Layout) -> Plan:
    """Compile a rubric for a file's columns."""
    free = layout.of("text")
    geo_columns = layout.of(*GEO_FIELDS)
    geo = Geo([GeoColumn(geo_key(c), c.field) for c in geo_columns])
    needed: set[str] = set()

    def check(entry: Rule | Disqualifier) -> Check:
        nonlocal needed
        if entry.field in NUMBER_FIELDS:
            return Check(entry, "number")
        if entry.field == "region":
            cond, countries = geo.match(entry.any_of or [])
            needed |= countries
            return Check(entry, "region", region=cond, known=geo_columns)
        terms = entry.any_of or []
        own = [(c, words_cond(c, terms, False)) for c in layout.of(entry.field)]
        reads_free = entry.field in FREE_TEXT_FIELDS
        free_conds = [(c, words_cond(c, terms, True)) for c in free] if reads_free else []
        return Check(entry, "text", own=own, free=free_conds, known=layout.of(entry.field))

    rules = [check(r) for r in rubric.rules]
    disqualifiers = [check(d) for d in rubric.disqualifiers]
    segments = []
    industry = layout.of("industry")
    for term in rubric.segments:
        own = [(c, words_cond(c, [term], False)) for c in industry]
        segments.append((term, own, [(c, words_cond(c, [term], True)) for c in free]))
    text_columns = layout.of(*TEXT_FIELDS, "text")
    used_geo = any(c.kind == "region" for c in [*rules, *disqualifiers])
    return Plan(
        rubric=rubric,
        layout=layout,
        rules=rules,
        disqualifiers=disqualifiers,
        segments=segments,
        flags=geo.flags(needed) if used_geo else {},
        text_columns=text_columns,
        free_columns=free,
        geo_columns=geo_columns,
        numbers={f: layout.of(f) for f in NUMBER_FIELDS if layout.of(f)},
        dates=layout.of("signal_date"),
    )


# Scoring in Python ----------------------------------------------------------------------------


@dataclass
class Scored:
    """One account's result."""

    line: int
    account: str
    score: int
    tier: str
    segment: str
    points: dict[str, int]
    matched: list[dict[str, Any]]
    disqualifier: dict[str, Any] | None
    unknown: list[str]
    coverage: int = 0
    needs_data: bool = False
    record_id: str = ""
    domain: str = ""
    projected: bool = False
    explanation: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        out = {
            "line": self.line,
            "record_id": self.record_id,
            "account": self.account,
            "score": self.score,
            "tier": self.tier,
            "segment": self.segment,
            "points": self.points,
            "matched": self.matched,
            "disqualifier": self.disqualifier,
            "unknown": self.unknown,
            "coverage": self.coverage,
            "needs_data": self.needs_data,
            "tiered_on_checked": self.projected,
        }
        if self.explanation:
            out["explanation"] = self.explanation
        return out


def _cell(row: list[str], column: Column) -> str:
    return row[column.index] if column.index < len(row) else ""


def _first(row: list[str], columns: list[Column], read: Callable[[str], Any], what: str) -> Any:
    """The first column's value; RowError for an unreadable cell before it."""
    for column in columns:
        raw = _cell(row, column)
        try:
            value = read(raw)
        except ValueError:
            raise RowError(f"{column.label} {raw.strip()!r} is not {what}") from None
        if value is not None:
            return value, column
    return None, None


class Scorer:
    """Scores rows of one file against one rubric, as the SQL does."""

    def __init__(self, plan: Plan, as_of: date, explain: bool = False):
        self.plan = plan
        self.rubric = plan.rubric
        self.as_of = as_of
        self.explain = explain
        self.names = plan.layout.of("name")
        self.ids = plan.layout.of("id")
        self.domains = plan.layout.of("domain")
        self._compiled = {
            id(check): (
                [(c, compile_cond(cond)) for c, cond in check.own],
                [(c, compile_cond(cond)) for c, cond in check.free],
                compile_cond(check.region) if check.region is not None else None,
            )
            for check in plan.checks
        }
        self._segments = [
            (term, [compile_cond(c) for _, c in own], [compile_cond(c) for _, c in free])
            for term, own, free in plan.segments
        ]
        self._flags = [(name, compile_cond(cond)) for name, cond in plan.flags.items()]
        self._regions = [c for c in plan.checks if c.kind == "region"]
        self._geo = lru_cache(maxsize=32768)(self._geo_outcomes)

    def _geo_outcomes(self, cells: tuple[str, ...]) -> tuple[bool, dict[int, bool]]:
        """Whether any geography cell is known, and each region check's outcome."""
        values: dict[str, Any] = {}
        known = False
        for column, cell in zip(self.plan.geo_columns, cells, strict=True):
            text = geo_text(cell)
            values[geo_key(column)] = text
            known = known or prepare_text(cell)[0]
        for name, fn in self._flags:
            values[name] = fn(values)
        return known, {id(c): self._compiled[id(c)][2](values) for c in self._regions}

    def score(self, row: list[str], line: int) -> Scored:
        """Score one row; RowError when it cannot be read as meant."""
        numbers, errors = {}, []
        for fld, columns in self.plan.numbers.items():
            try:
                value, column = _first(row, columns, read_number, "a number")
            except RowError as exc:
                errors.append((columns[0].index, str(exc)))
                continue
            numbers[fld] = value * column.times if value is not None else None
        try:
            when, _ = _first(row, self.plan.dates, read_date, "a date (write it as YYYY-MM-DD)")
        except RowError as exc:
            errors.append((self.plan.dates[0].index, str(exc)))
        if errors:
            raise RowError(min(errors)[1])
        values: dict[str, str] = {}
        known: dict[int, bool] = {}
        for column in self.plan.text_columns:
            k, written, lower = prepare_text(_cell(row, column))
            known[column.index] = k
            values[text_key(column, True)] = written
            values[text_key(column)] = lower
        geo_known, regions = (
            self._geo(tuple(_cell(row, c) for c in self.plan.geo_columns))
            if self.plan.geo_columns
            else (False, {})
        )
        points = dict.fromkeys(CATEGORIES, 0)
        checkable = dict.fromkeys(CATEGORIES, 0)
        matched, unknown = [], []
        for check in self.plan.rules:
            outcome, where = self._outcome(check, numbers, when, values, known, geo_known, regions)
            rule = check.entry
            if outcome is None:
                unknown.append(rule.field)
                continue
            checkable[rule.category] += rule.points
            if outcome:
                points[rule.category] += rule.points
                hit = {"id": rule.id, "label": rule.label, "points": rule.points}
                if where is not None:
                    hit["column"] = where.label
                if self.explain:
                    hit["what"] = self._what(check, where, values)
                matched.append(hit)
        caps = self.rubric.categories
        points = {c: min(p, caps.get(c, 0)) for c, p in points.items()}
        coverage = sum(min(p, caps.get(c, 0)) for c, p in checkable.items())
        dq = None
        for check in self.plan.disqualifiers:
            outcome, where = self._outcome(check, numbers, when, values, known, geo_known, regions)
            if outcome:
                d = check.entry
                dq = {"code": d.code, "id": d.id, "label": d.label, "reason": d.reason}
                if where is not None:
                    dq["column"] = where.label
                if self.explain:
                    dq["what"] = self._what(check, where, values)
                break
        total = min(100, sum(points.values()))
        out = Scored(
            line=line,
            account=self._first_text(row, self.names) or f"line {line}",
            score=total,
            tier=self.rubric.tier_for(total, coverage, dq is not None),
            segment=self._segment(values),
            points=points,
            matched=matched,
            disqualifier=dq,
            unknown=list(dict.fromkeys(unknown)),
            coverage=coverage,
            needs_data=self.rubric.needs_data(coverage, dq is not None),
            record_id=self._first_text(row, self.ids),
            domain=self._first_text(row, self.domains),
            projected=dq is None and self.rubric.projects(coverage),
        )
        if self.explain:
            from agent.scoring.output import explain

            out.explanation = explain(out, self.rubric)
        return out

    @staticmethod
    def _first_text(row: list[str], columns: list[Column]) -> str:
        """The first non-blank cell, as written (a leading apostrophe or tab kept)."""
        for column in columns:
            cell = _cell(row, column).strip(" ")
            if cell.strip():
                return cell
        return ""

    def _outcome(
        self,
        check: Check,
        numbers: dict[str, float | None],
        when: date | None,
        values: dict[str, str],
        known: dict[int, bool],
        geo_known: bool,
        regions: dict[int, bool],
    ) -> tuple[bool | None, Column | None]:
        """True, False or None (cannot be checked), and the free-text column that matched."""
        entry = check.entry
        if check.kind == "number":
            value = numbers.get(entry.field)
            if value is None:
                return None, None
            return (
                (entry.min is None or value >= entry.min)
                and (entry.max is None or value <= entry.max)
                and (entry.below is None or value < entry.below)
                and (entry.above is None or value > entry.above)
            ), None
        if check.kind == "region":
            return (regions[id(check)] if geo_known else None), None
        own, free, _ = self._compiled[id(check)]
        where: Column | None = None
        hit = any(fn(values) for _, fn in own)
        if not hit:
            for column, fn in free:
                if fn(values):
                    hit, where = True, column
                    break
        if hit:
            days = getattr(entry, "within_days", None)
            if days and when is not None and not 0 <= (self.as_of - when).days <= days:
                return False, where
            return True, where
        return (False if any(known[c.index] for c in check.known) else None), None

    def _segment(self, values: dict[str, str]) -> str:
        for term, own, _ in self._segments:
            if any(fn(values) for fn in own):
                return term
        for term, _, free in self._segments:
            if any(fn(values) for fn in free):
                return term
        return ""

    def _what(self, check: Check, where: Column | None, values: dict[str, str]) -> str:
        """The term that matched (for --explain): its first term found where it matched."""
        terms = check.entry.any_of or []
        if check.kind != "text" or not terms:
            return ""
        columns = [where] if where is not None else [c for c, _ in check.own]
        for term in terms:
            for column in columns:
                cond = words_cond(column, [term], where is not None)
                if compile_cond(cond)(values):
                    return term
        return ""
