"""Benchmark: `icp score` on 1,000,000 generated CRM rows (rows per second, peak memory), and
the same rules as SQL in DuckDB (`icp rules --format sql`).

Targets (issue 19): `icp score` at least 20,000 rows/s with peak memory under 300 MB at
1,000,000 rows. A file over 16 MB is scored by one worker process per core while the main
process reads and writes, so the memory is that of all of them together. Peak memory is also
measured at a tenth of the rows: a streaming scorer's peak does not grow with the file. The
machine's own speed is printed first (a pure-Python loop), so numbers from a busy shared
machine can be read for what they are.

    python bench/bench_score.py            # 1,000,000 rows
    python bench/bench_score.py --rows 200000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import accounts_gen  # noqa: E402

RULES = ROOT / "examples" / "rules.yaml"
AS_OF = "2026-11-23"


def loop_seconds() -> float:
    """CPU seconds of a 10-million-step Python loop: this machine's speed for Python."""
    start = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.process_time() - start


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the scoring workers), from /proc."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{current}/task/{current}/children") as handle:
                todo += [int(c) for c in handle.read().split()]
        except (OSError, ValueError):
            continue  # ended between the two reads
    return total / 2**20


def run_score(path: Path, rows: int) -> dict[str, float]:
    """Run `icp score` on the file: wall and CPU seconds (its workers included), the peak of
    the largest process, and the peak of all its processes together (sampled every 0.1 s)."""
    cmd = [sys.executable, "-m", "cli", "score", str(path), "--rules", str(RULES),
           "--as-of", AS_OF]  # fmt: skip
    with tempfile.TemporaryFile() as err:  # not a pipe: skipped rows could fill it and block
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        together = 0.0
        while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            together = max(together, tree_rss_mb(proc.pid))
            time.sleep(0.1)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"icp score failed:\n{stderr}")
    cpu = usage.ru_utime + usage.ru_stime  # wait4 counts the workers it reaped
    summary = next((line for line in stderr.splitlines() if line.startswith("Scored")), "")
    return {"wall": wall, "cpu": cpu, "peak_mb": usage.ru_maxrss / 1024, "rows": rows,
            "together_mb": together, "summary": summary}  # fmt: skip


def run_duckdb(path: Path) -> dict[str, float]:
    """The same rules as one SQL query in DuckDB over the CSV loaded as text columns."""
    import duckdb

    from agent.scoring.rules import load_rules
    from agent.scoring.sql import sql_for

    sql, _ = sql_for(load_rules(RULES), "duckdb", "accounts", path, (), date.fromisoformat(AS_OF))
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(
        "CREATE TABLE accounts AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
        [str(path)],
    )
    loaded = time.perf_counter()
    cpu = time.process_time()
    con.execute(f"CREATE TABLE scored AS {sql.rstrip().rstrip(';')}")
    done = time.perf_counter()
    tiers = dict(con.execute("SELECT icp_tier, count(*) FROM scored GROUP BY 1").fetchall())
    return {"load": loaded - start, "query": done - loaded, "cpu": time.process_time() - cpu,
            "tiers": tiers, "bytes": len(sql)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"machine: a 10M-step Python loop takes {loop_seconds():.2f} s of CPU here "
          f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        small = accounts_gen.write(Path(folder) / "small.csv", args.rows // 10)
        big = accounts_gen.write(Path(folder) / "accounts.csv", args.rows)
        size = big.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows ({size:.0f} MB, Salesforce-shaped, seed 19)")
        tenth = run_score(small, args.rows // 10)
        full = run_score(big, args.rows)
        print(
            f"icp score: {full['rows']:,} rows in {full['wall']:.1f} s wall "
            f"({full['rows'] / full['wall']:,.0f} rows/s), {full['cpu']:.1f} s CPU "
            f"({full['rows'] / full['cpu']:,.0f} rows per CPU-second); "
            f"peak memory {full['together_mb']:.0f} MB for all its processes together, "
            f"{full['peak_mb']:.0f} MB the largest (at {tenth['rows']:,} rows: "
            f"{tenth['together_mb']:.0f} MB, {tenth['peak_mb']:.0f} MB)"
        )
        print(f"  {full['summary']}")
        print("  targets: >= 20,000 rows/s, peak < 300 MB at 1,000,000 rows")
        db = run_duckdb(big)
        print(
            f"DuckDB SQL ({db['bytes'] / 1000:.0f} kB of SQL): load the CSV as text "
            f"{db['load']:.1f} s, score {args.rows:,} rows {db['query']:.1f} s "
            f"({args.rows / db['query']:,.0f} rows/s)"
        )
        print(f"  tiers: {dict(sorted(db['tiers'].items(), key=lambda kv: str(kv[0])))}")


if __name__ == "__main__":
    main()
