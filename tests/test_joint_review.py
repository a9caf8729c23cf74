"""The joint review in the library: item decisions, conflicts, sign-offs, versions, staleness."""

from __future__ import annotations

import json

import pytest

from agent.joint.merge import merge_sessions
from agent.joint.review import (
    NotReviewable,
    ReviewError,
    review_doc,
    save_changes,
    signed,
)
from agent.profile.models import Evidence, Item, Profile
from agent.report.bundle import load_bundle
from agent.store.db import StaleVersion, Store
from tests.conftest import icp
from tests.test_merge import FOUNDER, SALES, interview


@pytest.fixture
def merged(store) -> str:
    founder = interview(store, "Ledgerline", "founder", FOUNDER)
    sales = interview(store, "Ledgerline", "sales", SALES, extra=["We sometimes see G2."])
    return merge_sessions(store, [founder.id, sales.id], "Ledgerline joint review").session.id


def item_id(doc: dict, key: str, start: str) -> str:
    return next(i["id"] for i in doc["sections"][key]["items"] if i["text"].startswith(start))


def latest(store: Store, sid: str) -> Profile:
    return load_bundle(store, sid).profile


def test_the_document_lists_items_with_quotes_and_the_conflicts_with_ids(store, merged):
    doc = review_doc(store, merged)
    assert doc["version"] == 1 and doc["kind"] == "merged" and doc["company"] == "Ledgerline"
    assert doc["signoffs"] == {"sales": None, "marketing": None} and not doc["signed"]
    netsuite = next(
        i for i in doc["sections"]["technographics"]["items"] if "NetSuite" in i["text"]
    )
    assert netsuite["status"] == "pending" and netsuite["id"].startswith("technographics:")
    assert {ev["who"] for ev in netsuite["evidence"]} == {"founder", "sales"}
    assert all(ev["quote"] and ev["turn"] for ev in netsuite["evidence"])
    kinds = {c["kind"] for c in doc["conflicts"]}
    assert "size" in kinds and all(c["id"] and c["decision"] is None for c in doc["conflicts"])
    assert len({c["id"] for c in doc["conflicts"]}) == len(doc["conflicts"])


def test_each_change_is_a_new_version_that_records_who_and_when(store, merged):
    doc = review_doc(store, merged)
    tools = item_id(doc, "technographics", "They run NetSuite")
    agencies = item_id(doc, "company_profile", "Agencies that resell")
    cycle = item_id(doc, "sales_cycle", "From first call")
    result = save_changes(
        store,
        merged,
        1,
        "Dana Ruiz",
        [{"item": tools, "action": "edit", "text": "NetSuite ERP with Ramp cards, 50-500 users"}],
    )
    assert result["version"] == 2
    result = save_changes(
        store,
        merged,
        2,
        "Lee Chen",
        [
            {"item": agencies, "action": "move", "section": "exclusions"},
            {"item": cycle, "action": "reject"},
        ],
    )
    assert result["version"] == 3
    profile = latest(store, merged)
    edited = next(i for i in profile.sections["technographics"].items if i.id == tools)
    assert edited.text == "NetSuite ERP with Ramp cards, 50-500 users"
    assert edited.evidence[0].quote.startswith("They run NetSuite")  # the quote stays
    assert [(q.low, q.high) for q in edited.quantities] == [(50, 500)]
    assert agencies in [i.id for i in profile.sections["exclusions"].items]
    assert agencies not in [i.id for i in profile.sections["company_profile"].items]
    assert cycle not in [i.id for _, i in profile.all_items()]
    doc = review_doc(store, merged)
    assert [r["id"] for r in doc["rejected"]] == [cycle]
    moved = next(i for i in doc["sections"]["exclusions"]["items"] if i["id"] == agencies)
    assert moved["status"] == "moved" and moved["moved_from"] == "company_profile"
    assert moved["by"] == "Lee Chen"
    history = doc["history"]
    assert [(h["version"], h["by"]) for h in history] == [(2, "Dana Ruiz"), (3, "Lee Chen")]
    assert [c["action"] for c in history[1]["changes"]] == ["move", "reject"]
    # Restoring the rejected item puts it back where it was.
    save_changes(store, merged, 3, "Lee Chen", [{"item": cycle, "action": "restore"}])
    assert cycle in [i.id for i in latest(store, merged).sections["sales_cycle"].items]


def test_a_stale_version_is_refused_and_nothing_is_stored(store, merged):
    doc = review_doc(store, merged)
    tools = item_id(doc, "technographics", "They run NetSuite")
    save_changes(store, merged, 1, "Dana", [{"item": tools, "action": "accept"}])
    with pytest.raises(StaleVersion, match="latest is version 2"):
        save_changes(store, merged, 1, "Lee", [{"item": tools, "action": "reject"}])
    assert [v for v, _, _ in store.versions(merged)] == [1, 2]
    assert tools in [i.id for _, i in latest(store, merged).all_items()]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ([], "non-empty list"),
        ([{"item": "nope", "action": "accept"}], "no item 'nope'"),
        ([{"item": "X", "action": "delete"}], "action must be one of"),
        ([{"conflict": "nope", "decision": "x", "owner": "y", "due": "2026-01-01"}], "no conflict"),
        ([{"signoff": "finance", "name": "x"}], '"sales" or "marketing"'),
        ([{"signoff": "sales", "name": "  "}], "signer's name"),
        ([{"hello": 1}], "names no"),
    ],
)
def test_bad_changes_are_refused_whole(store, merged, changes, message):
    doc = review_doc(store, merged)
    first = item_id(doc, "technographics", "They run NetSuite")
    payload = [{"item": first, "action": "accept"}, *changes] if changes else []
    with pytest.raises(ReviewError, match=message):
        save_changes(store, merged, 1, "Dana", payload)
    assert [v for v, _, _ in store.versions(merged)] == [1]


def test_conflicts_are_decided_and_both_teams_sign_until_something_changes(store, merged):
    doc = review_doc(store, merged)
    size = next(c for c in doc["conflicts"] if c["kind"] == "size")
    decide = {"conflict": size["id"], "decision": "Target 500-1,000 employees", "owner": "Dana"}
    with pytest.raises(ReviewError, match="a date like"):
        save_changes(store, merged, 1, "Lee", [{**decide, "due": "next week"}])
    save_changes(store, merged, 1, "Lee", [{**decide, "due": "2026-12-31"}])
    save_changes(store, merged, 2, "Dana", [{"signoff": "sales", "name": "Dana Ruiz"}])
    assert not signed(latest(store, merged))
    save_changes(store, merged, 3, "Lee", [{"signoff": "marketing", "name": "Lee Chen"}])
    profile = latest(store, merged)
    assert signed(profile)
    doc = review_doc(store, merged)
    assert doc["signed"] and doc["signoffs"]["sales"]["version"] == 3
    assert doc["signoffs"]["marketing"] == {**doc["signoffs"]["marketing"], "version": 4}
    decided = next(c for c in doc["conflicts"] if c["id"] == size["id"])["decision"]
    assert decided["owner"] == "Dana" and decided["due"] == "2026-12-31" and decided["by"] == "Lee"
    # A later change outdates both signatures: they must sign again.
    first = item_id(doc, "channels", "Controllers meet")
    save_changes(store, merged, 4, "Lee", [{"item": first, "action": "edit", "text": "Slack"}])
    doc = review_doc(store, merged)
    assert not doc["signed"] and doc["signoffs"]["sales"]["current"] is False


def test_unsorted_statements_are_filed_or_rejected(store):
    info = store.create_session(company="Acme", role="founder")
    turn = store.add_turn(
        info.id, "respondent", "Mostly via a Slack group. Odd one.", None, "answer"
    )
    profile = Profile(session=info.id, company="Acme")
    profile.unsorted = [
        Item(text="Mostly via a Slack group.", evidence=[Evidence(turn=turn.seq, quote="Slack")]),
        Item(text="Odd one.", evidence=[Evidence(turn=turn.seq, quote="Odd one.")]),
    ]
    store.save_step(info.id, turn.seq, profile.model_dump(mode="json"), {}, status="complete")
    doc = review_doc(store, info.id)
    slack, odd = (i["id"] for i in doc["unsorted"])
    assert slack.startswith("unsorted:") and doc["unsorted"][0]["evidence"][0]["turn"] == turn.seq
    with pytest.raises(ReviewError, match="is unsorted"):
        save_changes(store, info.id, 1, "Dana", [{"item": slack, "action": "accept"}])
    save_changes(
        store,
        info.id,
        1,
        "Dana",
        [
            {"item": slack, "action": "move", "section": "channels"},
            {"item": odd, "action": "reject"},
        ],
    )
    profile = latest(store, info.id)
    assert profile.unsorted == [] and [i.id for i in profile.sections["channels"].items] == [slack]
    assert profile.sections["channels"].status == "vague"
    assert "unsorted" not in profile.model_dump(mode="json")  # excluded when empty


def test_an_interview_in_progress_cannot_be_reviewed(store):
    info = store.create_session(company="Acme")
    store.save_step(info.id, 0, Profile(session=info.id).model_dump(mode="json"), {})
    with pytest.raises(NotReviewable, match="not finished"):
        review_doc(store, info.id)


@pytest.mark.slow
def test_rules_report_and_diff_start_from_the_reviewed_version(store, merged):
    before = icp("rules", merged)
    assert before.returncode == 0 and "Controllers Club" in before.stdout
    doc = review_doc(store, merged)
    club = item_id(doc, "channels", "Controllers meet")
    tools = item_id(doc, "technographics", "They run NetSuite")
    save_changes(
        store,
        merged,
        1,
        "Dana",
        [{"item": club, "action": "reject"}, {"item": tools, "action": "edit", "text": "Xero"}],
    )
    after = icp("rules", merged)
    assert after.returncode == 0 and "Controllers Club" not in after.stdout
    diff = icp("diff", f"{merged}@1", f"{merged}@2", "--json")
    counts = json.loads(diff.stdout)["counts"]
    assert counts["removed"] == 1 and counts["changed"] == 1
    text = icp("diff", f"{merged}@1", f"{merged}@2").stdout
    assert "  - Controllers meet in a Slack group called Controllers Club." in text
    assert "-> Xero" in text  # an edit is the same item (same id), however different the words
    export = json.loads(icp("export", merged).stdout)
    assert export["version"] == 2 and export["review"]["items"][tools]["status"] == "edited"


def signed_review(store: Store, sid: str) -> dict:
    """Decide every conflict, name the owner, and have both teams sign."""
    doc = review_doc(store, sid)
    changes = [
        {
            "conflict": c["id"],
            "decision": f"Decided {n}: the overlap",
            "owner": "Dana Ruiz",
            "due": "2026-12-31",
        }
        for n, c in enumerate(doc["conflicts"], 1)
    ]
    save_changes(store, sid, 1, "Lee Chen", [*changes, {"owner": "Priya Shah"}])
    save_changes(store, sid, 2, "Dana Ruiz", [{"signoff": "sales", "name": "Dana Ruiz"}])
    save_changes(store, sid, 3, "Lee Chen", [{"signoff": "marketing", "name": "Lee Chen"}])
    return review_doc(store, sid)


def test_the_markdown_report_shows_decisions_and_signatures_not_blank_lines(store, merged):
    from agent.report.render import render

    unsigned = render(*_inputs(store, merged), "md").decode()
    assert "Decision: ______ Owner: ______ By: ______" in unsigned
    assert "Signed ICP" not in unsigned
    doc = signed_review(store, merged)
    text = render(*_inputs(store, merged), "md").decode()
    assert "______" not in text.split("## Sign-off")[1].split("## Appendix")[0]
    assert "Decision: ______" not in text
    for n in range(1, len(doc["conflicts"]) + 1):
        assert (
            f"**Decision:** Decided {n}: the overlap **Owner:** Dana Ruiz **By:** 31 December 2026"
            in text
        )
    assert "| Owner | Priya Shah |" in text
    assert "**Sales**: signed by Dana Ruiz on" in text and "(version 3)" in text
    assert "**Marketing**: signed by Lee Chen on" in text and "(version 4)" in text
    assert "| Signed | Signed ICP, version 4: sales (Dana Ruiz) and marketing (Lee Chen)," in text


def _inputs(store: Store, sid: str):
    bundle = load_bundle(store, sid)
    return bundle.profile, bundle.session, bundle.turns


def test_a_skip_is_not_an_answer_in_the_report(store):
    from agent.report.render import render

    info = store.create_session(company="Acme")
    store.add_turn(info.id, "agent", "What do you sell?", "intro", "question")
    store.add_turn(info.id, "respondent", "AP automation.", "intro", "answer")
    store.add_turn(info.id, "agent", "Which companies?", "company_profile", "question")
    store.add_turn(info.id, "respondent", "/skip", "company_profile", "command")
    store.save_step(info.id, 4, Profile(session=info.id).model_dump(mode="json"), {})
    text = render(*_inputs(store, info.id), "md").decode()
    assert "| Interview | 1 answers, active |" in text
    assert "_4 Skipped this topic_" in text and "/skip" not in text


@pytest.mark.slow
def test_the_pdf_marks_a_signed_icp_with_its_version(store, merged, tmp_path):
    from agent.report.render import write_report
    from tests.conftest import pdf_text

    signed_review(store, merged)
    out = write_report(*_inputs(store, merged), tmp_path / "signed.pdf")
    text = pdf_text(out)
    assert "Signed ICP, version 4: sales (Dana Ruiz) and marketing (Lee Chen)" in text
    assert "Decision: Decided 1: the overlap" in text and "Owner: Dana Ruiz" in text
    assert "Signed in the joint review on" in text and "Priya Shah" in text
