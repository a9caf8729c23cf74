"""What the browser pages and the chat API show: plain dicts built from an open interview."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from agent.errors import NotFound
from agent.interview.loop import Interview, Question
from agent.interview.planner import questions_left
from agent.interview.question import IDLE_CAP_SECONDS
from agent.lang import load_pack
from agent.profile.models import SECTION_TITLES, Profile
from agent.report.bundle import load_bundle
from agent.report.summary import summarize
from agent.store.db import SessionInfo, Store, Turn

PACE_AFTER = 2  # answers before the observed pace replaces the guide's minutes per question


def labels() -> dict[str, str]:
    """A section's progress label by state (now, not_asked, skipped, covered...)."""
    return load_pack().ui.progress


def commands() -> dict[str, str]:
    """A command turn as the transcript shows it."""
    return load_pack().ui.events


def topic_title(topic: str | None) -> str:
    """A section key, `intro` or `close` as a heading."""
    titles = {**SECTION_TITLES, **load_pack().ui.topics}
    return titles.get(topic or "", (topic or "").replace("_", " ").capitalize())


def role_titles() -> dict[str, str]:
    """Who answers, as the pages name them: founder, sales, marketing, cs."""
    return load_pack().ui.roles


def question_json(question: Question) -> dict:
    """The pending question for the chat page's script."""
    return {
        "seq": question.seq,
        "text": question.text,
        "topic": question.topic,
        "topic_title": topic_title(question.topic),
        "preface": question.preface,
    }


def status_json(
    interview: Interview, turns: list[Turn] | None = None, asking: str | None = None
) -> dict:
    """Sections with their progress as it reads now, the current topic, and the time left
    from the clock and the respondent's own pace. `asking`: the topic of the question being
    worded, when it is not the pending one yet."""
    status = interview.status()
    turns = interview.store.turns(interview.session.id) if turns is None else turns
    state, done = interview.state, interview.question is None and asking is None
    skipped = {t.topic for t in turns if t.kind == "command" and t.text == "/skip"}
    if asking is None:
        asking = interview.question.topic if interview.question else None
    review = interview.session.meta.get("kind") == "review"
    for key, section in status["sections"].items():
        if not done and key == asking:
            shown = "now"
        elif key in skipped:
            shown = "skipped"
        elif section["status"] == "declined":
            shown = "declined"
        elif key not in state.visited and not review:
            shown = "not_asked"
        elif section["status"] in ("covered", "vague"):
            shown = section["status"]
        else:
            shown = "empty"
        section["state"], section["label"] = shown, labels()[shown]
    status["current"] = asking if asking in status["sections"] else None
    status["minutes_total"] = interview.session.minutes
    status["covered"] = sum(s["status"] == "covered" for s in status["sections"].values())
    status["answers"] = sum(t.is_answer for t in turns)
    status.update(timer(interview, status["answers"]))
    return status


def timer(interview: Interview, answers: int) -> dict:
    """Time left, from the clock and from the respondent's pace, and how it ticks down.

    The planner ends the interview when its budget runs out: by the clock (idle minutes
    capped) or by one minute per question, whichever is more. At a fast pace that is sooner
    than the clock says, so the time left is the smaller of the clock and the questions that
    still fit times the seconds the respondent takes per answer. `timer` tells the page how
    to count down until the next answer: the clock runs until the idle cap, the current
    question's share of the pace runs out, the rest waits for the next answer.
    """
    state, guide, session = interview.state, interview.guide, interview.session
    question = interview.question
    if question is None:
        return {
            "minutes_left": 0,
            "seconds_left": 0,
            "questions_left": 0,
            "pace_seconds": 0,
            "timer": None,
        }
    since = 0.0
    if question.asked_at:
        asked = datetime.fromisoformat(question.asked_at)
        since = min(max((datetime.now(UTC) - asked).total_seconds(), 0.0), IDLE_CAP_SECONDS)
    clock = max(0.0, session.minutes * 60 - state.active_seconds - since)
    pace = (
        state.active_seconds / answers if answers >= PACE_AFTER else guide.minutes_per_question * 60
    )
    closing = question.topic == "close"
    later = 0 if closing else questions_left(state, guide, session.minutes) + 1  # + closing
    current = max(pace - since, 0.0)
    left = min(clock, current + later * pace)
    return {
        "minutes_left": round(left / 60, 1),
        "seconds_left": round(left),
        "questions_left": later + 1,
        "pace_seconds": round(pace),
        "timer": {
            "clock": round(clock),
            "idle": round(IDLE_CAP_SECONDS - since),
            "current": round(current),
            "after": round(later * pace),
        },
    }


def profile_status(profile: Profile) -> dict:
    """The same shape as `status_json` for a profile with no interview behind it."""
    sections = {}
    for key, s in profile.sections.items():
        shown = s.status if s.status in ("covered", "vague", "declined") else "empty"
        sections[key] = {
            "title": SECTION_TITLES[key],
            "status": s.status,
            "items": len(s.items),
            "state": shown,
            "label": labels()[shown],
        }
    covered = sum(s["status"] == "covered" for s in sections.values())
    return {
        "sections": sections,
        "current": None,
        "minutes_left": 0,
        "minutes_total": 0,
        "covered": covered,
        "questions": 0,
        "timer": None,
    }


def step_json(interview: Interview) -> dict:
    """What the chat API sends after an answer or command: the next question, or done."""
    if interview.question is None:
        return {"type": "done", "session": interview.session.id}
    turns = interview.store.turns(interview.session.id)
    return {
        "type": "question",
        "question": question_json(interview.question),
        "status": status_json(interview, turns),
        "can_undo": can_undo(turns, interview.question),
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
            out.append({"who": "event", "text": commands().get(turn.text, turn.text)})
        else:
            out.append({"who": "you", "text": turn.text})
    return out


def chat_context(interview: Interview) -> dict:
    """Everything the chat page renders, read while the interview's store is open."""
    sid = interview.session.id
    turns = interview.store.turns(sid)
    done = interview.question is None
    draft = interview.store.draft(sid)
    return {
        "kind": "",
        "session": session_row(interview.session),
        "entries": entries(turns, interview.question),
        "question": question_json(interview.question) if interview.question else None,
        "status": status_json(interview, turns),
        "done": done,
        "summary": summarize(interview.profile) if done else None,
        "product": interview.profile.product,
        "answers": sum(t.is_answer for t in turns),
        "draft": draft[1] if draft and not done else "",
        "can_undo": can_undo(turns, interview.question),
    }


def can_undo(turns: list[Turn], question: Question | None) -> bool:
    """True when the pending question is the closing one the respondent's Wrap up asked for."""
    if question is None or question.topic != "close":
        return False
    before = [t for t in turns if t.seq < question.seq and t.speaker == "respondent"]
    return bool(before) and before[-1].kind == "command" and before[-1].text == "/done"


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
        "answers": sum(t.is_answer for t in bundle.turns),
        "draft": "",
        "can_undo": False,
    }


def session_row(info: SessionInfo) -> dict:
    """A session as the pages show it."""
    return {
        "id": info.id,
        "company": info.company,
        "role": role_titles().get(info.role, info.role),
        "started": info.started[:16].replace("T", " "),
        "turns": info.turns,
        "status": info.status,
        "status_title": load_pack().ui.session_status.get(info.status, info.status),
        "minutes": info.minutes,
        "reviewable": info.status == "complete",
    }


def download_name(company: str, sid: str, fmt: str) -> str:
    """A safe file name for a report download: letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9]+", "-", company.lower()).strip("-")[:40]
    return f"icp-{slug + '-' if slug else ''}{sid}.{fmt}"


def _seqs(turns: list[Turn]) -> list[int]:
    return [t.seq for t in turns] or [0]
