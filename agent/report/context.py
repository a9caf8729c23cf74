"""What the report adds for the joint review: rubric, team lists, conflicts and sign-off dates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from agent.joint.conflicts import Conflict, load_conflicts
from agent.joint.review import signoffs
from agent.profile.models import SECTION_KEYS, SECTION_TITLES, Item, Profile, Review
from agent.report.playbook import for_teams
from agent.scoring.rubric import derive
from agent.store.db import SessionInfo

REVIEW_EVERY_DAYS = 90


@dataclass
class Joint:
    """The respondents behind a merged profile, where they agree and where they conflict."""

    merged: bool = False
    name: str = ""
    sources: list[dict] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    agreements: list[tuple[str, Item]] = field(default_factory=list)
    single_source: int = 0


def joint(profile: Profile, session: SessionInfo) -> Joint:
    """The merge details of a merged session; an empty Joint for a single interview."""
    meta = session.meta or {}
    if meta.get("kind") != "merged":
        return Joint()
    items = [(key, item) for key in SECTION_KEYS for item in profile.sections[key].items]
    return Joint(
        merged=True,
        name=meta.get("name", ""),
        sources=list(meta.get("sources", [])),
        roles=roles_of(session),
        conflicts=load_conflicts(meta.get("conflicts")),
        agreements=[(SECTION_TITLES[k], i) for k, i in items if len(i.support) >= 2],
        single_source=sum(len(i.support) == 1 for _, i in items),
    )


def review_dates(session: SessionInfo) -> tuple[date, date]:
    """The review date (when the profile was made) and the next quarterly review."""
    try:
        made = datetime.fromisoformat(session.ended or session.started).date()
    except (TypeError, ValueError):
        made = date.today()
    return made, made + timedelta(days=REVIEW_EVERY_DAYS)


def review_context(profile: Profile, session: SessionInfo) -> dict[str, Any]:
    """The report's `review` variable: rubric, For marketing / For sales, merge, decisions,
    sign-off (filled in when the joint review signed it)."""
    made, following = review_dates(session)
    record = profile.review or Review()
    signs = signoffs(profile)
    current = [s for s in signs.values() if s and s["current"]]
    if len(current) == len(signs):  # signed: the next review is 90 days after the signature
        made = max(datetime.fromisoformat(s["at"]).date() for s in current)
        following = made + timedelta(days=REVIEW_EVERY_DAYS)
    return {
        "rubric": derive(profile, decided(session, profile)),
        "teams": for_teams(profile),
        "joint": joint(profile, session),
        "decisions": {
            cid: {**d.model_dump(), "due": _day(d.due), "on": _day(d.at)}
            for cid, d in record.decisions.items()
        },
        "owner": record.owner,
        "signoffs": {team: s and {**s, "on": _day(s["at"])} for team, s in signs.items()},
        "signed": len(current) == len(signs),
        "review_date": made.strftime("%d %B %Y"),
        "next_review": following.strftime("%d %B %Y"),
        "every_days": REVIEW_EVERY_DAYS,
    }


def decided(session: SessionInfo, profile: Profile) -> list[dict]:
    """A merged session's conflicts as the rubric reads them, each with its decision if any."""
    decisions = (profile.review or Review()).decisions
    out = []
    for conflict in load_conflicts((session.meta or {}).get("conflicts")):
        doc = conflict.model_dump(mode="json")
        if conflict.id in decisions:
            doc["decision"] = decisions[conflict.id].model_dump()
        out.append(doc)
    return out


def _day(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%d %B %Y")
    except (TypeError, ValueError):
        return iso


def source_line(session: SessionInfo, profile: Profile) -> str:
    """Where a rubric came from, for the rules file header."""
    if session.meta.get("kind") == "merged":
        who = ", ".join(f"{s['role']} {s['id']}" for s in session.meta.get("sources", []))
        return f"merged profile {session.id} ({who})"
    role = f"{session.role}, " if session.role else ""
    return f"session {session.id} ({role}profile version {profile.version})"


def roles_of(session: SessionInfo) -> dict[str, str]:
    """Session id to role for the sources of a merged session (empty otherwise)."""
    return {s["id"]: s.get("role") or s["id"] for s in (session.meta or {}).get("sources", [])}
