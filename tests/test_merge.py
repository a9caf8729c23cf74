"""`icp merge`: agreements, conflicts and single-source items across respondents."""

from __future__ import annotations

import json

import pytest

from agent.errors import InputError
from agent.joint.merge import (
    load_sources,
    merge_profiles,
    merge_sessions,
    similarity,
    verify_merged,
)
from agent.profile.models import Evidence, Item, Profile
from agent.reading.quantities import find_quantities
from agent.store.db import Store
from tests.conftest import icp


def interview(store: Store, company: str, role: str, facts: dict[str, list[str]], extra=()):
    """Store a finished interview whose profile holds each fact as an item quoting its answer."""
    info = store.create_session(company=company, role=role)
    profile = Profile(session=info.id, company=company, role=role)
    for key, texts in facts.items():
        for text in texts:
            store.add_turn(info.id, "agent", f"About {key}?", key, "question")
            turn = store.add_turn(info.id, "respondent", f"Well. {text} That's it.", key, "answer")
            profile.sections[key].items.append(
                Item(
                    text=text,
                    evidence=[Evidence(turn=turn.seq, quote=text)],
                    concrete=any(c.isdigit() for c in text),
                    quantities=find_quantities(text),
                )
            )
            profile.sections[key].status = "covered"
    for text in extra:  # answers that did not become items
        store.add_turn(info.id, "agent", "Anything else?", None, "question")
        store.add_turn(info.id, "respondent", text, None, "answer")
    store.save_step(info.id, 0, profile.model_dump(mode="json"), {}, status="complete")
    return info


FOUNDER = {
    "company_profile": [
        "Our best customers have between 200 and 1,000 employees.",
        "Agencies that resell to their clients convert well from webinars.",
    ],
    "technographics": ["They run NetSuite as the ERP and Ramp for cards."],
    "channels": ["Controllers meet in a Slack group called Controllers Club."],
    "customer_language": ["month-end close feels like a hostage situation"],
    "sales_cycle": ["From first call to signature it takes 60 to 90 days."],
}
SALES = {
    "company_profile": ["Our best customers have between 500 and 5,000 employees."],
    "technographics": ["Almost every customer runs NetSuite as their ERP, with Ramp cards."],
    "channels": ["Most of my pipeline comes from G2 reviews."],
    "customer_language": ["month-end close feels like a hostage situation"],
    "exclusions": ["Never target agencies: they churn after one project."],
    "sales_cycle": ["Deals close in 30 days when the CFO is new."],
}


@pytest.fixture
def pair(store):
    founder = interview(store, "Ledgerline", "founder", FOUNDER)
    sales = interview(store, "Ledgerline", "sales", SALES, extra=["We sometimes see G2 mentioned."])
    return founder, sales


def _by_text(profile: Profile, key: str, start: str) -> Item:
    return next(i for i in profile.sections[key].items if i.text.startswith(start))


def test_agreement_keeps_both_respondents_and_their_evidence(store, pair):
    founder, sales = pair
    sources = load_sources(store, [founder.id, sales.id])
    merged = merge_profiles(sources)
    tech = merged.sections["technographics"].items
    assert len(tech) == 1  # same claim in other words
    assert tech[0].support == [f"{founder.id}:founder", f"{sales.id}:sales"]
    assert {ev.session for ev in tech[0].evidence} == {founder.id, sales.id}
    phrase = merged.sections["customer_language"].items
    assert len(phrase) == 1 and len(phrase[0].support) == 2
    answers = {s.session.id: s.answers() for s in sources}
    assert verify_merged(merged, answers) == []
    # the same quote checked against the other session's transcript fails
    swapped = phrase[0].model_copy(
        update={
            "evidence": [ev.model_copy(update={"turn": ev.turn + 2}) for ev in phrase[0].evidence]
        }
    )
    merged.sections["customer_language"].items = [swapped]
    assert verify_merged(merged, answers)


def test_single_source_items_and_different_numbers_stay_apart(store, pair):
    founder, sales = pair
    merged = merge_profiles(load_sources(store, [founder.id, sales.id]))
    cycle = merged.sections["sales_cycle"].items
    assert len(cycle) == 2 and all(len(i.support) == 1 for i in cycle)
    sizes = merged.sections["company_profile"].items
    employees = [i for i in sizes if "employees" in i.text]
    assert len(employees) == 2  # 200-1,000 and 500-5,000 are different claims
    assert _by_text(merged, "exclusions", "Never target").support == [f"{sales.id}:sales"]
    assert merged.sections["exclusions"].status == "covered"


def test_similarity_prefers_shared_names_and_refuses_different_numbers():
    def item(text):
        return Item(
            text=text, evidence=[Evidence(turn=1, quote=text)], quantities=find_quantities(text)
        )

    same = similarity(
        item("They run NetSuite as the ERP."), item("Almost all of them run NetSuite as their ERP.")
    )
    assert same >= 0.5
    assert similarity(item("60 to 90 days to sign."), item("30 to 45 days to sign.")) == 0
    assert similarity(item("They run NetSuite."), item("Referrals from accountants.")) < 0.5


def test_conflicts_are_named_with_both_sides(store, pair):
    founder, sales = pair
    result = merge_sessions(store, [founder.id, sales.id], "Ledgerline joint")
    kinds = [c.kind for c in result.conflicts]
    size = next(c for c in result.conflicts if c.kind == "size")
    assert "200-1,000" in size.title and "500-5,000" in size.title
    assert "overlap at 500-1,000" in size.detail
    assert {s.role for s in size.sides} == {"founder", "sales"}
    segment = next(c for c in result.conflicts if c.kind == "segment")
    assert "agency" in segment.title
    stances = {s.role: s.stance for s in segment.sides}
    assert stances == {"founder": "targets", "sales": "excludes"}
    assert all(s.evidence for s in segment.sides)
    channels = [c for c in result.conflicts if c.kind == "channel"]
    # Controllers Club: the sales lead never says it. G2: the founder never says it, but the
    # sales transcript is not what counts for the founder; the founder's answers are.
    titles = " | ".join(c.title for c in channels)
    assert "Controllers Club" in titles and "G2" in titles
    club = next(c for c in channels if "Controllers Club" in c.title)
    silent = next(s for s in club.sides if s.stance == "never mentions")
    assert silent.role == "sales" and "G2" in silent.text  # what sales credits instead
    assert kinds == sorted(kinds, key=["size", "segment", "channel"].index)


def test_a_channel_mentioned_anywhere_in_the_transcript_is_no_conflict(store):
    founder = interview(
        store, "Acme", "founder", {"channels": ["Referrals from Big Four audit firms."]}
    )
    marketing = interview(
        store,
        "Acme",
        "marketing",
        {"channels": ["Webinars with the CFO Leadership Council."]},
        extra=["The Big Four audit firms do send us a few deals."],
    )
    result = merge_sessions(store, [founder.id, marketing.id])
    titles = [c.title for c in result.conflicts]
    assert not any("Big Four" in t for t in titles)
    assert any("CFO Leadership Council" in t for t in titles)


def test_merge_stores_a_session_whose_export_keeps_the_contract(store, pair):
    founder, sales = pair
    result = merge_sessions(store, [founder.id, sales.id], "Ledgerline joint")
    info = store.session(result.session.id)
    assert info.role == "merged" and info.status == "complete" and info.company == "Ledgerline"
    assert [s["id"] for s in info.meta["sources"]] == [founder.id, sales.id]
    assert info.meta["name"] == "Ledgerline joint"
    assert len(info.meta["conflicts"]) == len(result.conflicts)
    data = store.profile(info.id).data
    assert data["session"] == info.id and data["version"] == 1
    for section in data["sections"].values():
        for item in section["items"]:
            assert item["text"] and item["support"]
            for ev in item["evidence"]:
                assert {"turn", "quote", "session"} <= ev.keys()
    assert result.agreements == 2
    assert result.single_source == sum(len(s["items"]) for s in data["sections"].values()) - 2


def test_single_interview_export_has_no_merge_fields(store, pair):
    data = Profile.model_validate(store.profile(pair[0].id).data).model_dump(mode="json")
    item = data["sections"]["technographics"]["items"][0]
    assert "support" not in item and "session" not in item["evidence"][0]


def test_refuses_bad_merges(store, pair):
    founder, sales = pair
    other = interview(store, "Otherco", "sales", {"channels": ["Trade shows."]})
    with pytest.raises(InputError, match="different companies"):
        merge_sessions(store, [founder.id, other.id])
    with pytest.raises(InputError, match="twice"):
        merge_sessions(store, [founder.id, founder.id[:4]])
    with pytest.raises(InputError, match="at least two"):
        merge_sessions(store, [founder.id])
    merged = merge_sessions(store, [founder.id, sales.id]).session
    with pytest.raises(InputError, match="already a merged profile"):
        merge_sessions(store, [merged.id, founder.id])


@pytest.mark.slow
def test_cli_merge_prints_id_and_json(store, pair):
    founder, sales = pair
    out = icp("merge", founder.id, sales.id, "--name", "Joint")
    assert out.returncode == 0, out.stderr
    sid = out.stdout.strip()
    assert "conflicts to resolve together" in out.stderr and f"icp report {sid}" in out.stderr
    data = json.loads(icp("merge", founder.id, sales.id, "--json").stdout)
    assert data["agreements"] == 2 and {c["kind"] for c in data["conflicts"]} >= {"size"}
    exported = json.loads(icp("export", sid).stdout)
    assert exported["role"] == "merged"
    bad = icp("merge", founder.id)
    assert bad.returncode == 1 and bad.stderr.startswith("icp: error: give at least two")
    resumed = icp("resume", sid)
    assert resumed.returncode == 1 and "merged profile" in resumed.stderr


def test_quotes_citing_an_earlier_session_are_checked_against_it(store, pair):
    founder, sales = pair
    # A quarterly review of the founder's interview: its items keep the founder's quotes.
    review = store.create_session(company="Ledgerline", role="founder")
    old = Profile.model_validate(store.profile(founder.id).data)
    for _, item in old.all_items():
        item.evidence = [ev.model_copy(update={"session": founder.id}) for ev in item.evidence]
    forged = Item(
        text="Made up", evidence=[Evidence(turn=2, quote="never said", session=founder.id)]
    )
    old.sections["objections"].items.append(forged)
    store.save_step(review.id, 0, old.model_dump(mode="json"), {}, status="complete")
    result = merge_sessions(store, [review.id, sales.id])
    tech = result.profile.sections["technographics"].items[0]
    assert {ev.session for ev in tech.evidence} == {founder.id, sales.id}
    assert tech.support == [f"{review.id}:founder", f"{sales.id}:sales"]
    assert not any(i.text == "Made up" for _, i in result.profile.all_items())
    answers = {s: {t.seq: t.text for t in store.turns(s)} for s in (founder.id, sales.id)}
    assert verify_merged(result.profile, answers) == []
