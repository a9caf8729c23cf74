"""The rubric as one SQL query: `icp rules --format sql` compiles a plan (agent/scoring/plan.py)
to a SELECT that adds icp_fit_score, icp_tier, icp_segment, disqualification_code,
icp_data_coverage and icp_needs_data to every row of a table of accounts, computing exactly
what `icp score` computes. Built as a sqlglot syntax tree and written in the chosen dialect.

Every step `icp score` takes has its SQL twin here, from the same definitions
(agent/scoring/cells.py): the translation table, the regular expressions (written in the
subset every engine reads alike), the number and date grammars, the geography conditions.
Intermediate values are columns of nested subqueries named `_icp_...`, dropped at the end.
"""

from __future__ import annotations

import re
from datetime import date

from agent.errors import InputError
from agent.scoring import cells
from agent.scoring.columns import Column
from agent.scoring.conds import AllOf, AnyOf, Cond, Flag, Not, Search
from agent.scoring.geo import NONE_FLAG, shadow_guard, shadow_patterns
from agent.scoring.plan import Check, Plan, geo_key, text_key
from agent.scoring.rules import CATEGORIES

DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery")  # identifiers: SQL dialects
OUTPUTS = (
    "icp_fit_score",
    "icp_tier",
    "icp_segment",
    "disqualification_code",
    "icp_data_coverage",
    "icp_needs_data",
    "icp_unreadable",
)


def _exp():
    from sqlglot import exp

    return exp


class Compiler:
    """Builds the query for one plan and dialect."""

    def __init__(self, plan: Plan, dialect: str, as_of: date | None = None):
        if dialect not in DIALECTS:
            raise InputError(f"unknown dialect {dialect!r}; choose {', '.join(DIALECTS)}")
        self.plan, self.dialect, self.as_of = plan, dialect, as_of
        self.exp = _exp()
        self.lets: dict[str, object] = {}  # name -> expression, in definition order

    # Building blocks --------------------------------------------------------------------------

    def col(self, name: str):
        return self.exp.column(name, quoted=True)

    def let(self, name: str, expression) -> object:
        """Define an intermediate (or output) column; returns a reference to it."""
        self.lets[name] = expression
        return self.col(name)

    def s(self, text: str):
        return self.exp.Literal.string(text)

    def n(self, value: float | int):
        exp = self.exp
        if isinstance(value, float):  # DOUBLE, as Python computes: never DECIMAL
            return exp.Cast(this=exp.Literal.number(repr(value)), to=exp.DataType.build("double"))
        return exp.Literal.number(value)

    def pattern(self, p: str) -> str:
        return p.replace("(?:", "(") if self.dialect == "snowflake" else p

    def search(self, value, p: str):
        exp = self.exp
        if self.dialect == "snowflake":  # REGEXP_LIKE matches the whole string there
            found = exp.Anonymous(this="REGEXP_INSTR", expressions=[value, self.s(self.pattern(p))])
            return exp.GT(this=found, expression=exp.Literal.number(0))
        return exp.RegexpLike(this=value, expression=self.s(p))

    def replace(self, value, p: str, replacement: str):
        return self.exp.RegexpReplace(
            this=value, expression=self.s(self.pattern(p)), replacement=self.s(replacement)
        )

    def extract(self, value, p: str):
        """The one capturing group of an anchored pattern, or NULL (no match, or empty)."""
        exp = self.exp
        if self.dialect == "snowflake":
            got = exp.RegexpExtract(
                this=value,
                expression=self.s(self.pattern(p)),
                group=exp.Literal.number(_group_number(p)),
            )
        else:
            got = self.replace(value, p, "\\1")
        return self.case([(self.search(value, p), exp.Nullif(this=got, expression=self.s("")))])

    def case(self, whens: list, default=None):
        exp = self.exp
        node = exp.Case()
        for cond, then in whens:
            node = node.when(cond, then)
        return node.else_(default) if default is not None else node

    def any(self, parts: list):
        exp = self.exp
        if not parts:
            return exp.false()
        out = parts[0]
        for part in parts[1:]:
            out = exp.Or(this=out, expression=part)
        return exp.Paren(this=out) if len(parts) > 1 else out

    def all(self, parts: list):
        exp = self.exp
        if not parts:
            return exp.true()
        out = parts[0]
        for part in parts[1:]:
            out = exp.And(this=out, expression=part)
        return exp.Paren(this=out) if len(parts) > 1 else out

    def in_(self, value, texts) -> object:
        return self.exp.In(this=value, expressions=[self.s(t) for t in sorted(texts)])

    def cond(self, c: Cond):
        exp = self.exp
        if isinstance(c, Search):
            return self.search(self.col(_name(c.value)), c.pattern)
        if isinstance(c, Flag):
            return self.col(_flag(c.value))
        if isinstance(c, Not):
            return exp.Not(this=exp.Paren(this=self.cond(c.part)))
        if isinstance(c, AnyOf):
            return self.any([self.cond(p) for p in c.parts])
        assert isinstance(c, AllOf)
        return self.all([self.cond(p) for p in c.parts])

    # The query --------------------------------------------------------------------------------

    def raw(self, column: Column):
        exp = self.exp
        text = exp.Cast(
            this=self.exp.column(column.header, quoted=True), to=exp.DataType.build("text")
        )
        return exp.Coalesce(this=text, expressions=[self.s("")])

    def normalised(self, column: Column):
        exp = self.exp
        translated = exp.Anonymous(
            this="TRANSLATE",
            expressions=[self.raw(column), self.s(cells.FROM_CHARS), self.s(cells.TO_CHARS)],
        )
        # every character the table changes is outside ASCII, and TRANSLATE is slow: only
        # cells that hold such a character go through it (as cells.normalise does)
        value = self.case([(self.search(self.raw(column), "[^\\x01-\\x7f]"), translated)],
                          self.raw(column))  # fmt: skip
        value = self.replace(value, cells.SPACES_RX, " ")
        value = self.replace(value, cells.LINES_RX, ";")
        return self.replace(value, cells.TRIM_RX, "")

    def build(self) -> None:
        plan, exp = self.plan, self.exp
        used = {
            c.index: c
            for c in [
                *plan.text_columns,
                *plan.geo_columns,
                *plan.dates,
                *(c for cs in plan.numbers.values() for c in cs),
            ]
        }
        blanks = cells.blank_words()
        blank_list = sorted(b for b in blanks if b)
        for i, column in sorted(used.items()):
            norm = self.let(f"_icp_n{i}", self.normalised(column))
            low = self.let(f"_icp_lo{i}", exp.Lower(this=norm))
            self.let(
                f"_icp_k{i}",
                exp.Not(
                    this=exp.Paren(
                        this=self.any(
                            [exp.EQ(this=low, expression=self.s("")), self.in_(low, blank_list)]
                        )
                    )
                ),
            )
        for column in plan.text_columns:
            i = column.index
            kept = self.col(f"_icp_n{i}")
            for p, r in cells.negation_patterns():
                kept = self.replace(kept, p, r)
            written = self.let(
                _name(text_key(column, True)),
                self.case([(self.col(f"_icp_k{i}"), kept)], self.s("")),
            )
            self.let(_name(text_key(column)), exp.Lower(this=written))
        for column in plan.geo_columns:
            low = self.col(f"_icp_lo{column.index}")
            value = low
            for p, r in shadow_patterns():
                value = self.replace(value, p, r)
            # most cells hold none of those names: one test instead of a replace for each
            self.let(
                _name(geo_key(column)), self.case([(self.search(low, shadow_guard()), value)], low)
            )
        for name, c in plan.flags.items():  # countries named on the record, then the rest
            if name != NONE_FLAG:
                self.let(_flag(name), self.cond(c))
        if NONE_FLAG in plan.flags:
            self.let(_flag(NONE_FLAG), self.cond(plan.flags[NONE_FLAG]))
        bad: list[tuple[int, object]] = []
        numbers = {}
        for fld, columns in plan.numbers.items():
            whens, bads = [], []
            for column in columns:
                ok, value = self.number(column)
                whens.append((ok, exp.Mul(this=value, expression=self.n(float(column.times)))))
                bads.append((ok, exp.false()))
                bads.append((self.col(f"_icp_k{column.index}"), exp.true()))
            numbers[fld] = self.let(f"_icp_num_{fld}", self.case(whens))
            bad.append((columns[0].index, self.case(bads, exp.false())))
        when = None
        if plan.dates:
            whens, bads = [], []
            for column in plan.dates:
                ok, value = self.date(column)
                whens.append((ok, value))
                bads.append((ok, exp.false()))
                bads.append((self.col(f"_icp_k{column.index}"), exp.true()))
            when = self.let("_icp_date", self.case(whens))
            bad.append((plan.dates[0].index, self.case(bads, exp.false())))
        unreadable = self.let(
            "_icp_unreadable",
            self.case([(b, self.s(plan.layout.header[i].strip())) for i, b in sorted(bad)]),
        )
        outcomes = [
            self.let(f"_icp_r{j}", self.outcome(c, numbers, when)) for j, c in enumerate(plan.rules)
        ]
        dqs = [
            self.let(f"_icp_q{j}", self.outcome(c, numbers, when))
            for j, c in enumerate(plan.disqualifiers)
        ]
        rubric = plan.rubric
        caps = rubric.categories
        points, checkable = [], []
        for category in CATEGORIES:
            mine = [
                (r, c.entry.points)
                for r, c in zip(outcomes, plan.rules, strict=True)
                if c.entry.category == category
            ]
            earned = self.total(
                [self.case([(r, exp.Literal.number(p))], exp.Literal.number(0)) for r, p in mine]
            )
            known = self.total(
                [
                    self.case(
                        [
                            (
                                exp.Not(this=exp.Is(this=r, expression=exp.Null())),
                                exp.Literal.number(p),
                            )
                        ],
                        exp.Literal.number(0),
                    )
                    for r, p in mine
                ]
            )
            cap = exp.Literal.number(caps.get(category, 0))
            points.append(self.let(f"_icp_p_{category}", exp.Least(this=cap, expressions=[earned])))
            checkable.append(exp.Least(this=cap, expressions=[known]))
        score = self.let(
            "_icp_score", exp.Least(this=exp.Literal.number(100), expressions=[self.total(points)])
        )
        coverage = self.let("_icp_coverage", self.total(checkable))
        code = self.let(
            "_icp_dq",
            self.case(
                [(q, self.s(c.entry.code)) for q, c in zip(dqs, plan.disqualifiers, strict=True)]
            ),
        )
        segment = self.let("_icp_segment", self.segment())
        is_dq = exp.Not(this=exp.Is(this=code, expression=exp.Null()))
        ok = exp.Is(this=unreadable, expression=exp.Null())
        tier = self.case(
            [
                (is_dq, self.s("out")),
                (self.projects(score, coverage), self.tiers(exp.Literal.number(rubric.reachable))),
            ],
            self.tiers(score),
        )
        needs = self.all(
            [
                exp.Not(this=exp.Paren(this=is_dq)),
                exp.LT(
                    this=coverage,
                    expression=exp.Literal.number(rubric.missing_data.needs_data_below),
                ),
            ]
        )
        self.let("icp_fit_score", self.case([(ok, score)]))
        self.let("icp_tier", self.case([(ok, tier)]))
        self.let("icp_segment", self.case([(ok, segment)]))
        self.let("disqualification_code", self.case([(ok, code)]))
        self.let("icp_data_coverage", self.case([(ok, coverage)]))
        self.let("icp_needs_data", self.case([(ok, needs)]))
        self.let("icp_unreadable", unreadable)

    def total(self, parts: list):
        exp = self.exp
        if not parts:
            return exp.Literal.number(0)
        out = parts[0]
        for part in parts[1:]:
            out = exp.Add(this=out, expression=part)
        return exp.Paren(this=out) if len(parts) > 1 else out

    def number(self, column: Column) -> tuple[object, object]:
        """(readable as a number, its value) of a number cell, as cells.read_number reads it."""
        exp, g = self.exp, cells.number_grammar()
        i = column.index
        low = self.col(f"_icp_lo{i}")
        spaced = self.replace(self.replace(low, g.currency, " "), " +", " ")
        text = self.let(f"_icp_x{i}", self.replace(spaced, cells.TRIM_RX, ""))
        ok = self.let(
            f"_icp_x{i}_ok", self.all([self.col(f"_icp_k{i}"), self.search(text, g.full)])
        )
        part = {
            p: self.let(f"_icp_x{i}_{p}", self.extract(text, g.only(p))) for p in cells.NUMBER_PARTS
        }

        def digits(ref):
            plain = exp.Anonymous(this="REPLACE", expressions=[ref, self.s(" "), self.s("")])
            as_text = self.case(
                [
                    (
                        self.search(plain, cells.THOUSANDS_RX),
                        exp.Anonymous(this="REPLACE", expressions=[plain, self.s(","), self.s("")]),
                    )
                ],
                exp.Anonymous(this="REPLACE", expressions=[plain, self.s(","), self.s(".")]),
            )
            return exp.Cast(this=as_text, to=exp.DataType.build("double"))

        def scale(ref):
            return self.case(
                [
                    (exp.EQ(this=ref, expression=self.s(k)), self.n(float(v)))
                    for k, v in sorted(g.scales.items())
                ],
                self.n(1),
            )

        has_second = exp.Not(this=exp.Is(this=part["n2"], expression=exp.Null()))
        first_scale = exp.Coalesce(
            this=part["s1"], expressions=[self.case([(has_second, part["s2"])])]
        )
        first = self.let(
            f"_icp_x{i}_first", exp.Mul(this=digits(part["n1"]), expression=scale(first_scale))
        )
        second = self.let(
            f"_icp_x{i}_second",
            self.case(
                [(has_second, exp.Mul(this=digits(part["n2"]), expression=scale(part["s2"])))],
                first,
            ),
        )
        opened = part["open"]
        middle = exp.Div(
            this=exp.Paren(
                this=exp.Add(
                    this=exp.Least(this=first, expressions=[second]),
                    expression=exp.Greatest(this=first, expressions=[second]),
                )
            ),
            expression=self.n(2.0),
        )
        value = self.case(
            [
                (self.in_(opened, g.at_most), second),
                (
                    self.any(
                        [
                            self.in_(opened, g.at_least),
                            exp.Not(this=exp.Is(this=part["plus"], expression=exp.Null())),
                        ]
                    ),
                    first,
                ),
            ],
            middle,
        )
        return ok, self.let(f"_icp_x{i}_value", self.case([(ok, value)]))

    def date(self, column: Column) -> tuple[object, object]:
        """(readable as a date, the date) of a date cell, as cells.read_date reads it."""
        exp = self.exp
        i = column.index
        low = self.col(f"_icp_lo{i}")
        whens, found = [], []
        for f, fmt in enumerate(cells.date_formats()):
            matches = self.search(low, fmt.pattern)
            y, m, d = (
                self.let(f"_icp_d{i}_{f}_{p}", self.extract(low, fmt.only(p))) for p in "ymd"
            )
            month = self.case(
                [(self.search(m, "^[0-9]+$"), exp.Cast(this=m, to=exp.DataType.build("int")))],
                self.case(
                    [
                        (exp.EQ(this=m, expression=self.s(k)), exp.Literal.number(v))
                        for k, v in sorted(cells.words().months.items())
                    ]
                ),
            )
            month = self.let(f"_icp_d{i}_{f}_month", month)
            year = self.let(f"_icp_d{i}_{f}_year", exp.Cast(this=y, to=exp.DataType.build("int")))
            day = self.let(f"_icp_d{i}_{f}_day", exp.Cast(this=d, to=exp.DataType.build("int")))
            valid = self.all(
                [
                    exp.GTE(this=year, expression=exp.Literal.number(1)),
                    exp.Between(this=month, low=exp.Literal.number(1), high=exp.Literal.number(12)),
                    exp.Between(
                        this=day, low=exp.Literal.number(1), high=self.days_in(year, month)
                    ),
                ]
            )
            # the first format that matches decides; later ones only when it does not
            whens.append(
                (
                    self.all([matches, valid, *(exp.Not(this=p) for p in found)]),
                    self.make_date(year, month, day),
                )
            )
            found.append(exp.Paren(this=matches))
        value = self.let(f"_icp_d{i}_value", self.case(whens))
        ok = exp.Not(this=exp.Is(this=value, expression=exp.Null()))
        return ok, value

    def days_in(self, year, month):
        exp = self.exp

        def divides(k: int):
            return exp.EQ(
                this=exp.Mod(this=year, expression=exp.Literal.number(k)),
                expression=exp.Literal.number(0),
            )

        leap = self.all([divides(4), self.any([exp.Not(this=divides(100)), divides(400)])])
        return self.case(
            [
                (
                    exp.EQ(this=month, expression=exp.Literal.number(2)),
                    self.case([(leap, exp.Literal.number(29))], exp.Literal.number(28)),
                ),
                (
                    exp.In(this=month, expressions=[exp.Literal.number(k) for k in (4, 6, 9, 11)]),
                    exp.Literal.number(30),
                ),
            ],
            exp.Literal.number(31),
        )

    def make_date(self, year, month, day):
        exp = self.exp
        if self.dialect == "postgres":
            return exp.Anonymous(this="MAKE_DATE", expressions=[year, month, day])
        return exp.DateFromParts(year=year, month=month, day=day)

    def today(self):
        exp = self.exp
        if self.as_of is None:
            return exp.CurrentDate()
        return exp.Cast(this=self.s(self.as_of.isoformat()), to=exp.DataType.build("date"))

    def outcome(self, check: Check, numbers: dict, when) -> object:
        """TRUE, FALSE or NULL (cannot be checked), as Scorer._outcome decides."""
        exp, entry = self.exp, check.entry
        if check.kind == "number":
            value = numbers.get(entry.field)
            if value is None:
                return exp.Null()
            tests = []
            for bound, op in (
                ("min", exp.GTE),
                ("max", exp.LTE),
                ("below", exp.LT),
                ("above", exp.GT),
            ):
                limit = getattr(entry, bound)
                if limit is not None:
                    tests.append(op(this=value, expression=self.n(float(limit))))
            return self.case(
                [(exp.Is(this=value, expression=exp.Null()), exp.Null())], self.all(tests)
            )
        known = self.any([self.col(f"_icp_k{c.index}") for c in check.known])
        if check.kind == "region":
            assert check.region is not None
            return self.case([(known, self.cond(check.region))], exp.Null())
        hit = self.any([self.cond(test.cond) for test in [*check.own, *check.free]])
        days = getattr(entry, "within_days", None)
        then = exp.true()
        if days and when is not None:
            today = self.today()
            recent = exp.Between(
                this=when,
                low=exp.DateSub(
                    this=today, expression=exp.Literal.number(days), unit=exp.var("DAY")
                ),
                high=today,
            )
            then = self.case([(exp.Is(this=when, expression=exp.Null()), exp.true())], recent)
        return self.case([(hit, then), (known, exp.false())], exp.Null())

    def segment(self):
        plan = self.plan
        whens = [
            (self.any([self.cond(test.cond) for test in own]), self.s(term))
            for term, own, _ in plan.segments
            if own
        ]
        whens += [
            (self.any([self.cond(test.cond) for test in free]), self.s(term))
            for term, _, free in plan.segments
            if free
        ]
        return self.case(whens, self.s("")) if whens else self.s("")

    def projects(self, score, coverage):
        exp, rubric = self.exp, self.plan.rubric
        policy = rubric.missing_data
        if not policy.tier_on_checked:
            return exp.false()
        return self.all(
            [
                exp.EQ(this=score, expression=coverage),
                exp.GTE(this=coverage, expression=exp.Literal.number(policy.min_coverage)),
                exp.LT(this=coverage, expression=exp.Literal.number(rubric.reachable)),
            ]
        )

    def tiers(self, score):
        exp, rubric = self.exp, self.plan.rubric
        whens = [
            (exp.GTE(this=score, expression=self.n(float(rubric.tiers[t]))), self.s(t))
            for t in ("A", "B", "C")
        ]
        return self.case(whens, self.s("out"))

    # Assembly ---------------------------------------------------------------------------------

    def query(self, table: str, columns: list[str]) -> str:
        """The whole query over `table`; `columns` are the table's own (for dialects that
        cannot drop the intermediate columns by name)."""
        exp = self.exp
        self.build()
        names = list(self.lets)
        level = {}
        for name in names:
            deps = {c.name for c in self.lets[name].find_all(exp.Column)} & set(level)
            level[name] = 1 + max((level[d] for d in deps), default=0)
        if not _TABLE.fullmatch(table.strip()):
            raise InputError(
                f"--table {table!r} is not a table name (write it as table, schema.table or "
                'db.schema.table; quote a part with " or ` when it needs other characters)'
            )
        source = exp.to_table(table.strip(), dialect=self.dialect)
        query = exp.select(exp.Star()).from_(source)
        for depth in range(1, max(level.values(), default=0) + 1):
            mine = [exp.alias_(self.lets[n], n, quoted=True) for n in names if level[n] == depth]
            query = exp.select(exp.Star(), *mine).from_(query.subquery(f"_icp_{depth}"))
        hidden = [n for n in names if n.startswith("_icp_")]
        if self.dialect == "postgres":
            keep = [exp.column(c, quoted=True) for c in columns]
            outputs = [exp.column(o, quoted=True) for o in OUTPUTS]
            final = exp.select(*keep, *outputs).from_(query.subquery("_icp"))
        else:
            star = exp.Star(**{"except_": [exp.column(n, quoted=True) for n in hidden]})
            final = exp.select(star).from_(query.subquery("_icp"))
        return final.sql(dialect=self.dialect, pretty=True)


_PART = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]+"|`[^`]+`)'
_TABLE = re.compile(rf"{_PART}(?:\.{_PART}){{0,2}}")


def _name(value: str) -> str:
    """The SQL column of a prepared value ("l3" -> "_icp_l3")."""
    return f"_icp_{value}"


def _flag(value: str) -> str:
    """The SQL column of a geography flag ("country:US" -> "_icp_f_US")."""
    return "_icp_f_" + value.split(":", 1)[1]


def _group_number(pattern: str) -> int:
    """1-based number of the one capturing group of `pattern` once every "(?:" is "(" (for
    Snowflake, whose regular expressions have no non-capturing groups)."""
    n = 0
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            j = i + 1 + (pattern[i + 1] == "^")
            i = pattern.index("]", j + (pattern[j] == "]")) + 1
            continue
        if ch == "(":
            n += 1
            if not pattern.startswith("(?", i):
                return n
        i += 1
    raise ValueError("no capturing group")


def compile_sql(plan: Plan, dialect: str, table: str, as_of: date | None = None) -> str:
    """The query for a plan, in a dialect."""
    compiler = Compiler(plan, dialect, as_of)
    return compiler.query(table, plan.layout.header) + ";\n"


def sql_for(
    rubric,
    dialect: str,
    table: str,
    columns_from=None,
    maps: tuple[str, ...] = (),
    as_of: date | None = None,
) -> tuple[str, list[str]]:
    """The query for a rubric over a table whose columns are those of a CSV header (and/or
    --map), and the lines saying which column feeds which field."""
    from agent.scoring.accounts import AccountsFile, rule_fields
    from agent.scoring.columns import layout, parse_map
    from agent.scoring.plan import build

    mapping = parse_map(maps)
    if columns_from is not None:
        try:
            with open(columns_from, "rb") as handle:
                header = AccountsFile(handle).header or []
        except OSError as exc:
            raise InputError(f"cannot read {columns_from}: {exc.strerror or exc}") from None
    else:
        header = list(dict.fromkeys(c for cs in mapping.values() for c in cs))
    cols = layout(header, mapping)
    plan = build(rubric, cols)
    return compile_sql(plan, dialect, table, as_of), cols.lines(rule_fields(rubric))
