"""Folding the model's draft rubric into the derived one: what counts as a restated rule."""

from __future__ import annotations

import pytest

from agent.profile.models import Evidence, Item, Profile, Quantity, RubricRule, Synthesis
from agent.scoring.model_rubric import CITE_WORDS, fold_in, measures
from agent.scoring.rubric import derive


def item(text: str, turn: int, **extra) -> Item:
    return Item(text=text, evidence=[Evidence(turn=turn, quote=text)], **extra)


def profile(rubric: list[RubricRule]) -> Profile:
    p = Profile(session="s1", company="Acme")
    p.sections["company_profile"].items = [
        item(
            "Logistics firms with 200-800 employees in the US",
            2,
            quantities=[Quantity(kind="employees", low=200, high=800, text="200-800 employees")],
        ),
        item("Growth-stage companies after a Series B round " + "with a long tail " * 5, 4),
    ]
    p.sections["technographics"].items = [item("They run NetSuite", 6)]
    p.sections["evaluation_criteria"].items = [item("Audit trail", 8), item("SSO", 10)]
    p.synthesis = Synthesis(summary=[], rubric=rubric, negative_personas=[], open_questions=[])
    return p


def rule(criterion: str, category: str = "firmographic", refs: tuple = ("company_profile#1",)):
    return RubricRule(category=category, criterion=criterion, points=10, refs=list(refs))


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        ("Between 200 and 800 employees", {"employees"}),
        ("Headcount in the mid-market", {"employees"}),
        ("$10M-$50M ARR", {"revenue"}),
        ("Revenue above $10M", {"revenue"}),
        ("Runs 3 to 12 warehouses", {"locations"}),
        ("Raised a Series B in the last 12 months", set()),
        ("Spends $50k a year on freight audit", set()),
    ],
)
def test_measures_names_the_numeric_field_a_criterion_checks(criterion, expected):
    assert measures(criterion) == expected


def test_restatements_fold_into_derived_rules_and_the_rest_are_suggestions():
    p = profile(
        [
            rule("Between 200 and 800 employees"),
            rule("Operates in logistics"),  # "logistics": the derived industry rule
            rule("Uses NetSuite as ERP", "behavioural", ("technographics#1",)),  # any category
            rule("Works with us on a pilot"),  # "us" the pronoun is not the region US
            rule("Raised a Series B", refs=("company_profile#2",)),
            rule("raised a  series B", refs=("company_profile#2",)),  # said twice: shown once
            rule(
                "Wants audit trail and SSO",
                "behavioural",
                ("evaluation_criteria#1",) * 2 + ("evaluation_criteria#2", "technographics#1"),
            ),
        ]
    )
    derived = derive(p)
    assert {r.field for r in derived.rules} >= {"employees", "industry", "region", "technologies"}
    merged = fold_in(derived, p)
    by_field = {r.id: r.field for r in derived.rules}
    assert {c: by_field[rid] for c, rid in merged.repeated.items()} == {
        "Between 200 and 800 employees": "employees",
        "Operates in logistics": "industry",
        "Uses NetSuite as ERP": "technologies",
    }
    shown = [s.criterion for s in merged.suggestions]
    assert shown == ["Works with us on a pilot", "Raised a Series B", "Wants audit trail and SSO"]
    assert merged.drafted == 6 and [s.criterion for s in merged.of("behavioural")] == shown[2:]
    series = merged.suggestions[1]
    title, text = series.cites[0]
    assert title == "Company profile" and text.endswith(" ...")
    assert len(text.split()) == CITE_WORDS + 1 and series.evidence[0].turn == 4
    both = merged.suggestions[2]
    assert both.cites == [("Evaluation criteria", "Audit trail"), ("Evaluation criteria", "SSO")]
    assert both.more == 1 and [ev.turn for ev in both.evidence] == [8, 10, 6]


def test_without_a_synthesis_nothing_is_added():
    p = profile([])
    p.synthesis = None
    merged = fold_in(derive(p), p)
    assert merged.drafted == 0 and merged.suggestions == [] and merged.repeated == {}
