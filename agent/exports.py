"""Read a stored interview back for export and reports, and write files atomically."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import NotFound, RenderError
from .profile import Profile
from .store import SessionInfo, Store, Turn


@dataclass(frozen=True)
class Bundle:
    """Everything a report needs about one session."""

    session: SessionInfo
    profile: Profile
    turns: list[Turn]


def load_bundle(store: Store, sid: str, version: int | None = None) -> Bundle:
    """The session, its latest (or a given) profile version and its transcript."""
    session = store.session(sid)
    record = store.profile(session.id, version)
    if record is None:
        raise NotFound(f"session {session.id} has no profile yet")
    profile = Profile.model_validate(record.data)
    return Bundle(session, profile, store.turns(session.id))


def profile_json(profile: Profile) -> str:
    """The export document: the profile as indented JSON."""
    return json.dumps(profile.model_dump(mode="json"), indent=2, ensure_ascii=False)


def write_atomic(path: Path, data: bytes) -> Path:
    """Write via a temporary file in the same folder, fsync, then rename over the target."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise RenderError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise RenderError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    return path
