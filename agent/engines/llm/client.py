"""Calls to a LangChain chat model: streamed text, and structured output with fallbacks."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel

from agent.config import ModelSettings
from agent.engines.llm.errors import (
    InvalidOutput,
    ModelError,
    ModelFailure,
    Refused,
    Slow,
    Truncated,
    Unsupported,
)
from agent.engines.llm.errors import classify as classify_error
from agent.engines.llm.usage import CallRecord, cost, estimate_tokens, price, usage_tokens
from agent.prompts import render

T = TypeVar("T", bound=BaseModel)

# Structured-output methods, best first; a server that rejects one gets the next for the rest
# of the session. "prompt" asks for JSON in words and parses it: it works with any chat model.
METHODS = ("json_schema", "function_calling", "json_mode", "prompt")
REASKS = 2  # invalid output is fed back this many times before the step falls back

# The field that caps a reply's tokens on each provider's chat model ("max_tokens" elsewhere).
CAP_FIELDS = {  # identifiers: provider -> model field
    "google_genai": "max_output_tokens",
    "google_vertexai": "max_output_tokens",
    "ollama": "num_predict",
}
# Models that think before they answer: their cap counts the thinking, so they get this much
# more room, or a question's small cap would end them before the first visible word.
REASONING = (
    "o1",
    "o3",
    "o4",
    "gpt-5",
    "deepseek-reasoner",
    "deepseek-r1",
    "qwq",
    "magistral",
)  # identifiers: model name prefixes
REASONING_TOKENS = 4000


def reasoning(name: str) -> bool:
    """True for a model known to spend output tokens on reasoning before its answer."""
    base = name.rpartition("/")[2].lower()
    return base.startswith(REASONING)


def create_model(settings: ModelSettings) -> Any:
    """A LangChain chat model from settings, via init_chat_model (imported only now)."""
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:
        raise ModelError(f"the llm engine needs LangChain ({exc}); pip install langchain") from None
    kwargs: dict[str, Any] = {"timeout": settings.timeout, "max_retries": settings.max_retries}
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    if settings.api_key:
        kwargs["api_key"] = settings.api_key
    if settings.provider == "openai":
        # Chat Completions is what OpenAI-compatible servers (Ollama, vLLM...) speak.
        kwargs.update(stream_usage=True, use_responses_api=False, http_client=_http_client())
        kwargs.setdefault("api_key", "unused")  # local servers ignore the key; the client needs one
    try:
        return init_chat_model(settings.model, **kwargs)
    except ImportError as exc:
        raise ModelError(
            f"{settings.provider} models need their LangChain package ({exc}); "
            f"e.g. pip install langchain-{settings.provider.replace('_', '-')}"
        ) from None
    except Exception as exc:  # a bad provider name or parameter, from any integration
        raise ModelError(f"cannot create the model {settings.model}: {exc}") from None


def _http_client() -> Any:
    """The openai client's HTTP client, told not to retry a 429 that means no quota is left."""
    import openai

    def no_retry_without_quota(response: Any) -> None:
        if response.status_code == 429:
            response.read()
            if b"insufficient_quota" in response.content:
                response.headers["x-should-retry"] = "false"

    return openai.DefaultHttpxClient(event_hooks={"response": [no_retry_without_quota]})


class ModelClient:
    """One chat model, shared by the main thread and the extraction worker."""

    def __init__(self, settings: ModelSettings, model: Any = None):
        self.settings = settings
        self._model = model
        self._lock = threading.Lock()
        self.methods = list(METHODS)
        self.rates = price(settings.model, settings.price_input, settings.price_output)
        self.records: list[CallRecord] = []
        self._capped: dict[int, Any] = {}

    @property
    def model(self) -> Any:
        """The chat model, created on first use."""
        with self._lock:
            if self._model is None:
                self._model = create_model(self.settings)
            return self._model

    def take_records(self) -> list[CallRecord]:
        """The call records collected since the last take."""
        with self._lock:
            records, self.records = self.records, []
        return records

    def stream_text(
        self,
        messages: list[Any],
        on_piece: Callable[[str], None] | None,
        purpose: str,
        max_tokens: int,
        after_seq: int | None = None,
        first_token: float | None = None,
        tail: float | None = None,
    ) -> str:
        """Stream a text answer into `on_piece`; the whole text when it finished normally.

        With `first_token`, a reply whose first text has not come within that many seconds is
        abandoned (`Slow`), and so is one whose rest takes more than `tail` seconds after it;
        the call runs on a daemon thread, so an abandoned call never holds up the interview.
        """
        model = self.capped(max_tokens)  # created (imports and all) before the clock starts
        started, sink = time.perf_counter(), on_piece
        full = _Streamed()
        pieces: queue.Queue = queue.Queue()
        abandoned = threading.Event()

        def produce() -> None:
            try:
                for chunk in model.stream(messages, config={"tags": [f"icp:{purpose}"]}):
                    if abandoned.is_set():
                        return
                    pieces.put(("chunk", chunk))
                pieces.put(("end", None))
            except BaseException as exc:
                pieces.put(("error", exc))

        if first_token is None:
            produce()  # no deadline: no thread either
        else:
            threading.Thread(target=produce, name="icp-question", daemon=True).start()
        deadline = None if first_token is None else started + first_token
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.perf_counter())
            try:
                kind, value = pieces.get(timeout=timeout)
            except queue.Empty:
                abandoned.set()
                failure = Slow(
                    f"no reply within {first_token:.0f} s"
                    if not full.text
                    else "the reply stopped before its end"
                )
                self._record(purpose, messages, full, started, _outcome(failure), after_seq)
                raise failure from None
            if kind == "error":
                error = classify_error(value, self.settings.api_key)
                self._record(purpose, messages, full, started, _outcome(error), after_seq)
                raise error from value
            if kind == "end":
                break
            piece = full.add(value)
            if piece and deadline is not None and tail is not None and len(full.pieces) == 1:
                deadline = time.perf_counter() + tail  # the first text came: the rest has `tail`
            if piece and sink is not None:
                try:
                    sink(piece)
                except Exception:  # a closed front end must not break the question
                    sink = None
        finish = full.response_metadata.get("finish_reason") or full.response_metadata.get(
            "stop_reason"
        )
        failure: ModelFailure | None = None
        if finish in ("length", "max_tokens"):
            failure = Truncated("the question was cut off at the token limit")
        elif finish == "content_filter" or _refusal(full):
            failure = Refused("the model refused to write the question")
        elif not full.text.strip():
            failure = InvalidOutput("the model sent an empty question")
        self._record(purpose, messages, full, started, _outcome(failure), after_seq)
        if failure:
            raise failure
        return full.text

    def structured(
        self,
        schema: type[T],
        messages: list[Any],
        purpose: str,
        max_tokens: int,
        after_seq: int | None = None,
    ) -> T:
        """A validated `schema` instance; invalid output is fed back for a bounded re-ask."""
        from langchain_core.messages import AIMessage, HumanMessage
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

        conversation = list(messages)
        for attempt in Retrying(
            stop=stop_after_attempt(1 + REASKS),
            retry=retry_if_exception_type(InvalidOutput),
            reraise=True,
        ):
            with attempt:
                try:
                    result = self._structured_once(
                        schema, conversation, purpose, max_tokens, after_seq
                    )
                except InvalidOutput as exc:
                    conversation = [
                        *messages,
                        AIMessage(content=getattr(exc, "raw_text", "") or "(no output)"),
                        HumanMessage(content=render("llm_reask.j2", error=str(exc))),
                    ]
                    raise
        return result

    def _structured_once(self, schema: type[T], conversation, purpose, max_tokens, after_seq):
        """One answer, trying each structured-output method at most once: a server that
        rejects them all fails the step instead of spinning."""
        for _ in range(len(METHODS)):
            with self._lock:
                method = self.methods[0]
            try:
                return self._call(method, schema, conversation, purpose, max_tokens, after_seq)
            except Unsupported as exc:
                failure = exc
                with self._lock:
                    if len(self.methods) > 1 and self.methods[0] == method:
                        self.methods.pop(0)
                    elif len(self.methods) == 1:
                        break  # "prompt" needs nothing from the server: its failure is final
        raise failure

    def _call(self, method: str, schema: type[T], conversation, purpose, max_tokens, after_seq):
        from langchain_core.messages import HumanMessage

        started, raw = time.perf_counter(), None
        messages = list(conversation)
        if method in ("json_mode", "prompt"):
            hint = render("llm_json.j2", schema=_schema_text(schema))
            # After the task's own messages, before any re-ask exchange.
            messages = [*messages[:2], HumanMessage(content=hint), *messages[2:]]
        config = {"tags": [f"icp:{purpose}", f"icp:{method}"]}
        model = self.capped(max_tokens)
        if method != "prompt":
            try:  # a model without this method says so here, before any call
                runnable = model.with_structured_output(schema, method=method, include_raw=True)
            except (NotImplementedError, ValueError, AttributeError) as exc:
                raise Unsupported(f"{method}: {exc}") from None
        try:
            if method == "prompt":
                raw = model.invoke(messages, config=config)
                parsed, error = _parse_json(schema, raw.text), None
            else:
                out = runnable.invoke(messages, config=config)
                raw, parsed, error = out["raw"], out["parsed"], out["parsing_error"]
            failure = _check(raw, parsed, error)
        except Exception as exc:
            failure = classify_error(exc, self.settings.api_key)
            if method == "json_schema" and _prose(exc):
                failure = Unsupported("the server ignored json_schema and answered in prose")
            self._record(purpose, messages, raw, started, _outcome(failure, method), after_seq)
            raise failure from exc
        self._record(purpose, messages, raw, started, _outcome(failure, method), after_seq)
        if failure:
            raise failure
        return parsed

    def capped(self, max_tokens: int) -> Any:
        """The chat model with its reply capped at `max_tokens` (more for a reasoning model).

        The cap is set on a copy of the model, not bound to a call, so it survives
        `with_structured_output`, which wraps the model and drops bound arguments.
        """
        model = self.model
        field = CAP_FIELDS.get(self.settings.provider, "max_tokens")
        if field not in type(model).model_fields:
            return model  # a model without a cap (a test fake)
        if reasoning(self.settings.name):
            max_tokens += REASONING_TOKENS
        with self._lock:
            if max_tokens not in self._capped:
                self._capped[max_tokens] = model.model_copy(update={field: max_tokens})
            return self._capped[max_tokens]

    def _record(self, purpose, messages, message, started: float, outcome: str, after_seq) -> None:
        tokens = usage_tokens(message) if message is not None else None
        estimated = tokens is None
        if tokens is None:
            prompt = sum(estimate_tokens(_content(m)) for m in messages)
            tokens = (prompt, estimate_tokens(getattr(message, "text", "") or ""))
        record = CallRecord(
            purpose=purpose,
            model=self.settings.model,
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
            estimated=estimated,
            cost_usd=cost(tokens[0], tokens[1], self.rates),
            seconds=round(time.perf_counter() - started, 3),
            outcome=outcome,
            after_seq=after_seq,
        )
        with self._lock:
            self.records.append(record)


class _Streamed:
    """What a stream added up to, without merging message chunks (which costs per chunk).

    Usage is summed over the chunks: Anthropic sends the prompt tokens in its first event and
    the completion tokens in its last, OpenAI everything in one final chunk.
    """

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.usage_metadata: dict | None = None
        self.response_metadata: dict = {}
        self.additional_kwargs: dict = {}

    def add(self, chunk: Any) -> str:
        """Take one chunk; its text."""
        piece = chunk.text
        if piece:
            self.pieces.append(piece)
        usage = getattr(chunk, "usage_metadata", None)
        if usage:
            from langchain_core.messages.ai import add_usage

            self.usage_metadata = add_usage(self.usage_metadata, usage)
        self.response_metadata.update(getattr(chunk, "response_metadata", None) or {})
        self.additional_kwargs.update(getattr(chunk, "additional_kwargs", None) or {})
        return piece

    @property
    def text(self) -> str:
        """The whole text so far."""
        return "".join(self.pieces)


def _check(raw: Any, parsed: Any, error: Any) -> ModelFailure | None:
    """The typed failure a structured answer shows, or None when it is usable."""
    meta = getattr(raw, "response_metadata", {}) or {}
    if meta.get("finish_reason") == "length" or meta.get("stop_reason") == "max_tokens":
        return Truncated("the answer was cut off at the token limit")
    if meta.get("finish_reason") == "content_filter" or _refusal(raw):
        return Refused(_refusal(raw) or "a content filter stopped the answer")
    if error is not None:
        failure = InvalidOutput(" ".join(str(error).split())[:300])
        failure.raw_text = _raw_text(raw)
        return failure
    if parsed is None:
        failure = InvalidOutput("no structured answer came back")
        failure.raw_text = _raw_text(raw)
        return failure
    return None


def _parse_json(schema: type[T], text: str) -> T:
    """Validate the JSON object inside a text answer (code fences and chatter around it)."""
    start, end = text.find("{"), text.rfind("}")
    try:
        if start < 0 or end < start:
            raise ValueError("the answer holds no JSON object")
        return schema.model_validate_json(text[start : end + 1])
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        failure = InvalidOutput(" ".join(str(exc).split())[:300])
        failure.raw_text = text
        raise failure from None


@cache
def _schema_text(schema: type[BaseModel]) -> str:
    return json.dumps(schema.model_json_schema())


def _prose(exc: BaseException) -> bool:
    """True when structured output came back as plain text, not even an attempt at JSON."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return False
    try:
        found = errors()
    except Exception:
        return False
    return any(
        e.get("type") == "json_invalid"
        and not str(e.get("input", "")).lstrip().startswith(("{", "["))
        for e in found
    )


def _refusal(message: Any) -> str:
    kwargs = getattr(message, "additional_kwargs", {}) or {}
    return str(kwargs.get("refusal") or "")


def _raw_text(message: Any) -> str:
    if message is None:
        return ""
    calls = getattr(message, "tool_calls", None)
    if calls:
        return json.dumps(calls[0].get("args", {}), ensure_ascii=False)
    return getattr(message, "text", "") or ""


def _content(message: Any) -> str:
    content = getattr(message, "content", message)
    return content if isinstance(content, str) else json.dumps(content, default=str)


def _outcome(failure: BaseException | None, method: str = "") -> str:
    if failure is None:
        return "ok"
    kind = getattr(failure, "kind", "error")
    return f"{kind} ({method})" if method else kind
