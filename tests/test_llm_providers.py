"""Providers under their real clients with HTTP fakes: Anthropic's Messages API, and a small
OpenAI-compatible server with a 4k context."""

from __future__ import annotations

import json
import re
import threading

import httpx
import pytest
import respx

from agent.config import ModelSettings
from agent.engines.llm.engine import EXTRACT_TOKENS, LLMEngine
from agent.engines.llm.errors import ModelError
from agent.interview.loop import Interview
from tests import respx_httpx2  # noqa: F401  (registers the httpcore2 mocker)
from tests.respx_httpx2 import completion, sse

ANTHROPIC = "http://anthropic.test"
INTRO = "We sell accounts-payable automation to mid-market finance teams."
ANSWER = "Our best customers have 200 to 1,000 employees and run NetSuite."


def events(text: str, usage: tuple[int, int] = (321, 15)) -> httpx.Response:
    """A streamed Anthropic message: usage in its first event and, cumulative, in its last."""
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "claude-test",
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": usage[0], "output_tokens": 1},
        },
    }
    stream = [
        start,
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}
            for p in (text[: len(text) // 2], text[len(text) // 2 :])
        ),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
        },
        {"type": "message_stop"},
    ]
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in stream)
    return httpx.Response(200, content=body.encode(), headers={"content-type": "text/event-stream"})


def message(data: dict, tool: bool) -> httpx.Response:
    """A whole Anthropic message holding JSON, as text or as a tool call."""
    block = (
        {"type": "tool_use", "id": "toolu_1", "name": "Delta", "input": data}
        if tool
        else {"type": "text", "text": json.dumps(data)}
    )
    return httpx.Response(
        200,
        json={
            "id": "msg_2",
            "type": "message",
            "role": "assistant",
            "model": "claude-test",
            "content": [block],
            "stop_reason": "tool_use" if tool else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 400, "output_tokens": 60},
        },
    )


class Messages:
    """Anthropic's /v1/messages: streamed questions, structured extractions, a 401 on demand."""

    def __init__(self):
        self.requests: list[dict] = []
        self.count = 0
        self.unauthorized = False
        self.lock = threading.Lock()

    def __call__(self, request):
        body = json.loads(request.content)
        with self.lock:
            self.requests.append(body)
            self.count += 1
            n = self.count
        if self.unauthorized:
            error = {"type": "authentication_error", "message": "invalid x-api-key"}
            return httpx.Response(401, json={"type": "error", "error": error})
        if body.get("stream"):
            return events(f"MOVE: 1\nQUOTE:\nACK:\nQUESTION: Claude question {n}: and then?")
        system = json.dumps(body.get("system", ""))
        if "turn the finished profile" in system:
            empty = {"summary": [], "rubric": [], "negative_personas": [], "open_questions": []}
            return message(empty, "tools" in body)
        items = []
        if "run NetSuite" in json.dumps(body["messages"]):
            items = [
                {
                    "section": "technographics",
                    "text": "Runs NetSuite",
                    "quotes": ["and run NetSuite"],
                    "concrete": True,
                    "said_by": "",
                }
            ]
        return message({"items": items}, "tools" in body)


def anthropic_engine(notices: list[str]) -> LLMEngine:
    settings = ModelSettings(
        provider="anthropic",
        name="claude-test",
        base_url=ANTHROPIC,
        api_key="sk-ant-test-0000",
        timeout=60,
        max_retries=0,
        first_token_timeout=60,
        extract_wait=60,
    )
    return LLMEngine(settings, notify=notices.append)


@pytest.fixture
def messages():
    api = Messages()
    with respx.mock(using="httpcore2", assert_all_called=False) as mock:
        mock.post(f"{ANTHROPIC}/v1/messages").mock(side_effect=api)
        yield api


@pytest.mark.slow
def test_an_interview_over_anthropic_messages(store, messages):
    notices: list[str] = []
    interview = Interview.start(store, anthropic_engine(notices), company="Acme", minutes=6)
    assert interview.question.text.startswith("Claude question")
    texts = iter([INTRO, ANSWER, "A new CFO, usually."] + ["Not sure."] * 20)
    while interview.question is not None:
        interview.answer(next(texts))
    assert notices == []
    items = [(k, i.text) for k, i in interview.profile.all_items() if i.source == "llm"]
    assert ("technographics", "Runs NetSuite") in items
    calls = store.model_calls(interview.session.id)
    questions = [c for c in calls if c["purpose"] == "question"]
    assert all(c["prompt_tokens"] == 321 and c["completion_tokens"] >= 15 for c in questions)
    assert not any(c["estimated"] for c in calls)
    structured = [r for r in messages.requests if not r.get("stream")]
    assert structured and all(r["max_tokens"] >= EXTRACT_TOKENS for r in structured)
    extractions = [r for r in structured if "extract ICP facts" in json.dumps(r["system"])]
    assert all(r["max_tokens"] == EXTRACT_TOKENS for r in extractions)


def test_an_anthropic_401_stops_with_a_fix(store, messages):
    notices: list[str] = []
    interview = Interview.start(store, anthropic_engine(notices), company="Acme")
    messages.unauthorized = True
    with pytest.raises(ModelError, match=r"rejected the API key.*ANTHROPIC_API_KEY"):
        interview.answer(INTRO)
    assert [t.text for t in store.turns(interview.session.id) if t.kind == "answer"] == [INTRO]


SMALL = "http://small.test/v1"
CONTEXT = 4096


class SmallServer:
    """An OpenAI-compatible server with a 4k context: a longer request gets its 400."""

    def __init__(self):
        self.too_long = 0
        self.fitted: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, request):
        body = json.loads(request.content)
        cap = body.get("max_completion_tokens") or body.get("max_tokens") or 0
        need = len(json.dumps(body["messages"])) // 3 + cap
        if need > CONTEXT:
            with self.lock:
                self.too_long += 1
            message = (
                f"This model's maximum context length is {CONTEXT} tokens. However, you "
                f"requested {need} tokens. Please reduce the length of the messages."
            )
            error = {"message": message, "type": "invalid_request_error", "param": "messages"}
            return httpx.Response(400, json={"error": {**error, "code": "context_length_exceeded"}})
        with self.lock:
            self.fitted.append(need)
        if body.get("stream"):
            return sse(
                ["MOVE: 1\nQUESTION: ", f"Small question {len(self.fitted)}: ", "what else?"]
            )
        answer = body["messages"][1]["content"].split("Answer (turn", 1)[1]
        found = re.search(r"close took \d+ days before we came", answer)
        quote = found.group(0) if found else ""
        items = [
            {
                "section": "value_outcomes",
                "text": quote,
                "quotes": [quote],
                "concrete": False,
                "said_by": "",
            }
        ]
        return completion(json.dumps({"items": items if quote else []}))


@pytest.mark.slow
def test_a_long_answer_on_a_4k_context_server_completes(store):
    server = SmallServer()
    long_answer = " ".join(
        f"Customer {n} told us the month-end close took {n + 3} days before we came along."
        for n in range(1, 260)
    )
    settings = ModelSettings(
        provider="openai",
        name="small",
        base_url=SMALL,
        api_key="unused",
        timeout=60,
        max_retries=0,
        first_token_timeout=60,
        extract_wait=60,
    )
    notices: list[str] = []
    with respx.mock(using="httpcore2", assert_all_called=False) as mock:
        mock.post(f"{SMALL}/chat/completions").mock(side_effect=server)
        engine = LLMEngine(settings, notify=notices.append)
        interview = Interview.start(store, engine, company="Acme")
        interview.answer(INTRO)
        question = interview.answer(long_answer)
        assert question.text.startswith("Small question")  # its prompt fits: the answer is clipped
        interview.answer("Not sure.")  # the long answer's extraction is merged first
    assert server.too_long >= 1 and all(need <= CONTEXT for need in server.fitted)
    llm = [i for _, i in interview.profile.all_items() if i.source == "llm"]
    assert len({i.evidence[0].quote for i in llm}) >= 2  # from more than one piece
    assert all(ev.quote in long_answer for i in llm for ev in i.evidence)
    assert not any("too long" in n for n in notices)


def test_usage_is_summed_over_the_chunks_of_a_stream():
    from langchain_core.messages import AIMessageChunk

    from agent.engines.llm.client import _Streamed

    streamed = _Streamed()
    usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    first = AIMessageChunk(content="Wh", usage_metadata={**usage, "input_tokens": 321})
    last = AIMessageChunk(content="at?", usage_metadata={**usage, "output_tokens": 15})
    for chunk in (first, AIMessageChunk(content=""), last):
        streamed.add(chunk)
    assert streamed.text == "What?"
    assert streamed.usage_metadata["input_tokens"] == 321
    assert streamed.usage_metadata["output_tokens"] == 15
