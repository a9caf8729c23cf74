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
    key_words,
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
from agent.scoring.conds import AnyOf, Cond, Search, _rx, any_of, compile_cond
from agent.scoring.geo import Geo, GeoColumn, geo_text
from agent.scoring.rules import CATEGORIES, Disqualifier, Rubric, Rule

# what --explain trims from the ends of a match (its boundary characters)
_EDGE = "".join(chr(c) for c in range(0xA1) if not chr(c).isalnum() and chr(c) not in "_-")
CACHED_CELL = 200  # characters: longer cells are not cached


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


@dataclass(slots=True)
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
    rules_matched: str = ""  # "employees; industry (Description)", as the CSV writes it

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


class _TextProgram:
    """What every test on one text column finds in a cell, cached by the cell: the checks and
    segment terms that read the column, each tried only when the cell holds the key word of
    one of its terms (a quick necessary test; the pattern decides)."""

    def __init__(self, column: Column, tests: list[WordsTest]):
        self.column = column
        # a term matches only where each of its words is a word of the text, so a text sharing
        # no word with any of a test's terms cannot match it (one set operation, in C)
        self.tests = [(key_words(test.need), _searches(test.cond, column)) for test in tests]
        self.none = (False,) * len(self.tests)
        # picklist values repeat and are cached; long free text rarely repeats, so it is not
        # kept (memory stays flat however long the descriptions)
        self.cached = lru_cache(maxsize=16384)(self._read)

    def read(self, cell: str) -> tuple[bool, tuple[bool, ...]]:
        """What the tests find in a cell."""
        return self.cached(cell) if len(cell) <= CACHED_CELL else self._read(cell)

    def _read(self, cell: str) -> tuple[bool, tuple[bool, ...]]:
        known, written, lower, have = prepare_text(cell)
        if not known:
            return False, self.none
        hits = []
        for keys, searches in self.tests:
            hit = False
            if keys is None or not have.isdisjoint(keys):
                for search, as_written in searches:
                    if search(written if as_written else lower) is not None:
                        hit = True
                        break
            hits.append(hit)
        return True, tuple(hits)


def _searches(cond: Cond, column: Column) -> list[tuple[Callable, bool]]:
    """A words test as (pattern search, on the text as written?) pairs, any of which holds."""
    parts = cond.parts if isinstance(cond, AnyOf) else (cond,)
    out = []
    for part in parts:
        assert isinstance(part, Search)
        out.append((_rx(part.pattern).search, part.value == text_key(column, True)))
    return out


class Scorer:
    """Scores rows of one file against one rubric, as the SQL does."""

    def __init__(self, plan: Plan, as_of: date, explain: bool = False):
        self.plan = plan
        self.rubric = plan.rubric
        self.as_of = as_of
        self.explain = explain
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
        self._geo = lru_cache(maxsize=32768)(self._geo_outcomes)
        self._prepare_hot_path()

    def _geo_outcomes(self, cells: tuple[str, ...]) -> tuple[bool, tuple[bool, ...]]:
        """Whether any geography cell is known, and each region check's outcome (in order)."""
        values: dict[str, Any] = {}
        known = False
        for column, cell in zip(self.plan.geo_columns, cells, strict=True):
            values[geo_key(column)] = geo_text(cell)
            known = known or normalise(cell).lower() not in blank_words()
        for name, fn in self._flags:
            values[name] = fn(values)
        return known, tuple(r(values) for _, _, _, r in self._checks if r is not None)

    def _prepare_hot_path(self) -> None:
        """Compile the row function: the plan as straight-line Python, read once per file."""
        self._source, namespace = _row_source(self)
        exec(compile(self._source, "<icp score: compiled rules>", "exec"), namespace)
        self._row = namespace["score_row"]
        self._origins: dict[int, tuple[Check, Column | None]] = namespace["ORIGINS"]

    def score(self, row: list[str], line: int) -> Scored:
        """Score one row; RowError when it cannot be read as meant."""
        scored = self._row(row, line)
        if self.explain:
            self._add_explanation(scored, row)
        return scored

    def _add_explanation(self, scored: Scored, row: list[str]) -> None:
        from agent.scoring.output import explain

        hits = []
        for hit in scored.matched:
            check, where = self._origins[id(hit)]
            hits.append({**hit, "what": self._what(check, where, row)})
        scored.matched = hits
        if scored.disqualifier is not None:
            check, where = self._origins[id(scored.disqualifier)]
            scored.disqualifier = {**scored.disqualifier, "what": self._what(check, where, row)}
        scored.explanation = explain(scored, self.rubric)

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


# The row function -----------------------------------------------------------------------------


def _tried(program: _TextProgram) -> Callable[[frozenset[str]], set[int]]:
    """For a free-text column: the tests worth trying on a cell with these words (those that
    share a key word with it, and those with no quick test)."""
    always = {j for j, (keys, _) in enumerate(program.tests) if keys is None}
    by_key: dict[str, list[int]] = {}
    for j, (keys, _) in enumerate(program.tests):
        for key in keys or ():
            by_key.setdefault(key, []).append(j)
    known = frozenset(by_key)

    def tried(have: frozenset[str]) -> set[int]:
        out = set(always)
        for key in have & known:
            out.update(by_key[key])
        return out

    return tried


def _text_field(var: str, columns: list[Column]) -> list[str]:
    """Lines setting `var` to the first non-blank cell of the columns, as written."""
    if len(columns) != 1:
        fld = {"record_id": "id"}.get(var, var)
        return [f"    {var} = _first_text(row, COLUMNS_{fld})"]
    i = columns[0].index
    return [f'    {var} = (row[{i}] if {i} < width else "").strip(" ")',
            f'    if not {var}.strip(): {var} = ""']  # fmt: skip


def _number(row: list[str], width: int, columns: tuple) -> tuple[float | None, Any]:
    """The first number of a field's columns, and the error of an unreadable cell before it."""
    for i, times, label in columns:
        cell = row[i] if i < width else ""
        try:
            value = read_number(cell)
        except ValueError:
            return None, (i, f"{label} {cell.strip()!r} is not a number")
        if value is not None:
            return value * times, None
    return None, None


def _date(row: list[str], width: int, columns: tuple) -> tuple[date | None, Any]:
    """The first date of the signal date columns, and the error of an unreadable cell."""
    for i, label in columns:
        cell = row[i] if i < width else ""
        try:
            value = read_date(cell)
        except ValueError:
            return None, (i, f"{label} {cell.strip()!r} is not a date (write it as YYYY-MM-DD)")
        if value is not None:
            return value, None
    return None, None


def _row_source(scorer: Scorer) -> tuple[str, dict[str, Any]]:
    """Python source of `score_row(row, line) -> Scored` for one plan, and its namespace.

    Straight-line code, one block per check, in the order and with the outcomes of the SQL:
    numbers (the first column holding one), words (own columns, then free text, then whether
    the own column is known), places; points and checkable points per category, capped; the
    first disqualifier that holds; the tier under the missing-data policy.
    """
    plan, rubric = scorer.plan, scorer.rubric
    ns: dict[str, Any] = {"Scored": Scored, "RowError": RowError, "_number": _number,
                          "_date": _date, "_first_text": Scorer._first_text,
                          "AS_OF": scorer.as_of}  # fmt: skip
    origins: dict[int, tuple[Check, Column | None]] = {}
    ns["ORIGINS"] = origins
    lines = ["def score_row(row, line):", "    width = len(row)", "    err = None"]
    cat = {c: n for n, c in enumerate(CATEGORIES)}

    def const(name: str, value: Any) -> str:
        ns[name] = value
        return name

    def cell(i: int) -> str:
        return f'(row[{i}] if {i} < width else "")'

    number_var = {}
    const("read_number", read_number)
    for n, (fld, columns) in enumerate(plan.numbers.items()):
        number_var[fld] = f"n{n}"
        if len(columns) == 1:  # the common case, inline
            (c,) = columns
            scale = f" * {float(c.times)!r}" if c.times != 1 else ""
            label = const(f"LABEL{n}", c.label)
            why = f"f'{{{label}}} {{{cell(c.index)}.strip()!r}} is not a number'"
            lines += ["    try:",
                      f"        n{n} = read_number({cell(c.index)})",
                      f"        if n{n} is not None: n{n} = n{n}{scale}",
                      "    except ValueError:",
                      f"        n{n} = None",
                      f"        e = ({c.index}, {why})",
                      "        if err is None or e < err: err = e"]  # fmt: skip
            continue
        spec = const(f"NUM{n}", tuple((c.index, c.times, c.label) for c in columns))
        lines += [f"    n{n}, e = _number(row, width, {spec})",
                  "    if e is not None and (err is None or e < err): err = e"]  # fmt: skip
    if plan.dates:
        spec = const("DATES", tuple((c.index, c.label) for c in plan.dates))
        lines += ["    when, e = _date(row, width, DATES)",
                  "    if e is not None and (err is None or e < err): err = e"]  # fmt: skip
    else:
        lines.append("    when = None")
    lines.append("    if err is not None: raise RowError(err[1])")
    free_text = {c.index for c in plan.free_columns}
    const("prepare_text", prepare_text)
    const("PREPARED", lru_cache(maxsize=16384)(prepare_text))  # short cells repeat (tags)
    for program in scorer._programs:
        i = program.column.index
        if i in free_text:  # prepared once, each test tried only when reached
            short_ = f"len(c) <= {CACHED_CELL}"
            tried = const(f"TRIED{i}", _tried(program))
            lines += [f"    c = {cell(i)}",
                      f"    r{i} = PREPARED(c) if {short_} else prepare_text(c)",
                      f"    w{i}, l{i} = r{i}[1], r{i}[2]",
                      f"    c{i} = {tried}(r{i}[3]) if r{i}[0] else ()"]  # fmt: skip
            continue
        cached, fresh = const(f"CACHED{i}", program.cached), const(f"FRESH{i}", program._read)
        lines += [f"    c = {cell(i)}",
                  f"    r{i} = {cached}(c) if len(c) <= {CACHED_CELL} else {fresh}(c)"]  # fmt: skip
    programs = {p.column.index: p for p in scorer._programs}

    def found(i: int, j: int) -> str:
        """The expression of test j of column i."""
        if i in free_text:  # inline: worth trying (known, shares a key word), and found
            _, searches = programs[i].tests[j]
            found_ = [f"{const(f'S{i}_{j}_{m}', s)}({'w' if w else 'l'}{i}) is not None"
                      for m, (s, w) in enumerate(searches)]  # fmt: skip
            return f"({j} in c{i} and ({' or '.join(found_) or 'False'}))"
        return f"r{i}[1][{j}]"

    region_index = {}
    if plan.geo_columns:
        const("GEO", scorer._geo)
        cells = ", ".join(cell(c.index) for c in plan.geo_columns)
        lines.append(f"    gk, g = GEO(({cells},))")
        regions = [c for c, _, _, r in scorer._checks if r is not None]
        region_index = {id(c): n for n, c in enumerate(regions)}
    lines += ["    p0 = p1 = p2 = k0 = k1 = k2 = 0", "    matched = []", "    unknown = []",
              "    dq = None", "    industry = False"]  # fmt: skip

    def hit_dict(n: int, check: Check, where: Column | None) -> str:
        e = check.entry
        if isinstance(e, Disqualifier):
            value: dict[str, Any] = {
                "code": e.code,
                "id": e.id,
                "label": e.label,
                "reason": e.reason,
            }
        else:
            value = {"id": e.id, "label": e.label, "points": e.points}
        if where is not None:
            value["column"] = where.label
        origins[id(value)] = (check, where)
        name = f"H{n}_{where.index if where is not None else 'own'}"
        if not isinstance(e, Disqualifier):  # (hit, its rules_matched entry)
            return const(name, (value, e.id + (f" ({where.label})" if where else "")))
        return const(name, value)

    for n, (check, own, free, _) in enumerate(scorer._checks):
        e = check.entry
        is_dq = isinstance(e, Disqualifier)
        lines.append(f"    # {e.id}: {check.kind} test of {e.field}")
        if check.kind == "number":
            value = number_var.get(e.field)
            tests = [f"{value} {op} {float(bound)!r}" for bound, op in
                     ((e.min, ">="), (e.max, "<="), (e.below, "<"), (e.above, ">"))
                     if bound is not None]  # fmt: skip
            holds = " and ".join(tests) or "True"
            if value is None:
                if not is_dq:
                    lines.append(f"    unknown.append({e.field!r})")
                continue
            if is_dq:
                lines.append(f"    if dq is None and {value} is not None and {holds}: "
                             f"dq = {hit_dict(n, check, None)}")  # fmt: skip
                continue
            c, pts, hit = cat[e.category], e.points, hit_dict(n, check, None)
            lines += [f"    if {value} is None: unknown.append({e.field!r})",
                      "    else:",
                      f"        k{c} += {pts}",
                      f"        if {holds}: p{c} += {pts}; matched.append({hit})"]  # fmt: skip
            continue
        if check.kind == "region":
            if not plan.geo_columns:  # no geography column: unknown for every account
                if not is_dq:
                    lines.append(f"    unknown.append({e.field!r})")
                continue
            k = region_index[id(check)]
            if is_dq:
                lines.append(
                    f"    if dq is None and gk and g[{k}]: dq = {hit_dict(n, check, None)}"
                )
                continue
            c, pts, hit = cat[e.category], e.points, hit_dict(n, check, None)
            lines += ["    if gk:",
                      f"        k{c} += {pts}",
                      f"        if g[{k}]: p{c} += {pts}; matched.append({hit})",
                      f"    else: unknown.append({e.field!r})"]  # fmt: skip
            continue
        # words: own columns, then free text (first column that names it), then known or not
        branches = [(found(i, j), hit_dict(n, check, None)) for i, j in own]
        branches += [(found(i, j), hit_dict(n, check, col)) for col, (i, j) in free]
        known = " or ".join(f"r{c.index}[0]" for c in check.known) or "False"
        indent = "        " if is_dq else "    "
        if is_dq:
            lines.append("    if dq is None:")
        if not branches:
            lines.append(f"{indent}o = None")
        else:
            for m, (test, hit) in enumerate(branches):
                lines.append(f"{indent}{'if' if m == 0 else 'elif'} {test}: o = {hit}")
            lines.append(f"{indent}else: o = None")
        days = getattr(e, "within_days", None)
        stale = (f" and not (when is not None and not 0 <= (AS_OF - when).days <= {days})"
                 if days else "")  # fmt: skip
        if is_dq:
            lines.append(f"{indent}if o is not None{stale}: dq = o")
            continue
        c, pts = cat[e.category], e.points
        lines += ["    if o is not None:", f"        k{c} += {pts}"]
        if e.field == "industry":  # the segment is one of its terms: none when it found none
            lines.append("        industry = True")
        if days:
            lines.append(
                f"        if not (when is not None and not 0 <= (AS_OF - when).days <= {days}):"
            )
            lines.append(f"            p{c} += {pts}; matched.append(o)")
        else:
            lines.append(f"        p{c} += {pts}; matched.append(o)")
        lines += [f"    elif {known}: k{c} += {pts}", f"    else: unknown.append({e.field!r})"]
    # the segment: the first term in the industry column, else in free text
    seg = [(found(i, j), term) for term, own, _ in scorer._segments for i, j in own]
    seg += [(found(i, j), term) for term, _, free in scorer._segments for i, j in free]
    lines.append('    segment = ""')
    if seg:
        lines.append("    if industry:")
    for m, (test, term) in enumerate(seg):
        lines.append(f"        {'if' if m == 0 else 'elif'} {test}: segment = {term!r}")
    caps = [rubric.categories.get(c, 0) for c in CATEGORIES]
    policy = rubric.missing_data
    reach = rubric.reachable
    tiers = [float(rubric.tiers[t]) for t in ("A", "B", "C")]
    for fld in ("name", "id", "domain"):
        ns[f"COLUMNS_{fld}"] = tuple(plan.layout.of(fld))
    lines += [
        *(f"    e{n} = p{n} if p{n} < {cap} else {cap}" for n, cap in enumerate(caps)),
        *(f"    if k{n} > {cap}: k{n} = {cap}" for n, cap in enumerate(caps)),
        "    coverage = k0 + k1 + k2",
        "    total = e0 + e1 + e2",
        "    if total > 100: total = 100",
        "    if dq is not None:",
        "        tier = 'out'; projected = False; needs = False",
        "    else:",
        f"        projected = {policy.tier_on_checked!r} and total == coverage and "
        f"{policy.min_coverage} <= coverage < {reach}",
        f"        basis = {reach} if projected else total",
        f"        tier = ('A' if basis >= {tiers[0]!r} else 'B' if basis >= {tiers[1]!r} else "
        f"'C' if basis >= {tiers[2]!r} else 'out')",
        f"        needs = coverage < {policy.needs_data_below}",
        *_text_field("name", plan.layout.of("name")),
        *_text_field("record_id", plan.layout.of("id")),
        *_text_field("domain", plan.layout.of("domain")),
        "    return Scored(line=line, account=name or f'line {line}',",
        "        score=total, tier=tier, segment=segment,",
        f"        points={{{CATEGORIES[0]!r}: e0, {CATEGORIES[1]!r}: e1, {CATEGORIES[2]!r}: e2}},",
        "        matched=[m for m, _ in matched], disqualifier=dq,",
        "        unknown=list(dict.fromkeys(unknown)) if unknown else unknown,",
        "        coverage=coverage, needs_data=needs, record_id=record_id, domain=domain,",
        "        projected=projected, rules_matched='; '.join([r for _, r in matched]))",
    ]
    return "\n".join(lines) + "\n", ns
