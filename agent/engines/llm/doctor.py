"""`icp doctor`: the engine's own path, once: it asks the opening question (streamed, within
its deadline) and extracts a sample answer (structured output, checked), with a fix for each
failure."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from agent.config import ModelSettings, config_path, key_variables, resolve
from agent.engines.llm.errors import ModelError
from agent.prompts import render


@dataclass
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


class _Calls:
    """Collects the engine's call records, as the interview's store would."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add_model_calls(self, session_id: str, rows: list[dict]) -> None:
        self.rows += rows


def run_doctor(
    model: str | None = None, base_url: str | None = None, chat_model: Any = None
) -> list[Check]:
    """Check the configured model through the engine; `chat_model` replaces the real one in
    tests."""
    from agent.engines.llm.engine import LLMEngine
    from agent.interview.contract import Context
    from agent.interview.planner import Action
    from agent.profile.models import Profile

    settings = resolve(model, base_url)
    checks = [
        Check(
            "configured",
            settings.configured or chat_model is not None,
            settings.describe(),
            "" if settings.configured else _fix_unconfigured(settings),
        )
    ]
    if not checks[0].ok:
        return checks
    calls, notices = _Calls(), []
    engine = LLMEngine(settings, model=chat_model, notify=notices.append)
    engine.bind(calls, "doctor")
    try:
        engine.client.model  # noqa: B018 (created now: a missing package or a bad name shows here)
    except ModelError as exc:
        return [*checks, Check("asks", False, "the model could not be created", str(exc))]
    pieces: list[str] = []
    started = time.perf_counter()
    try:
        _, wording = engine.choose(
            [Action(kind="intro")], Profile(), Context(on_token=pieces.append)
        )
        engine.flush()
    except ModelError as exc:
        return [*checks, Check("asks", False, "the server refused the request", str(exc))]
    seconds = time.perf_counter() - started
    if engine.last_source != "model":
        return [*checks, _failed(_outcome(calls.rows, "question"), notices, settings)]
    checks.append(Check("asks", True, f"{wording.text!r} in {seconds:.2f} s"))
    streamed = len(pieces) > 1
    checks.append(
        Check(
            "streams",
            streamed,
            f"{len(pieces)} pieces" if streamed else "the question came in one piece",
            ""
            if streamed
            else "questions will appear all at once instead of word by word; a server that "
            "streams (OpenAI, Anthropic, Ollama, vLLM, LM Studio) fixes that",
        )
    )
    answer = render("llm_doctor.j2")
    context = Context()
    engine.extract(answer, 2, "company_profile", context)
    try:
        items = engine.settle(final=True, wait=settings.timeout * 2)
    except ModelError as exc:
        return [*checks, Check("extracts", False, "the server refused the request", str(exc))]
    outcome = _outcome(calls.rows, "extract")
    method = engine.client.methods[0]
    if outcome == "ok":
        detail = f"{len(items)} checked items from a sample answer, via {method}"
        checks.append(Check("extracts", True, detail))
    else:
        checks.append(
            Check(
                "extracts",
                False,
                f"no usable extraction ({outcome})",
                "extraction falls back to the offline rules; a larger, instruction-tuned model "
                "(gpt-4o-mini, claude-haiku, llama3.1:8b-instruct, qwen2.5) usually fixes it",
            )
        )
    return checks


def _outcome(rows: list[dict], purpose: str) -> str:
    """How the last call for a purpose ended ("ok", or the failure kind)."""
    ended = [r["outcome"] for r in rows if r["purpose"] == purpose]
    if "ok" in ended:
        return "ok"
    return ended[-1] if ended else "skipped"


def _failed(outcome: str, notices: list[str], settings: ModelSettings) -> Check:
    """The asks check for a question the model did not write, with a fix for its kind."""
    detail = notices[-1].removeprefix("model ") if notices else outcome
    if outcome.startswith("unavailable"):
        where = settings.base_url or "the provider's server"
        fix = (
            f"is the server running and reachable at {where}? Ollama: `ollama serve`, then "
            "--base-url http://localhost:11434/v1; timeouts: `icp config set timeout 120`"
        )
    elif outcome.startswith("too slow"):
        fix = (
            "the model took longer than the deadline to its first word; a faster model, or "
            "`icp config set first_token_timeout 15`"
        )
    elif outcome.startswith("invalid output"):
        fix = "the reply did not follow the format; try a larger, instruction-tuned --model"
    else:
        fix = "try another --model, then `icp doctor` again"
    return Check("asks", False, detail, fix)


def _fix_unconfigured(settings: ModelSettings) -> str:
    keys = " or ".join(key_variables(settings.provider)) or "the provider's credentials"
    return (
        f"set {keys}, or `icp config set api_key -` (stored owner-only in "
        f"{config_path()}), or point --base-url at a local server such as Ollama"
    )


def as_json(checks: list[Check]) -> dict:
    """The report for `icp doctor --json`."""
    return {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}
