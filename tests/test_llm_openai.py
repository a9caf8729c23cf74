"""The llm engine under the real openai client, with respx answering for the server.

Each test asserts how many HTTP calls the client made and that every answer is stored.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable

import httpcore2
import pytest
import respx

from agent.config import ModelSettings
from agent.engines.llm.engine import LLMEngine
from agent.engines.llm.errors import ModelError
from agent.interview.loop import Interview
from tests import respx_httpx2  # noqa: F401  (registers the httpcore2 mocker)
from tests.conftest import icp
from tests.respx_httpx2 import completion, error, sse

BASE = "http://llm.test/v1"


class Server:
    """Answers chat completions by kind (streamed question, extraction, synthesis), in order."""

    def __init__(self):
        self.queues: dict[str, list] = {"question": [], "extract": [], "synthesis": []}
        self.requests: dict[str, list[dict]] = {"question": [], "extract": [], "synthesis": []}
        self.lock = threading.Lock()
        self.count = 0

    def default(self, kind: str, body: dict):
        if kind == "question":
            self.count += 1
            return sse([f"Question {self.count}: ", "what happened ", "in your last deal?"])
        if kind == "extract":
            return completion(json.dumps({"items": []}))
        return completion(json.dumps(SYNTHESIS))

    def __call__(self, request):
        body = json.loads(request.content)
        system = body["messages"][0]["content"]
        kind = "question" if body.get("stream") else "extract"
        if "turn the finished profile" in system:
            kind = "synthesis"
        with self.lock:
            self.requests[kind].append(body)
            queue = self.queues[kind]
            item = queue.pop(0) if queue else self.default(kind, body)
        if isinstance(item, Callable) and not isinstance(item, type):
            item = item(body)
        if isinstance(item, BaseException) or (
            isinstance(item, type) and issubclass(item, BaseException)
        ):
            raise item
        return item


SYNTHESIS = {
    "summary": [{"text": "Mid-market finance teams.", "refs": ["company_profile#1"]}],
    "rubric": [],
    "negative_personas": [],
    "open_questions": [],
}


_ENGINES: list[LLMEngine] = []


@pytest.fixture
def server():
    srv = Server()
    with respx.mock(using="httpcore2", assert_all_called=False) as mock:
        mock.post(f"{BASE}/chat/completions").mock(side_effect=srv)
        yield srv
        # A test's background extraction must finish against its own server: left running,
        # it would consume the next test's queued replies.
        while _ENGINES:
            with contextlib.suppress(Exception):
                _ENGINES.pop().settle(final=True, wait=60)


def engine(notices: list[str], retries: int = 2) -> LLMEngine:
    settings = ModelSettings(
        provider="openai",
        name="gpt-4o-mini",
        base_url=BASE,
        api_key="sk-test-key-0000",
        # Generous: the fake server answers at once, but CI's 2 cores are busy with the rest of
        # the suite, and a request or background extraction outliving a short timeout would be
        # retried or dropped and race these tests' call counts. Timeouts are raised directly.
        timeout=60,
        max_retries=retries,
        # The deadlines have tests of their own (test_llm_deadlines.py); here they must not
        # race a busy CI machine.
        first_token_timeout=60,
        extract_wait=60,
    )
    made = LLMEngine(settings, notify=notices.append)
    _ENGINES.append(made)
    return made


def answers(store, interview) -> list[str]:
    return [t.text for t in store.turns(interview.session.id) if t.kind == "answer"]


INTRO = "We sell accounts-payable automation to mid-market finance teams."
ANSWER = "Our best customers have 200 to 1,000 employees and run NetSuite."


def started(store, notices, retries=2) -> Interview:
    interview = Interview.start(store, engine(notices, retries), company="Acme")
    assert interview.question.text.startswith("Question 1:")
    return interview


def test_429_then_success_streams_the_models_question(store, server):
    notices: list[str] = []
    interview = started(store, notices)
    tokens: list[str] = []
    interview.on_token = tokens.append
    server.queues["question"] += [error(429, "Rate limit reached")]
    question = interview.answer(INTRO)
    assert question.text == "Question 2: what happened in your last deal?"
    assert "".join(tokens) == question.text
    assert len(server.requests["question"]) == 3  # intro, then 429 and its retry
    assert notices == [] and answers(store, interview) == [INTRO]


def test_500s_exhaust_the_retries_then_the_offline_wording_asks(store, server):
    notices: list[str] = []
    interview = started(store, notices, retries=2)
    server.queues["question"] += [error(500, "boom")] * 3
    question = interview.answer(INTRO)
    assert len(server.requests["question"]) == 1 + 3
    assert not question.text.startswith("Question")  # the offline engine worded it
    assert any("unavailable" in n for n in notices)
    assert answers(store, interview) == [INTRO]
    interview.answer(ANSWER)  # the next question is the model's again
    assert interview.question.text.startswith("Question")
    outcomes = [c["outcome"] for c in store.model_calls(interview.session.id)]
    assert "unavailable" in outcomes


def test_timeouts_fall_back_after_the_retries(store, server):
    notices: list[str] = []
    interview = started(store, notices, retries=1)
    server.queues["question"] += [httpcore2.ReadTimeout("slow"), httpcore2.ReadTimeout("slow")]
    question = interview.answer(INTRO)
    assert len(server.requests["question"]) == 1 + 2
    assert not question.text.startswith("Question")
    assert any("timed out" in n for n in notices)
    assert answers(store, interview) == [INTRO]


def item(section: str, quote: str, text: str | None = None) -> dict:
    return {
        "section": section,
        "text": text or quote,
        "quotes": [quote],
        "concrete": True,
        "said_by": "",
    }


def about(server, kind: str, text: str) -> list[dict]:
    """The requests of a kind whose prompt carries `text` (background calls race the test)."""
    return [r for r in server.requests[kind] if text in r["messages"][1]["content"]]


def llm_items(interview) -> list[tuple[str, str]]:
    return [(k, i.text) for k, i in interview.profile.all_items() if i.source == "llm"]


def test_malformed_json_is_fed_back_and_the_second_answer_used(store, server):
    notices: list[str] = []
    interview = started(store, notices)
    interview.answer(INTRO)
    good = {"items": [item("technographics", "and run NetSuite", "Runs NetSuite as ERP")]}
    server.queues["extract"] += [completion("{not json at all"), completion(json.dumps(good))]
    interview.answer(ANSWER)
    interview.answer("Usually a new CFO.")  # the previous extraction is merged first
    assert ("technographics", "Runs NetSuite as ERP") in llm_items(interview)
    first, second = about(server, "extract", ANSWER)
    assert "could not be used" in second["messages"][-1]["content"]
    assert "response_format" in first and "response_format" in second
    assert answers(store, interview) == [INTRO, ANSWER, "Usually a new CFO."]


def test_malformed_json_every_time_keeps_the_offline_items(store, server):
    notices: list[str] = []
    interview = started(store, notices)
    interview.answer(INTRO)
    server.queues["extract"] += [completion('{"items": [oops')] * 3
    interview.answer(ANSWER)
    interview.answer("Usually a new CFO.")
    assert len(about(server, "extract", ANSWER)) == 3  # asked, then re-asked twice
    assert any("invalid output" in n for n in notices)
    assert llm_items(interview) == []
    assert interview.profile.sections["company_profile"].items  # the offline floor
    outcomes = [c["outcome"] for c in store.model_calls(interview.session.id)]
    assert outcomes.count("invalid output (json_schema)") == 3


def test_refusal_is_a_typed_failure_without_a_reask(store, server):
    notices: list[str] = []
    interview = started(store, notices)
    interview.answer(INTRO)
    server.queues["extract"] += [completion(None, refusal="I can't help with that.")]
    interview.answer(ANSWER)
    interview.answer("Usually a new CFO.")
    assert len(about(server, "extract", ANSWER)) == 1  # no re-ask after a refusal
    assert any("refused" in n and "I can't help" in n for n in notices)
    assert answers(store, interview) == [INTRO, ANSWER, "Usually a new CFO."]


def test_length_truncation_is_never_a_half_filled_model(store, server):
    notices: list[str] = []
    interview = started(store, notices)
    interview.answer(INTRO)
    cut = '{"items": [{"section": "technographics", "text": "Runs Net'
    server.queues["extract"] += [completion(cut, finish="length")]
    server.queues["question"] += [sse(["Which of those ", "customers"], finish="length")]
    question = interview.answer(ANSWER)
    assert not question.text.startswith("Which of those")  # a cut question is not asked
    interview.answer("Usually a new CFO.")
    assert llm_items(interview) == []
    assert sum("truncated" in n for n in notices) == 2
    assert answers(store, interview) == [INTRO, ANSWER, "Usually a new CFO."]


def test_a_server_without_json_schema_gets_function_calling(store, server):
    notices: list[str] = []
    interview = started(store, notices)
    interview.answer(INTRO)
    delta = {"items": [item("technographics", "and run NetSuite", "Runs NetSuite")]}
    server.queues["extract"] += [
        error(400, "response_format json_schema is not supported", param="response_format"),
        completion(tool_args=delta),
        completion(tool_args={"items": []}),
    ]
    interview.answer(ANSWER)
    interview.answer("Usually a new CFO.")
    interview.answer("They find us on G2.")
    assert ("technographics", "Runs NetSuite") in llm_items(interview)
    rejected, with_tools = about(server, "extract", ANSWER)
    (next_turn,) = about(server, "extract", "Usually a new CFO.")
    assert "response_format" in rejected and "tools" in with_tools
    assert "tools" in next_turn and "response_format" not in next_turn  # remembered
    assert notices == []


def test_a_server_that_ignores_json_schema_gets_function_calling(store, server):
    notices: list[str] = []
    interview = started(store, notices)
    interview.answer(INTRO)
    delta = {"items": [item("technographics", "and run NetSuite", "Runs NetSuite")]}
    prose = completion("Sure! The customer runs NetSuite and has about 500 people.")
    server.queues["extract"] += [prose, completion(tool_args=delta)]
    interview.answer(ANSWER)
    interview.answer("Usually a new CFO.")
    assert ("technographics", "Runs NetSuite") in llm_items(interview)
    ignored, with_tools = about(server, "extract", ANSWER)
    assert "response_format" in ignored and "tools" in with_tools
    assert notices == [] and answers(store, interview) == [INTRO, ANSWER, "Usually a new CFO."]


def test_401_stops_at_once_and_keeps_the_answer(store, server):
    notices: list[str] = []
    interview = started(store, notices)
    server.queues["question"] += [error(401, "Incorrect API key provided", "invalid_api_key")]
    with pytest.raises(ModelError, match=r"rejected the API key.*icp resume"):
        interview.answer(INTRO)
    assert len(server.requests["question"]) == 2  # no retry
    assert answers(store, interview) == [INTRO]
    assert store.session(interview.session.id).status == "interrupted"
    again = Interview.resume(store, engine(notices), interview.session.id)
    assert again.question.text.startswith("Question")
    assert answers(store, again) == [INTRO]


def test_insufficient_quota_is_not_retried(store, server):
    notices: list[str] = []
    interview = started(store, notices, retries=3)
    quota = error(429, "You exceeded your current quota", "insufficient_quota")
    server.queues["question"] += [quota, quota, quota]
    with pytest.raises(ModelError, match="no quota left"):
        interview.answer(INTRO)
    assert len(server.requests["question"]) == 2
    assert answers(store, interview) == [INTRO]


def test_other_400s_fail_that_step_not_the_interview(store, server):
    notices: list[str] = []
    interview = started(store, notices)
    server.queues["question"] += [error(400, "Unrecognized request argument: temperature")]
    question = interview.answer(INTRO)
    assert len(server.requests["question"]) == 2  # no retry of a deterministic 400
    assert not question.text.startswith("Question")  # the draft asks this one
    assert any("rejected the request (400)" in n and "temperature" in n for n in notices)
    assert interview.answer(ANSWER).text.startswith("Question")  # the next is the model's
    assert answers(store, interview) == [INTRO, ANSWER]


@pytest.mark.slow
def test_cli_prints_one_line_for_a_bad_key():
    """End to end: `icp interview --engine llm` against a local server that says 401."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits = []

    class Unauthorized(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps(
                {"error": {"message": "Incorrect API key", "code": "invalid_api_key"}}
            )
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Unauthorized)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_port}/v1"
        env = {"OPENAI_API_KEY": "sk-wrong-key-1234"}
        result = icp(
            "interview", "--engine", "llm", "--base-url", url, "--jsonl", input="", env=env
        )
    finally:
        httpd.shutdown()
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("icp: error: the model server rejected")
    assert hits == ["/v1/chat/completions"]


def test_a_whole_interview_over_http_stores_everything(store, server):
    notices: list[str] = []
    interview = Interview.start(store, engine(notices), company="Acme", minutes=8)
    given = []
    texts = iter([INTRO, ANSWER, "A new CFO, usually.", "G2 and referrals."] + ["Not sure."] * 20)
    while interview.question is not None:
        given.append(next(texts))
        interview.answer(given[-1])
    assert answers(store, interview) == given
    assert interview.profile.synthesis is not None
    calls = store.model_calls(interview.session.id)
    assert sum(c["purpose"] == "synthesis" for c in calls) == 1
    assert all(c["prompt_tokens"] > 0 and not c["estimated"] for c in calls)
    assert len(server.requests["question"]) == interview.state.questions - 1  # not the closing
