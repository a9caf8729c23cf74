"""Time `icp import` of one large transcript (2 MB by default, target < 10 s): reading and
parsing, extraction (the offline engine), storing; the throughput; optionally where the
time goes (--profile: the functions that take most of it)."""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from agent.engines import get_engine
from agent.quarterly import importer
from agent.quarterly.transcripts import read_transcript
from agent.store.db import Store

TARGET_S = 10.0
QUESTIONS = [
    "What kind of companies buy from you?",
    "What happened just before they started looking?",
    "Who signs off on it?",
    "Which tools do they run?",
    "How long does a deal take?",
    "Where do they hear about you?",
    "What else?",
]


def persona_sentences() -> list[str]:
    """Realistic answer sentences: every fact of the bundled personas."""
    root = Path(__file__).resolve().parents[1] / "tests" / "personas"
    out = []
    for path in sorted(root.glob("*.yaml")):
        for topic in yaml.safe_load(path.read_text("utf-8"))["topics"].values():
            out += [fact["say"] for fact in topic.get("facts", [])]
    return out


def transcript(size: int, seed: int = 1, unique: bool = False) -> str:
    """A timestamped call of about `size` bytes: a question, then two facts and a number, so
    no two answers are the same (as in a real call). The facts come from a list of about a
    thousand, so statements repeat; with `unique` each fact is made one of a kind (its first
    number changed, or a place named), so no cache of a statement's reading helps."""
    rng, facts, parts, n, i = random.Random(seed), persona_sentences(), [], 0, 0
    while n < size:
        i += 1
        stamp = f"[{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}]"
        question = f"{stamp} Interviewer: {rng.choice(QUESTIONS)}\n"
        said = rng.sample(facts, 2)
        if unique:
            said = [_one_of_a_kind(fact, i * 2 + k) for k, fact in enumerate(said)]
        answer = f"{stamp} Dana: {' '.join(said)} That was deal {i}.\n"
        parts += [question, answer]
        n += len(question.encode()) + len(answer.encode())
    return "".join(parts)


def _one_of_a_kind(fact: str, n: int) -> str:
    """The fact with its first number replaced by `n`, or with a branch named after it."""
    changed = re.sub(r"\d+", str(n), fact, count=1)
    if changed != fact:
        return changed
    return f"{fact.rstrip('.')}, says branch {n}."


def main() -> int:
    """Print the import time of a generated transcript; exit 1 when it misses the target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=2.0, help="transcript size in MB")
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    parser.add_argument(
        "--unique", action="store_true", help="no statement repeats (no reading is cached)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "call.txt"
        path.write_text(transcript(int(args.mb * 2**20), unique=args.unique), encoding="utf-8")
        size = path.stat().st_size
        store, engine = Store(Path(folder) / "icp.db"), get_engine("offline")
        start = time.perf_counter()
        parsed = read_transcript(path)
        read_s = time.perf_counter() - start
        answers = sum(u.speaker == "Dana" for u in parsed.utterances)
        turns = len(parsed.utterances)
        print(f"transcript: {size / 2**20:.2f} MB, {turns:,} turns, {answers:,} answers")
        print(f"read and parse: {read_s:.2f} s")
        timings: dict[str, float] = {}
        real_save = store.save_imports

        def timed_save(imports):
            began = time.perf_counter()
            try:
                return real_save(imports)
            finally:
                timings["store"] = time.perf_counter() - began

        store.save_imports = timed_save
        profiler = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        importer.import_files(store, [path], engine, respondent=("Dana",))
        if profiler:
            profiler.disable()
        total = time.perf_counter() - start
        store.close()
    stored = timings.get("store", 0.0)
    print(f"extract (offline engine): {total - stored - read_s:.2f} s")
    print(f"store (one transaction): {stored:.2f} s")
    rate = f"{size / 2**20 / total:.2f} MB/s, {answers / total:.0f} answers/s"
    print(f"import in all: {total:.2f} s, {rate}")
    ok = total < TARGET_S
    print(f"target < {TARGET_S:.0f} s for {args.mb:g} MB: {'ok' if ok else 'MISSED'}")
    if profiler:
        stats = pstats.Stats(profiler).sort_stats("tottime")
        stats.print_stats(15)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
