"""Generated CRM exports for scoring tests and bench/bench_score.py: Salesforce-shaped accounts
with the mess real exports carry (number and date formats, full country names and state codes,
empty cells, free text with negations), reproducible from a seed."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from pathlib import Path

import yaml

DATA = yaml.safe_load((Path(__file__).with_suffix(".yaml")).read_text("utf-8"))
HEADER: list[str] = DATA["header"]


def rows(count: int, seed: int = 19) -> Iterator[list[str]]:
    """`count` account rows (no header)."""
    rnd = random.Random(seed)
    d = DATA
    for i in range(count):
        city, state, country = rnd.choice(d["places"])
        parts = rnd.sample(d["fragments"], rnd.randint(0, 4))
        text = "; ".join(p.format(n=rnd.randint(1, 20)) for p in parts)
        if rnd.random() < 0.3:
            text = text.replace("; ", ". ", 1)
        if rnd.random() < 0.8:  # real descriptions are all different
            text += f" About {rnd.randint(10, 9000)} customers, founded {rnd.randint(1950, 2024)}."
        yield [
            f"0015e{i:010d}AAA",
            f"Account {i} {rnd.choice(['Logistics', 'Fulfillment', 'Supply', 'Group', 'Inc'])}",
            rnd.choice(d["industries"]),
            rnd.choice(d["employees" if rnd.random() < 0.99 else "bad_employees"]),
            rnd.choice(d["revenue"]),
            city,
            state,
            country,
            rnd.choice(d["sources"]),
            rnd.choice(d["tech"]),
            rnd.choice(d["sites"]),
            rnd.choice(d["dates" if rnd.random() < 0.99 else "bad_dates"]),
            text,
            rnd.choice(d["tags"]),
            rnd.choice(["Dana Ruiz", "Sam Lee", ""]),
        ]


def write(path: Path, count: int, seed: int = 19) -> Path:
    """Write a generated export with its header; returns the path."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        chunk = io.StringIO()
        chunk_writer = csv.writer(chunk)
        for n, row in enumerate(rows(count, seed), 1):
            chunk_writer.writerow(row)
            if n % 10000 == 0:
                handle.write(chunk.getvalue())
                chunk.seek(0)
                chunk.truncate()
        handle.write(chunk.getvalue())
    return path
