"""Read a stored interview back for export and reports, and write files atomically."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import NotFound, RenderError
from .profile import Profile
from .store import SessionInfo, Store, Turn
from .usage import totals


@dataclass(frozen=True)
class Bundle:
    """Everything a report needs about one session."""

    session: SessionInfo
    profile: Profile
    turns: list[Turn]
    usage: dict | None = None  # model-call totals (llm engine), for the report's appendix


def load_bundle(store: Store, sid: str, version: int | None = None) -> Bundle:
    """The session, its latest (or a given) profile version and its transcript."""
    session = store.session(sid)
    record = store.profile(session.id, version)
    if record is None:
        raise NotFound(f"session {session.id} has no profile yet")
    profile = Profile.model_validate(record.data)
    calls = store.model_calls(session.id)
    usage = totals(calls) if calls else None
    return Bundle(session, profile, store.turns(session.id), usage)


def profile_json(profile: Profile) -> str:
    """The export document: the profile as indented JSON."""
    return json.dumps(profile.model_dump(mode="json"), indent=2, ensure_ascii=False)


def write_atomic(out: Path, data: bytes) -> Path:
    """Write via a temporary file in the same folder, fsync, rename: never a half-written file."""
    out = Path(out)
    try:
        mode = out.stat().st_mode & 0o777 if out.exists() else 0o644
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
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
