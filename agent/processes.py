"""Pure CPU work in worker processes: results in order, a bounded number of batches in
flight, Ctrl-C left to the parent, and workers that end with it."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from agent.errors import ICPError

T = TypeVar("T")
R = TypeVar("R")


class WorkerLost(ICPError):
    """A worker process ended unexpectedly (out of memory, killed)."""


def cores() -> int:
    """The cores this process may run on."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return max(1, len(usable) if usable else os.cpu_count() or 1)


def can_fork() -> bool:
    """True where a worker can start as a copy of this process (no re-import, no pickling of
    its setup)."""
    return "fork" in multiprocessing.get_all_start_methods()


def in_order(
    work: Callable[[list[T]], R],
    items: Iterable[T],
    processes: int,
    batch: int,
    setup: Callable[..., None] | None = None,
    setup_args: tuple = (),
) -> Iterator[R]:
    """`work(batch)` for consecutive batches of `items` in `processes` workers, in order; at
    most two batches per worker wait, so memory stays flat however many items. `setup` runs
    once in each worker (with fork its arguments are inherited, not pickled)."""
    context = multiprocessing.get_context("fork" if can_fork() else "spawn")
    pool = ProcessPoolExecutor(
        processes, mp_context=context, initializer=_start, initargs=(setup, setup_args)
    )
    source = iter(items)
    try:
        pending: deque = deque()
        while chunk := list(itertools.islice(source, batch)):
            pending.append(pool.submit(work, chunk))
            if len(pending) > 2 * processes:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool:
        raise WorkerLost("a worker process ended unexpectedly (out of memory?)") from None
    finally:  # Ctrl-C, a closed pipe, an error: the batches not started are dropped
        pool.shutdown(cancel_futures=True)


def _start(setup: Callable[..., None] | None, args: tuple[Any, ...]) -> None:
    """In a worker: Ctrl-C is the parent's to handle, and the worker ends with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    threading.Thread(target=_end_with, args=(parent,), daemon=True).start()
    if setup is not None:
        setup(*args)


def _end_with(parent: int) -> None:
    """Exit once the parent is gone (killed, or stopped by a signal it does not handle): a
    pool worker waiting for work would otherwise wait forever."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)
