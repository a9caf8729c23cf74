"""Rubric derivation from hand-built profiles, and the rules file round trip."""

from __future__ import annotations

import re

import pytest
import yaml

from agent.errors import InputError
from agent.profile.models import Evidence, Item, Profile
from agent.reading.quantities import find_quantities
from agent.reading.statements import find_entities
from agent.scoring.rubric import derive
from agent.scoring.rules import CATEGORIES, load_rules, split_points, to_yaml

FACTS = {
    "company_profile": [
        "B2B SaaS companies with 200-1,000 employees",
        "$20M-$150M ARR, Series B to D",
        "Headquartered in the US or UK",
    ],
    "technographics": ["They run NetSuite as the ERP", "Their CRM of record is Salesforce"],
    "buying_triggers": [
        "A new CFO arrives and within 90 days reviews the close process",
        "An audit finding about revenue recognition",
        "When things get hard",
    ],
    "channels": ["Referrals from Big Four audit managers"],
    "exclusions": [
        "Never target agencies: they churn after one project",
        "Companies under 50 employees because they close in Excel fine",
        "Anyone on SAP: the integration kills the deal",
        "Founders who want everything free",
    ],
}


def item(text: str, turn: int = 2, support: list[str] | None = None) -> Item:
    return Item(
        text=text,
        evidence=[Evidence(turn=turn, quote=text, session=(support or [""])[0].split(":")[0])],
        concrete=bool(find_quantities(text) or find_entities(text)),
        quantities=find_quantities(text),
        support=support or [],
    )


def profile(facts: dict[str, list[str]]) -> Profile:
    p = Profile(session="s1", company="Closewise", version=4)
    turn = 2
    for key, texts in facts.items():
        for text in texts:
            p.sections[key].items.append(item(text, turn))
            turn += 2
    return p


def by_field(rubric, field):
    return [r for r in rubric.rules if r.field == field]


def test_rules_come_from_numbers_and_names_in_the_items():
    rubric = derive(profile(FACTS))
    (employees,) = by_field(rubric, "employees")
    assert (employees.min, employees.max) == (200, 1000) and employees.category == "firmographic"
    assert employees.label == "Employees 200-1,000"
    (revenue,) = by_field(rubric, "revenue")
    assert (revenue.min, revenue.max) == (20e6, 150e6) and revenue.label == "Revenue $20M-$150M"
    (industry,) = by_field(rubric, "industry")
    assert industry.any_of == ["B2B SaaS"]
    (region,) = by_field(rubric, "region")
    assert region.any_of == ["US", "UK"]
    tech = by_field(rubric, "technologies")
    assert [r.any_of for r in tech] == [["NetSuite"], ["Salesforce"]]
    assert all(r.category == "technographic" for r in tech)
    signals = by_field(rubric, "signals")
    assert signals[0].any_of == ["new CFO"] and signals[0].within_days == 90
    assert signals[0].label == "Signal: new CFO within the last 90 days"
    assert ["audit finding"] in [r.any_of for r in signals]
    (source,) = by_field(rubric, "source")
    assert source.any_of == ["Big Four", "Referral"]
    # every rule cites the item it came from
    assert all(r.evidence and r.evidence[0].quote in r.source for r in rubric.rules)


def test_points_fill_each_category_and_tiers_default():
    rubric = derive(profile(FACTS))
    for category in CATEGORIES:
        total = sum(r.points for r in rubric.rules if r.category == category)
        assert total == rubric.categories[category]
    assert rubric.categories == {"firmographic": 50, "technographic": 20, "behavioural": 30}
    assert rubric.tiers == {"A": 80, "B": 60, "C": 40}
    assert rubric.reachable == 100 and not rubric.warnings
    assert rubric.tier(80) == "A" and rubric.tier(79) == "B" and rubric.tier(39) == "out"
    assert rubric.tier(95, disqualified=True) == "out"


def test_exclusions_become_disqualifiers_with_reason_codes():
    rubric = derive(profile(FACTS))
    dq = {d.field: d for d in rubric.disqualifiers}
    assert dq["industry"].any_of == ["agency"] and dq["industry"].code == "DQ-AGENCIES"
    assert dq["industry"].reason == "They churn after one project"
    assert dq["employees"].below == 50 and dq["employees"].label == "Employees under 50"
    assert dq["technologies"].any_of == ["SAP"]
    assert len({d.code for d in rubric.disqualifiers}) == 3
    assert rubric.manual == ["Exclusions: Founders who want everything free"]


def test_missing_sections_are_warned_about_not_papered_over():
    facts = {k: v for k, v in FACTS.items() if k not in ("technographics", "channels")}
    facts["buying_triggers"] = []
    rubric = derive(profile(facts))
    assert not [r for r in rubric.rules if r.category != "firmographic"]
    assert rubric.reachable == 50
    text = " ".join(rubric.warnings)
    assert "No technographic rule" in text and "No trigger or channel rule" in text
    assert "At most 50 points are reachable" in text


def test_a_respondents_own_exclusion_narrows_their_target_not_cancels_it():
    p = Profile(company="Dockhand")
    p.sections["company_profile"].items = [
        item("3PL warehouses with 300-2,000 employees", support=["a:founder"]),
        item("Cold-chain food distributors close fastest", support=["b:sales"]),
    ]
    p.sections["exclusions"].items = [
        item("Single-site warehouses under 100 employees churn", support=["a:founder"]),
        item("We avoid cold-chain warehouses", support=["a:founder"]),
    ]
    rubric = derive(p)
    (industry,) = by_field(rubric, "industry")
    assert "warehouse" in industry.any_of  # the founder targets warehouses and excludes a kind
    assert "cold-chain" not in industry.any_of  # the founder's exclusion overrules sales
    targets = {t for d in rubric.disqualifiers for t in d.any_of or ()}
    assert targets == {"cold-chain"}
    assert any(d.below == 100 for d in rubric.disqualifiers)


def test_size_conflicts_of_a_merged_profile_are_noted():
    conflict = {"kind": "size", "title": "Company size (employees): founder 300-2,000"}
    rubric = derive(profile(FACTS), [conflict])
    assert any("1 unresolved conflict between respondents" in w for w in rubric.warnings)
    assert rubric.conflicts[0].startswith("Company size (employees): founder 300-2,000.")


def test_rules_file_round_trips_and_cites_evidence(tmp_path):
    p = profile(FACTS)
    hostile = 'Referrals: "quoted" # not a comment\x85 ünïcödé\nsecond line: x'
    p.sections["channels"].items.append(item(hostile, 40))
    rubric = derive(p)
    text = to_yaml(rubric, "session s1 (founder, profile version 4)", {})
    assert text.startswith("# ICP scoring rules for Closewise, derived from session s1")
    assert '#   turn 2: "B2B SaaS companies with 200-1,000 employees"' in text
    data = yaml.safe_load(text)
    assert set(data) == {"company", "session", "version", "tiers", "categories", "missing_data",
                         "rules", "disqualifiers"}  # fmt: skip
    out = tmp_path / "rules.yaml"
    out.write_text(text, "utf-8")
    assert load_rules(out).model_dump() == rubric.model_dump()


@pytest.mark.parametrize(
    "text, message",
    [
        ("rules: [\n", "not valid YAML (line"),
        ("- just a list\n", "not a rules file"),
        (
            "rules:\n  - {id: x, category: firmographic, label: x, points: 5, field: employees,"
            " any_of: [a]}\n",
            "rules[0]: employees takes min",
        ),
        (
            "rules:\n  - {id: x, category: firmographic, label: x, points: 5, field: colour,"
            " any_of: [a]}\n",
            "rules[0].field",
        ),
        ("tiers: {A: 40, B: 60, C: 80}\n", "A >= B >= C"),
        (
            "rules:\n  - {id: x, category: behavioural, label: x, points: 5, field: source,"
            " any_of: [a], within_days: 30}\n",
            "within_days only applies to signals",
        ),
        (
            "disqualifiers:\n  - {id: d, code: 'bad code', label: x, field: industry,"
            " any_of: [a]}\n",
            "disqualifiers[0].code",
        ),
        (
            "rules:\n  - {id: x, category: behavioural, label: x, points: 5, field: source,"
            " any_of: [a]}\n  - {id: x, category: behavioural, label: y, points: 5, field: source,"
            " any_of: [b]}\n",
            "repeated: x",
        ),
    ],
)
def test_bad_rules_files_get_one_clear_message(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(InputError, match=r"rules\.yaml") as err:
        load_rules(path)
    assert message in str(err.value)


def test_split_points_is_exact_and_proportional():
    assert split_points(50, [4, 2, 3, 2, 1]) == [17, 8, 13, 8, 4]
    assert sum(split_points(30, [2, 2, 2, 1, 1])) == 30
    assert split_points(20, []) == [] and split_points(0, [1, 1]) == [0, 0]


# Defects found in review: each test fails on the behaviour before the fix.


def test_a_verb_opening_the_sentence_is_not_part_of_a_product_name():
    p = profile({"technographics": ["Runs Dentrix or Open Dental", "Using HubSpot for email"]})
    assert [r.any_of for r in by_field(derive(p), "technologies")] == [
        ["Dentrix", "Open Dental"],
        ["HubSpot"],
    ]
    # a name that opens a sentence keeps a first word that is no ordinary opener
    p = profile({"technographics": ["Open Dental is what they all run", "Sage Intacct, mostly"]})
    assert [r.any_of for r in by_field(derive(p), "technologies")] == [
        ["Open Dental"],
        ["Sage Intacct"],
    ]


def terms_of(rubric) -> set[str]:
    """Every word a rule or a disqualifier checks."""
    return {t for r in [*rubric.rules, *rubric.disqualifiers] for t in r.any_of or ()}


def test_the_reason_an_exclusion_gives_is_no_condition():
    rubric = derive(profile(FACTS))  # "...under 50 employees because they close in Excel fine"
    assert "Excel" not in terms_of(rubric)
    (size,) = [d for d in rubric.disqualifiers if d.field == "employees"]
    assert size.below == 50 and size.reason == "They close in Excel fine"
    p = profile(
        {
            "exclusions": [
                "We also avoid agencies and consulting firms, their AP is tiny.",
                "Never target DSOs / corporate chains: they buy centrally on SAP",
                "Exclude: anyone on QuickBooks",
                "Law firms: they run Excel for everything",
            ]
        }
    )
    rubric = derive(p)
    assert not rubric.rules
    assert {(d.field, tuple(d.any_of or ())) for d in rubric.disqualifiers} == {
        ("industry", ("agency", "consulting")),
        ("industry", ("DSO",)),  # the kind of company, not a tool called "DSOs"
        ("technologies", ("QuickBooks",)),  # "Exclude:" leads in, it gives no reason
        ("industry", ("Law firm",)),
    }


def test_an_exclusion_filed_in_another_section_gives_no_positive_rule():
    p = profile(
        {
            "company_profile": [
                "DSOs are not a fit. Independent practices with 40-250 employees.",
                "Agencies with 5 to 20 employees are a hard no",
            ],
            "technographics": [
                "They run NetSuite; QuickBooks shops are not a fit.",
                "Anyone on SAP is a no, the integration is too heavy for us",
            ],
            "channels": ["Trade shows are not a fit for us, but referrals from CPAs work"],
            "exclusions": ["Anyone on SAP: the integration kills the deal"],
        }
    )
    rubric = derive(p)
    (employees,) = by_field(rubric, "employees")
    assert (employees.min, employees.max) == (40, 250)  # not 5-250
    assert by_field(rubric, "industry") == []
    assert [r.any_of for r in by_field(rubric, "technologies")] == [["NetSuite"]]
    assert [r.any_of for r in by_field(rubric, "source")] == [["CPAs", "referral"]]
    assert [d.any_of for d in rubric.disqualifiers] == [["SAP"]]


def test_a_tool_another_respondent_excludes_is_no_positive_rule():
    p = Profile(company="Closewise")
    p.sections["technographics"].items = [
        item("They run NetSuite", support=["a:founder"]),
        item("Some still run QuickBooks", support=["b:sales"]),
    ]
    p.sections["exclusions"].items = [item("Anyone on QuickBooks churns", support=["a:founder"])]
    rubric = derive(p)
    assert [r.any_of for r in by_field(rubric, "technologies")] == [["NetSuite"]]
    assert [d.any_of for d in rubric.disqualifiers] == [["QuickBooks"]]


@pytest.mark.parametrize(
    "text, days",
    [
        ("Usually a new CFO arrives and wants the close under five days.", None),
        ("A new CFO arrives. Deals then close within 5 days.", None),
        ("A new CFO starts it; from first call to signature it's 45 to 60 days", None),
        ("A new CFO arrives and within 90 days reviews the close process", 90),
        ("In their first 60 days a new CFO rebuilds the close", 60),
        ("Two weeks after an audit finding they call us", 14),
    ],
)
def test_a_signal_takes_its_window_only_from_wording_that_dates_the_event(text, days):
    (signal,) = by_field(derive(profile({"buying_triggers": [text]})), "signals")
    assert signal.within_days == days
    assert ("within the last" in signal.label) == (days is not None)


def test_a_follow_on_sentence_that_dates_a_trigger_joins_it():
    p = Profile(company="Ledgerline")
    p.sections["buying_triggers"].items = [
        item("The clearest trigger is a new CFO or controller hire.", turn=16),
        item("Within their first 90 days they go after the AP mess.", turn=16),
        item("An ERP migration is another one.", turn=18),
        item("Within 30 days the old approvals break.", turn=20),  # another answer
    ]
    rubric = derive(p)
    cfo, migration = by_field(rubric, "signals")
    assert cfo.any_of == ["new CFO", "new controller"] and cfo.within_days == 90
    assert [ev.turn for ev in cfo.evidence] == [16, 16]
    assert migration.within_days is None
    assert rubric.manual == ["Buying triggers: Within 30 days the old approvals break."]


def test_the_turn_column_cites_each_answer_once():
    from agent.report import render as report
    from agent.store.db import SessionInfo, Turn

    answer = "B2B SaaS companies with 200-1,000 employees. Mostly fintech, in the US."
    p = Profile(session="s1", company="Closewise", version=1)
    p.sections["company_profile"].items = [
        Item(text=text, evidence=[Evidence(turn=2, quote=text)], quantities=find_quantities(text))
        for text in ("B2B SaaS companies with 200-1,000 employees", "Mostly fintech, in the US")
    ]
    (industry,) = by_field(derive(p), "industry")
    assert [ev.turn for ev in industry.evidence] == [2, 2]  # two quotes of one answer
    turns = [Turn(1, "agent", "Who buys?", "t", "question"), Turn(2, "respondent", answer, "t")]
    info = SessionInfo(id="s1", company="Closewise", role="founder", engine="offline",
                       minutes=30, status="complete", started="2025-01-01T00:00:00+00:00",
                       turns=2)  # fmt: skip
    md = report.render(p, info, turns, "md").decode()
    assert re.search(r"\| Industry: B2B SaaS or fintech \| \d+ \| 2 \|\n", md)
    html = report.render(p, info, turns, "html").decode()
    row = r'>Industry: B2B SaaS or fintech</td><td class="num">\d+</td><td class="from">2</td>'
    assert re.search(row, html)


def test_open_ended_counts_stay_open_ended():
    p = profile({"company_profile": ["200 or more employees, three or more subsidiaries"]})
    rubric = derive(p)
    (employees,) = by_field(rubric, "employees")
    assert (employees.min, employees.max, employees.label) == (200, None, "Employees 200+")
    (locations,) = by_field(rubric, "locations")
    assert (locations.min, locations.max) == (3, None)


def test_a_merged_profile_makes_no_positive_rule_from_a_disputed_item(store):
    """Issue 19: conflicts stay out of the rules until resolved, and the header names them."""
    from agent.joint.merge import merge_sessions
    from agent.report.bundle import load_bundle
    from tests.test_merge import FOUNDER, SALES, interview

    founder = interview(store, "Ledgerline", "founder", FOUNDER)
    sales = interview(store, "Ledgerline", "sales", SALES, extra=["We sometimes see G2 mentioned."])
    merged = merge_sessions(store, [founder.id, sales.id], "joint").session
    bundle = load_bundle(store, merged.id, None)
    conflicts = bundle.session.meta["conflicts"]
    assert {c["kind"] for c in conflicts} == {"size", "segment", "channel"}
    rubric = derive(bundle.profile, conflicts)
    positive = {t.casefold() for r in rubric.rules for t in r.any_of or ()}
    # the founder targets agencies, sales excludes them: no industry term, still a disqualifier
    assert "agency" not in positive and not by_field(rubric, "industry")
    assert any("agency" in (d.any_of or []) for d in rubric.disqualifiers)
    # the channel only one respondent credits makes no rule; the size rule is the common range
    assert "controllers club" not in positive and "webinar" not in positive
    (employees,) = by_field(rubric, "employees")
    assert (employees.min, employees.max) == (500, 1000)
    disputed = [s["text"] for c in conflicts for s in c["sides"] if s["stance"] == "targets"]
    assert disputed and all(text not in r.source for text in disputed for r in rubric.rules)
    text = to_yaml(rubric, "merged profile", {})
    assert "# UNRESOLVED CONFLICTS (kept out of the rules until you resolve them together):" in text
    assert "#   - Segment: agency." in text and "Kept out of the rules:" in text
    assert len(rubric.conflicts) == len(conflicts)
    # without the conflicts, the disputed channel and the wider range were rules
    unresolved = derive(bundle.profile)
    assert "Controllers Club" in {t for r in unresolved.rules for t in r.any_of or ()}
    assert (by_field(unresolved, "employees")[0].min, by_field(unresolved, "employees")[0].max) == (
        200,
        5000,
    )


def test_the_words_of_a_disputed_segment_make_no_industry_term():
    target = "Now cold-chain food distributors close fastest for us."
    p = Profile(company="Dockhand")
    p.sections["company_profile"].items = [
        item("3PL warehouses with 300-2,000 employees", support=["a:founder"]),
        item(target, support=["b:sales"]),
    ]
    p.sections["exclusions"].items = [
        item("We avoid cold-chain and pharma warehouses", support=["a:founder"])
    ]
    conflict = {
        "kind": "segment",
        "section": "exclusions",
        "title": "Segment: cold-chain",
        "detail": "Sales targets it; founder excludes it.",
        "sides": [
            {"respondent": "b:sales", "stance": "targets", "text": target},
            {"respondent": "a:founder", "stance": "excludes", "text": "We avoid cold-chain..."},
        ],
    }
    before = by_field(derive(p), "industry")[0].any_of
    assert {"food", "distributor"} <= set(before)  # what the issue found: a disputed segment
    (industry,) = by_field(derive(p, [conflict]), "industry")
    assert not {"food", "distributor", "cold-chain"} & set(industry.any_of)
