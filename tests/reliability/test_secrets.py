"""Secrets: a planted API key, taken from the environment or the config file, is used for the
model calls and appears in no artifact: database, ICP_HOME, exports, reports, logs, messages."""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
import threading
from pathlib import Path

import pytest
import respx
from click.testing import CliRunner

from agent.config import config_path, set_value
from agent.engines import get_engine
from agent.errors import ICPError
from agent.interview.loop import Interview
from agent.sim.respondent import SimulatedRespondent, load_persona
from agent.store.db import Store
from tests import respx_httpx2  # noqa: F401  (registers the httpcore2 mocker)
from tests.conftest import icp, persona_paths
from tests.respx_httpx2 import completion, error, sse

BASE = "http://llm.test/v1"
KEY = "sk-test-CANARY-" + secrets.token_hex(12)
# The key, its start and its middle: a mask may show the last four characters, nothing more.
FRAGMENTS = (KEY, KEY[:20], KEY[10:-4])


def leaks(label: str, blob: bytes | str) -> list[str]:
    data = blob if isinstance(blob, bytes) else blob.encode("utf-8", "surrogateescape")
    return [f"{label}: {f[:12]}..." for f in FRAGMENTS if f.encode() in data]


class EchoingServer:
    """A chat-completions server that records the Authorization header and, now and then,
    puts the key it was sent into an error body, as some proxies do."""

    def __init__(self):
        self.lock = threading.Lock()
        self.keys: set[str] = set()
        self.calls = 0
        self.echo_at = {2: 500, 4: 400, 7: 429}  # call number -> status with the key echoed

    def __call__(self, request):
        body = json.loads(request.content)
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            self.keys.add(key)
            self.calls += 1
            status = self.echo_at.pop(self.calls, None)
        if status:
            return error(status, f"upstream refused key {key} for this request")
        system = body["messages"][0]["content"]
        if body.get("stream"):
            return sse(["What happened ", "in the deal ", f"you closed last ({self.calls})?"])
        if "turn the finished profile" in system:
            return completion(json.dumps({"summary": [], "rubric": [], "negative_personas": [],
                                          "open_questions": []}))  # fmt: skip
        return completion(json.dumps({"items": []}))


@pytest.fixture
def planted(request, monkeypatch, icp_home) -> str:
    """The key in the environment, or only in config.toml."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    if request.param == "environment":
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
    else:
        set_value("api_key", KEY)
    return request.param


@pytest.mark.slow
@pytest.mark.parametrize("planted", ["environment", "config file"], indirect=True)
def test_a_planted_key_is_used_but_never_written_anywhere(planted, icp_home, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # every library's log records, DEBUG and up
    found: list[str] = []
    messages: list[str] = []
    server = EchoingServer()
    respondent = SimulatedRespondent(load_persona(persona_paths()[0]))
    with respx.mock(using="httpcore2", assert_all_called=False) as mock:
        mock.post(f"{BASE}/chat/completions").mock(side_effect=server)
        store = Store()
        engine = get_engine("llm", base_url=BASE, notify=messages.append)
        interview = Interview.start(store, engine, company="Ledgerline", minutes=8)
        sid = interview.session.id
        while interview.question is not None:
            q = interview.question
            try:
                interview.answer(respondent.answer(q.text, q.topic))
            except ICPError as exc:  # the 400 stops the turn: "your answer is saved"
                messages.append(str(exc))
                interview = Interview.resume(store, engine, sid)
        store.close()
    assert server.keys == {KEY}, "the planted key was not the one sent"
    assert server.calls > 8 and not server.echo_at, "the echoing errors were not all served"
    for message in messages:
        found += leaks("message", message)
    found += leaks("log", caplog.text)

    outputs = {
        "export": icp("export", sid),
        "sessions --json": icp("sessions", "--json"),
        "sessions": icp("sessions"),
        "config show": icp("config", "show"),
        "config show --json": icp("config", "show", "--json"),
    }
    for fmt in ("md", "html", "pdf"):
        outputs[f"report .{fmt}"] = icp("report", sid, "--out", str(tmp_path / f"r.{fmt}"))
    for name, result in outputs.items():
        assert result.returncode == 0, (name, result.stderr)
        found += leaks(name, result.stdout) + leaks(f"{name} (stderr)", result.stderr)
    for path in sorted(tmp_path.rglob("*")):  # ICP_HOME is inside tmp_path, reports too
        if path.is_file() and not (planted == "config file" and path == config_path()):
            found += leaks(str(path.relative_to(tmp_path)), path.read_bytes())
    assert found == []
    if planted == "config file":
        assert KEY.encode() in config_path().read_bytes()  # it is where it should be
        assert stat.S_IMODE(config_path().stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "reply",
    [
        error(401, f"Incorrect API key provided: {KEY}"),
        error(400, f"bad request from {KEY}"),
        error(404, f"model not found for key {KEY}"),
        error(500, f"internal error, key {KEY}"),
        completion("not json, but the key: " + KEY),
    ],
    ids=["401", "400", "404", "500", "bad output"],
)
def test_doctor_failures_never_print_the_key(monkeypatch, icp_home, reply):
    import cli

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with respx.mock(using="httpcore2", assert_all_called=False) as mock:
        mock.post(f"{BASE}/chat/completions").mock(return_value=reply)
        result = CliRunner().invoke(cli.main, ["doctor", "--base-url", BASE])
        as_json = CliRunner().invoke(cli.main, ["doctor", "--base-url", BASE, "--json"])
    assert result.exit_code == 1, result.output
    shown = result.output + result.stderr + as_json.output + as_json.stderr
    assert "FAIL" in result.output
    assert leaks("doctor", shown) == []


def test_config_set_reads_the_key_without_echoing_it(icp_home):
    result = icp("config", "set", "api_key", "-", input=KEY + "\n")
    assert result.returncode == 0, result.stderr
    assert leaks("config set", result.stdout + result.stderr) == []
    path = config_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and KEY.encode() in path.read_bytes()
    shown = icp("config", "show")
    assert KEY[-4:] in shown.stdout and leaks("config show", shown.stdout + shown.stderr) == []
    assert not any(n.endswith(".tmp") for n in os.listdir(Path(path).parent))
