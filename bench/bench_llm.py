"""Benchmark: the llm engine with a scripted model that counts tokens and sleeps a fixed latency.

Prints, for one call that reads the answer and asks (the design) and for read-then-ask (the
extraction waited for before the question call): prompt tokens of the question call at turn 5
and turn 30 (target: at most 1.5x), model calls per turn, the respondent's wait per question
(p50/p95), and our own overhead per turn as a share of the model's latency (target: under 5%).
Then the same interview under faults (every 4th question call and every 3rd extraction hang):
the wait per question stays within the deadlines. The respondent "types" for THINK seconds
after each question, as a person would, so the background extraction has time to finish.

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
from agent.engines.llm.breaker import Breaker  # noqa: E402
from agent.engines.llm.engine import LLMEngine  # noqa: E402
from agent.interview.loop import Interview  # noqa: E402
from agent.sim.respondent import SimulatedRespondent, load_persona  # noqa: E402
from agent.store.db import Store  # noqa: E402

TOKEN = re.compile(r"\w+|[^\w\s]")
TASKS = {
    "choose the next move": "question",
    "extract ICP facts": "extract",
    "turn the finished profile": "synthesis",
}
HANG = 30.0  # seconds a faulty call hangs


def tokens(text: str) -> int:
    """Words and punctuation marks: a stand-in tokenizer, the same for every turn."""
    return len(TOKEN.findall(text))


class ScriptedModel(BaseChatModel):
    """Answers by task after a fixed latency; reports the tokens it counted as usage."""

    latency: float = 0.6
    extract_latency: float = 0.8
    hang_questions: int = 0  # every n-th question call hangs (0: none)
    hang_extractions: int = 0  # every n-th extraction hangs (0: none)
    counts: dict = Field(default_factory=dict)
    calls: list[dict] = Field(default_factory=list)
    lock: Any = Field(default_factory=threading.Lock)

    def _hangs(self, task: str) -> bool:
        every = {"question": self.hang_questions, "extract": self.hang_extractions}.get(task, 0)
        with self.lock:
            self.counts[task] = n = self.counts.get(task, 0) + 1
        return bool(every) and n % every == 0

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _task(self, messages) -> str:
        system = messages[0].content
        return next((t for marker, t in TASKS.items() if marker in system), "other")

    def _reply(self, task: str, messages) -> str:
        if task == "question":
            n = len(self.calls)
            return (
                f"MOVE: 1\nQUOTE:\nACK: Thanks, that helps.\n"
                f"QUESTION: Scripted question {n}: what was the most recent example?"
            )
        if task == "extract":
            user = messages[1].content
            answer = re.search(r"Answer \(turn \d+\):\n<(data-\w+)>\n(.*?)\n</\1>", user, re.S)
            quote = " ".join(answer.group(2).split()[:6]) if answer else ""
            item = {"section": "customer_language", "text": quote, "quotes": [quote]}
            item |= {"concrete": False, "said_by": ""}
            return json.dumps({"items": [item] if quote else []})
        return json.dumps(
            {"summary": [], "rubric": [], "negative_personas": [], "open_questions": []}
        )

    def _record(self, task: str, messages, text: str, seconds: float) -> dict:
        call = {
            "task": task,
            "started": time.perf_counter() - seconds,
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
        time.sleep(HANG if self._hangs(task) else pause)
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
        if self._hangs(task):
            time.sleep(HANG)
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


def run(
    persona_path: Path,
    latency: float,
    think: float,
    minutes: float,
    read_first: bool = False,
    faults: bool = False,
) -> dict:
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
    model = ScriptedModel(
        latency=latency,
        extract_latency=latency * 1.3,
        hang_questions=4 if faults else 0,
        hang_extractions=3 if faults else 0,
    )
    settings = ModelSettings(provider="openai", name="scripted", api_key="unused")
    persona = load_persona(persona_path)
    engine = LLMEngine(
        settings,
        model=model,
        read_first=read_first,
        notify=lambda _: None,
        breaker=Breaker(failures=99) if faults else None,  # measure every fault, none skipped
    )
    interview = Interview.start(store, engine, company=persona.company, minutes=minutes)
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
        made = [c for c in model.calls[mark:] if c["started"] >= started]
        asked = [c for c in made if c["task"] == "question"]
        turns.append(
            {
                "question": interview.state.questions,
                "calls": len(asked)
                + (len([c for c in made if c["task"] == "extract"]) if read_first else 0),
                "model_seconds": sum(c["seconds"] for c in made if c["task"] == "question")
                + (sum(c["seconds"] for c in made if c["task"] == "extract") if read_first else 0),
                "wall": wall,
                "store": spent["store"],
                "prompt_tokens": asked[-1]["prompt_tokens"] if asked else 0,
                "task": "question" if asked else "",
                "closing": interview.question is None,
            }
        )
    store.close()
    return {"turns": turns, "calls": model.calls}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(name: str, result: dict, latency: float, overhead: bool = True) -> None:
    turns = [t for t in result["turns"] if not t["closing"]]
    asked = {t["question"]: t for t in turns if t["task"] == "question"}
    at5, at30 = asked.get(5), asked.get(30) or asked[max(asked)]
    print(f"  {name}: {len(result['turns'])} answers, {len(result['calls'])} model calls")
    if at5:
        ratio = at30["prompt_tokens"] / at5["prompt_tokens"]
        print(
            f"    prompt tokens of the question call: turn 5 {at5['prompt_tokens']}, "
            f"turn {at30['question']} {at30['prompt_tokens']} ({ratio:.2f}x; target <= 1.5x)"
        )
    calls = [t["calls"] for t in turns]
    print(
        f"    model calls the respondent waits for per answer: min {min(calls)}, "
        f"max {max(calls)}, mean {statistics.mean(calls):.2f} (extraction calls in all: "
        f"{sum(c['task'] == 'extract' for c in result['calls'])})"
    )
    waits = [t["wall"] for t in turns]
    print(
        f"    wait per question: p50 {statistics.median(waits):.2f} s, "
        f"p95 {percentile(waits, 95):.2f} s, max {max(waits):.2f} s"
    )
    if not overhead:
        return
    timed = [t for t in turns if t["model_seconds"]]
    share = [(t["wall"] - t["model_seconds"]) / t["model_seconds"] * 100 for t in timed]
    ms = [(t["wall"] - t["model_seconds"]) * 1000 for t in timed]
    commits = [t["store"] * 1000 for t in timed]
    print(
        f"    our overhead per answer vs the model's {latency:.2f} s: "
        f"p50 {statistics.median(share):.2f}% ({statistics.median(ms):.1f} ms), "
        f"p95 {percentile(share, 95):.2f}% ({percentile(ms, 95):.1f} ms) (target < 5%), "
        f"of which SQLite commits p50 {statistics.median(commits):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per question call")
    parser.add_argument("--think", type=float, default=1.5, help="seconds the respondent types")
    parser.add_argument("--minutes", type=float, default=35, help="budget: over 30 questions")
    parser.add_argument("--no-faults", action="store_true", help="skip the run under faults")
    parser.add_argument("personas", nargs="*", type=Path)
    args = parser.parse_args()
    paths = args.personas or [ROOT / "prompts" / "sample_respondent.yaml"]
    for path in paths:
        print(f"{path.stem}:")
        one = run(path, args.latency, args.think, args.minutes)
        report("one call reads the answer and asks (the design)", one, args.latency)
        first = run(path, args.latency, args.think, args.minutes, read_first=True)
        report("read then ask (extraction waited for, then the question call)", first, args.latency)
        if not args.no_faults:
            faulty = run(path, args.latency, args.think, args.minutes, faults=True)
            report(
                f"under faults (every 4th question call and 3rd extraction hang {HANG:.0f} s; "
                "8 s to first token, 2 s for the extraction)",
                faulty,
                args.latency,
                overhead=False,
            )


if __name__ == "__main__":
    main()
