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

from agent.scoring.cells import (
    blank_words,
    may_match,
    needs,
    normalise,
    prepare_text,
    read_date,
    read_number,
    short,
    term_pattern,
    words,
)
from agent.scoring.columns import (
    FREE_TEXT_FIELDS,
    GEO_FIELDS,
    NUMBER_FIELDS,
    TEXT_FIELDS,
    Column,
    Layout,
)
from agent.scoring.conds import Cond, Search, _rx, any_of, compile_cond
from agent.scoring.geo import Geo, GeoColumn, geo_text
from agent.scoring.rules import CATEGORIES, Disqualifier, Rubric, Rule

_EDGE = "".join(chr(c) for c in range(0xA1) if not chr(c).isalnum() and chr(c) not in "_-")


class RowError(ValueError):
    """A row that cannot be read as meant: it is reported and skipped."""


def text_key(column: Column, written: bool = False) -> str:
    """The key of a text column's prepared value: lower-cased, or as written."""
    return f"{'t' if written else 'l'}{column.index}"


def geo_key(column: Column) -> str:
    """The key of a geography column's prepared value."""
    return f"g{column.index}"


@dataclass(frozen=True)
class WordsTest:
    """Any of some terms in one column: the condition, and for Python's quick test the words
    one of the terms needs (cells.needs)."""

    column: Column
    cond: Cond
    need: tuple[frozenset[str], ...]


def words_test(column: Column, terms: list[str], free: bool) -> WordsTest:
    """Any of the terms (or their synonyms) in a column: in a field's own column in any case;
    in free text, terms of three characters or fewer only in capitals ("SAP", "3PL"; not the
    pronoun "us")."""
    same = words().same_as
    terms = list(dict.fromkeys(w for term in terms for w in same(term)))
    if not free:
        cond: Cond = Search(text_key(column), term_pattern(terms))
    else:
        long_terms = [t for t in terms if not short(t)]
        short_terms = [t for t in terms if short(t)]
        parts: list[Cond] = []
        if long_terms:
            parts.append(Search(text_key(column), term_pattern(long_terms)))
        if short_terms:
            parts.append(Search(text_key(column, True), term_pattern(short_terms, capitals=True)))
        cond = any_of(parts)
    return WordsTest(column, cond, tuple(needs(terms, plurals=True)))


@dataclass
class Check:
    """One rule or disqualifier, compiled."""

    entry: Rule | Disqualifier
    kind: str  # "number", "text" or "region"
    own: list[WordsTest] = field(default_factory=list)
    free: list[WordsTest] = field(default_factory=list)
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
    segments: list[tuple[str, list[WordsTest], list[WordsTest]]]
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
        own = [words_test(c, terms, False) for c in layout.of(entry.field)]
        reads_free = entry.field in FREE_TEXT_FIELDS
        free_conds = [words_test(c, terms, True) for c in free] if reads_free else []
        return Check(entry, "text", own=own, free=free_conds, known=layout.of(entry.field))

    rules = [check(r) for r in rubric.rules]
    disqualifiers = [check(d) for d in rubric.disqualifiers]
    segments = []
    industry = layout.of("industry")
    for term in rubric.segments:
        own = [words_test(c, [term], False) for c in industry]
        segments.append((term, own, [words_test(c, [term], True) for c in free]))
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


class _TextProgram:
    """What every test on one text column finds in a cell, cached by the cell: the checks and
    segment terms that read the column, each tried only when the cell holds all the words of
    one of its terms (a quick necessary test; the pattern decides)."""

    def __init__(self, column: Column, tests: list[WordsTest]):
        self.column = column
        self.keys = (text_key(column, True), text_key(column))
        self.tests = [(compile_cond(test.cond), list(test.need)) for test in tests]
        self.read = lru_cache(maxsize=16384)(self._read)

    def _read(self, cell: str) -> tuple[bool, tuple[bool, ...]]:
        known, written, lower, have = prepare_text(cell)
        if not known:
            return False, (False,) * len(self.tests)
        values = {self.keys[0]: written, self.keys[1]: lower}
        return True, tuple(may_match(need, have) and fn(values) for fn, need in self.tests)


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
        # every (column, cond) test, gathered per column; refs say where each test's result is
        tests: dict[int, list[WordsTest]] = {}

        def ref(test: WordsTest) -> tuple[int, int]:
            mine = tests.setdefault(test.column.index, [])
            mine.append(test)
            return test.column.index, len(mine) - 1

        self._checks = []
        for check in plan.checks:
            own = [ref(test) for test in check.own]
            free = [(test.column, ref(test)) for test in check.free]
            region = compile_cond(check.region) if check.region is not None else None
            self._checks.append((check, own, free, region))
        self._segments = [
            (term, [ref(test) for test in own], [ref(test) for test in free])
            for term, own, free in plan.segments
        ]
        columns = {c.index: c for c in plan.text_columns}
        self._programs = [_TextProgram(columns[i], tests.get(i, [])) for i in sorted(columns)]
        self._flags = [(name, compile_cond(cond)) for name, cond in plan.flags.items()]
        self._regions = [c for c, _, _, r in self._checks if r is not None]
        self._geo = lru_cache(maxsize=32768)(self._geo_outcomes)
        self._numbers = [(fld, columns_) for fld, columns_ in plan.numbers.items()]
        caps = self.rubric.categories
        self._caps = {c: caps.get(c, 0) for c in CATEGORIES}
        # the missing-data policy and tiers as plain values (Rubric.tier_for, without
        # recomputing what the rubric can award for every row)
        policy = self.rubric.missing_data
        self._reach = self.rubric.reachable
        self._project = (policy.tier_on_checked, policy.min_coverage)
        self._needs_below = policy.needs_data_below
        self._tiers = [(t, self.rubric.tiers[t]) for t in ("A", "B", "C")]
        self._prepare_hot_path()

    def _tier(self, score: int, coverage: int, disqualified: bool) -> tuple[str, bool]:
        """(tier, tiered on what could be checked), as Rubric.tier_for."""
        if disqualified:
            return "out", False
        on, least = self._project
        projected = on and score == coverage and least <= coverage < self._reach
        basis = self._reach if projected else score
        return next((t for t, limit in self._tiers if basis >= limit), "out"), projected

    def _geo_outcomes(self, cells: tuple[str, ...]) -> tuple[bool, dict[int, bool]]:
        """Whether any geography cell is known, and each region check's outcome."""
        values: dict[str, Any] = {}
        known = False
        for column, cell in zip(self.plan.geo_columns, cells, strict=True):
            values[geo_key(column)] = geo_text(cell)
            known = known or normalise(cell).lower() not in blank_words()
        for name, fn in self._flags:
            values[name] = fn(values)
        return known, {
            id(check): region(values) for check, _, _, region in self._checks if region is not None
        }

    def _prepare_hot_path(self) -> None:
        """Each check as a tuple of plain values, so scoring a row reads no model attributes."""
        self._rows_checks = []
        cat_index = {c: n for n, c in enumerate(CATEGORIES)}
        for check, own, free, _ in self._checks:
            e = check.entry
            kind = {"number": 0, "region": 1, "text": 2}[check.kind]
            is_dq = isinstance(e, Disqualifier)
            self._rows_checks.append(
                (
                    kind,
                    is_dq,
                    e.field,
                    e.min,
                    e.max,
                    e.below,
                    e.above,
                    -1 if is_dq else cat_index[e.category],
                    0 if is_dq else e.points,
                    getattr(e, "within_days", None),
                    tuple(own),
                    tuple((column, i, k) for column, (i, k) in free),
                    tuple(c.index for c in check.known),
                    check,
                )
            )
        self._text_read = [(p.column.index, p.read) for p in self._programs]
        self._number_at = [
            (fld, [(c.index, c.times, c.label) for c in columns]) for fld, columns in self._numbers
        ]
        self._date_at = [(c.index, c.label) for c in self.plan.dates]
        self._geo_at = tuple(c.index for c in self.plan.geo_columns)
        self._caps_list = [self._caps[c] for c in CATEGORIES]

    def score(self, row: list[str], line: int) -> Scored:
        """Score one row; RowError when it cannot be read as meant."""
        width = len(row)
        numbers: dict[str, float | None] = {}
        errors = None
        for fld, columns in self._number_at:
            value = None
            for i, times, label in columns:
                cell = row[i] if i < width else ""
                try:
                    value = read_number(cell)
                except ValueError:
                    errors = errors or []
                    errors.append((i, f"{label} {cell.strip()!r} is not a number"))
                    break
                if value is not None:
                    value *= times
                    break
            numbers[fld] = value
        when = None
        for i, label in self._date_at:
            cell = row[i] if i < width else ""
            try:
                when = read_date(cell)
            except ValueError:
                errors = errors or []
                errors.append(
                    (i, f"{label} {cell.strip()!r} is not a date (write it as YYYY-MM-DD)")
                )
                break
            if when is not None:
                break
        if errors:
            raise RowError(min(errors)[1])
        read = {i: fn(row[i] if i < width else "") for i, fn in self._text_read}
        if self._geo_at:
            geo_known, regions = self._geo(tuple(row[i] if i < width else "" for i in self._geo_at))
        else:
            geo_known, regions = False, {}
        points = [0, 0, 0]
        checkable = [0, 0, 0]
        matched, unknown = [], []
        dq = None
        as_of = self.as_of
        for (kind, is_dq, fld, low, high, below, above, cat, pts, days, own, free, known_at,
             check) in self._rows_checks:  # fmt: skip
            where = None
            if kind == 0:
                value = numbers.get(fld)
                if value is None:
                    outcome = None
                else:
                    outcome = (
                        (low is None or value >= low)
                        and (high is None or value <= high)
                        and (below is None or value < below)
                        and (above is None or value > above)
                    )
            elif kind == 1:
                outcome = regions[id(check)] if geo_known else None
            else:
                outcome = None
                for i, k in own:
                    if read[i][1][k]:
                        outcome = True
                        break
                else:
                    for column, i, k in free:
                        if read[i][1][k]:
                            outcome, where = True, column
                            break
                if outcome:
                    if days and when is not None and not 0 <= (as_of - when).days <= days:
                        outcome = False
                else:
                    for i in known_at:
                        if read[i][0]:
                            outcome = False
                            break
            if is_dq:
                if outcome and dq is None:
                    entry = check.entry
                    dq = {"code": entry.code, "id": entry.id, "label": entry.label,
                          "reason": entry.reason}  # fmt: skip
                    if where is not None:
                        dq["column"] = where.label
                    if self.explain:
                        dq["what"] = self._what(check, where, row)
                continue
            if outcome is None:
                unknown.append(fld)
                continue
            checkable[cat] += pts
            if outcome:
                points[cat] += pts
                entry = check.entry
                hit = {"id": entry.id, "label": entry.label, "points": pts}
                if where is not None:
                    hit["column"] = where.label
                if self.explain:
                    hit["what"] = self._what(check, where, row)
                matched.append(hit)
        caps = self._caps_list
        earned = [min(p, c) for p, c in zip(points, caps, strict=True)]
        coverage = sum(min(p, c) for p, c in zip(checkable, caps, strict=True))
        total = min(100, sum(earned))
        disqualified = dq is not None
        tier, projected = self._tier(total, coverage, disqualified)
        out = Scored(
            line=line,
            account=self._first_text(row, self.names) or f"line {line}",
            score=total,
            tier=tier,
            segment=self._segment(read),
            points=dict(zip(CATEGORIES, earned, strict=True)),
            matched=matched,
            disqualifier=dq,
            unknown=list(dict.fromkeys(unknown)) if unknown else unknown,
            coverage=coverage,
            needs_data=not disqualified and coverage < self._needs_below,
            record_id=self._first_text(row, self.ids),
            domain=self._first_text(row, self.domains),
            projected=projected,
        )
        if self.explain:
            from agent.scoring.output import explain

            out.explanation = explain(out, self.rubric)
        return out

    @staticmethod
    def _first_text(row: list[str], columns: list[Column]) -> str:
        """The first non-blank cell, as written (a leading apostrophe or tab kept)."""
        width = len(row)
        for column in columns:
            if column.index < width:
                cell = row[column.index].strip(" ")
                if cell.strip():
                    return cell
        return ""

    def _segment(self, read: dict[int, tuple[bool, tuple[bool, ...]]]) -> str:
        for term, own, _ in self._segments:
            for i, k in own:
                if read[i][1][k]:
                    return term
        for term, _, free in self._segments:
            for i, k in free:
                if read[i][1][k]:
                    return term
        return ""

    def _what(self, check: Check, where: Column | None, row: list[str]) -> str:
        """What matched (for --explain), as the cell writes it: "3PL", "Manhattan"."""
        terms = check.entry.any_of or []
        if check.kind != "text" or not terms:
            return ""
        free = where is not None
        columns = [where] if free else [test.column for test in check.own]
        forms = [form for term in terms for form in words().same_as(term)]
        for column in columns:
            _, written, lower, _ = prepare_text(_cell(row, column))
            for form in forms:
                capitals = free and short(form)
                found = _rx(term_pattern([form], capitals)).search(written if capitals else lower)
                if found:
                    return written[found.start() : found.end()].strip(_EDGE)
        return ""
