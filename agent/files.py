"""Write files atomically: a temporary file beside the target, fsync, rename."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from pathlib import Path

from agent.errors import RenderError


def write_atomic(out: Path, data: bytes, mode: int | None = None, force: bool = True) -> Path:
    """Replace `out` with `data` all at once: readers see the old file or the new, never half.

    `mode` sets the permissions; by default a replaced file keeps its own and a new file gets
    what the user's umask gives any new file (0644 under the usual 022). A read-only `out` is
    refused unless `force`. A failed write removes its temporary file; one left by a killed
    process is removed by the next write.
    """
    out = Path(out)
    try:
        old = out.stat() if out.exists() else None
        if not force:
            refuse_read_only(out, old)
        if mode is None and old is not None:
            mode = stat.S_IMODE(old.st_mode)
        sweep(out)
        fd, tmp = _temporary(out, private=mode is not None)
    except OSError as exc:
        raise RenderError(f"cannot write {out}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
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


def refuse_read_only(out: Path, info: os.stat_result | None = None) -> None:
    """Raise RenderError if `out` is a file marked read-only (no write bit, which stops even
    root) or one this user may not write; replacing it would go through the folder anyway."""
    try:
        info = info or out.stat()
    except FileNotFoundError:
        return
    writable = info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    if not writable or not os.access(out, os.W_OK):
        raise RenderError(
            f"{out} is read-only, so it was left as it is; choose another --out, make it "
            "writable, or pass --force to replace it"
        )


def _temporary(out: Path, private: bool) -> tuple[int, str]:
    """Create the temporary file beside `out`: 0600 when its mode is set afterwards (a key
    never sits in a readable file, even briefly), else 0666 less the umask, as any new file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = str(out.parent / f"{_prefix(out)}{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o600 if private else 0o666), tmp
        except FileExistsError:
            continue


def _prefix(out: Path) -> str:
    """Hidden, and naming the writing process, so a later write can tell debris from work."""
    return f".{out.name}.{os.getpid()}."


def sweep(out: Path) -> None:
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
