"""Model setup: the config file, flag/environment precedence, and `icp doctor` over respx."""

from __future__ import annotations

import json
import os
import stat

import httpcore2
import pytest
import respx

from agent import config
from agent.engines.llm.doctor import run_doctor
from agent.errors import InputError
from tests import respx_httpx2  # noqa: F401  (registers the httpcore2 mocker)
from tests.conftest import icp
from tests.respx_httpx2 import completion, error, sse

BASE = "http://llm.test/v1"


@pytest.fixture(autouse=True)
def no_model_env(monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


def test_config_file_is_owner_only_and_the_key_is_masked(icp_home):
    result = icp("config", "set", "api_key", "-", input="sk-secret-abcdef123456\n")
    assert result.returncode == 0, result.stderr
    path = config.config_path()
    assert path.parent == icp_home
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    shown = icp("config", "show")
    assert "sk-secret" not in shown.stdout + shown.stderr and '"...3456"' in shown.stdout
    assert config.resolve().api_key == "sk-secret-abcdef123456"


def test_flags_beat_environment_beats_file(monkeypatch):
    config.set_value("model", "openai:gpt-4.1-mini")
    config.set_value("base_url", "http://file.example/v1")
    assert config.resolve().model == "openai:gpt-4.1-mini"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.example/v1")
    assert config.resolve().base_url == "http://env.example/v1"
    flags = config.resolve("openai:llama3.1:8b", "http://flag.example/v1")
    assert flags.base_url == "http://flag.example/v1"
    assert (flags.provider, flags.name) == ("openai", "llama3.1:8b")
    assert config.resolve().configured and not config.resolve().api_key


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("openai:gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("anthropic:claude-sonnet-4-5", ("anthropic", "claude-sonnet-4-5")),
        ("llama3.1:8b", ("openai", "llama3.1:8b")),
        ("gpt-4o", ("openai", "gpt-4o")),
    ],
)
def test_model_strings(spec, expected):
    assert config.split_model(spec) == expected


def test_bad_settings_are_one_line_errors(icp_home):
    assert "must be a number" in icp("config", "set", "timeout", "soon").stderr
    icp_home.mkdir(parents=True, exist_ok=True)
    config.config_path().write_text("model = [unclosed\n")
    result = icp("sessions")
    assert result.returncode == 0  # a broken config does not stop unrelated commands
    result = icp("doctor")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "not valid TOML" in lines[0]
    with pytest.raises(InputError, match="unknown setting"):
        config.set_value("colour", "blue")


def test_unset_and_the_default_engine():
    assert config.default_engine() == "offline"
    config.set_value("engine", "llm")
    assert config.default_engine() == "llm"
    config.unset("engine")
    assert config.default_engine() == "offline"


def test_interview_without_a_model_runs_offline_and_says_so_once():
    result = icp("interview", "--engine", "llm", "--jsonl", input="")
    notices = [line for line in result.stderr.splitlines() if "no model configured" in line]
    assert result.returncode == 0 and len(notices) == 1
    sid = json.loads(result.stdout.splitlines()[0])["session"]
    rows = json.loads(icp("sessions", "--json").stdout)
    assert [r["engine"] for r in rows if r["id"] == sid] == ["offline"]


# icp doctor, against respx under the real openai client


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-doctor-0000")
    with respx.mock(using="httpcore2", assert_all_called=False) as mock:
        yield mock.post(f"{BASE}/chat/completions")


def checks(**kwargs) -> dict:
    return {c.name: c for c in run_doctor(base_url=BASE, **kwargs)}


DENTRIX = {
    "items": [
        {
            "section": "technographics",
            "text": "Most run Dentrix",
            "quotes": ["most of them run Dentrix"],
            "concrete": True,
            "said_by": "",
        }
    ]
}


def reply(stream, structured):
    """A server answering streamed (question) and structured (extraction) calls."""

    def answer(request):
        body = json.loads(request.content)
        return stream(body) if body.get("stream") else structured(body)

    return answer


def test_doctor_runs_the_engines_question_and_extraction(server):
    question = sse(["MOVE: 1\nQUESTION: What ", "do you sell?"])
    server.mock(side_effect=reply(lambda b: question, lambda b: completion(json.dumps(DENTRIX))))
    found = checks()
    assert all(c.ok for c in found.values()), found
    assert "'What do you sell?'" in found["asks"].detail and "2 pieces" in found["streams"].detail
    assert (
        "1 checked items" in found["extracts"].detail and "json_schema" in found["extracts"].detail
    )
    bodies = [json.loads(c.request.content) for c in server.calls]
    assert [b.get("stream", False) for b in bodies] == [True, False]
    assert bodies[1]["response_format"]["type"] == "json_schema"
    assert bodies[1]["max_completion_tokens"] == 1500  # the engine's cap, on a structured call


def test_doctor_handles_a_server_without_json_schema(server):
    rejected = error(400, "response_format json_schema is not supported", param="response_format")
    answers = iter([rejected, completion(tool_args=DENTRIX)])
    question = sse(["MOVE: 1\nQUESTION: What ", "do you sell?"])
    server.mock(side_effect=reply(lambda b: question, lambda b: next(answers)))
    found = checks()
    assert found["extracts"].ok and "function_calling" in found["extracts"].detail
    assert server.call_count == 3


def test_doctor_names_the_fix_for_a_bad_key(server):
    server.mock(side_effect=[error(401, "Incorrect API key provided", "invalid_api_key")])
    found = checks()
    assert not found["asks"].ok and "icp config set api_key" in found["asks"].fix
    assert server.call_count == 1


def test_doctor_names_the_fix_for_an_unreachable_server(server, monkeypatch):
    config.set_value("max_retries", "0")
    server.mock(side_effect=httpcore2.ConnectError("refused"))
    found = checks()
    assert not found["asks"].ok and BASE in found["asks"].fix
    assert "ollama serve" in found["asks"].fix


def test_doctor_flags_a_server_that_does_not_stream_or_return_json(server):
    prose = "Sure, here is my answer: ok"
    server.mock(side_effect=reply(lambda b: sse([prose]), lambda b: completion(prose)))
    found = checks()
    assert found["asks"].ok
    assert not found["streams"].ok and "word by word" in found["streams"].fix
    assert not found["extracts"].ok and "offline rules" in found["extracts"].fix


def test_doctor_without_a_model_says_how_to_configure_one(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = icp("doctor")
    assert result.returncode == 1
    assert "FAIL configured" in result.stdout and "OPENAI_API_KEY" in result.stdout
