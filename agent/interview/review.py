"""The quarterly review interview: start from a profile, ask what moved, probe only that.

A review is a new session linked to the profile it reviews (`meta.review_of`): version 1 is
that profile carried over, and every answer adds to it. It reuses the Interview loop (durable
answers, storage, resume, front ends) and replaces only the choice of the next question.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from agent.engines import Engine
from agent.engines.offline import summary_lines
from agent.interview.loop import Interview
from agent.interview.planner import Action, State, normalise_question, questions_left
from agent.interview.question import answer_seconds
from agent.lang import load_guide, load_pack
from agent.lang.guide import Guide
from agent.lang.review import ReviewWords
from agent.profile.drift import Drift, compare, load
from agent.profile.models import SECTION_KEYS, SECTION_TITLES, Profile
from agent.prompts import render
from agent.reading.sections import update_statuses
from agent.reading.statements import is_dont_know
from agent.store.db import SessionInfo, Store, Turn

DEFAULT_MINUTES = 15


class ReviewState(State):
    """The interview state plus where the review is: next question, sections to probe."""

    step: int = 0
    queue: list[str] = Field(default_factory=list)
    probed: list[str] = Field(default_factory=list)


def says_no_change(answer: str) -> bool:
    """Whether an answer says nothing moved."""
    return bool(load_review().no_change_re.search(answer))


def load_review() -> ReviewWords:
    """The review questions of the default language pack."""
    return load_pack().review


class ReviewInterview(Interview):
    """A short interview over an existing profile; `begin` starts one, `resume` continues."""

    state_class = ReviewState
    state: ReviewState

    @classmethod
    def begin(
        cls,
        store: Store,
        engine: Engine,
        ref: str,
        *,
        minutes: float = DEFAULT_MINUTES,
        guide: Guide | None = None,
    ) -> ReviewInterview:
        """Create the review session (version 1: the reviewed profile), ask the first question."""
        old_session, old = load(store, ref)
        base = f"{old_session.id}@{old.version}"
        session = store.create_session(
            company=old_session.company,
            role=old_session.role,
            engine=engine.name,
            minutes=minutes,
            meta={"kind": "review", "review_of": base},
        )
        profile = carried(old, old_session.id, session.id)
        state = ReviewState(phase="sections")
        interview = cls(store, session, engine, guide or load_guide(), profile, state, None)
        date = _date(old_session.started)
        lines = summary_lines(old)
        interview._next(0, render(load_review().preface, date=date, lines=lines))
        return interview

    def base(self) -> tuple[str, Profile]:
        """The reference and profile this review started from."""
        ref = self.session.meta["review_of"]
        return ref, load(self.store, ref)[1]

    def drift(self) -> Drift:
        """What changed against the reviewed profile so far."""
        ref, old = self.base()
        return compare(old, self.profile, ref, f"{self.session.id}@{self.profile.version}")

    # the loop's hooks
    def _process(self, turn: Turn) -> None:
        state = self.state
        self._settle()
        state.active_seconds += answer_seconds(self.question, turn)
        if turn.kind == "command":
            if turn.text == "/done" and state.phase != "closing":
                self._close(turn.seq)
            elif turn.text == "/done":
                self._ask([], turn.seq)
            else:  # /skip: leave this section's follow-ups
                state.queue = [key for key in state.queue if key != state.current]
                self._next(turn.seq)
            return
        if state.phase == "closing":
            self._file(turn, None, closing=True)
            self._ask([], turn.seq)  # nothing left to ask: the loop finishes and saves
            return
        hint = state.current
        quiet = says_no_change(turn.text) or is_dont_know(turn.text, self.guide)
        # "No change there" is not filed under the question's section; cued statements still are.
        found = self._file(turn, None if quiet else hint)
        if not quiet:
            for key in found or ([hint] if hint else []):
                if key not in state.probed and key not in state.queue:
                    state.queue.append(key)
        self._next(turn.seq)

    def _advance(self, after_seq: int, last: object = None) -> None:
        self._next(after_seq)

    # internals
    def _file(self, turn: Turn, hint: str | None, closing: bool = False) -> list[str]:
        """Merge what the answer says; the sections that gained items."""
        items = self.engine.extract(turn.text, turn.seq, hint, self.context())
        # The closing answer is filed as a re-extraction files it: corrections get noted.
        topic = "close" if closing else hint
        found = self._merge(items, turn, topic)
        self._restatus()
        return found

    def _restatus(self) -> None:
        """New statuses for the sections the review added to; the others keep the reviewed one."""
        _, old = self.base()
        before = {key: s.status for key, s in self.profile.sections.items()}
        update_statuses(self.profile, self.guide, set(), set(SECTION_KEYS))
        for key, status in before.items():
            if len(self.profile.sections[key].items) == len(old.sections[key].items):
                self.profile.sections[key].status = status

    def _next(self, after_seq: int, preface: str = "") -> None:
        """A follow-up on a section that changed, else the next review question, else close."""
        state, review = self.state, load_review()
        if questions_left(state, self.guide, self.session.minutes) <= 0:
            self._close(after_seq)
            return
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
                self._ask(actions, after_seq)
                return
        while state.step < len(review.questions):
            question = review.questions[state.step]
            state.step += 1
            text = render(question.text)
            if normalise_question(text) not in state.asked_texts:
                self._ask_fixed(
                    text, question.section or "review", question.section, preface, after_seq
                )
                return
        self._close(after_seq)

    def _close(self, after_seq: int) -> None:
        """The closing question, after a summary of what changed."""
        closing = load_review().closing
        lines = [_change_line(s) for s in self.drift().sections]
        preface = render(closing["changed"], lines=lines) if lines else render(closing["unchanged"])
        self.state.phase = "closing"
        self._ask_fixed(render(closing["question"]), "close", None, preface, after_seq)

    def _ask_fixed(
        self, text: str, topic: str, current: str | None, preface: str, after_seq: int
    ) -> None:
        """Store a question from the review guide with the profile so far."""
        state = self.state
        state.questions += 1
        state.asked_texts.append(normalise_question(text))
        state.current, state.last = current, None
        self._commit(after_seq, text, topic, preface)


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
