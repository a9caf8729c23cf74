"""`icp diff` and the report's "What changed since the last review", on hand-built profiles."""

import json

import pytest

from agent.errors import InputError
from agent.profile.drift import compare, format_text, parse_ref
from agent.profile.models import Evidence, Item, Profile
from agent.reading.quantities import find_quantities
from agent.store.db import Store
from tests.conftest import icp


def item(text: str, turn: int = 1, concrete: bool = True) -> Item:
    return Item(
        text=text,
        evidence=[Evidence(turn=turn, quote=text)],
        concrete=concrete,
        quantities=find_quantities(text),
    )


def profile(**sections) -> Profile:
    p = Profile(session="s", company="Haulmatch")
    for key, (status, items) in sections.items():
        p.sections[key].status = status
        p.sections[key].items = items
    return p


OLD = profile(
    company_profile=(
        "covered",
        [
            item("Freight brokers with 50-200 employees in the Midwest."),
            item("Founder-led, bootstrapped or seed funded."),
        ],
    ),
    buying_triggers=("vague", [item("When a new VP of operations joins.", concrete=False)]),
    exclusions=("covered", [item("Asset-heavy carriers build in-house."), item("Agencies.")]),
    channels=("covered", [item("TIA conference in Phoenix.")]),
)
NEW = profile(
    company_profile=(
        "covered",
        [
            item("Freight brokers with 200-1,000 employees in the Midwest."),
            item("Founder-led, bootstrapped or seed funded."),
        ],
    ),
    buying_triggers=(
        "covered",
        [
            item("When a new VP of operations joins.", concrete=False),
            item("Within 90 days of a failed TMS migration."),
        ],
    ),
    exclusions=("covered", [item("Asset-heavy carriers build in-house.")]),
    channels=("covered", [item("TIA conference in Phoenix.")]),
)


def test_added_removed_changed_and_moved_numbers():
    drift = compare(OLD, NEW, "s@1", "s@2")
    by_key = {s.key: s for s in drift.sections}
    assert set(by_key) == {"company_profile", "buying_triggers", "exclusions"}
    company = by_key["company_profile"]
    assert company.added == company.removed == []
    (changed,) = company.changed
    assert changed.old.startswith("Freight brokers with 50-200")
    assert 0.6 <= changed.similarity < 1
    assert [(m.kind, m.old, m.new) for m in changed.moved] == [
        ("employees", "50-200 employees", "200-1,000 employees")
    ]
    triggers = by_key["buying_triggers"]
    assert triggers.added == ["Within 90 days of a failed TMS migration."]
    assert triggers.status == ["vague", "covered"] and triggers.confidence == ["low", "high"]
    assert by_key["exclusions"].removed == ["Agencies."]
    assert "channels" in drift.unchanged and "technographics" in drift.unchanged
    assert drift.counts() == {"added": 1, "removed": 1, "changed": 1, "moved": 0, "sections": 3}


def test_a_swap_is_not_a_change():
    old = profile(channels=("covered", [item("TIA conference in Phoenix.")]))
    new = profile(channels=("covered", [item("Referrals from FreightWaves readers.")]))
    (section,) = compare(old, new).sections
    assert section.added == ["Referrals from FreightWaves readers."]
    assert section.removed == ["TIA conference in Phoenix."]
    assert section.changed == [] and section.status is None


def test_identical_profiles_have_no_drift():
    drift = compare(OLD, OLD.model_copy(deep=True))
    assert drift.sections == [] and len(drift.unchanged) == 11
    assert format_text(drift).startswith("old -> new: 0 added, 0 removed, 0 changed, in 0 of 11")


def test_text_output():
    text = format_text(compare(OLD, NEW, "s@1", "s@2"))
    assert "Buying triggers  (status vague -> covered, confidence low -> high)" in text
    assert "  + Within 90 days of a failed TMS migration." in text
    assert "  - Agencies." in text
    assert "    employees: 50-200 employees -> 200-1,000 employees" in text


@pytest.mark.parametrize("ref", ["", "abc@", "abc@two", "@3"])
def test_bad_references(ref):
    with pytest.raises(InputError, match="not a session reference"):
        parse_ref(ref)


def stored_pair(store: Store) -> str:
    """A session holding OLD as version 1 and NEW as version 2."""
    info = store.create_derived("Haulmatch", "founder", "offline", {}, OLD.model_dump(mode="json"))
    store.add_profile(info.id, 0, NEW.model_dump(mode="json"), {}, {"kind": "test"})
    return info.id


def test_cli_diff_json_text_and_one_argument(store):
    sid = stored_pair(store)
    result = icp("diff", f"{sid}@1", f"{sid}@2", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["old"] == f"{sid}@1" and doc["new"] == f"{sid}@2"
    assert doc["counts"] == {"added": 1, "removed": 1, "changed": 1, "moved": 0, "sections": 3}
    one = icp("diff", sid)  # latest against the version before
    assert one.returncode == 0 and one.stdout.startswith(f"{sid}@1 -> {sid}@2: 1 added")
    bad = icp("diff", f"{sid}@9", sid)
    assert bad.returncode == 1
    assert bad.stderr.strip() == f"icp: error: session {sid} has no profile version 9"


@pytest.mark.slow
def test_report_since_adds_what_changed(store, tmp_path):
    sid = stored_pair(store)
    for suffix in ("md", "html"):
        out = tmp_path / f"r.{suffix}"
        result = icp("report", sid, "--since", f"{sid}@1", "--out", str(out))
        assert result.returncode == 0, result.stderr
        text = out.read_text("utf-8")
        assert "What changed since the last review" in text
        assert "Within 90 days of a failed TMS migration." in text
        assert "Agencies." in text and "200-1,000 employees" in text
    plain = tmp_path / "plain.md"
    assert icp("report", sid, "--out", str(plain)).returncode == 0
    assert "What changed since the last review" not in plain.read_text("utf-8")
