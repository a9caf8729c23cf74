"""Benchmark: wall time of `icp --help` (median and max of 10 runs; target < 0.35 s)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time


def main() -> None:
    exe = shutil.which("icp")
    cmd = [exe, "--help"] if exe else [sys.executable, "-m", "cli", "--help"]
    runs = []
    for _ in range(10):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        runs.append(time.perf_counter() - t0)
    print(
        f"`icp --help`: median {statistics.median(runs):.3f} s, max {max(runs):.3f} s "
        f"over {len(runs)} runs (target < 0.35 s)"
    )


if __name__ == "__main__":
    main()
