"""The quarterly review interview: start from a profile, ask what moved, probe only that.

A review is a new session linked to the profile it reviews (`meta.review_of`): version 1 is
that profile carried over, and every answer adds to it. It runs on the Interview loop (durable
answers, the pipeline, storage, resume, front ends) as a strategy: only the choice of the next
question is its own.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from agent.interview.contract import Engine
from agent.interview.loop import Interview
from agent.interview.pipeline import Filed, update_statuses
from agent.interview.planner import Action, State, normalise_question, questions_left
from agent.interview.recap import summary_lines
from agent.interview.strategy import Strategy
from agent.lang import DEFAULT, Pack, load_pack
from agent.lang.guide import Guide
from agent.profile.drift import Drift, compare, load
from agent.profile.models import SECTION_KEYS, SECTION_TITLES, Profile
from agent.prompts import render
from agent.reading.statements import is_dont_know
from agent.store.db import SessionInfo, Store, Turn

DEFAULT_MINUTES = 15


class ReviewState(State):
    """The interview state plus where the review is: next question, sections to probe."""

    step: int = 0
    queue: list[str] = Field(default_factory=list)
    probed: list[str] = Field(default_factory=list)


class QuarterlyReview(Strategy):
    """A short interview over an existing profile: what moved, and follow-ups on only that.

    A review session is linked to the profile it reviews (`meta.review_of`); its version 1 is
    that profile carried over (`carried`), and every answer adds to it.
    """

    kind = "review"
    state_class = ReviewState

    def __init__(self, preface: str = ""):
        self.preface = preface  # the first question's lead-in: what the profile said
        self._base: tuple[str, Profile] | None = None

    def base(self, interview: Interview) -> tuple[str, Profile]:
        """The reference and profile the review started from."""
        if self._base is None:
            ref = interview.session.meta["review_of"]
            self._base = ref, load(interview.store, ref)[1]
        return self._base

    def drift(self, interview: Interview) -> Drift:
        """What changed against the reviewed profile so far."""
        ref, old = self.base(interview)
        new = f"{interview.session.id}@{interview.profile.version}"
        return compare(old, interview.profile, ref, new)

    def topic(self, interview: Interview, turn: Turn) -> str | None:
        """The question's section, unless the answer says nothing moved."""
        return None if self.quiet(turn.text, interview.pack) else interview.state.current

    def quiet(self, text: str, pack: Pack) -> bool:
        """An answer that says nothing moved, or that the respondent does not know: "No change
        there" is not filed under the question's section; a statement with cues still is."""
        return bool(pack.review.no_change_re.search(text)) or is_dont_know(text, pack)

    def after(self, interview: Interview, filed: Filed | None) -> list[Action]:
        """Queue a follow-up for each section the answer changed, then ask the next question."""
        state = interview.state
        hint = state.current
        if filed is not None and not self.quiet(filed.turn.text, interview.pack):
            for key in filed.changed or ([hint] if hint else []):
                if key not in state.probed and key not in state.queue:
                    state.queue.append(key)
        return self.next(interview, filed)

    def wrap_up(self, interview: Interview) -> list[Action]:
        """The review's own closing question."""
        return [self.close(interview)]

    def start_profile(self, store: Store, session: SessionInfo) -> Profile:
        """The reviewed profile, carried over."""
        start = review_start(store, session)
        assert start is not None
        return start

    def skip(self, interview: Interview) -> list[Action]:
        """Leave this section's follow-ups."""
        state = interview.state
        state.queue = [key for key in state.queue if key != state.current]
        return self.next(interview, None)

    def next(self, interview: Interview, filed: Filed | None) -> list[Action]:
        """A follow-up on a section that changed, else the next review question, else close."""
        state, review = interview.state, interview.pack.review
        if questions_left(state, interview.guide, interview.session.minutes) <= 0:
            return [self.close(interview)]
        while state.queue:
            key = state.queue.pop(0)
            state.probed.append(key)
            used = state.used.get(key, [])
            actions = [
                Action(kind="probe", section=key, probe=probe)
                for probe in ("example", "more")
                if probe not in used
            ]
            if actions:
                return actions
        preface, self.preface = self.preface, ""
        while state.step < len(review.questions):
            question = review.questions[state.step]
            state.step += 1
            text = render(question.text)
            if normalise_question(text) not in state.asked_texts:
                topic = question.section or "review"
                return [
                    Action(
                        kind="ask",
                        section=question.section,
                        topic=topic,
                        text=text,
                        preface=preface,
                    )
                ]
        return [self.close(interview)]

    def close(self, interview: Interview) -> Action:
        """The closing question, after a summary of what changed."""
        closing = interview.pack.review.closing
        lines = [_change_line(s) for s in self.drift(interview).sections]
        preface = render(closing["changed"], lines=lines) if lines else render(closing["unchanged"])
        return Action(kind="close", text=render(closing["question"]), preface=preface)

    def statuses(self, interview: Interview) -> None:
        """New statuses for the sections the review added to; the others keep the reviewed one."""
        self.restatus(interview.profile, interview.guide, set(), set(), self.base(interview)[1])

    def restatus(
        self,
        profile: Profile,
        guide: Guide,
        declined: set[str],
        finished: set[str],
        base: Profile | None = None,
    ) -> None:
        """Every section counts as asked; one the review added nothing to keeps its status."""
        update_statuses(profile, guide, declined, set(SECTION_KEYS))
        for key, section in (base.sections if base else {}).items():
            if len(section.items) == len(profile.sections[key].items):
                profile.sections[key].status = section.status


def begin_review(
    store: Store, engine: Engine, ref: str, *, minutes: float = DEFAULT_MINUTES
) -> Interview:
    """Create a review session (version 1: the reviewed profile) and ask its first question."""
    old_session, old = load(store, ref)
    base = f"{old_session.id}@{old.version}"
    session = store.create_session(
        company=old_session.company,
        role=old_session.role,
        engine=engine.name,
        minutes=minutes,
        meta={"kind": "review", "review_of": base, "lang": old_session.meta.get("lang", DEFAULT)},
    )
    pack = load_pack(session.meta["lang"])
    date = _date(old_session.started)
    preface = render(pack.review.preface, date=date, lines=summary_lines(old))
    strategy = QuarterlyReview(preface)
    profile = carried(old, old_session.id, session.id)
    interview = Interview(
        store, session, engine, profile, ReviewState(phase="sections"), None, strategy
    )
    interview.begin()
    return interview


def review_start(store: Store, session: SessionInfo) -> Profile | None:
    """For re-extracting a review session: the reviewed profile it started from, else None."""
    ref = session.meta.get("review_of") if session.meta.get("kind") == "review" else None
    if not ref:
        return None
    old_session, old = load(store, ref)
    return carried(old, old_session.id, session.id)


def carried(old: Profile, old_session: str, new_session: str) -> Profile:
    """The reviewed profile as the review's start; its evidence names the session it cites."""
    profile = old.model_copy(deep=True)
    profile.session, profile.version, profile.synthesis = new_session, 0, None
    for _, item in profile.all_items():
        item.evidence = [
            ev if ev.session else ev.model_copy(update={"session": old_session})
            for ev in item.evidence
        ]
    return profile


def _change_line(section) -> str:
    parts = []
    for label, values in (("new", section.added), ("changed", section.changed)):
        if values:
            parts.append(f"{len(values)} {label}")
    if section.removed:
        parts.append(f"{len(section.removed)} no longer said")
    return f"{SECTION_TITLES[section.key]}: {', '.join(parts) or 'status changed'}."


def _date(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%d %B %Y")
    except ValueError:
        return iso
