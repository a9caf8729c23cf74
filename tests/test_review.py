"""`icp interview --review ID`: the quarterly review, end to end through --jsonl."""

import json

import pytest

from agent.engines import get_engine
from agent.lang import load_pack
from agent.profile.models import Profile
from agent.quarterly import batch
from tests.conftest import icp, persona_paths, run_persona, spawn_icp

ANSWERS = {
    "cohort": "Yes, the last 90 days skewed bigger: most new logos had 300 to 800 employees.",
    "probe_company": "We closed Ridgeway Freight, 450 employees, in 21 days.",
    "churn": "No change there.",
    "campaigns": "LinkedIn ads stopped converting; referrals from the TIA community bring demos.",
    "probe_channels": "A referral partner introduced us to CargoNet last month.",
    "anomaly": "Nothing unusual.",
    "triggers": "Same as before.",
    "close": "That confirms it. Actually, the sweet spot is 300 to 800 employees now.",
}


def answer_for(msg: dict) -> str:
    """The scripted reviewer: answers by what the question is about."""
    texts = {q.id: q.text for q in load_pack().review.questions}
    for qid in ("cohort", "churn", "campaigns", "anomaly", "triggers"):
        if msg["text"] == texts[qid]:
            return ANSWERS[qid]
    if msg["topic"] == "close":
        return ANSWERS["close"]
    return ANSWERS[f"probe_{msg['topic'].split('_')[0]}"]


def review_jsonl(*args: str, stop_after: int | None = None) -> tuple[list[dict], str]:
    """Run `icp ... --jsonl` answering as the scripted reviewer; end input after N answers."""
    proc = spawn_icp(*args, "--jsonl")
    lines, sent = [], 0
    for raw in proc.stdout:
        msg = json.loads(raw)
        lines.append(msg)
        if msg["type"] == "question":
            if stop_after is not None and sent == stop_after:
                proc.stdin.close()
                continue
            proc.stdin.write(json.dumps({"answer": answer_for(msg)}) + "\n")
            proc.stdin.flush()
            sent += 1
        elif msg["type"] == "done":
            break
    if not proc.stdin.closed:
        proc.stdin.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 0, stderr
    return lines, stderr


def base_session(store) -> tuple[str, Profile]:
    paths = [p for p in persona_paths() if p.stem == "haulmatch"] or persona_paths()
    interview = run_persona(store, get_engine(), paths[0])
    return interview.session.id, interview.profile


@pytest.mark.slow
def test_review_end_to_end(store):
    old_id, old = base_session(store)
    lines, stderr = review_jsonl("interview", "--review", old_id)
    new_id = lines[0]["session"]
    questions = [m for m in lines if m["type"] == "question"]
    assert lines[-1] == {"type": "done", "session": new_id, "complete": True}
    first = questions[0]
    assert first["preface"].startswith("This is the quarterly review of the profile from")
    assert first["topic"] == "company_profile"
    # Probes follow only the answers that said something moved.
    topics = [q["topic"] for q in questions]
    assert topics == [
        "company_profile",
        "company_profile",
        "exclusions",
        "channels",
        "channels",
        "review",
        "buying_triggers",
        "close",
    ]
    assert questions[1]["text"] not in {q.text for q in load_pack().review.questions}
    assert questions[-1]["preface"] == (
        "Here is what changed since the last review: Company profile: 2 new. Channels: 2 new."
    )
    assert len(questions) <= 15  # the 15-minute budget
    assert f"What changed: {old_id}@{old.version} -> {new_id}@" in stderr
    assert "+ We closed Ridgeway Freight, 450 employees, in 21 days." in stderr

    info = store.session(new_id)
    assert info.meta == {"kind": "review", "review_of": f"{old_id}@{old.version}", "lang": "en"}
    assert info.status == "complete" and info.minutes == 15
    start = Profile.model_validate(store.profile(new_id, 1).data)
    assert [i.text for _, i in start.all_items()] == [i.text for _, i in old.all_items()]
    assert all(ev.session == old_id for _, i in start.all_items() for ev in i.evidence)
    final = Profile.model_validate(store.profile(new_id).data)
    texts = {i.text for _, i in final.all_items()}
    assert {i.text for _, i in old.all_items()} <= texts
    assert "No change there." not in texts and "Same as before." not in texts
    review_turns = {t.seq: t.text for t in store.turns(new_id)}
    for _, item in final.all_items():
        for ev in item.evidence:
            if not ev.session:
                assert ev.quote in review_turns[ev.turn]

    drift = icp("diff", new_id, "--json")  # one argument: against the reviewed profile
    assert drift.returncode == 0, drift.stderr
    doc = json.loads(drift.stdout)
    assert doc["counts"] == {"added": 5, "removed": 0, "changed": 0, "moved": 0, "sections": 2}
    assert doc["old"] == f"{old_id}@{old.version}"

    # Re-extracting the review in a batch starts from the reviewed profile: same result.
    (note,) = final.sections["company_profile"].notes  # the correction at the closing summary
    assert "300 to 800 employees now" in note
    plan = batch.prepare(store, [store.session(new_id)], "offline", fmt="none")
    (row,) = batch.execute(store, plan, get_engine)
    assert row.status == "done" and row.changes["sections"] == 0
    again = Profile.model_validate(store.profile(new_id).data)
    assert again.sections["company_profile"].notes == [note]


@pytest.mark.slow
def test_review_resumes_with_review_questions(store):
    old_id, _ = base_session(store)
    lines, _ = review_jsonl("interview", "--review", f"{old_id}", stop_after=2)
    new_id = lines[0]["session"]
    assert lines[-1] == {"type": "done", "session": new_id, "complete": False}
    assert store.session(new_id).status == "interrupted"
    pending = [m for m in lines if m["type"] == "question"][-1]
    assert pending["topic"] == "exclusions"

    lines, stderr = review_jsonl("resume", new_id)
    questions = [m for m in lines if m["type"] == "question"]
    assert questions[0]["text"] == pending["text"]  # the same pending question again
    assert [q["topic"] for q in questions][-1] == "close"
    assert lines[-1]["complete"] is True
    assert "What changed:" in stderr


def test_review_of_unknown_session_is_one_line():
    result = icp("interview", "--review", "nope", "--jsonl", input="")
    assert result.returncode == 1
    assert result.stderr.strip() == "icp: error: no session 'nope'; `icp sessions` lists them"
