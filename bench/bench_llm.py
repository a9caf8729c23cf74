"""Benchmark: the llm engine with a scripted model that counts tokens and sleeps a fixed latency.

Prints prompt tokens of the question call at turn 5 and turn 30 (target: at most 1.5x), model
calls on the critical path per turn (target: 1) and our own overhead per turn as a share of the
model's latency (target: under 5%). The respondent "types" for THINK seconds after each question,
as a person would, so the background extraction has time to finish.

Run: python bench/bench_llm.py [--latency 1.0] [--think 1.5] [PERSONA.yaml ...]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain_core.language_models.chat_models import BaseChatModel  # noqa: E402
from langchain_core.messages import AIMessage, AIMessageChunk  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult  # noqa: E402
from pydantic import Field  # noqa: E402

from agent.config import ModelSettings  # noqa: E402
from agent.engines.llm.engine import LLMEngine  # noqa: E402
from agent.interview.loop import Interview  # noqa: E402
from agent.sim.respondent import SimulatedRespondent, load_persona  # noqa: E402
from agent.store.db import Store  # noqa: E402

TOKEN = re.compile(r"\w+|[^\w\s]")
TASKS = {
    "write the next interview question": "question",
    "close the interview": "close",
    "extract ICP facts": "extract",
    "turn the finished profile": "synthesis",
}


def tokens(text: str) -> int:
    """Words and punctuation marks: a stand-in tokenizer, the same for every turn."""
    return len(TOKEN.findall(text))


class ScriptedModel(BaseChatModel):
    """Answers by task after a fixed latency; reports the tokens it counted as usage."""

    latency: float = 0.6
    extract_latency: float = 0.8
    calls: list[dict] = Field(default_factory=list)
    lock: Any = Field(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _task(self, messages) -> str:
        system = messages[0].content
        return next((t for marker, t in TASKS.items() if marker in system), "other")

    def _reply(self, task: str, messages) -> str:
        if task == "question":
            return f"Scripted question {len(self.calls)}: what was the most recent example?"
        if task == "close":
            return "You sell to mid-market teams.\n\nWhat in that summary is missing or wrong?"
        if task == "extract":
            user = messages[1].content
            answer = re.search(r"Answer \(turn \d+\):\n<(data-\w+)>\n(.*?)\n</\1>", user, re.S)
            quote = " ".join(answer.group(2).split()[:6]) if answer else ""
            item = {"section": "buying_triggers", "text": quote, "quotes": [quote]}
            item |= {"concrete": False, "said_by": ""}
            return json.dumps({"items": [item] if quote else []})
        return json.dumps(
            {"summary": [], "rubric": [], "negative_personas": [], "open_questions": []}
        )

    def _record(self, task: str, messages, text: str, seconds: float) -> dict:
        call = {
            "task": task,
            "thread": threading.current_thread().name,
            "prompt_tokens": sum(tokens(m.content) for m in messages),
            "completion_tokens": tokens(text),
            "seconds": seconds,
        }
        with self.lock:
            self.calls.append(call)
        return call

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        task = self._task(messages)
        text = self._reply(task, messages)
        pause = self.extract_latency if task in ("extract", "synthesis") else self.latency
        time.sleep(pause)
        call = self._record(task, messages, text, pause)
        usage = {
            "input_tokens": call["prompt_tokens"],
            "output_tokens": call["completion_tokens"],
            "total_tokens": call["prompt_tokens"] + call["completion_tokens"],
        }
        message = AIMessage(content=text, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        task = self._task(messages)
        text = self._reply(task, messages)
        pieces = re.findall(r"\S+\s*|\s+", text)
        start = time.perf_counter()
        for i, piece in enumerate(pieces, start=1):
            # Sleep to deadlines, so the pieces take `latency` in all, not latency + overshoots.
            time.sleep(max(0.0, start + self.latency * i / len(pieces) - time.perf_counter()))
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        call = self._record(task, messages, text, self.latency)
        usage = {
            "input_tokens": call["prompt_tokens"],
            "output_tokens": call["completion_tokens"],
            "total_tokens": call["prompt_tokens"] + call["completion_tokens"],
        }
        yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=usage))


def run(persona_path: Path, latency: float, think: float, minutes: float) -> dict:
    store = Store(Path(tempfile.mkdtemp()) / "icp.db")
    spent = {"store": 0.0}
    for name in ("add_turn", "save_step", "add_model_calls"):
        original = getattr(store, name)

        def timed(*a, _original=original, **k):
            t0 = time.perf_counter()
            try:
                return _original(*a, **k)
            finally:
                spent["store"] += time.perf_counter() - t0

        setattr(store, name, timed)
    model = ScriptedModel(latency=latency, extract_latency=latency * 1.3)
    settings = ModelSettings(provider="openai", name="scripted", api_key="unused")
    persona = load_persona(persona_path)
    interview = Interview.start(
        store, LLMEngine(settings, model=model), company=persona.company, minutes=minutes
    )
    respondent = SimulatedRespondent(persona)
    turns = []
    while interview.question is not None:
        question = interview.question
        answer = respondent.answer(question.text, question.topic)
        time.sleep(think)  # the respondent reads and types; extraction runs meanwhile
        mark = len(model.calls)
        spent["store"] = 0.0
        started = time.perf_counter()
        interview.answer(answer)
        wall = time.perf_counter() - started
        critical = [c for c in model.calls[mark:] if c["thread"] == threading.main_thread().name]
        turns.append(
            {
                "question": interview.state.questions,
                "critical_calls": len(critical),
                "model_seconds": sum(c["seconds"] for c in critical),
                "wall": wall,
                "store": spent["store"],
                "prompt_tokens": critical[-1]["prompt_tokens"] if critical else 0,
                "task": critical[-1]["task"] if critical else "",
            }
        )
    store.close()
    return {"turns": turns, "calls": model.calls}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per question call")
    parser.add_argument("--think", type=float, default=1.5, help="seconds the respondent types")
    parser.add_argument("--minutes", type=float, default=35, help="budget: over 30 questions")
    parser.add_argument("personas", nargs="*", type=Path)
    args = parser.parse_args()
    paths = args.personas or [ROOT / "prompts" / "sample_respondent.yaml"]
    for path in paths:
        result = run(path, args.latency, args.think, args.minutes)
        turns = [t for t in result["turns"] if t["task"] in ("question", "close")]
        end = result["turns"][-1]
        by_question = {t["question"]: t for t in turns if t["task"] == "question"}
        at5, at30 = by_question.get(5), by_question.get(30) or by_question[max(by_question)]
        print(f"{path.stem}: {len(result['turns'])} answers, {len(result['calls'])} model calls")
        ratio = at30["prompt_tokens"] / at5["prompt_tokens"]
        worst = max(t["prompt_tokens"] for t in by_question.values()) / at5["prompt_tokens"]
        print(
            f"  prompt tokens of the question call: turn 5 {at5['prompt_tokens']}, "
            f"turn {at30['question']} {at30['prompt_tokens']} ({ratio:.2f}x; largest of any "
            f"turn {worst:.2f}x; target <= 1.5x)"
        )
        calls = [t["critical_calls"] for t in result["turns"]]
        print(
            f"  model calls on the critical path per answer: min {min(calls)}, max {max(calls)}"
            f" (target 1; extraction calls ran on other threads: "
            f"{sum(c['task'] == 'extract' for c in result['calls'])})"
        )
        overhead = [(t["wall"] - t["model_seconds"]) / t["model_seconds"] * 100 for t in turns]
        ms = [(t["wall"] - t["model_seconds"]) * 1000 for t in turns]
        commits = [t["store"] * 1000 for t in turns]
        rest = [m - c for m, c in zip(ms, commits, strict=True)]
        print(
            f"  our overhead per answer vs the model's {args.latency:.2f} s: "
            f"p50 {statistics.median(overhead):.2f}% ({statistics.median(ms):.1f} ms), "
            f"p95 {percentile(overhead, 95):.2f}% ({percentile(ms, 95):.1f} ms), "
            f"max {max(overhead):.2f}% (target < 5%)"
        )
        print(
            f"    of which durable SQLite commits (answer, profile version): "
            f"p50 {statistics.median(commits):.1f} ms; the rest (LangChain, prompts, rules, "
            f"planning): p50 {statistics.median(rest):.1f} ms"
        )
        print(
            f"  after the closing answer: {end['wall']:.2f} s (waits for the last extraction, "
            f"then the synthesis call: {end['critical_calls']} call on the critical path)"
        )


if __name__ == "__main__":
    main()
