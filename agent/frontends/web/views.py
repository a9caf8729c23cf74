"""What the browser pages and the chat API show: plain dicts built from an open interview."""

from __future__ import annotations

import re

from agent.errors import NotFound
from agent.interview.loop import Interview, Question
from agent.profile.models import SECTION_TITLES, Profile
from agent.report.bundle import load_bundle
from agent.report.summary import summarize
from agent.store.db import SessionInfo, Store, Turn

TOPIC_TITLES = {**SECTION_TITLES, "intro": "Getting started", "close": "Wrapping up"}
COMMANDS = {"/skip": "Skipped this topic", "/done": "Asked to wrap up"}
ROLE_TITLES = {"founder": "Founder", "sales": "Sales", "marketing": "Marketing", "cs": "CS"}
STATUS_LABELS = {
    "covered": "Covered",
    "vague": "Vague",
    "declined": "Declined",
    "pending": "Not yet",
}
STATUS_TITLES = {
    "active": "In progress",
    "interrupted": "Paused",
    "complete": "Complete",
}


def topic_title(topic: str | None) -> str:
    """A section key, `intro` or `close` as a heading."""
    return TOPIC_TITLES.get(topic or "", (topic or "").replace("_", " ").capitalize())


def question_json(question: Question) -> dict:
    """The pending question for the chat page's script."""
    return {
        "seq": question.seq,
        "text": question.text,
        "topic": question.topic,
        "topic_title": topic_title(question.topic),
        "preface": question.preface,
    }


def status_json(interview: Interview) -> dict:
    """Sections with their status, the current topic and the minutes left and budgeted."""
    status = interview.status()
    status["minutes_total"] = interview.session.minutes
    status["covered"] = sum(s["status"] == "covered" for s in status["sections"].values())
    return status


def profile_status(profile: Profile) -> dict:
    """The same shape as `status_json` for a profile with no interview behind it."""
    sections = {
        key: {"title": SECTION_TITLES[key], "status": s.status, "items": len(s.items)}
        for key, s in profile.sections.items()
    }
    covered = sum(s["status"] == "covered" for s in sections.values())
    return {
        "sections": sections,
        "current": None,
        "minutes_left": 0,
        "minutes_total": 0,
        "covered": covered,
        "questions": 0,
    }


def step_json(interview: Interview) -> dict:
    """What the chat API sends after an answer or command: the next question, or done."""
    if interview.question is None:
        return {"type": "done", "session": interview.session.id}
    return {
        "type": "question",
        "question": question_json(interview.question),
        "status": status_json(interview),
    }


def entries(turns: list[Turn], question: Question | None) -> list[dict]:
    """The transcript before the pending question, as chat bubbles and small event lines."""
    first_pending = (
        question.seq - (1 if question.preface else 0) if question else max(_seqs(turns)) + 1
    )
    out = []
    for turn in turns:
        if turn.seq >= first_pending:
            break
        if turn.speaker == "agent":
            who = "agent-note" if turn.kind == "note" else "agent"
            out.append({"who": who, "text": turn.text, "topic": topic_title(turn.topic)})
        elif turn.kind == "command":
            out.append({"who": "event", "text": COMMANDS.get(turn.text, turn.text)})
        else:
            out.append({"who": "you", "text": turn.text})
    return out


def chat_context(interview: Interview) -> dict:
    """Everything the chat page renders, read while the interview's store is open."""
    turns = interview.store.turns(interview.session.id)
    done = interview.question is None
    context = {
        "kind": "",
        "session": session_row(interview.session),
        "entries": entries(turns, interview.question),
        "question": question_json(interview.question) if interview.question else None,
        "status": status_json(interview),
        "done": done,
        "summary": summarize(interview.profile) if done else None,
        "product": interview.profile.product,
        "answers": sum(t.speaker == "respondent" and t.kind == "answer" for t in turns),
    }
    return context


def derived_context(sid: str) -> dict:
    """The summary page of a profile made from other sessions (`icp merge`): no chat."""
    store = Store()
    try:
        bundle = load_bundle(store, sid)
    except NotFound:
        bundle = None
    finally:
        store.close()
    if bundle is None or bundle.session.id != sid:
        raise NotFound(f"There is no interview {sid} here; the front page lists them all.")
    return {
        "kind": bundle.session.meta.get("kind", "derived"),
        "session": session_row(bundle.session),
        "entries": entries(bundle.turns, None),
        "question": None,
        "status": profile_status(bundle.profile),
        "done": True,
        "summary": summarize(bundle.profile),
        "product": bundle.profile.product,
        "answers": sum(t.kind == "answer" for t in bundle.turns),
    }


def session_row(info: SessionInfo) -> dict:
    """A session as the pages show it."""
    return {
        "id": info.id,
        "company": info.company,
        "role": ROLE_TITLES.get(info.role, info.role),
        "started": info.started[:16].replace("T", " "),
        "turns": info.turns,
        "status": info.status,
        "status_title": STATUS_TITLES.get(info.status, info.status),
        "minutes": info.minutes,
    }


def download_name(company: str, sid: str, fmt: str) -> str:
    """A safe file name for a report download: letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9]+", "-", company.lower()).strip("-")[:40]
    return f"icp-{slug + '-' if slug else ''}{sid}.{fmt}"


def _seqs(turns: list[Turn]) -> list[int]:
    return [t.seq for t in turns] or [0]
