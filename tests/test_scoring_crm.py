"""Scoring real CRM exports: their column names, facts only in free text (with negations),
geography as places, missing data, CRM import files, --explain, and hostile cells."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.errors import InputError
from agent.lang import load_pack
from agent.lang.numbers import NumberWords
from agent.reading.quantities import parse_number
from agent.scoring.accounts import score_csv, score_stream
from agent.scoring.cells import prepare_text, read_date, read_number
from agent.scoring.columns import layout, parse_map
from agent.scoring.rules import Rubric, load_rules

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AS_OF = date(2026, 11, 23)

RULES = """
company: Dockhand
rules:
  - {id: employees, category: firmographic, label: "Employees 300-800", points: 17,
     field: employees, min: 300, max: 800}
  - {id: revenue, category: firmographic, label: "Revenue $50M-$400M", points: 8,
     field: revenue, min: 50000000, max: 400000000}
  - {id: industry, category: firmographic, label: "Industry", points: 13, field: industry,
     any_of: [third-party logistics, e-commerce, fulfilment, warehouse, logistics, 3PL]}
  - {id: region, category: firmographic, label: "Region: US, Midwest or Texas", points: 8,
     field: region, any_of: [US, Midwest, Texas]}
  - {id: locations, category: firmographic, label: "Sites 2-12", points: 4, field: locations,
     min: 2, max: 12}
  - {id: wms, category: technographic, label: "Uses Manhattan or UKG", points: 10,
     field: technologies, any_of: [Manhattan, Blue Yonder, Kronos, UKG]}
  - {id: erp, category: technographic, label: "Uses NetSuite", points: 10,
     field: technologies, any_of: [NetSuite]}
  - {id: vp, category: behavioural, label: "New VP of Operations", points: 15,
     field: signals, any_of: [new VP of Operations]}
  - {id: source, category: behavioural, label: "Referral", points: 15, field: source,
     any_of: [referral]}
disqualifiers:
  - {id: dq-1, code: DQ-SMALL, label: Under 100, reason: Too small, field: employees, below: 100}
  - {id: dq-2, code: DQ-COLD-CHAIN-PHARMA, label: Cold chain or pharma,
     reason: Certification work, field: industry, any_of: [cold-chain, pharma]}
"""


@pytest.fixture
def rubric(tmp_path) -> Rubric:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, "utf-8")
    return load_rules(path)


def score(rubric: Rubric, text: str, **kw):
    return score_csv(text.encode("utf-8"), rubric, AS_OF, **kw)


def one(rubric: Rubric, header: str, row: str, **kw):
    result = score(rubric, f"{header}\n{row}\n", **kw)
    assert not result.skipped, result.skipped
    (account,) = result.accounts
    return account


def ids(account) -> list[str]:
    return [m["id"] for m in account.matched]


# Columns --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, expected",
    [
        (  # a Salesforce account report
            ["Account ID", "Account Name", "Industry", "Employees", "Annual Revenue",
             "Billing City", "Billing State/Province", "Billing Country", "Account Source",
             "Description", "Account Owner"],
            {"id", "name", "industry", "employees", "revenue", "city", "state", "country",
             "source", "text"},
        ),
        (  # Salesforce Data Loader API names
            ["Id", "Name", "NumberOfEmployees", "AnnualRevenue", "BillingState",
             "BillingCountry", "AccountSource", "Description"],
            {"id", "name", "employees", "revenue", "state", "country", "source", "text"},
        ),
        (  # a HubSpot company export
            ["Record ID", "Company name", "Company Domain Name", "Number of Employees",
             "Annual Revenue", "State/Region", "Country/Region", "Original Source", "About Us",
             "Web Technologies"],
            {"id", "name", "domain", "employees", "revenue", "state", "country", "source",
             "text", "technologies"},
        ),
        (  # Pipedrive prefixes the entity
            ["Organization - ID", "Organization - Name", "Organization - Industry",
             "Organization - Number of employees", "Organization - Label"],
            {"id", "name", "industry", "employees", "text"},
        ),
        (  # Dynamics 365 Excel export
            ["(Do Not Modify) Account", "(Do Not Modify) Row Checksum", "Account Name",
             "Address 1: City", "Address 1: State/Province", "Address 1: Country/Region",
             "No. of Employees", "Description"],
            {"id", "name", "city", "state", "country", "employees", "text"},
        ),
        (  # Apollo / ZoomInfo
            ["Apollo Account Id", "Company", "# Employees", "Keywords", "SEO Description",
             "Company Country", "Technologies", "Latest Funding"],
            {"id", "name", "employees", "text", "country", "technologies", "signals"},
        ),
    ],
)  # fmt: skip
def test_standard_export_headers_are_recognised(header, expected):
    cols = layout(header)
    assert {c.field for c in cols.columns} == expected


def test_a_column_in_thousands_is_scaled(rubric):
    account = one(rubric, "Company Name,Revenue (in 000s USD)", "Acme,90000")
    assert "revenue" in ids(account)  # 90,000 thousand dollars: $90M


def test_the_first_lines_say_what_feeds_what_and_what_has_nothing(rubric):
    result = score(rubric, "Account Name,Industry,Description,Owner\nAcme,3PL,text,ann\n")
    assert result.notes[:3] == [
        'name <- "Account Name"', 'industry <- "Industry"', 'free text <- "Description"'
    ]  # fmt: skip
    assert 'no column for technologies: its rules read "Description" only' in result.notes
    assert "no column for employees: its rules cannot be checked (unknown, not a miss)" in (
        result.notes
    )
    assert result.notes[-1] == "columns not used for scoring: Owner"


def test_map_names_columns_no_export_uses(rubric):
    header = "Firma,Branche,Mitarbeiter,Notizen"
    row = "Acme,Logistik,400,3PL on Manhattan"
    mapping = parse_map(["name=Firma", "employees=Mitarbeiter", "text=notizen"])
    account = one(rubric, header, row, mapping=mapping)
    assert account.account == "Acme" and ids(account) == ["employees", "industry", "wms"]
    # FIELD= takes a field's columns away
    account = one(rubric, "Name,Employees", "Acme,400", mapping=parse_map(["employees="]))
    assert "employees" in account.unknown


@pytest.mark.parametrize(
    "specs, message",
    [
        (["colour=Farbe"], "no field 'colour'"),
        (["industry"], "write it as FIELD=COLUMN"),
        (["industry=Sektor"], "no column 'Sektor' in the file"),
    ],
)
def test_bad_map_options_are_one_clear_error(rubric, specs, message):
    with pytest.raises(InputError, match=message):
        score(rubric, "Name,Industry\nAcme,3PL\n", mapping=parse_map(specs))


# Free text ------------------------------------------------------------------------------------

SF = "Account Name,Industry,Employees,Billing Country,Account Source,Description"


def test_facts_only_in_the_description_score_and_say_where(rubric):
    account = one(
        rubric,
        SF,
        'Lone Star,Transportation,650,United States,Web,"3PL with 6 warehouses; runs Manhattan '
        'WMS and UKG; new VP of Operations started in Sept."',
    )
    assert ids(account) == ["employees", "industry", "region", "wms", "vp"]
    columns = {m["id"]: m.get("column") for m in account.matched}
    assert columns == {"employees": None, "industry": "Description", "region": None,
                       "wms": "Description", "vp": "Description"}  # fmt: skip
    row = next(csv.DictReader(io.StringIO(score(rubric, f"{SF}\nLone Star,,650,US,,3PL\n").csv())))
    assert row["rules_matched"] == "employees; industry (Description); region"


@pytest.mark.parametrize(
    "description, matched, out",
    [
        ("No NetSuite, Sage or QuickBooks; runs Manhattan", ["wms"], ""),
        ("Migrating off Manhattan to NetSuite next year", [], ""),
        ("Manhattan (being replaced), NetSuite live", ["erp"], ""),
        ("Kronos, phased out last year", [], ""),
        ("No Kronos but NetSuite everywhere", ["erp"], ""),
        ("Previously on Kronos\nNow on NetSuite", ["erp"], ""),
        ("Not a cold-chain operation: dry goods only", [], ""),
        ("Cold-chain and pharma distribution", [], "DQ-COLD-CHAIN-PHARMA"),
        ("Temperature-controlled storage for drug makers", [], "DQ-COLD-CHAIN-PHARMA"),
        ("Evaluating NetSuite", [], ""),
        ("No. of sites: 6, NetSuite", ["erp"], ""),
        ("runs sap and netsuite", ["erp"], ""),  # "sap" is no tool in lower case free text
    ],
)
def test_negations_in_free_text_are_no_evidence(rubric, description, matched, out):
    account = one(rubric, "Account Name,Description", f'Acme,"{description}"')
    assert [i for i in ids(account) if i in ("wms", "erp")] == matched
    assert (account.disqualifier or {}).get("code", "") == out


def test_short_terms_count_in_free_text_only_in_capitals(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - {id: sap, category: technographic, label: SAP, points: 20, "
        "field: technologies, any_of: [SAP]}\n",
        "utf-8",
    )
    rules = load_rules(path)
    assert ids(one(rules, "Name,Notes", "A,Moved to SAP last year")) == ["sap"]
    assert ids(one(rules, "Name,Notes", "A,maple sap producer")) == []
    assert ids(one(rules, "Name,Tech Stack", "A,sap")) == ["sap"]  # its own column: any case


def test_silent_free_text_leaves_a_rule_unknown_and_its_own_column_decides(rubric):
    silent = one(rubric, "Name,Description", "A,Family-owned since 1962")
    assert {"technologies", "signals"} <= set(silent.unknown)
    no_match = one(rubric, "Name,Tech Stack,Description", "A,Oracle,Family-owned")
    assert "technologies" not in no_match.unknown  # the tech column says Oracle: a miss


def test_synonyms_catch_picklist_values(rubric):
    account = one(rubric, "Name,Industry,Employees", "A,Pharmaceuticals,400")
    assert account.disqualifier["code"] == "DQ-COLD-CHAIN-PHARMA"
    assert "industry" in ids(one(rubric, "Name,Industry", "A,E-commerce fulfillment"))


# Geography ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "country, state, city, expected",
    [
        ("United States", "", "", True),
        ("USA", "", "", True),
        ("US", "", "", True),
        ("U.S.", "", "", True),
        ("united states of america", "", "", True),
        ("", "TX", "", True),  # a state code alone: read in the US
        ("", "Ohio", "", True),
        ("", "", "Dallas, TX", True),
        ("Mexico", "TX", "", False),  # TX is no Mexican state
        ("Canada", "ON", "Toronto", False),
        ("Germany", "", "", False),
        ("", "", "Berlin, DE", False),  # DE here is Germany, not Delaware
        ("", "", "New Mexico", True),
        ("Georgia", "", "Tbilisi", False),  # the country
        ("United States", "Georgia", "", True),  # the state
        ("", "", "", None),
    ],
)
def test_places_are_places_not_words(rubric, country, state, city, expected):
    header = "Name,Billing Country,Billing State/Province,Billing City"
    account = one(rubric, header, f'A,{country},{state},"{city}"')
    outcome = None if "region" in account.unknown else "region" in ids(account)
    assert outcome is expected


@pytest.mark.parametrize(
    "terms, place, expected",
    [
        ("[Midwest]", "Ohio", True),
        ("[Midwest]", "Texas", False),
        ("[DACH]", "Deutschland", True),
        ("[EMEA]", "Bavaria", True),
        ("[EMEA]", "DACH", True),  # a region inside the region
        ("[Europe]", "EMEA", False),  # not wholly inside
        ("[Nordics]", "Norway", True),
        ("[Texas]", "US - Texas", True),
        ("[Texas]", "USA (Midwest)", False),
        ("[Chicago]", "Chicago, IL", True),  # no known place: a word
        ("[US]", "Midwest", True),
    ],
)
def test_regions_are_their_members(tmp_path, terms, place, expected):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - {id: region, category: firmographic, label: R, points: 10, "
        f"field: region, any_of: {terms}}}\n",
        "utf-8",
    )
    account = one(load_rules(path), "Name,Region", f'A,"{place}"')
    assert ("region" in ids(account)) is expected


# Missing data ---------------------------------------------------------------------------------


def test_an_account_meeting_every_checkable_rule_is_tiered_on_them(rubric):
    # no tech, signal or source column: 46 of 100 points... plus what the description shows
    header = "Account Name,Employees,Annual Revenue,Billing State/Province,Description"
    account = one(rubric, header, 'A,650,"$120M",TX,"3PL on Manhattan"')
    assert account.score == 56 and account.coverage == 56
    assert account.tier == "A" and account.needs_data and account.projected
    # a known miss is never lifted: Ontario is not in the US
    missed = one(rubric, header, 'A,650,"$120M",Ontario,"3PL on Manhattan"')
    assert missed.score == 48 and missed.coverage == 56
    assert missed.tier == "C" and missed.needs_data and not missed.projected


def test_too_little_data_is_not_lifted_and_the_policy_is_editable(tmp_path):
    rules = (
        RULES + "missing_data: {tier_on_checked: true, min_coverage: 60, needs_data_below: 90}\n"
    )
    path = tmp_path / "rules.yaml"
    path.write_text(rules, "utf-8")
    strict = load_rules(path)
    header = "Account Name,Employees,Annual Revenue,Billing State/Province,Description"
    account = one(strict, header, 'A,650,"$120M",TX,"3PL on Manhattan"')
    assert account.coverage == 56 and account.tier == "C" and account.needs_data
    path.write_text(RULES + "missing_data: {tier_on_checked: false}\n", "utf-8")
    off = load_rules(path)
    assert one(off, header, 'A,650,"$120M",TX,"3PL on Manhattan"').tier == "C"
    old = RULES  # a rules file from before the policy loads with the defaults
    path.write_text(old, "utf-8")
    assert load_rules(path).missing_data.min_coverage == 50


# Output ---------------------------------------------------------------------------------------

HS = "Record ID,Company name,Company Domain Name,Number of Employees,Country/Region,Description"


def test_hubspot_and_salesforce_files_keep_the_record_id(rubric):
    text = f"{HS}\n901,Acme,acme.com,650,United States,3PL\n902,Beta,,40,USA,\n,Nameless,,400,,\n"
    result = score(rubric, text)
    hubspot = list(csv.reader(io.StringIO(result.render("hubspot"))))
    assert hubspot[0] == ["Record ID", "Company Domain Name", "icp_fit_score", "icp_tier",
                          "icp_segment", "icp_disqualification_reason", "icp_data_coverage",
                          "icp_needs_data"]  # fmt: skip
    assert hubspot[1][:4] == ["901", "acme.com", "38", "out"]
    assert hubspot[2][0] == "902" and hubspot[2][5] == "DQ-SMALL"
    assert len(hubspot) == 3  # the row with neither id nor domain cannot be imported
    sf = score(rubric, text.replace("Record ID", "Account ID"))
    salesforce = list(csv.reader(io.StringIO(sf.render("salesforce", explain=True))))
    assert salesforce[0][:3] == ["Id", "ICP_Fit_Score__c", "ICP_Tier__c"]
    assert salesforce[0][-1] == "ICP_Explanation__c"
    assert [r[0] for r in salesforce[1:]] == ["901", "902"]


def test_crm_formats_need_a_record_id_column(rubric):
    out = io.StringIO()
    with pytest.raises(InputError, match="record id column"):
        score_stream(io.BytesIO(b"Name,Employees\nA,400\n"), rubric, out, fmt="salesforce")
    with pytest.raises(InputError, match="unknown format"):
        score_stream(io.BytesIO(b"Name,Employees\nA,400\n"), rubric, out, fmt="xml")


def test_explain_says_why_in_one_line(rubric):
    header = "Account Name,Employees,Annual Revenue,Billing State/Province,Description"
    result = score(
        rubric,
        f'{header}\nA,650,"$120M",TX,"3PL on Manhattan"\nB,40,,,\nC,650,,TX,Cold-chain 3PL\n',
        explain=True,
    )
    a, b, c = (x.explanation for x in result.accounts)
    assert a == (
        "A (met all 56 of 100 points its data could check): Employees 300-800 (+17), "
        "Revenue $50M-$400M (+8), 3PL in Description (+13), Region: US, Midwest or Texas (+8), "
        "Manhattan in Description (+10); unknown: locations, technologies, signals, source; "
        "needs data"
    )
    assert b == "out: DQ-SMALL (Under 100)"
    assert c == "out: DQ-COLD-CHAIN-PHARMA (Cold-chain in Description)"  # as written
    data = json.loads(result.render("json", explain=True))
    assert data["accounts"][0]["explanation"] == a
    assert data["columns"]["text"] == ["Description"]


def test_score_streams_rows_as_it_reads_them(rubric):
    """The first results are written before the input is read to its end."""

    class Source(io.RawIOBase):
        def __init__(self, rows: int):
            self.lines = iter([b"Name,Employees\n", *(b"Acme,400\n" for _ in range(rows))])
            self.pending = b""
            self.served = 0
            self.read_after_output = False

        def readable(self) -> bool:
            return True

        def tell(self) -> int:
            return self.served

        def readinto(self, buffer) -> int:
            if out.tell():
                self.read_after_output = True
            while len(self.pending) < len(buffer):
                line = next(self.lines, None)
                if line is None:
                    break
                self.pending += line
            n = min(len(buffer), len(self.pending))
            buffer[:n], self.pending = self.pending[:n], self.pending[n:]
            self.served += n
            return n

    out = io.StringIO()
    source = Source(200_000)
    seen: list[int] = []
    summary = score_stream(io.BufferedReader(source), rubric, out, progress=seen.append)
    assert summary.scored == 200_000 and source.read_after_output
    assert seen == sorted(seen) and seen[-1] > seen[0]


# Hostile cells (issue 21) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, written",
    [
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(1)", "'@SUM(1)"),
        ("-2+3", "'-2+3"),
        ("'=1+1", "'=1+1"),  # the user's own guard stays as it is
        ("\t=1+1", "'\t=1+1"),  # a tab guard is kept, not stripped into a formula
    ],
)
def test_formula_cells_are_neutralised_in_every_csv(rubric, name, written):
    text = io.StringIO()
    csv.writer(text).writerows([["Record ID", "Company name", "Number of Employees"],
                                [name, name, "400"]])  # fmt: skip
    result = score(rubric, text.getvalue())
    row = next(csv.DictReader(io.StringIO(result.csv())))
    assert row["account"] == written and row["record_id"] == written
    hubspot = list(csv.reader(io.StringIO(result.render("hubspot"))))
    assert hubspot[1][0] == written


def test_a_reason_from_an_interview_answer_is_neutralised(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "disqualifiers:\n  - {id: d, code: DQ-X, label: x, field: industry, any_of: [agency],"
        ' reason: "=HYPERLINK(\\"http://x\\",\\"why\\")"}\n',
        "utf-8",
    )
    result = score(load_rules(path), "Name,Industry\nA,Agency\n")
    row = next(csv.DictReader(io.StringIO(result.csv())))
    assert row["disqualification_reason"] == '\'=HYPERLINK("http://x","why")'


@pytest.mark.parametrize(
    "text, message",
    [
        ("rules:\n  - {id: x, category: firmographic, label: x, points: 5, field: employees,"
         " min: .nan}\n", "finite number"),
        ("rules:\n  - {id: x, category: firmographic, label: x, points: 5, field: employees,"
         " max: .inf}\n", "finite number"),
        ("categories: {firmographic: -50, technographic: 20, behavioural: 30}\n",
         "categories.firmographic"),
        ("tiers: {A: .nan, B: 60, C: 40}\n", "tiers.A"),
        ("rules:\n  - {id: x, category: behavioural, label: x, points: 5, field: signals,"
         " any_of: [a], within_days: 99999999}\n", "within_days"),
        ("missing_data: {min_coverage: 500}\n", "missing_data.min_coverage"),
        ("rules: " + "[" * 600 + "]" * 600 + "\n", "rules.yaml"),
        ("version: " + "9" * 5000 + "\n", "rules.yaml"),
    ],
)  # fmt: skip
def test_rules_values_are_validated(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(InputError, match=r"rules\.yaml") as err:
        load_rules(path)
    assert message in str(err.value) and "\n" not in str(err.value)


# Cells ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("1.2k", 1200), ("1,200", 1200), ("~500", 500), ("200-500", 350), ("200 – 500", 350),
        ("5-10M", 7.5e6), ("$1.5bn", 1.5e9), ("€40 Mio", 40e6), ("1\u202f200", 1200),
        ("１,２００", 1200), ("500+", 500), ("10,001+", 10001), ("<50", 50), ("under 50", 50),
        ("1,5M", 1.5e6), ("USD 85,000,000", 85e6), ("$120,000,000.00", 120e6),
        ("about 1,450", 1450), ("", None), ("n/a", None), ("—", None),
    ],
)  # fmt: skip
def test_numbers_read_as_people_write_them(text, value):
    assert read_number(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "approx. 1.2k", "ca 300", "c. 40", "est. 90", "±20", "+/-20", "≈ 7", "circa 1,200",
        "<= 50", "≤50", "max. 80", "fewer than 9", "at most 3", ">= 500", "≥ 5", "min. 70",
        "more than 2k", "at least 1m", "¥ 3,000", "₹90", "£1mn", "aud 5", "GBP 3 bn",
        "200 to 500", "200 bis 500", "200—500", "N/A", "not available", "null", "TBD", "--",
    ],
)  # fmt: skip
def test_both_cell_readers_take_the_same_words(text):
    """`icp score` (read_number) and parse_number read the words of numbers.yaml alike: a
    range counts as its middle, an open bound as the bound it names, a blank as None."""
    parsed = parse_number(text)
    if parsed is None:
        assert read_number(text) is None
        return
    low, high = parsed
    expected = high if low is None else low if high is None else (low + high) / 2
    assert read_number(text) == pytest.approx(expected)


def test_the_words_of_cells_are_plain_words():
    words = load_pack().numbers.model_dump()
    words["approximately"] = ["~", True]  # an unquoted YAML word that is no word
    with pytest.raises(ValidationError, match="quote it"):
        NumberWords.model_validate(words)
    words["approximately"] = ["Circa", "circa", "  ca.  "]
    assert NumberWords.model_validate(words).approximately == ("circa", "ca.")


@pytest.mark.parametrize("text", ["lots", "12abc", "1.2.3", "-5", "k", "9" * 40])
def test_what_is_not_a_number_is_refused(text):
    with pytest.raises(ValueError):
        read_number(text)


@pytest.mark.parametrize(
    "text, value",
    [
        ("2026-10-01", date(2026, 10, 1)), ("2026-09-30T08:00:00Z", date(2026, 9, 30)),
        ("2026/11/02", date(2026, 11, 2)), ("31.12.2025", date(2025, 12, 31)),
        ("1 Nov 2026", date(2026, 11, 1)), ("Oct 1, 2026", date(2026, 10, 1)),
        ("Sept 3 2026", date(2026, 9, 3)), ("2024-02-29", date(2024, 2, 29)), ("", None),
    ],
)  # fmt: skip
def test_dates(text, value):
    assert read_date(text) == value


@pytest.mark.parametrize("text", ["2025-02-29", "2026-13-01", "someday", "99/99/9999"])
def test_what_is_not_a_date_is_refused(text):
    with pytest.raises(ValueError):
        read_date(text)


def test_evidence_keeps_what_no_cue_negates():
    assert prepare_text("Runs Manhattan; no SAP")[1] == "Runs Manhattan; "
    assert prepare_text("ERP is SAP but WMS is Manhattan")[1] == "ERP is SAP;WMS is Manhattan"
    assert prepare_text("N/A")[0] is False


# The example exports ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, ideal, excluded",
    [
        (
            "salesforce-accounts.csv",
            {"Lone Star Fulfillment", "Buckeye Warehousing Group",
             "Cornhusker Fulfillment Partners"},
            {"Prairie Cold Storage": "DQ-COLD-CHAIN-PHARMA",
             "Two Rivers Pallet Co": "DQ-SINGLE-SITE-WAREHOUSES",
             "Blue Ridge Pharma Logistics": "DQ-COLD-CHAIN-PHARMA"},
        ),
        (
            "hubspot-companies.csv",
            {"Heartland Fulfillment Co", "Alamo Distribution Services",
             "Bayou Freight & Fulfillment"},
            {"Arctic Chain Logistics": "DQ-COLD-CHAIN-PHARMA",
             "Corner Box Storage": "DQ-SINGLE-SITE-WAREHOUSES",
             "Prairie Pharma Distributors": "DQ-COLD-CHAIN-PHARMA"},
        ),
    ],
)  # fmt: skip
def test_example_exports_score_as_a_revops_lead_expects(name, ideal, excluded):
    rules = load_rules(EXAMPLES / "rules.yaml")
    result = score_csv((EXAMPLES / name).read_bytes(), rules, AS_OF)
    assert not result.skipped
    tiers = {a.account: a for a in result.accounts}
    assert all(tiers[n].tier in ("A", "B") for n in ideal), {n: tiers[n].tier for n in ideal}
    for account, code in excluded.items():
        assert tiers[account].tier == "out" and tiers[account].disqualifier["code"] == code
    assert {a.account for a in result.accounts if a.tier in ("A", "B")} == ideal
    gulf = tiers.get("Gulf Coast Distribution")  # "Not a cold-chain operation": not excluded
    assert gulf is None or gulf.disqualifier is None
    for a in result.accounts:  # the compiled row function keeps the policy the rubric states
        dq = a.disqualifier is not None
        assert a.tier == rules.tier_for(a.score, a.coverage, dq)
        assert a.needs_data == rules.needs_data(a.coverage, dq)
        assert a.projected == (not dq and rules.projects(a.score, a.coverage))


@pytest.mark.parametrize("fmt", ["csv", "json", "hubspot"])
def test_scoring_in_worker_processes_writes_exactly_what_one_process_writes(
    fmt, tmp_path, monkeypatch
):
    from agent.scoring import accounts
    from tests import accounts_gen

    monkeypatch.setattr(accounts, "BATCH", 300)  # many batches, several in flight
    path = accounts_gen.write(tmp_path / "accounts.csv", 2500)
    rubric = load_rules(Path(__file__).parents[1] / "examples" / "rules.yaml")
    runs = []
    for processes in (1, 2):
        out, notes = io.StringIO(), []
        with path.open("rb") as handle:
            summary = score_stream(
                handle, rubric, out, fmt=fmt, as_of=date(2026, 11, 23), explain=True,
                note=notes.append, processes=processes,
            )  # fmt: skip
        runs.append((out.getvalue(), notes, summary))
    assert runs[0] == runs[1]
    text, notes, summary = runs[1]
    assert summary.skipped and summary.scored + summary.skipped == 2500
    assert sum("skipped line" in n for n in notes) == summary.skipped
    if fmt == "json":
        assert len(json.loads(text)["accounts"]) == summary.scored


def _score_in_two_processes(path: Path, monkeypatch, progress=None) -> str:
    from agent.scoring import accounts

    monkeypatch.setattr(accounts, "BATCH", 200)
    out = io.StringIO()
    with path.open("rb") as handle:
        score_stream(
            handle, load_rules(EXAMPLES / "rules.yaml"), out, as_of=AS_OF, processes=2,
            progress=progress,
        )  # fmt: skip
    return out.getvalue()


def test_ctrl_c_reaching_the_worker_processes_is_left_to_the_main_one(tmp_path, monkeypatch):
    import multiprocessing
    import os
    import signal

    from tests import accounts_gen

    path = accounts_gen.write(tmp_path / "accounts.csv", 3000)
    whole = _score_in_two_processes(path, monkeypatch)
    hit = []

    def interrupt_workers(_at: int) -> None:  # a terminal sends Ctrl-C to every process
        if not hit:
            hit.extend(p.pid for p in multiprocessing.active_children())
            for pid in hit:
                os.kill(pid, signal.SIGINT)

    assert _score_in_two_processes(path, monkeypatch, interrupt_workers) == whole
    assert hit


def test_a_worker_process_that_dies_is_one_clear_error(tmp_path, monkeypatch):
    import os

    from agent.errors import ICPError
    from agent.scoring import accounts
    from tests import accounts_gen

    path = accounts_gen.write(tmp_path / "accounts.csv", 3000)
    monkeypatch.setattr(accounts, "_score_rows", lambda rows, scorer: os._exit(9))  # killed
    with pytest.raises(ICPError, match="scoring process ended unexpectedly"):
        _score_in_two_processes(path, monkeypatch)


@pytest.mark.slow
def test_worker_processes_end_when_the_main_process_is_killed(tmp_path):
    import os
    import subprocess
    import sys
    import time

    from tests import accounts_gen

    path = accounts_gen.write(tmp_path / "accounts.csv", 3000)
    script = f"""
import multiprocessing, os
from datetime import date
from pathlib import Path
from agent.scoring import accounts
from agent.scoring.rules import load_rules
accounts.BATCH = 200
def killed(_at):  # the main process ends without shutting the pool down (kill -TERM, -KILL)
    print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
    os._exit(0)
with open({str(path)!r}, "rb") as handle:
    accounts.score_stream(handle, load_rules(Path({str(EXAMPLES / "rules.yaml")!r})),
                          open(os.devnull, "w"), processes=2, progress=killed)
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pids = tmp_path / "pids"  # a file, not a pipe: workers left behind would hold a pipe open
    with pids.open("w") as stdout:
        subprocess.run([sys.executable, "-c", script], stdout=stdout, env=env, timeout=120)
    workers = [int(pid) for pid in pids.read_text().split()]
    assert workers

    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
        except (FileNotFoundError, ProcessLookupError):
            return False

    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:  # do not leave them behind when the test fails
        os.kill(pid, 9)
    assert not left
