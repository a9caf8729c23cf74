"""Benchmark: one long pasted answer through the interview loop, by size; time should grow
linearly (a quadratic step makes a 200 KB paste take minutes).

Run: python bench/bench_paste.py [KB ...]   (default 25 50 100 200)
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.engines import get_engine  # noqa: E402
from agent.interview.loop import MAX_ANSWER_CHARS, Interview  # noqa: E402
from agent.store.db import Store  # noqa: E402

WORDS = ("customers", "clinics", "NetSuite", "employees", "finance", "audit", "budget")
WORDS += ("CFO", "controller", "Salesforce", "trigger", "funding", "migration", "churn")
WORDS += ("price", "deal", "weeks", "Germany", "dentists")


def paste(kilobytes: int, rng: random.Random) -> str:
    """Distinct sentences, so every one becomes its own item (the worst case for merging)."""
    sentences, size = [], 0
    while size < kilobytes * 1000:
        words = " ".join(rng.choice(WORDS) for _ in range(8))
        sentences.append(f"{words.capitalize()} with {rng.randint(1, 999)} employees.")
        size += len(sentences[-1]) + 1
    return " ".join(sentences)[: min(kilobytes * 1000, MAX_ANSWER_CHARS)]


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [25, 50, 100, 200]
    rng = random.Random(7)
    print(f"{'KB':>5} {'seconds':>8} {'items':>6} {'ms/KB':>6}")
    for kb in sizes:
        store = Store(Path(tempfile.mkdtemp()) / "icp.db")
        interview = Interview.start(store, get_engine("offline"), company="Bench")
        interview.answer("Payroll software for dental clinics.")
        text = paste(kb, rng)
        started = time.perf_counter()
        interview.answer(text)
        seconds = time.perf_counter() - started
        items = sum(len(s.items) for s in interview.profile.sections.values())
        print(f"{kb:>5} {seconds:>8.2f} {items:>6} {seconds * 1000 / kb:>6.0f}")
        store.close()


if __name__ == "__main__":
    main()
