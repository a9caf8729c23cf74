"""Stops and restarts: what an interrupt keeps, what resume rebuilds and redoes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Self

from agent.errors import ICPError
from agent.interview.contract import Context, Engine
from agent.interview.question import pending_question
from agent.interview.strategy import strategy_for
from agent.profile.models import Profile
from agent.store.db import SessionInfo, Store, Turn

if TYPE_CHECKING:
    from agent.interview.loop import Interview

# In a profile version's meta: the answer whose model extraction was still running when the
# version was stored, so its items are not in it; `resume` extracts that answer again.
MODEL_PENDING = "model_pending"
CLOSING_RATING = "closing_rating"  # the respondent's 1-4 rating of the closing summary


class Recovery:
    """Interview's side of a stop: save on interrupt, and resume after an interrupt or a kill."""

    @classmethod
    def resume(cls, store: Store, engine: Engine, sid: str) -> Self:
        """Continue a session where it stopped, processing an answer a crash left unprocessed."""
        session = store.session(sid)
        cls._resumable(session)
        strategy = strategy_for(session)
        if session.status != "complete":
            store.claim(session.id)  # one writer: a second one gets "open elsewhere" now
        record = store.last_step(session.id)
        if record is None:  # killed inside start(): nothing was asked yet
            profile = strategy.start_profile(store, session)
            state = strategy.state_class(phase="sections" if strategy.kind else "intro")
            interview = cls(store, session, engine, profile, state, None, strategy)
            interview.begin()
            return interview
        profile = Profile.model_validate(record.data)
        state = strategy.state_class.model_validate(record.state)
        interview = cls(store, session, engine, profile, state, None, strategy)
        turns = store.turns(session.id)
        later = [t for t in turns if t.seq > record.after_seq]
        interview.question = pending_question(later)
        if record.meta.get(MODEL_PENDING) is not None:  # killed before the model's items landed
            interview._recover(record.meta[MODEL_PENDING], turns)
        answers = [t for t in later if t.speaker == "respondent"]
        if answers:  # stored before a crash but never processed: process the first, once
            interview._process(answers[0])
        elif interview.question is None and state.phase != "done":
            interview.begin(after_seq=record.after_seq)
        if session.status != "complete" and interview.question is not None:
            store.set_status(session.id, "active")
        return interview

    @classmethod
    def reopen(cls, store: Store, sid: str, make_engine: Callable[[str], Engine]) -> Self:
        """Resume a session to answer it, with the engine `make_engine(its engine's name)`
        makes; a merged profile or a completed interview says where its report is instead."""
        session = store.session(sid)
        cls._resumable(session)
        interview = cls.resume(store, make_engine(session.engine), session.id)
        if interview.done:
            sid = interview.session.id
            raise ICPError(f"interview {sid} is complete; `icp report {sid}` writes its report")
        return interview

    @staticmethod
    def _resumable(session: SessionInfo) -> None:
        if session.meta.get("kind") == "merged":
            raise ICPError(
                f"{session.id} is a merged profile; `icp report {session.id}` writes its report"
            )

    def interrupt(self: Interview) -> None:
        """Mark the session interrupted (Ctrl-C); everything answered is already stored."""
        if not self.done:
            self._settle_and_save()
            self.store.set_status(self.session.id, "interrupted")

    def _settle_and_save(self: Interview) -> None:
        """On interrupt: keep a background extraction that finishes soon, as a new version."""
        engine = self.engine
        if not engine.ready(3.0):
            # Still running: the stored version names its answer, `icp resume` extracts it again.
            engine.flush()  # the calls made so far, for the cost
            return
        waiting = engine.pending
        try:
            changed = self.pipeline.settle(self.profile, final=True, wait=3.0)
        except ICPError:  # the answers are stored; a model problem must not block leaving
            return
        if changed or waiting is not None:  # also when it added nothing: resume need not redo it
            self._save_settled()

    def _recover(self: Interview, seq: int, turns: list[Turn]) -> None:
        """Extract an answer again whose model items a stopped process never stored."""
        from agent.engines.llm.errors import ModelError

        turn = next((t for t in turns if t.seq == seq and t.speaker == "respondent"), None)
        if turn is None or not self.engine.background:
            return  # an offline resume: the offline items, already stored, are what it has
        recent = tuple(t for t in turns if t.seq <= seq)[-6:]
        context = Context(recent=recent, minutes_left=self.minutes_left())
        self.engine.extract(turn.text, turn.seq, turn.topic, context)  # its floor is stored
        try:
            self.pipeline.settle(self.profile, final=True)  # a failed call keeps the floor
        except ModelError as exc:
            raise type(exc)(
                f"{exc}. Every answer is saved: `icp resume {self.session.id}` continues"
            ) from None
        self._save_settled()

    def _save_settled(self: Interview) -> None:
        """Store the profile with what a background extraction added, at the same turn."""
        record = self.store.last_step(self.session.id)
        self.strategy.statuses(self)
        self.profile.version += 1
        self.store.save_step(
            self.session.id,
            record.after_seq if record else 0,
            self.profile.model_dump(mode="json"),
            self.state.model_dump(mode="json"),
            meta=self._meta(),
        )

    def _meta(self: Interview) -> dict | None:
        """The meta of the next stored version: the answer the model is still extracting, and
        the respondent's rating of the closing summary once given."""
        meta: dict = {}
        pending = self.engine.pending
        if pending is not None:
            meta[MODEL_PENDING] = pending
        if self.rating is not None:
            meta[CLOSING_RATING] = self.rating
        return meta or None
