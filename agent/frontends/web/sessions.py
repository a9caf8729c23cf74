"""Live interviews for `icp serve`: one worker thread per open interview owns all its state.

An engine may keep work between answers (the llm engine extracts the last answer in the
background and merges it at the next one), and a SQLite connection must stay in its thread.
So each open interview lives in one thread with its own Store, engine and `Interview`; requests
hand it jobs and wait for the result. Jobs for one interview run one at a time, in order.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from agent.errors import NotFound
from agent.interview.contract import Engine
from agent.interview.loop import Interview
from agent.store.db import Store

T = TypeVar("T")
IDLE_SECONDS = 15 * 60  # after this long without a request an interview is settled and closed
log = logging.getLogger("icp.web")


class Worker:
    """The thread that holds one interview."""

    def __init__(self, pool: Interviews, sid: str):
        self.pool, self.sid = pool, sid
        self.jobs: queue.Queue[tuple[Callable[[Interview], Any], Future] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name=f"icp-web-{sid}", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        store = Store()  # opened, used and closed in this thread only
        interview: Interview | None = None
        seen: tuple[int, int] = (-1, -1)  # the last turn and version it wrote or read
        try:
            while (job := self._next()) is not None:
                act, future = job
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    last = _mark(store, self.sid)
                    if interview is None or last != seen:  # new, or written to from elsewhere
                        interview = self._open(store)
                    future.set_result(act(interview))
                except BaseException as exc:  # the next job re-reads the interview from disk
                    interview = None
                    store.release(self.sid)  # not its writer until it has it open again
                    future.set_exception(exc)
                    if isinstance(exc, NotFound) and self.pool.retire(self):
                        return  # no such interview: do not keep a thread for it
                seen = _mark(store, self.sid)
        finally:
            if interview is not None:
                with contextlib.suppress(Exception):  # keeps a finished background extraction
                    interview.interrupt()
            store.close()

    def _open(self, store: Store) -> Interview:
        info = store.session(self.sid)
        if info.id != self.sid or info.meta.get("kind"):
            raise NotFound(f"no interview {self.sid!r} to continue")
        return Interview.resume(store, self.pool.engine_for(info.engine), info.id)

    def _next(self) -> tuple[Callable[[Interview], Any], Future] | None:
        """The next job; None to stop (asked to, or idle with nothing queued)."""
        while True:
            try:
                return self.jobs.get(timeout=self.pool.idle_seconds)
            except queue.Empty:
                if self.pool.retire(self):
                    return None


class Interviews:
    """The open interviews of one app, each in its own worker thread."""

    def __init__(self, engine_for: Callable[[str], Engine], idle_seconds: float = IDLE_SECONDS):
        self.engine_for, self.idle_seconds = engine_for, idle_seconds
        self._workers: dict[str, Worker] = {}
        self._guard = threading.Lock()
        self._closed = False

    def submit(self, sid: str, act: Callable[[Interview], T]) -> Future[T]:
        """Queue `act(interview)` on the interview's thread; its result arrives in the future."""
        future: Future[T] = Future()
        with self._guard:
            if self._closed:
                raise RuntimeError("the server is shutting down")
            worker = self._workers.get(sid) or self._workers.setdefault(sid, Worker(self, sid))
            worker.jobs.put((act, future))
        return future

    def retire(self, worker: Worker) -> bool:
        """Remove an idle worker, unless a job arrived meanwhile."""
        with self._guard:
            if not worker.jobs.empty():
                return False
            if self._workers.get(worker.sid) is worker:
                del self._workers[worker.sid]
            return True

    def close(self, timeout: float = 10) -> None:
        """Stop every worker after its queued jobs; each settles its interview first."""
        with self._guard:
            self._closed = True
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.jobs.put(None)
        for worker in workers:
            worker.thread.join(timeout)


def _mark(store: Store, sid: str) -> tuple[int, int]:
    """The last turn and the latest profile version: a change in either (another process,
    the joint review) means the interview must be read again."""
    turn = store.db.execute(
        "SELECT COALESCE(MAX(seq), 0) FROM turns WHERE session_id = ?", (sid,)
    ).fetchone()[0]
    version = store.db.execute(
        "SELECT COALESCE(MAX(version), 0) FROM profiles WHERE session_id = ?", (sid,)
    ).fetchone()[0]
    return turn, version
