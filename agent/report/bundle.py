"""Read a stored interview back for export and reports (write_atomic lives in files)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from agent.engines.llm.usage import totals
from agent.errors import NotFound
from agent.files import write_atomic
from agent.profile.models import Profile
from agent.store.db import SessionInfo, Store, Turn

__all__ = ["Bundle", "load_bundle", "profile_json", "session_usage", "write_atomic"]


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
    return Bundle(session, profile, store.turns(session.id), session_usage(store, session.id))


def session_usage(store: Store, sid: str) -> dict | None:
    """The session's model-call totals for the report's appendix; None without model calls."""
    calls = store.model_calls(sid)
    return totals(calls) if calls else None


def profile_json(profile: Profile) -> str:
    """The export document: the profile as indented JSON."""
    return json.dumps(profile.model_dump(mode="json"), indent=2, ensure_ascii=False)
