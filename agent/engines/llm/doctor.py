"""`icp doctor`: one tiny streamed call shows whether the model answers, streams and returns
structured output, with a fix for each failure."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from agent.config import ModelSettings, config_path, resolve
from agent.engines.llm.errors import (
    ModelError,
    ModelFailure,
    Refused,
    Transient,
    Truncated,
    Unsupported,
)
from agent.engines.llm.errors import classify as classify_error
from agent.prompts import render

# The reply the doctor asks for, as an OpenAI json_schema response format.
REPLY_FORMAT = {  # identifiers: a JSON schema
    "type": "json_schema",
    "json_schema": {
        "name": "doctor_reply",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
            "additionalProperties": False,
        },
    },
}
_JSON_SCHEMA_PROVIDERS = ("openai", "azure_openai")


@dataclass
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def run_doctor(
    model: str | None = None, base_url: str | None = None, chat_model: Any = None
) -> list[Check]:
    """Check the configured model; `chat_model` replaces the real one in tests."""
    settings = resolve(model, base_url)
    checks = [
        Check(
            "configured",
            settings.configured or chat_model is not None,
            settings.describe(),
            "" if settings.configured else _fix_unconfigured(),
        )
    ]
    if not checks[0].ok:
        return checks
    from agent.engines.llm.client import create_model

    try:
        chat = chat_model if chat_model is not None else create_model(settings)
    except ModelError as exc:
        return [*checks, Check("answers", False, "the model could not be created", str(exc))]
    schema = settings.provider in _JSON_SCHEMA_PROVIDERS
    try:
        chunks, text, seconds = _stream(chat, schema)
    except Exception as exc:
        error = classify_error(exc, settings.api_key)
        if not (schema and isinstance(error, Unsupported)):
            return [*checks, _failed(error, settings)]
        schema = False  # the server rejects json_schema: check the rest without it
        try:
            chunks, text, seconds = _stream(chat, schema)
        except Exception as retry_exc:
            return [*checks, _failed(classify_error(retry_exc, settings.api_key), settings)]
    answered = bool(text.strip())
    checks.append(
        Check(
            "answers",
            answered,
            f"{len(text)} characters in {seconds:.2f} s" if answered else "an empty reply",
            "" if answered else "the server answered with nothing; try another --model",
        )
    )
    if not answered:
        return checks
    checks.append(
        Check(
            "streams",
            chunks > 1,
            f"{chunks} pieces" if chunks > 1 else "the reply came in one piece",
            ""
            if chunks > 1
            else "questions will appear all at once instead of word by word; a server that "
            "streams (OpenAI, Ollama, vLLM, LM Studio) fixes that",
        )
    )
    checks.append(_structured(text, schema, settings))
    return checks


def _stream(chat: Any, schema: bool) -> tuple[int, str, float]:
    """Stream the tiny request: (pieces with text, the text, seconds)."""
    from langchain_core.messages import HumanMessage

    bound = chat.bind(response_format=REPLY_FORMAT) if schema else chat
    started, pieces, text = time.perf_counter(), 0, ""
    for chunk in bound.stream([HumanMessage(content=render("llm_doctor.j2"))]):
        if chunk.text:
            pieces += 1
            text += chunk.text
    return pieces, text, time.perf_counter() - started


def _structured(text: str, schema: bool, settings: ModelSettings) -> Check:
    try:
        start, end = text.find("{"), text.rfind("}")
        ok = isinstance(json.loads(text[start : end + 1]).get("answer"), str)
    except (ValueError, AttributeError):
        ok = False
    how = "json_schema" if schema else "JSON asked for in the prompt"
    if settings.provider in _JSON_SCHEMA_PROVIDERS and not schema:
        how += " (the server rejected json_schema; icp falls back to tools or JSON mode)"
    if ok:
        return Check("structured output", True, f"valid JSON via {how}")
    return Check(
        "structured output",
        False,
        f"no valid JSON via {how}",
        "extraction and the synthesis will fall back to the offline rules; a larger, "
        "instruction-tuned model (gpt-4o-mini, llama3.1:8b-instruct, qwen2.5) usually fixes it",
    )


def _failed(error: BaseException, settings: ModelSettings) -> Check:
    """The answers check for a call that raised, with a fix for its kind."""
    if isinstance(error, ModelError):
        return Check("answers", False, "the server refused the request", str(error))
    if isinstance(error, Transient):
        where = settings.base_url or "the provider's server"
        fix = (
            f"is the server running and reachable at {where}? Ollama: `ollama serve`, then "
            "--base-url http://localhost:11434/v1; timeouts: `icp config set timeout 120`"
        )
        return Check("answers", False, str(error), fix)
    if isinstance(error, Truncated | Refused):
        return Check("answers", False, str(error), "try another --model")
    detail = str(error) if isinstance(error, ModelFailure) else repr(error)
    return Check("answers", False, detail, "try another --model, then `icp doctor` again")


def _fix_unconfigured() -> str:
    return (
        "set OPENAI_API_KEY, or `icp config set api_key -` (stored owner-only in "
        f"{config_path()}), or point --base-url at a local server such as Ollama"
    )


def as_json(checks: list[Check]) -> dict:
    """The report for `icp doctor --json`."""
    return {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}
