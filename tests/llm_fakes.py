"""Fake chat models for the llm engine: LangChain's GenericFakeChatModel, routed by purpose."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from agent.config import ModelSettings

Reply = Callable[[list[BaseMessage]], "str | AIMessage"]


class RoutedFake(GenericFakeChatModel):
    """Replies by the call's purpose (its system prompt's task) and records every prompt."""

    messages: Any = iter(())
    replies: dict[str, Any] = Field(default_factory=dict)
    calls: list[dict] = Field(default_factory=list)
    latency: float = 0.0
    lock: Any = None

    def model_post_init(self, context: Any) -> None:
        self.calls = []
        self.lock = threading.Lock()

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        purpose = purpose_of(messages)
        with self.lock:
            self.calls.append(
                {
                    "purpose": purpose,
                    "messages": list(messages),
                    "thread": threading.current_thread().name,
                }
            )
        if self.latency:
            time.sleep(self.latency)
        reply = self.replies[purpose]
        out = reply(messages) if callable(reply) else reply
        message = out if isinstance(out, AIMessage) else AIMessage(content=out)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def purposes(self) -> list[str]:
        return [c["purpose"] for c in self.calls]


TASKS = {
    "Your task: choose the next move": "question",
    "Your task: extract": "extract",
    "Your task: turn the finished profile": "synthesis",
}


def purpose_of(messages: list[BaseMessage]) -> str:
    """Which call this is, from the system prompt (streamed calls carry no run tags)."""
    system = messages[0].content if messages else ""
    return next((task for marker, task in TASKS.items() if marker in system), "other")


def settings(**overrides) -> ModelSettings:
    values = {"provider": "openai", "name": "gpt-4o-mini", "api_key": "sk-test-0000", "timeout": 5}
    return ModelSettings(**{**values, **overrides})


def data_blocks(text: str) -> list[str]:
    """The contents of every data block in a prompt."""
    tag = re.search(r"<(data-[0-9a-f]{8})", text)
    if not tag:
        return []
    name = tag.group(1)
    return re.findall(rf"<{name}[^>]*>\n(.*?)\n</{name}>", text, flags=re.DOTALL)


def topic_of(messages: list[BaseMessage]) -> str | None:
    """The section an extraction prompt says is being discussed."""
    m = re.search(r"Topic being discussed: (\w+)\.", messages[1].content)
    return None if not m or m.group(1) == "none" else m.group(1)


def answer_of(messages: list[BaseMessage]) -> str:
    """The answer an extraction prompt carries (the block after "Answer (turn N):")."""
    after = messages[1].content.split("Answer (turn", 1)[1]
    m = re.search(r"<(data-[0-9a-f]{8})>\n(.*?)\n</\1>", after, flags=re.DOTALL)
    return m.group(2) if m else ""


def question_reply() -> Reply:
    """Numbered questions, so none repeats."""
    count = iter(range(1, 10_000))
    return lambda messages: f"Model question {next(count)}: what happened in your last deal?"


def extraction_reply(make: Callable[[str], list[dict]]) -> Reply:
    """JSON for the delta, built from the answer in the prompt."""
    return lambda messages: json.dumps({"items": make(answer_of(messages))})
