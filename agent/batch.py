"""`icp batch`: re-extract many sessions with the current guide and engine, and render reports.

Every session gets a new profile version (nothing is overwritten). A run remembers each
session's progress, so an interrupted batch asked for again resumes where it stopped.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import runs
from .diff import compare
from .engines import Engine
from .errors import ICPError, InputError, RenderError
from .guide import load_guide
from .profile import Profile
from .reextract import Cancelled, guide_hash, reextract
from .review import review_start, says_no_change
from .store import SessionInfo, Store

FORMATS = ("pdf", "html", "md", "none")


class BatchInterrupted(ICPError):
    """Ctrl-C (or a stop) during a batch; finished sessions are kept and the run resumes."""


class BatchFailed(ICPError):
    """Some sessions failed; the others completed."""


@dataclass(frozen=True)
class Row:
    """One session's line in the summary."""

    session: str
    company: str
    status: str
    version: int | None = None
    items: int | None = None
    changes: dict | None = None
    report: str | None = None
    error: str | None = None
    seconds: float | None = None

    def as_dict(self) -> dict:
        """The row as `icp batch --json` prints it."""
        return dict(self.__dict__)


@dataclass
class Plan:
    """A run ready to execute: its sessions, which are still to do, where reports go."""

    run: runs.Run
    items: list[runs.RunItem]
    todo: list[runs.RunItem]
    out: Path | None
    fmt: str
    resumed: bool
    rows: list[Row] = field(default_factory=list)

    @property
    def already(self) -> int:
        """Sessions finished by an earlier, interrupted invocation of the same run."""
        return len(self.items) - len(self.todo)


def select(
    store: Store, ids: tuple[str, ...] = (), everything: bool = False, since: str | None = None
) -> list[SessionInfo]:
    """The sessions named, or all of them, or those started on or after a date; oldest first."""
    if ids and (everything or since):
        raise InputError("name sessions, or use --all or --since, not both")
    if ids:
        chosen = [store.session(sid) for sid in ids]
        return list({s.id: s for s in chosen}.values())
    if not (everything or since):
        raise InputError("name the sessions to re-run, or use --all or --since DATE")
    sessions = list(reversed(store.sessions()))
    if since:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise InputError(f"--since {since!r} is not a date like 2026-09-30") from None
        sessions = [s for s in sessions if _started(s) >= start.replace(tzinfo=None)]
    return sessions


def _started(session: SessionInfo) -> datetime:
    return datetime.fromisoformat(session.started).replace(tzinfo=None)


def prepare(
    store: Store,
    sessions: list[SessionInfo],
    engine_key: str,
    *,
    out: Path | None = None,
    fmt: str = "pdf",
    force: bool = False,
) -> Plan:
    """Find the unfinished run asked for in the same way (unless `force`), or start one."""
    if fmt not in FORMATS:
        raise InputError(f"unknown report format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if not sessions:
        raise InputError("no sessions to re-run")
    key = {
        "sessions": [s.id for s in sessions],
        "engine": engine_key,
        "guide": guide_hash(),
        "format": fmt,
        "out": str(out.resolve()) if out else None,
    }
    run = None if force else runs.open_run(store, key)
    resumed = run is not None
    if run is None:
        folder = out or Path(f"icp-batch-{datetime.now():%Y%m%d-%H%M%S}")
        options = {"out": str(folder.resolve()) if fmt != "none" else None}
        run = runs.create_run(store, key, options, [s.id for s in sessions])
    items = runs.items(store, run.id)
    todo = [item for item in items if item.status not in ("done", "skipped")]
    folder = Path(run.options["out"]) if run.options.get("out") else None
    return Plan(run, items, todo, folder, fmt, resumed)


def execute(
    store: Store,
    plan: Plan,
    make_engine: Callable[[], Engine],
    *,
    concurrency: int = 4,
    on_item: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Re-extract (and render) the plan's pending sessions in a thread pool; all rows in order.

    SQLite: each worker thread opens its own connection (a sqlite3 connection must stay in
    its thread, and an engine that records model calls writes from the worker). WAL lets
    readers run alongside, and the writes are a few short BEGIN IMMEDIATE transactions per
    session, which SQLite serialises through its lock with the connection's busy timeout.
    """
    if concurrency < 1:
        raise InputError("--concurrency must be at least 1")
    if plan.out is not None:
        try:
            plan.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RenderError(f"cannot create {plan.out}: {exc.strerror or exc}") from None
    worker = _Worker(store.path, plan, make_engine)
    try:
        with ThreadPoolExecutor(concurrency, thread_name_prefix="icp-batch") as pool:
            futures = [pool.submit(worker.process, item) for item in plan.todo]
            try:
                for future in as_completed(futures):
                    row = future.result()
                    if on_item:
                        on_item(row)
            except BaseException:  # Ctrl-C, or an interrupt raised inside a worker
                worker.stop.set()
                for future in futures:
                    future.cancel()
                raise
    except (KeyboardInterrupt, Cancelled):
        finished = sum(
            item.status in ("done", "skipped") for item in runs.items(store, plan.run.id)
        )
        raise BatchInterrupted(
            f"interrupted: {finished} of {len(plan.items)} sessions finished (run "
            f"{plan.run.id}); run the same command again to resume, --force to start over"
        ) from None
    runs.finish(store, plan.run.id)
    plan.rows = summary(store, plan)
    return plan.rows


class _Worker:
    """What each pool thread runs; thread-local connections and engines."""

    def __init__(self, path: Path, plan: Plan, make_engine: Callable[[], Engine]):
        self.path, self.plan, self.make_engine = path, plan, make_engine
        self.guide = load_guide()
        self.stop = threading.Event()
        # Connections live in their thread's local storage (sqlite3 refuses to close one from
        # another thread); they are closed as the pool's threads end.
        self.local = threading.local()

    def resources(self) -> tuple[Store, Engine]:
        if not hasattr(self.local, "store"):
            self.local.store, self.local.engine = Store(self.path), self.make_engine()
        return self.local.store, self.local.engine

    def process(self, item: runs.RunItem) -> Row:
        """Re-extract one session into a new version and render its report; never raises."""
        if self.stop.is_set():
            raise Cancelled
        start = time.perf_counter()
        run = self.plan.run.id
        db, engine = self.resources()
        company = ""
        try:
            session = db.session(item.session)
            company = session.company
            turns = db.turns(session.id)
            if item.status == "extracted" and item.version:  # stored before an interrupt
                version = item.version
                profile = Profile.model_validate(db.profile(session.id, version).data)
            else:
                if not any(t.speaker == "respondent" and t.kind == "answer" for t in turns):
                    runs.mark(db, run, session.id, "skipped", error="no answers to extract from")
                    return Row(session.id, session.company, "skipped", error="no answers yet")
                base = db.profile(session.id)
                upto = base.after_seq if base else turns[-1].seq
                bind = getattr(engine, "bind", None)
                if bind is not None:
                    bind(db, session.id)
                reviewed = review_start(db, session)
                profile = reextract(
                    session,
                    turns,
                    engine,
                    self.guide,
                    upto=upto,
                    stop=self.stop,
                    start=reviewed,
                    quiet=says_no_change if reviewed is not None else None,
                )
                meta = {
                    "kind": "batch",
                    "engine": engine.name,
                    "guide": guide_hash(),
                    "run": run,
                    "based_on": base.version if base else None,
                }
                state = base.state if base else {}
                data = profile.model_dump(mode="json")
                version = db.add_profile(session.id, upto, data, state, meta, run=run)
                profile.version = version
            report = None
            if self.plan.out is not None:
                from .report import write_report

                name = f"{_slug(session.company)}{session.id}-v{version}.{self.plan.fmt}"
                report = str(write_report(profile, session, turns, self.plan.out / name))
            seconds = round(time.perf_counter() - start, 3)
            runs.mark(db, run, session.id, "done", report=report, seconds=seconds)
            return Row(
                session.id,
                session.company,
                "done",
                version,
                len(profile.all_items()),
                changes(db, session.id, version),
                report,
                None,
                seconds,
            )
        except Cancelled:
            raise
        except Exception as exc:  # isolate the failure; the rest of the batch goes on
            reason = _reason(exc)
            seconds = round(time.perf_counter() - start, 3)
            runs.mark(db, run, item.session, "failed", error=reason, seconds=seconds)
            return Row(item.session, company, "failed", error=reason, seconds=seconds)


def changes(store: Store, sid: str, version: int) -> dict | None:
    """Drift counts of a batch version against the version it was re-extracted from."""
    record = store.profile(sid, version)
    base = record.meta.get("based_on") if record else None
    if not base:
        return None
    old = Profile.model_validate(store.profile(sid, base).data)
    return compare(old, Profile.model_validate(record.data)).counts()


def summary(store: Store, plan: Plan) -> list[Row]:
    """Every session of the run, including those finished before a resume, in order."""
    rows = []
    for item in runs.items(store, plan.run.id):
        session = store.session(item.session)
        items = changed = None
        if item.version and item.status == "done":
            record = store.profile(session.id, item.version)
            items = len(Profile.model_validate(record.data).all_items())
            changed = changes(store, session.id, item.version)
        rows.append(
            Row(
                session.id,
                session.company,
                item.status,
                item.version,
                items,
                changed,
                item.report,
                item.error,
                item.seconds,
            )
        )
    return rows


def format_table(rows: list[Row]) -> str:
    """The summary table for a terminal."""
    lines = [
        f"{'SESSION':<10} {'COMPANY':<18} {'RESULT':<8} {'VERSION':>7} {'ITEMS':>5}  "
        f"{'CHANGES':<14} REPORT OR REASON"
    ]
    for r in rows:
        change = "-"
        if r.changes is not None:
            c = r.changes
            change = f"+{c['added']} -{c['removed']} ~{c['changed']}" if c["sections"] else "none"
        lines.append(
            f"{r.session:<10} {(r.company or '-')[:18]:<18} {r.status:<8} "
            f"{r.version if r.version is not None else '-':>7} "
            f"{r.items if r.items is not None else '-':>5}  {change:<14} "
            f"{r.error or r.report or '-'}"
        )
    return "\n".join(lines)


def check(rows: list[Row]) -> None:
    """Raise BatchFailed with a one-line summary if any session failed."""
    failed = [r for r in rows if r.status == "failed"]
    if failed:
        first = failed[0]
        raise BatchFailed(
            f"{len(failed)} of {len(rows)} sessions failed (first: {first.session}: "
            f"{first.error}); the others completed"
        )


def _slug(company: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", company.lower()).strip("-")[:30]
    return f"{slug}-" if slug else ""


def _reason(exc: BaseException) -> str:
    """One line saying why a session failed."""
    text = " ".join(str(exc).split())
    reason = text if isinstance(exc, ICPError) and text else f"{type(exc).__name__}: {text}"
    return reason[:200]
