"""Batch runs in the database: what a run covers and how far each of its sessions got."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from .store import Store, now


@dataclass(frozen=True)
class RunItem:
    """One session of a run: pending, extracted (version stored), done, failed or skipped."""

    position: int
    session: str
    status: str
    version: int | None = None
    report: str | None = None
    error: str | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class Run:
    """A batch run: `key` is what was asked (selection, engine, guide, format, out folder)."""

    id: str
    key: str
    options: dict
    status: str
    created: str


def open_run(store: Store, key: dict) -> Run | None:
    """The latest unfinished run asked for in exactly the same way, to resume."""
    row = store.db.execute(
        "SELECT * FROM runs WHERE key = ? AND status = 'running' ORDER BY created DESC, rowid DESC",
        (_key(key),),
    ).fetchone()
    return _run(row) if row else None


def create_run(store: Store, key: dict, options: dict, sessions: list[str]) -> Run:
    """A new run with every session pending, in one transaction."""
    rid = secrets.token_hex(4)
    with store.transaction() as db:
        db.execute(
            "INSERT INTO runs (id, key, options, created) VALUES (?, ?, ?, ?)",
            (rid, _key(key), json.dumps(options), now()),
        )
        db.executemany(
            "INSERT INTO run_items (run_id, position, session_id, updated) VALUES (?, ?, ?, ?)",
            [(rid, i, sid, now()) for i, sid in enumerate(sessions)],
        )
    row = store.db.execute("SELECT * FROM runs WHERE id = ?", (rid,)).fetchone()
    return _run(row)


def items(store: Store, run: str) -> list[RunItem]:
    """The run's sessions in order with their progress."""
    rows = store.db.execute(
        "SELECT position, session_id, status, version, report, error, seconds FROM run_items"
        " WHERE run_id = ? ORDER BY position",
        (run,),
    ).fetchall()
    return [RunItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def mark(
    store: Store,
    run: str,
    sid: str,
    status: str,
    *,
    report: str | None = None,
    error: str | None = None,
    seconds: float | None = None,
) -> None:
    """Record how far a session got (the version itself is recorded by Store.add_profile)."""
    with store.transaction() as db:
        db.execute(
            "UPDATE run_items SET status = ?, report = COALESCE(?, report), error = ?,"
            " seconds = COALESCE(?, seconds), updated = ? WHERE run_id = ? AND session_id = ?",
            (status, report, error, seconds, now(), run, sid),
        )


def finish(store: Store, run: str) -> None:
    """Mark a run done: the same command later starts a new run."""
    with store.transaction() as db:
        db.execute("UPDATE runs SET status = 'done', ended = ? WHERE id = ?", (now(), run))


def _key(key: dict) -> str:
    return json.dumps(key, sort_keys=True)


def _run(row) -> Run:
    return Run(row["id"], row["key"], json.loads(row["options"]), row["status"], row["created"])
