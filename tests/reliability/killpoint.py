"""Child harness: run the `icp` command line and SIGKILL this process at a chosen point.

ICP_KILL_AT="POINT:N" kills at the Nth time the point is reached. Points:
  answer_committed  just after an answer's transaction committed, before it is processed
  extract           inside the engine's extraction of an answer
  save_step         inside save_step's transaction: profile row written, not committed
  step_committed    just after save_step committed, before the question is sent
  replace           inside write_atomic: temporary file written and synced, not renamed
  write             inside write_atomic: half of the bytes written to the temporary file
"""

from __future__ import annotations

import os
import signal
import sys

import agent.engines.offline as offline
import agent.files as files
from agent.store.db import Store

POINT, _, NTH = os.environ.get("ICP_KILL_AT", "").partition(":")
left = int(NTH or 1)


def reached(point: str) -> None:
    """Count a point; at the chosen one, die the way a power cut or `kill -9` does."""
    global left
    if point != POINT:
        return
    left -= 1
    if left == 0:
        os.kill(os.getpid(), signal.SIGKILL)


def _wrap(owner, name: str, before: str | None = None, after: str | None = None) -> None:
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        if before:
            reached(before)
        result = original(*args, **kwargs)
        if after:
            reached(after)
        return result

    setattr(owner, name, wrapper)


def _install() -> None:
    add_turn = Store.add_turn

    def add_turn_then(self, sid, speaker, text, topic=None, kind=""):
        turn = add_turn(self, sid, speaker, text, topic, kind)
        if kind == "answer":
            reached("answer_committed")
        return turn

    insert_turn = Store._insert_turn

    def insert_turn_then(db, sid, speaker, text, topic, kind):
        turn = insert_turn(db, sid, speaker, text, topic, kind)
        if kind == "question" and db.in_transaction:
            reached("save_step")  # save_step inserts its question after the profile row
        return turn

    Store.add_turn = add_turn_then
    Store._insert_turn = staticmethod(insert_turn_then)
    _wrap(Store, "save_step", after="step_committed")
    _wrap(offline.OfflineEngine, "extract", before="extract")

    replace, fdopen = os.replace, os.fdopen

    def replace_then(src, dst, *args, **kwargs):
        if str(src).endswith(".tmp"):
            reached("replace")
        return replace(src, dst, *args, **kwargs)

    class HalfWriter:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.fh.__exit__(*exc)

        def write(self, data: bytes) -> int:
            half = len(data) // 2
            self.fh.write(data[:half])
            self.fh.flush()
            reached("write")
            return half + self.fh.write(data[half:])

        def __getattr__(self, name):
            return getattr(self.fh, name)

    def fdopen_then(fd, *args, **kwargs):
        return HalfWriter(fdopen(fd, *args, **kwargs))

    files.os = _Os(replace_then, fdopen_then)


class _Os:
    """os for agent.files, with replace and fdopen counted."""

    def __init__(self, replace, fdopen):
        self.replace, self.fdopen = replace, fdopen

    def __getattr__(self, name):
        return getattr(os, name)


if __name__ == "__main__":
    _install()
    import cli

    sys.argv = ["icp", *sys.argv[1:]]
    cli.main()
