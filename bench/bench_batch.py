"""Benchmark: `icp batch` over 200 imported transcripts.

1. 200 synthetic transcripts (persona files answered by SimulatedRespondent, seeds 0-199)
   are written as text files and imported.
2. The offline engine re-extracts all 200 (target: under 20 s).
3. A scripted model with a fixed latency (LATENCY per answer, its replies computed by the
   offline engine beforehand so only the wait is left) runs at concurrency 16: wall time
   against the ideal, total model time / 16 (target: within 15%).
4. Memory while the batch grows: traced Python memory and RSS after 50, 100 and 200 sessions
   (a separate pass, since tracemalloc slows everything down).

Run: python bench/bench_batch.py [N]
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["ICP_HOME"] = tempfile.mkdtemp(prefix="icp-bench-batch-")

from agent.engines import get_engine  # noqa: E402
from agent.interview.contract import Engine  # noqa: E402
from agent.lang import load_guide  # noqa: E402
from agent.prompts import render  # noqa: E402
from agent.quarterly import batch  # noqa: E402
from agent.quarterly.importer import import_files  # noqa: E402
from agent.sim.respondent import SimulatedRespondent, load_persona  # noqa: E402
from agent.store.db import Store  # noqa: E402

LATENCY = 0.05
CONCURRENCY = 16


def personas() -> list[Path]:
    shared = sorted((ROOT.parent / "shared" / "personas").glob("*.yaml"))
    return shared + sorted((ROOT / "tests" / "personas").glob("*.yaml"))


def questions() -> list[tuple[str, str]]:
    """An interviewer's script as long as a 30-minute interview (28 answers): the intro, each
    section's opening and a probe (two for the first four sections), the closing question."""
    guide = load_guide()
    out = [(render(guide.intro["question"]), "intro")]
    for n, spec in enumerate(guide.ordered()):
        out.append((render(spec.opening), spec.key))
        out += [(render(f.probe), spec.key) for f in spec.facets[: 2 if n < 4 else 1]]
    out.append((render(guide.closing["question"]), "close"))
    return out


def write_transcripts(folder: Path, n: int) -> list[Path]:
    script, paths, people = questions(), [], [load_persona(p) for p in personas()]
    for i in range(n):
        persona = people[i % len(people)]
        respondent = SimulatedRespondent(persona, seed=i)
        lines = [f"Interviewer: Thanks for joining, this is call {i + 1}."]
        for text, topic in script:
            lines.append(f"Interviewer: {text}")
            answer = " ".join(respondent.answer(text, topic).split())
            lines.append(f"Customer: {answer}")
        path = folder / f"call-{i:03d}.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


class ScriptedModel(Engine):
    """A model with a fixed latency whose replies were computed beforehand."""

    name = "scripted"

    def __init__(self, replies: dict, latency: float):
        self.replies, self.latency = replies, latency
        self.calls = 0
        self.lock = threading.Lock()

    def word(self, action, profile, context):  # not used by a batch
        raise NotImplementedError

    def extract(self, answer, turn, topic, context):
        time.sleep(self.latency)
        with self.lock:
            self.calls += 1
        # Fresh objects, as a real model's reply would be: the profile takes ownership of them.
        return [
            (key, item.model_copy(deep=True)) for key, item in self.replies[(answer, turn, topic)]
        ]


def scripted_replies(store: Store, ids: list[str]) -> dict:
    """What the offline engine extracts from every answer, keyed like Engine.extract's call."""
    replies, offline = {}, get_engine("offline")

    class Recorder(Engine):
        name = "offline"

        def word(self, action, profile, context):  # not used by a re-extraction
            raise NotImplementedError

        def extract(self, answer, turn, topic, context):
            items = offline.extract(answer, turn, topic, context)
            replies[(answer, turn, topic)] = [(k, i.model_copy(deep=True)) for k, i in items]
            return items

    from agent.quarterly.reextract import reextract

    for sid in ids:
        reextract(store.session(sid), store.turns(sid), Recorder())
    return replies


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(store, ids, make, concurrency, on_item=None) -> float:
    plan = batch.prepare(store, [store.session(s) for s in ids], "bench", fmt="none", force=True)
    start = time.perf_counter()
    rows = batch.execute(store, plan, make, concurrency=concurrency, on_item=on_item)
    wall = time.perf_counter() - start
    bad = [r for r in rows if r.status != "done"]
    assert not bad, bad[:3]
    return wall


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    store = Store()
    folder = Path(tempfile.mkdtemp(prefix="icp-bench-calls-"))
    t = time.perf_counter()
    paths = write_transcripts(folder, n)
    generated = time.perf_counter() - t
    t = time.perf_counter()
    imported = import_files(store, paths, get_engine(), respondent=("Customer",))
    import_s = time.perf_counter() - t
    ids = [i.session.id for i in imported]
    answers = sum(t.speaker == "respondent" for sid in ids for t in store.turns(sid))
    print(f"{n} transcripts, {answers} answers ({answers / n:.1f} each)")
    print(f"generate: {generated:.1f} s   import (parse + offline extraction): {import_s:.1f} s")

    offline = get_engine("offline")
    cpu = time.process_time()
    wall = run(store, ids, lambda: offline, 1)
    cpu = time.process_time() - cpu
    print(f"offline re-extraction, one thread: {wall:.1f} s wall, {cpu:.1f} s CPU")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = run(store, ids, get_engine, 4)  # a CPU-bound engine that pickles: worker processes
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    print(
        f"offline re-extraction, as `icp batch` runs it (worker processes, {os.cpu_count()} "
        f"cores): {wall:.1f} s wall (target < 20 s), {cpu:.1f} s CPU in the workers"
    )

    replies = scripted_replies(store, ids)
    model = ScriptedModel(replies, LATENCY)
    wall = run(store, ids, lambda: model, CONCURRENCY)
    total = model.calls * LATENCY
    ideal = total / CONCURRENCY
    print(
        f"scripted model ({LATENCY * 1000:.0f} ms a call, {model.calls} calls = {total:.1f} s of "
        f"model time), concurrency {CONCURRENCY}: wall {wall:.2f} s, ideal {ideal:.2f} s, "
        f"{(wall / ideal - 1) * 100:+.1f}% (target within 15%)"
    )

    marks = {n // 4, n // 2, n}
    seen, samples = [0], []

    def sample(_row) -> None:
        seen[0] += 1
        if seen[0] in marks:
            samples.append((seen[0], tracemalloc.get_traced_memory()[0] / 2**20, rss_mb()))

    tracemalloc.start()
    run(store, ids, lambda: ScriptedModel(replies, 0.002), CONCURRENCY, on_item=sample)
    tracemalloc.stop()
    print("memory as the batch grows (traced Python heap / RSS):")
    for count, traced, rss in samples:
        print(f"  after {count:>3} sessions: {traced:6.1f} MiB / {rss:6.1f} MiB")


if __name__ == "__main__":
    main()
