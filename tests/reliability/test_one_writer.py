"""One writer per interview: a second `icp resume` (or the web API) on an interview another
process is writing is refused with "open elsewhere" (a 409 in the web API) and stores nothing;
the writer's profile keeps every item; a killed writer's interview shows as interrupted."""

from __future__ import annotations

import json
import signal

import pytest

from agent.engines.offline import file_answer
from agent.lang import load_pack
from agent.store.db import Store
from tests.conftest import icp
from tests.reliability.children import spawn

pytestmark = pytest.mark.slow

ANSWERS = [
    "Accounts-payable automation for mid-market finance teams.",
    "Companies with 200 to 1,000 employees in Germany and Austria.",
    "They run NetSuite and Salesforce, and Coupa for procurement.",
    "A new CFO is the usual trigger, or a failed audit.",
    "They find us on G2 and through referrals from accountants.",
    "Agencies never work for us: they churn after one project.",
]


def line(answer: str) -> str:
    return json.dumps({"answer": answer}) + "\n"


class Resumed:
    """`icp resume ID --jsonl` kept open: answers are sent one at a time."""

    def __init__(self, sid: str):
        self.proc = spawn(["resume", sid, "--jsonl"])
        self.out = self.proc.stdout
        assert self.next()["type"] == "started"
        self.question = self.next()
        assert self.question["type"] == "question", self.question

    def next(self) -> dict:
        return json.loads(self.out.readline())

    def answer(self, text: str) -> dict:
        self.proc.stdin.write(line(text))
        self.proc.stdin.flush()
        self.question = self.next()
        return self.question

    def finish(self) -> tuple[int, str]:
        _, err = self.proc.communicate(timeout=120)  # end of input: saved, resumable
        return self.proc.returncode, err


def started(answers: int = 2) -> str:
    """An interview with `answers` answers, stopped at end of input (resumable)."""
    result = icp(
        "interview",
        "--jsonl",
        "--company",
        "Ledgerline",
        input="".join(line(a) for a in ANSWERS[:answers]),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[0])["session"]


def test_a_second_resume_is_refused_and_nothing_the_first_extracts_is_lost():
    sid = started()
    first = Resumed(sid)
    second = icp("resume", sid, "--jsonl", input=line("We sell to everyone."))
    assert second.returncode == 1
    assert second.stderr.startswith(f"icp: error: interview {sid} is open elsewhere")
    assert "`icp resume`" in second.stderr and "Traceback" not in second.stderr
    lines = [json.loads(x) for x in second.stdout.splitlines()]
    assert lines == [{"type": "error", "message": second.stderr.removeprefix("icp: error: ")[:-1]}]
    for answer in ANSWERS[2:]:
        first.answer(answer)
    code, err = first.finish()
    assert code == 0, err

    store = Store()
    try:
        turns = store.turns(sid)
        profile = store.profile(sid).data
    finally:
        store.close()
    answers = [t for t in turns if t.kind == "answer"]
    assert [t.text for t in answers] == ANSWERS  # the refused one stored nothing
    questions = [t.text for t in turns if t.kind == "question"]
    assert len(questions) == len(set(questions))  # none asked twice
    cited = {
        e["turn"] for s in profile["sections"].values() for i in s["items"] for e in i["evidence"]
    }
    pack = load_pack()
    for turn in answers[1:]:  # the first answer names the product, it is not filed
        if any(True for _ in file_answer(turn.text, turn.seq, turn.topic, pack)):
            assert turn.seq in cited, f"items of answer {turn.seq} were lost"


def test_the_web_api_answers_409_while_a_terminal_has_the_interview_open(icp_home):
    from starlette.testclient import TestClient

    from agent.frontends.web.app import create_app

    sid = started()
    first = Resumed(sid)
    token = "t" * 32
    try:
        with TestClient(create_app(token), headers={"x-icp-token": token}) as web:
            state = web.get(f"/api/s/{sid}")
            assert state.status_code == 409, state.text
            assert "is open elsewhere" in state.json()["error"]
            answer = web.post(
                f"/api/s/{sid}/answer", json={"answer": "Sneaky.", "seq": first.question["seq"]}
            )
            assert answer.status_code == 409 and "open elsewhere" in answer.json()["error"]
    finally:
        code, err = first.finish()
    assert code == 0, err
    store = Store()
    try:
        assert "Sneaky." not in [t.text for t in store.turns(sid)]
    finally:
        store.close()


def test_a_killed_interview_shows_as_interrupted_not_active():
    proc = spawn(["interview", "--jsonl", "--company", "Acme"])
    sid = json.loads(proc.stdout.readline())["session"]
    proc.stdout.readline()  # the first question
    proc.stdin.write(line(ANSWERS[0]))
    proc.stdin.flush()
    assert json.loads(proc.stdout.readline())["type"] == "question"
    running = json.loads(icp("sessions", "--json").stdout)
    assert [s["status"] for s in running if s["id"] == sid] == ["active"]
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    after = json.loads(icp("sessions", "--json").stdout)
    assert [s["status"] for s in after if s["id"] == sid] == ["interrupted"]
    assert "interrupted" in icp("sessions").stdout
    resumed = icp("resume", sid, "--jsonl", input="")
    assert resumed.returncode == 0, resumed.stderr  # and it continues as any interrupted one
