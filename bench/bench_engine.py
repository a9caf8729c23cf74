"""Benchmark: offline engine time per turn (p50/p95), with and without SQLite commits.

Run: python bench/bench_engine.py [PERSONA.yaml ...]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.engines import get_engine  # noqa: E402
from agent.interview.loop import Interview  # noqa: E402
from agent.sim.respondent import SimulatedRespondent, load_persona  # noqa: E402
from agent.store.db import Store  # noqa: E402


def personas(args: list[str]) -> list[Path]:
    if args:
        return [Path(a) for a in args]
    shared = sorted((ROOT.parent / "shared" / "personas").glob("*.yaml"))
    return shared + sorted((ROOT / "tests" / "personas").glob("*.yaml"))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    total_ms, engine_ms = [], []
    for path in personas(sys.argv[1:]):
        store = Store(Path(tempfile.mkdtemp()) / "icp.db")
        spent = {"store": 0.0}
        for name in ("add_turn", "save_step"):
            original = getattr(store, name)

            def timed(*a, _original=original, spent=spent, **k):
                t0 = time.perf_counter()
                try:
                    return _original(*a, **k)
                finally:
                    spent["store"] += time.perf_counter() - t0

            setattr(store, name, timed)
        persona = load_persona(path)
        interview = Interview.start(store, get_engine(), company=persona.company)
        respondent = SimulatedRespondent(persona)
        while interview.question is not None:
            answer = respondent.answer(interview.question.text, interview.question.topic)
            spent["store"] = 0.0
            t0 = time.perf_counter()
            interview.answer(answer)
            elapsed = time.perf_counter() - t0
            total_ms.append(elapsed * 1000)
            engine_ms.append((elapsed - spent["store"]) * 1000)
    print(f"turns measured: {len(total_ms)}")
    print(
        f"engine per turn (extract + plan + word): p50 {statistics.median(engine_ms):.2f} ms, "
        f"p95 {percentile(engine_ms, 95):.2f} ms, max {max(engine_ms):.2f} ms"
    )
    print(
        f"whole turn incl. durable SQLite commits:  p50 {statistics.median(total_ms):.2f} ms, "
        f"p95 {percentile(total_ms, 95):.2f} ms  (target p95 < 20 ms)"
    )


if __name__ == "__main__":
    main()
