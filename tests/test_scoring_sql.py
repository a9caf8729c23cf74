"""`icp rules --format sql`: the rubric as one SELECT that computes what `icp score` computes,
checked in DuckDB row by row (CSV columns read as text, as a CRM export is)."""

from __future__ import annotations

import random
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlglot

from agent.errors import InputError
from agent.scoring.accounts import score_csv
from agent.scoring.rules import load_rules
from agent.scoring.sql import DIALECTS, sql_for
from tests import accounts_gen
from tests.conftest import icp

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AS_OF = date(2026, 11, 23)
RESULTS = ("icp_fit_score", "icp_tier", "disqualification_code", "icp_data_coverage",
           "icp_needs_data", "icp_segment")  # fmt: skip


def python_results(path: Path, rules: Path) -> dict[int, tuple | None]:
    """Line number -> what `icp score` gives (None for a row it skips)."""
    result = score_csv(path.read_bytes(), load_rules(rules), AS_OF)
    out: dict[int, tuple | None] = {line: None for line, _ in result.skipped}
    for a in result.accounts:
        code = (a.disqualifier or {}).get("code")
        out[a.line] = (a.score, a.tier, code, a.coverage, a.needs_data, a.segment)
    return out


def duckdb_results(path: Path, rules: Path, dialect: str = "duckdb") -> list[tuple]:
    """The SQL's results for each data row of the CSV, in file order."""
    sql, _ = sql_for(load_rules(rules), dialect, "accounts", path, (), AS_OF)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE accounts AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
        [str(path)],
    )
    columns = ", ".join(RESULTS)
    return con.execute(f"SELECT {columns} FROM ({sql.rstrip().rstrip(';')})").fetchall()


def compare(path: Path, rules: Path) -> tuple[int, list[str]]:
    """How many rows were compared, and every difference."""
    expected = python_results(path, rules)
    got = duckdb_results(path, rules)
    # data rows are on lines 2, 3, ... of files without quoted line breaks
    assert len(got) == len(expected), "the files used here have one line per row"
    diffs = []
    for line, row in zip(sorted(expected), got, strict=True):
        want = expected[line]
        if want is None:
            if row[1] is not None:
                diffs.append(f"line {line}: icp score skips it, the SQL gives {row}")
            continue
        score, tier, code, coverage, needs, segment = row
        if (score, tier, code, coverage, needs, segment) != want:
            diffs.append(f"line {line}: SQL {row} != icp score {want}")
    return len(got), diffs


@pytest.mark.parametrize(
    "name", ["accounts.csv", "salesforce-accounts.csv", "hubspot-companies.csv"]
)
def test_the_sql_gives_the_same_tier_for_every_example_row(name):
    count, diffs = compare(EXAMPLES / name, EXAMPLES / "rules.yaml")
    assert count >= 7 and diffs == []


def test_the_sql_agrees_on_hostile_and_odd_cells(tmp_path):
    """Control characters, other scripts, full-width digits, lone quotes, odd spacing."""
    rnd = random.Random(21)
    alphabet = [*"abc XYZ-,.;:!?|()'\"/+~$€£<>=@\t", "\u00a0", "\u2013", "ü", "ß", "İ",
                "\u202f", "１", "２", "\u200b", "😀", "\x0b", "\x1f", "\u2028", "\n"]  # fmt: skip
    pieces = ["SAP", "sap", "Manhattan", "no", "not", "3PL", "cold-chain", "Kronos", "but",
              "being replaced", "Texas", "TX", "USA", "Ohio", "1.2k", "200-500", "$5M"]  # fmt: skip
    rows = []
    for i in range(3000):

        def cell() -> str:
            parts = [rnd.choice(pieces) if rnd.random() < 0.6 else rnd.choice(alphabet)
                     for _ in range(rnd.randint(0, 8))]  # fmt: skip
            return rnd.choice(["", " ", "  "]).join(parts)

        row = list(next(accounts_gen.rows(1, seed=i)))
        for column in rnd.sample(range(2, len(row)), 4):
            row[column] = cell()
        rows.append(row)
    path = tmp_path / "odd.csv"
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(accounts_gen.HEADER)
        writer.writerows([[c.replace("\n", " ").replace("\u2028", " ") for c in r] for r in rows])
    count, diffs = compare(path, EXAMPLES / "rules.yaml")
    assert count == 3000 and diffs == []


@pytest.mark.slow
def test_the_sql_gives_the_same_results_on_100000_generated_rows(tmp_path):
    path = accounts_gen.write(tmp_path / "accounts.csv", 100_000)
    count, diffs = compare(path, EXAMPLES / "rules.yaml")
    assert count == 100_000 and diffs[:5] == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_is_one_select_its_parser_reads(dialect):
    sql, lines = sql_for(
        load_rules(EXAMPLES / "rules.yaml"), dialect, "crm.accounts", EXAMPLES / "accounts.csv",
    )  # fmt: skip
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)  # the parser recurses once per nested function call
    try:
        (statement,) = sqlglot.parse(sql, read=dialect)
    finally:
        sys.setrecursionlimit(limit)
    assert isinstance(statement, sqlglot.exp.Select)
    assert 'signal_date <- "Signal date"' in lines
    for name in ("icp_fit_score", "icp_tier", "icp_segment", "disqualification_code",
                 "icp_data_coverage", "icp_needs_data"):  # fmt: skip
        assert name in sql
    if dialect == "postgres":  # no SELECT * EXCLUDE there: the table's columns by name
        assert '"Account Name",' in sql and "MAKE_DATE(" in sql and " ~ '" in sql
    if dialect == "snowflake":  # REGEXP_LIKE matches whole strings; no (?: groups
        assert "(?:" not in sql and "REGEXP_INSTR(" in sql and "REGEXP_LIKE" not in sql
    if dialect == "bigquery":
        assert "REGEXP_CONTAINS(" in sql and "EXCEPT (" in sql


def test_bad_sql_requests_are_one_clear_error(tmp_path):
    rules = load_rules(EXAMPLES / "rules.yaml")
    with pytest.raises(InputError, match="unknown dialect 'oracle'"):
        sql_for(rules, "oracle", "t", EXAMPLES / "accounts.csv")
    with pytest.raises(InputError, match="no field 'colour'"):
        sql_for(rules, "duckdb", "t", None, ("colour=Farbe",))
    with pytest.raises(InputError, match="cannot read"):
        sql_for(rules, "duckdb", "t", tmp_path / "missing.csv")
    with pytest.raises(InputError, match="not a table name"):
        sql_for(rules, "duckdb", "1 + ", EXAMPLES / "accounts.csv")


@pytest.mark.slow
def test_cli_errors_stay_one_line(tmp_path):
    broken = tmp_path / "rules.yaml"
    broken.write_text("rules: [\n", "utf-8")
    example = str(EXAMPLES / "accounts.csv")
    rules = str(EXAMPLES / "rules.yaml")
    cases = [
        (["rules", rules, "--format", "sql", "--dialect", "oracle", "--table", "t",
          "--columns-from", example], "unknown --dialect 'oracle'"),
        (["rules", rules, "--format", "sql", "--columns-from", example], "needs --table"),
        (["rules", str(broken), "--format", "sql", "--table", "t", "--columns-from", example],
         "is not valid YAML"),
        (["score", example, "--rules", str(broken)], "is not valid YAML"),
        (["score", example, "--rules", rules, "--map", "colour=x"], "no field 'colour'"),
        (["score", example, "--rules", rules, "--format", "xml"], "unknown --format 'xml'"),
        (["score", example, "--rules", rules, "--format", "hubspot"], "record id column"),
    ]  # fmt: skip
    for args, message in cases:
        out = icp(*args)
        assert out.returncode == 1, (args, out.stderr)
        assert out.stderr.startswith("icp: error: ") and message in out.stderr, out.stderr
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


@pytest.mark.slow
def test_cli_sql_and_score_agree(tmp_path):
    example = EXAMPLES / "hubspot-companies.csv"
    rules = str(EXAMPLES / "rules.yaml")
    out = icp("rules", rules, "--format", "sql", "--table", "accounts", "--columns-from",
              str(example), "--as-of", "2026-11-23")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("SELECT") and 'icp: id <- "Record ID"' in out.stderr
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE accounts AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
        [str(example)],
    )
    tiers = [
        r[0] for r in con.execute(f"SELECT icp_tier FROM ({out.stdout.rstrip()[:-1]})").fetchall()
    ]
    scored = icp(
        "score", str(example), "--rules", rules, "--as-of", "2026-11-23", "--format", "json"
    )
    import json

    assert tiers == [a["tier"] for a in json.loads(scored.stdout)["accounts"]]
