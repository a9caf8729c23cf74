"""`icp batch`: re-extract many sessions with the current guide and engine, and render reports.

Every session gets a new profile version (nothing is overwritten). A run remembers each
session's progress, so an interrupted batch asked for again resumes where it stopped.
"""

from __future__ import annotations

import os
import pickle
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from agent.errors import ICPError, InputError, RenderError
from agent.interview.contract import Engine
from agent.profile.drift import compare
from agent.profile.models import Profile
from agent.quarterly.reextract import Cancelled, guide_hash, reextract
from agent.store import runs
from agent.store.db import SessionInfo, Store
from agent.store.runs import BatchFailed, Row, check, format_table

__all__ = [  # identifiers: exported names
    "FORMATS",
    "BatchFailed",
    "BatchInterrupted",
    "Plan",
    "Row",
    "check",
    "execute",
    "format_table",
    "prepare",
    "select",
]
FORMATS = ("pdf", "html", "md", "none")  # identifiers: report formats
PROCESS_MINIMUM = 8  # starting a worker process costs about a second: not worth it for fewer


class BatchInterrupted(ICPError):
    """Ctrl-C (or a stop) during a batch; finished sessions are kept and the run resumes."""


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
    engine: str = ""  # the engine that ran it (a model engine without a model runs offline)

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
    """Re-extract (and render) the plan's pending sessions in parallel; all rows in order.

    A model engine spends its time waiting for the network, so `concurrency` threads overlap
    that wait, each with its own engine from `make_engine`. An engine that declares itself
    CPU-bound (the offline one) is pure Python computation, which threads cannot run in
    parallel (the GIL): it runs in up to `concurrency` worker processes, one per core (from
    PROCESS_MINIMUM sessions on, and when `make_engine` can be sent to another process).

    SQLite: each worker thread or process opens its own connection (a sqlite3 connection
    must stay in its thread, and an engine that records model calls writes from the worker).
    WAL lets readers run alongside, and the writes are a few short BEGIN IMMEDIATE
    transactions per session, which SQLite serialises with the connection's busy timeout.
    """
    if concurrency < 1:
        raise InputError("--concurrency must be at least 1")
    if plan.out is not None:
        try:
            plan.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RenderError(f"cannot create {plan.out}: {exc.strerror or exc}") from None
    stop: threading.Event | None = None
    first = make_engine()
    plan.engine = first.name
    if first.cpu_bound and len(plan.todo) >= PROCESS_MINIMUM and _picklable(make_engine):
        import multiprocessing

        workers = max(1, min(concurrency, os.cpu_count() or 1))
        # spawn: a child must not inherit the parent's open SQLite connection.
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_process,
            initargs=(store.path, plan, make_engine),
        )
        task: Callable[[runs.RunItem], Row] = _process_item
    else:
        worker = _Worker(store.path, plan, make_engine)
        stop = worker.stop
        pool = ThreadPoolExecutor(concurrency, thread_name_prefix="icp-batch")
        task = worker.process
    try:
        with pool:
            futures = [pool.submit(task, item) for item in plan.todo]
            try:
                for future in as_completed(futures):
                    row = future.result()
                    if on_item:
                        on_item(row)
            except BaseException:  # Ctrl-C, or an interrupt raised inside a worker
                if stop is not None:
                    stop.set()
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
    plan.rows = runs.summary(store, plan.run.id)
    return plan.rows


_PROCESS_WORKER: _Worker | None = None


def _picklable(value: object) -> bool:
    """Whether a worker process can be given `value` (a lambda cannot)."""
    try:
        pickle.dumps(value)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def _start_process(path: Path, plan: Plan, make_engine: Callable[[], Engine]) -> None:
    """In a worker process: Ctrl-C is the parent's to handle; one engine for the process."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    global _PROCESS_WORKER
    engine = make_engine()
    _PROCESS_WORKER = _Worker(path, plan, lambda: engine)


def _process_item(item: runs.RunItem) -> Row:
    assert _PROCESS_WORKER is not None
    return _PROCESS_WORKER.process(item)


class _Worker:
    """What each pool thread runs; thread-local connections and engines."""

    def __init__(self, path: Path, plan: Plan, make_engine: Callable[[], Engine]):
        self.path, self.plan, self.make_engine = path, plan, make_engine
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
                record = db.profile(session.id, version)
                profile, meta = Profile.model_validate(record.data), record.meta
            else:
                if not any(t.speaker == "respondent" and t.kind == "answer" for t in turns):
                    runs.mark(db, run, session.id, "skipped", error="no answers to extract from")
                    return Row(session.id, session.company, "skipped", error="no answers yet")
                base = db.profile(session.id)
                upto = base.after_seq if base else turns[-1].seq
                engine.bind(db, session.id)
                profile = reextract(session, turns, engine, store=db, upto=upto, stop=self.stop)
                old = Profile.model_validate(base.data) if base else None
                meta = {
                    "kind": "batch",
                    "engine": engine.name,
                    "guide": guide_hash(),
                    "run": run,
                    "based_on": base.version if base else None,
                    "items": len(profile.all_items()),
                    "changes": compare(old, profile).counts() if old else None,
                }
                state = base.state if base else {}
                data = profile.model_dump(mode="json")
                version = db.add_profile(session.id, upto, data, state, meta, run=run)
                profile.version = version
            report = None
            if self.plan.out is not None:
                from agent.report.bundle import session_usage
                from agent.report.render import write_report

                name = f"{_slug(session.company)}{session.id}-v{version}.{self.plan.fmt}"
                usage = session_usage(db, session.id)  # as `icp report` shows it
                report = str(write_report(profile, session, turns, self.plan.out / name, usage))
            seconds = round(time.perf_counter() - start, 3)
            runs.mark(db, run, session.id, "done", report=report, seconds=seconds)
            return Row(
                session.id,
                session.company,
                "done",
                version,
                meta.get("items"),
                meta.get("changes"),
                report,
                None,
                seconds,
            )
        except (Cancelled, KeyboardInterrupt):
            # Stop the queue here, not when the main thread sees it: by then this thread
            # may already have started the next session.
            self.stop.set()
            raise
        except Exception as exc:  # isolate the failure; the rest of the batch goes on
            reason = _reason(exc)
            seconds = round(time.perf_counter() - start, 3)
            runs.mark(db, run, item.session, "failed", error=reason, seconds=seconds)
            return Row(item.session, company, "failed", error=reason, seconds=seconds)


def _slug(company: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", company.lower()).strip("-")[:30]
    return f"{slug}-" if slug else ""


def _reason(exc: BaseException) -> str:
    """One line saying why a session failed."""
    text = " ".join(str(exc).split())
    reason = text if isinstance(exc, ICPError) and text else f"{type(exc).__name__}: {text}"
    return reason[:200]
