"""One writer per interview: an advisory file lock per session, held while a process writes it.

The operating system releases a lock when its process dies, however it dies (SIGKILL, a
crash, a power cut), so a lock that nobody holds means nobody is writing that interview:
`icp sessions` shows such an "active" session as interrupted. The lock file names its holder
(process id, command, since when) for the message a second writer gets.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

from agent.paths import private_dir

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; every claim succeeds (see README)
    fcntl = None  # type: ignore[assignment]

SUPPORTED = fcntl is not None  # where a lock nobody holds tells that its writer is gone


class SessionLock:
    """The lock on one session, taken without waiting; `release` lets it go."""

    def __init__(self, folder: Path, sid: str):
        self.path = folder / f"{sid}.lock"
        self.fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock now: True, or False when another process (or Store) holds it.

        Raises OSError when the lock file cannot be created (a read-only or full disk).
        """
        if fcntl is None:
            return True
        private_dir(self.path.parent)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            with contextlib.suppress(OSError):
                os.fchmod(fd, 0o600)  # the umask may have taken the owner's write bit
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    return False
                raise
            # A holder releasing at this moment unlinks the file before unlocking it: a lock
            # on a file no longer at the path protects nothing, so open the path again.
            try:
                current = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
            if current:
                self.fd = fd
                self._describe()
                return True
            os.close(fd)

    def _describe(self) -> None:
        """Write who holds the lock into the file, for a second writer's message."""
        assert self.fd is not None
        command = " ".join(["icp", *sys.argv[1:2]]) if _is_icp() else Path(sys.argv[0]).name
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with contextlib.suppress(OSError):  # only the message depends on it
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, json.dumps(info).encode(), 0)

    def release(self) -> None:
        """Let the lock go (unlink first, so nobody locks a file that is about to go)."""
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self.fd)
        self.fd = None


def holder(folder: Path, sid: str) -> dict | None:
    """Who holds the session's lock ({"pid", "host", "command", "since"}), or None if nobody
    does: never written, released, or left by a process that died. Creates nothing."""
    if fcntl is None:
        return None
    try:
        fd = os.open(folder / f"{sid}.lock", os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            try:
                return json.loads(os.pread(fd, 4096, 0) or b"{}")
            except (OSError, ValueError):
                return {}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _is_icp() -> bool:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name in ("icp", "cli.py")
