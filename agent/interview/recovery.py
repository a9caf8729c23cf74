"""Stops and restarts: what an interrupt keeps, what resume rebuilds and redoes."""

from __future__ import annotations

from typing import Self

from agent.engines import Context, Engine
from agent.engines.llm.errors import ModelError
from agent.errors import ICPError
from agent.interview.planner import State
from agent.interview.question import Question, pending_question
from agent.lang import load_guide
from agent.lang.guide import Guide
from agent.profile.models import Profile
from agent.store.db import SessionInfo, Store, Turn

# In a profile version's meta: the answer whose model extraction was still running when the
# version was stored, so its items are not in it; `resume` extracts that answer again.
MODEL_PENDING = "model_pending"


class Recovery:
    """Interview's side of a stop: save on interrupt, and resume after an interrupt or a kill."""

    # Mixed into agent.interview.Interview, whose loop (_process, _advance, _settle, _restatus,
    # done, minutes_left) these methods call.
    state_class: type[State]
    store: Store
    session: SessionInfo
    engine: Engine
    profile: Profile
    state: State
    question: Question | None

    @classmethod
    def resume(cls, store: Store, engine: Engine, sid: str, guide: Guide | None = None) -> Self:
        """Continue a session where it stopped, processing an answer a crash left unprocessed."""
        session = store.session(sid)
        if session.status != "complete":
            store.claim(session.id)  # one writer: a second one gets "open elsewhere" now
        record = store.last_step(session.id)
        turns = store.turns(session.id)
        guide = guide or load_guide()
        if record is None:  # killed inside start(): nothing was asked yet
            profile = Profile(session=session.id, company=session.company, role=session.role)
            interview = cls(store, session, engine, guide, profile, State(), None)
            interview._advance(after_seq=0, last=None)
            return interview
        profile = Profile.model_validate(record.data)
        state = cls.state_class.model_validate(record.state)
        interview = cls(store, session, engine, guide, profile, state, None)
        later = [t for t in turns if t.seq > record.after_seq]
        interview.question = pending_question(later)
        if record.meta.get(MODEL_PENDING) is not None:  # killed before the model's items landed
            interview._recover(record.meta[MODEL_PENDING], turns)
        answers = [t for t in later if t.speaker == "respondent"]
        if answers:  # stored before a crash but never processed: process the first, once
            interview._process(answers[0])
        elif interview.question is None and state.phase != "done":
            interview._advance(after_seq=record.after_seq, last=None)
        if session.status != "complete" and interview.question is not None:
            store.set_status(session.id, "active")
        return interview

    def interrupt(self) -> None:
        """Mark the session interrupted (Ctrl-C); everything answered is already stored."""
        if not self.done:
            self._settle_and_save()
            self.store.set_status(self.session.id, "interrupted")

    def _settle_and_save(self) -> None:
        """On interrupt: keep a background extraction that finishes soon, as a new version."""
        ready = getattr(self.engine, "ready", None)
        if ready is not None and not ready(3.0):
            # Still running: the stored version names its answer, `icp resume` extracts it again.
            getattr(self.engine, "flush", lambda: None)()  # the calls made so far, for the cost
            return
        waiting = getattr(self.engine, "pending", None)
        try:
            changed = self._settle(final=True, wait=3.0)
        except ICPError:  # the answers are stored; a model problem must not block leaving
            return
        if changed or waiting is not None:  # also when it added nothing: resume need not redo it
            self._save_settled()

    def _recover(self, seq: int, turns: list[Turn]) -> None:
        """Extract an answer again whose model items a stopped process never stored."""
        turn = next((t for t in turns if t.seq == seq and t.speaker == "respondent"), None)
        if turn is None or getattr(self.engine, "settle", None) is None:
            return  # an offline resume: the offline items, already stored, are what it has
        recent = tuple(t for t in turns if t.seq <= seq)[-6:]
        context = Context(recent=recent, minutes_left=self.minutes_left())
        self.engine.extract(turn.text, turn.seq, turn.topic, context)  # its floor is stored
        try:
            self._settle(final=True)  # a failed call keeps the offline items, as it would have
        except ModelError as exc:
            raise type(exc)(
                f"{exc}. Every answer is saved: `icp resume {self.session.id}` continues"
            ) from None
        self._save_settled()

    def _save_settled(self) -> None:
        """Store the profile with what a background extraction added, at the same turn."""
        record = self.store.last_step(self.session.id)
        self._restatus()
        self.profile.version += 1
        self.store.save_step(
            self.session.id,
            record.after_seq if record else 0,
            self.profile.model_dump(mode="json"),
            self.state.model_dump(mode="json"),
            meta=self._meta(),
        )

    def _meta(self) -> dict | None:
        """The meta of the next stored version: the answer the model is still extracting."""
        pending = getattr(self.engine, "pending", None)
        return {MODEL_PENDING: pending} if pending is not None else None
