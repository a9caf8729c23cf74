"""The closing reflect-back quotes statements whole, or cuts them where a phrase ends."""

from __future__ import annotations

import pytest

from agent.interview.recap import recap, summary_lines
from agent.profile.models import Evidence, Item, Profile


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Our best customers run 3 to 12 warehouses and have between 300 and 2,000 workers.",
            "Our best customers run 3 to 12 warehouses and have between 300 and 2,000 workers.",
        ),
        (
            "Forecast accuracy decides it: they want to see last year's peak replayed within 5"
            " days, with their own data, and a named CSM who knows warehouses and has run one.",
            "Forecast accuracy decides it: they want to see last year's peak replayed within 5"
            " days, with their own data…",
        ),
    ],
)
def test_a_statement_is_whole_or_cut_at_a_clause(text, expected):
    assert recap(text) == expected


def test_a_cut_never_splits_a_number_or_range_and_ends_once():
    text = "a b c d e f g h i j k between 300 and 1,500 hourly workers in the x y z"
    assert recap(text, 14) == "a b c d e f g h i j k between 300 and 1,500 hourly workers…"
    assert not recap(text, 14).endswith(("....", "….", "1…"))


def test_the_closing_summary_has_no_doubled_full_stops():
    profile = Profile()
    long = (
        "Our best customers run 3 to 12 warehouses and have between 300 and 1,500 hourly "
        "workers on the floor in peak season across the Midwest and Texas every single year"
    )
    profile.sections["company_profile"].items.append(
        Item(text=long, evidence=[Evidence(turn=2, quote="Our best")], concrete=True)
    )
    (line,) = summary_lines(profile)
    assert line.startswith("Best fit: Our best customers") and "...." not in line
    assert "1,500 hourly workers" in line and line.endswith("…")
