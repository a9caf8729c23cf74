"""`icp score`: messy CSVs (columns, blanks, unicode, "1.2k"), bad rows, output formats."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from agent.errors import InputError
from agent.reading.quantities import parse_number
from agent.scoring.accounts import OUTPUT_COLUMNS, score_csv
from agent.scoring.rules import Rubric, load_rules
from tests.conftest import icp

RULES = """
company: Closewise
rules:
  - {id: employees, category: firmographic, label: "Employees 200-1,000", points: 30,
     field: employees, min: 200, max: 1000}
  - {id: industry, category: firmographic, label: SaaS, points: 20, field: industry,
     any_of: [B2B SaaS, software]}
  - {id: netsuite, category: technographic, label: Uses NetSuite, points: 20,
     field: technologies, any_of: [NetSuite]}
  - {id: new-cfo, category: behavioural, label: New CFO, points: 20, field: signals,
     any_of: [new CFO], within_days: 90}
  - {id: revenue, category: behavioural, label: Revenue 20M+, points: 10, field: revenue,
     min: 20000000}
disqualifiers:
  - {id: dq-1, code: DQ-AGENCY, label: Agencies, reason: They churn, field: industry,
     any_of: [agency]}
  - {id: dq-2, code: DQ-TINY, label: Under 50, reason: Too small, field: employees, below: 50}
"""

MESSY = (
    "\ufeffCompany;Sector;No. of employees;Annual Revenue;HQ Country;Tech Stack;Intent;"
    "Signal date;Owner\n"
    '"Acme; Inc";B2B SaaS;1.2k;$40M;United States;NetSuite, Salesforce;new CFO;2026-01-10;ann\n'
    "Zürich Analytik AG;Software;\u00a0350\u00a0;;Schweiz;NetSuite;;;\n"
    ";;;;;;;;\n"
    "Lots Ltd;B2B SaaS;lots;;;;;;\n"
    "Ragged;B2B SaaS;300;;US;;;;;extra;cells\n"
    "Agency X;Marketing agencies;250;;UK;NetSuite;;;\n"
    "Tiny;Software;~30;;US;;;;\n"
    "Range Co;B2B SaaS;200-500;;UK;;new CFO;2025-01-01;\n"
    "Fullwidth;ＳａａＳ software;１,２００;;;;;31.12.2025;\n"
    "Bad date;Software;400;;;;;someday;\n"
)


@pytest.fixture
def rubric(tmp_path) -> Rubric:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, "utf-8")
    return load_rules(path)


def scored(result):
    return {a.account: a for a in result.accounts}


def test_messy_csv_scores_what_it_can(rubric):
    result = score_csv(MESSY.encode("utf-8"), rubric, date(2026, 2, 1))
    got = scored(result)
    assert list(got) == ["Acme; Inc", "Zürich Analytik AG", "Agency X", "Tiny", "Range Co",
                         "Fullwidth"]  # fmt: skip
    acme = got["Acme; Inc"]  # 1.2k employees is outside 200-1,000
    assert [m["id"] for m in acme.matched] == ["industry", "netsuite", "new-cfo", "revenue"]
    assert acme.score == 70 and acme.tier == "B" and acme.segment == "B2B SaaS"
    assert acme.points == {"firmographic": 20, "technographic": 20, "behavioural": 30}
    zurich = got["Zürich Analytik AG"]  # non-breaking spaces around 350; blanks are unknown
    assert zurich.score == 70 and zurich.unknown == ["signals", "revenue"]
    assert got["Agency X"].tier == "out" and got["Agency X"].disqualifier["code"] == "DQ-AGENCY"
    assert got["Tiny"].disqualifier["code"] == "DQ-TINY" and got["Tiny"].score == 20
    range_co = got["Range Co"]  # 200-500 counts as 350; the CFO signal is too old
    assert [m["id"] for m in range_co.matched] == ["employees", "industry"]
    assert got["Fullwidth"].score == 20 and got["Fullwidth"].segment == "software"


def test_bad_rows_are_reported_with_line_numbers_and_skipped(rubric):
    result = score_csv(MESSY.encode("utf-8"), rubric, date(2026, 2, 1))
    skipped = dict(result.skipped)
    assert set(skipped) == {5, 6, 11}
    assert "No. of employees 'lots' is not a number" in skipped[5]
    assert "11 cells but the header has 9" in skipped[6]
    assert "Signal date 'someday' is not a date" in skipped[11]
    assert result.notes[0] == 'name <- "Company"' and 'industry <- "Sector"' in result.notes
    assert result.notes[-1] == "columns not used for scoring: Owner"


def test_output_csv_and_json(rubric):
    result = score_csv(MESSY.encode("utf-8"), rubric, date(2026, 2, 1))
    rows = list(csv.DictReader(io.StringIO(result.csv())))
    assert list(rows[0]) == list(OUTPUT_COLUMNS)
    acme = rows[0]
    assert acme["account"] == "Acme; Inc" and acme["icp_fit_score"] == "70"
    assert acme["rules_matched"] == "industry; netsuite; new-cfo; revenue"
    agency = next(r for r in rows if r["account"] == "Agency X")
    assert agency["disqualification_code"] == "DQ-AGENCY" and agency["icp_tier"] == "out"
    data = json.loads(result.json())
    assert [a["account"] for a in data["accounts"]] == [r["account"] for r in rows]
    assert data["skipped"][0] == {"line": 5, "reason": "No. of employees 'lots' is not a number"}


@pytest.mark.parametrize(
    "encoding, text",
    [
        ("cp1252", "Name,Employees,Industry\nCafé Müller,250,software\n"),
        ("utf-16", "Name\tHeadcount\tIndustry\nCafé Müller\t250\tsoftware\n"),
        ("utf-8", "name|employee_count|vertical\nCafé Müller|250|software\n"),
    ],
)
def test_encodings_and_delimiters(rubric, encoding, text):
    result = score_csv(text.encode(encoding), rubric, date(2026, 1, 1))
    (account,) = result.accounts
    assert account.account == "Café Müller" and account.score == 50
    assert (
        "no column for technologies: its rules cannot be checked (unknown, not a miss)"
        in result.notes
    )


def test_files_nothing_can_be_read_from(rubric):
    with pytest.raises(InputError, match="empty"):
        score_csv(b"\n\n", rubric)
    with pytest.raises(InputError, match="none of the columns"):
        score_csv(b"colour,flavour\nred,sweet\n", rubric)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1.2k", (1200, 1200)),
        ("1,200", (1200, 1200)),
        ("~500", (500, 500)),
        ("200-500", (200, 500)),
        ("200 – 500", (200, 500)),
        ("5-10M", (5e6, 10e6)),
        ("$1.5bn", (1.5e9, 1.5e9)),
        ("€40 Mio", (40e6, 40e6)),
        ("1\u202f200", (1200, 1200)),
        ("１,２００", (1200, 1200)),
        ("500+", (500, None)),
        ("10,001+", (10001, None)),
        ("<50", (None, 50)),
        ("under 50", (None, 50)),
        ("1,5M", (1.5e6, 1.5e6)),
        ("", None),
        ("n/a", None),
        ("—", None),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["lots", "12abc", "1.2.3", "-5", "k"])
def test_parse_number_refuses_what_is_not_a_number(text):
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.slow
def test_cli_score(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, "utf-8")
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(MESSY, "utf-8")
    out = icp("score", str(accounts), "--rules", str(rules), "--as-of", "2026-02-01")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("line,account,icp_fit_score,icp_tier")
    assert out.stderr.splitlines()[:2] == ['icp: name <- "Company"', 'icp: industry <- "Sector"']
    assert "icp: skipped line 5: No. of employees 'lots' is not a number" in out.stderr
    # Zürich met every rule its data could check (70 of 100 points): A, flagged needs data
    assert "Scored 6 accounts (1 A, 1 B, 1 C, 3 out); skipped 3; 3 need data." in out.stderr
    data = json.loads(icp("score", str(accounts), "--rules", str(rules), "--json").stdout)
    assert len(data["accounts"]) == 6
    piped = icp("score", "-", "--rules", str(rules), input=MESSY)
    assert piped.returncode == 0 and piped.stdout.count("\n") == 7
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [\n", "utf-8")
    bad = icp("score", str(accounts), "--rules", str(broken))
    assert bad.returncode == 1 and bad.stderr.startswith("icp: error: ")
    assert "Traceback" not in bad.stderr
    only_bad = tmp_path / "bad.csv"
    only_bad.write_text("Name,Employees\nA,lots\n", "utf-8")
    none = icp("score", str(only_bad), "--rules", str(rules))
    assert none.returncode == 1 and "no account could be scored" in none.stderr


@pytest.mark.slow
def test_a_reader_that_stops_early_is_no_error(tmp_path):
    """`icp score big.csv | head`: the closed pipe is not blamed on the input file."""
    import subprocess
    import sys
    from pathlib import Path

    from tests import accounts_gen

    path = accounts_gen.write(tmp_path / "accounts.csv", 20000)
    rules = Path(__file__).parents[1] / "examples" / "rules.yaml"
    root = Path(__file__).parents[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "score", str(path), "--rules", str(rules)],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout.readline().startswith(b"line,account,")
    proc.stdout.close()  # what `head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert "Traceback" not in err and "cannot read" not in err and "error" not in err
