"""Numbers and nesting built to break a parser: NaN and Infinity, numbers too large to hold or
convert, brackets 600 or 100,000 deep. Every parser refuses them in one line: `icp import`,
`icp score --rules`, `icp interview --jsonl` (a {"type": "error"} line, the session left
resumable) and the web API (a 400, no traceback in the log)."""

from __future__ import annotations

import json
import logging

import pytest

from agent.store.db import Store
from tests.conftest import ROOT, icp
from tests.reliability.corpus import HOSTILE_JSON_LINES, HOSTILE_RULES, HOSTILE_TRANSCRIPTS

GOOD = b'{"speaker": "Ann", "text": "What kind of companies buy?"}\n'


def one_line(result, *needles: str) -> str:
    err = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
    assert result.returncode == 1, err
    assert err.startswith("icp: error: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.mark.slow
@pytest.mark.parametrize("name", HOSTILE_TRANSCRIPTS)
def test_an_import_refuses_hostile_numbers_and_nesting_in_one_line(tmp_path, name):
    data, message = HOSTILE_TRANSCRIPTS[name]
    good, bad = tmp_path / "good.jsonl", tmp_path / name
    good.write_bytes(GOOD + b'{"speaker": "Dana", "text": "Dental clinics."}\n')
    bad.write_bytes(data)
    one_line(icp("import", str(good), str(bad), "--respondent", "Dana"), message)
    assert json.loads(icp("sessions", "--json").stdout) == []  # not even the good file


@pytest.mark.slow
@pytest.mark.parametrize("name", HOSTILE_RULES)
def test_a_rules_file_refuses_deep_nesting_and_huge_numbers_in_one_line(tmp_path, name):
    text, message = HOSTILE_RULES[name]
    rules = tmp_path / "rules.yaml"
    rules.write_text(text, encoding="utf-8")
    result = icp("score", str(ROOT / "examples" / "accounts.csv"), "--rules", str(rules))
    one_line(result, f"{rules} is refused", message)
    assert result.stdout == ""


@pytest.mark.slow
@pytest.mark.parametrize("name", HOSTILE_JSON_LINES)
def test_the_jsonl_protocol_refuses_a_hostile_line_and_keeps_the_session(name):
    first = json.dumps({"answer": "Payroll software for dental clinics."}).encode() + b"\n"
    result = icp("interview", "--jsonl", input=first + HOSTILE_JSON_LINES[name] + b"\n")
    err = one_line(result, "input line 2 is refused")
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert lines[-1] == {"type": "error", "message": err.removeprefix("icp: error: ").strip()}
    sid = lines[0]["session"]
    pending = [m for m in lines if m["type"] == "question"][-1]
    store = Store()
    try:
        assert [t.text for t in store.turns(sid) if t.kind == "answer"] == [
            "Payroll software for dental clinics."
        ]
        assert store.session(sid).status == "interrupted"
    finally:
        store.close()
    resumed = icp("resume", sid, "--jsonl", input="")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.splitlines()[1])["seq"] == pending["seq"]


def test_the_web_api_answers_400_to_hostile_bodies(icp_home, caplog):
    from starlette.testclient import TestClient

    from agent.frontends.web.app import create_app

    token = "t" * 32
    with TestClient(
        create_app(token), headers={"x-icp-token": token}, follow_redirects=False
    ) as web:
        sid = web.post("/new", data={"role": "founder", "minutes": "30"}).headers["location"]
        sid = sid.removeprefix("/s/")
        with caplog.at_level(logging.DEBUG):
            for name, body in HOSTILE_JSON_LINES.items():
                for action in ("answer", "skip", "wrap-up"):
                    r = web.post(
                        f"/api/s/{sid}/{action}",
                        content=body,
                        headers={"content-type": "application/json"},
                    )
                    assert r.status_code == 400, (name, action, r.text)
                    assert r.json()["error"].startswith("the request body is refused"), name
        assert web.get(f"/api/s/{sid}").json()["question"]["seq"] == 1  # nothing moved on
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info]
    store = Store()
    try:
        assert [t for t in store.turns(sid) if t.speaker == "respondent"] == []
    finally:
        store.close()
