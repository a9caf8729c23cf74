"""Write files atomically: a temporary file beside the target, fsync, rename."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from agent.errors import RenderError


def write_atomic(out: Path, data: bytes, mode: int | None = None) -> Path:
    """Replace `out` with `data` all at once: readers see the old file or the new, never half.

    `mode` sets the permissions (default: keep the old file's, else 0644). A failed write
    removes its temporary file; one left by a killed process is removed by the next write.
    """
    out = Path(out)
    try:
        if mode is None:
            mode = out.stat().st_mode & 0o777 if out.exists() else 0o644
        _sweep(out)
        # mkstemp creates the file 0600, so a key never sits in a readable file even briefly.
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=_prefix(out), suffix=".tmp")
    except OSError as exc:
        raise RenderError(f"cannot write {out}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, out)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise RenderError(f"cannot write {out}: {exc.strerror or exc}") from None
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the OS allows
        dir_fd = os.open(out.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return out


def _prefix(out: Path) -> str:
    """Hidden, and naming the writing process, so a later write can tell debris from work."""
    return f".{out.name}.{os.getpid()}."


def _sweep(out: Path) -> None:
    """Remove temporary files of `out` left by processes that no longer run (SIGKILL)."""
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(\d+)\..+\.tmp")
    for entry in os.scandir(out.parent):
        match = pattern.fullmatch(entry.name)
        if match and not _alive(int(match[1])):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True
