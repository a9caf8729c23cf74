"""Undo Wrap up in the browser: until the closing answer is sent, go back to the interview."""

from __future__ import annotations

from agent.errors import ICPError
from agent.interview.loop import Interview
from agent.interview.question import Question, pending_question


class NothingToUndo(ICPError):
    """The pending question is not a closing question that Wrap up asked for."""


def undo_wrap_up(interview: Interview) -> Question:
    """Ask again the question that was pending when the respondent chose Wrap up.

    Turns are immutable, so the undo is a `/undo` command turn and the question asked anew,
    stored in one transaction with the interview state from before the wrap-up. The profile
    stays as it is now: it may hold items the engine finished after the last answer.
    """
    store, sid, closing = interview.store, interview.session.id, interview.question
    turns = store.turns(sid)
    said = [t for t in turns if closing and t.seq < closing.seq and t.speaker == "respondent"]
    if closing is None or closing.topic != "close" or not said or said[-1].text != "/done":
        raise NothingToUndo("There is no wrap-up to undo: the interview has moved on.")
    wrap = said[-1]
    before = pending_question([t for t in turns if t.seq < wrap.seq])
    record = store.step_before(sid, wrap.seq)
    if before is None or record is None:
        raise NothingToUndo("There is no question to go back to.")
    state = interview.strategy.state_class.model_validate(record.state)
    state.active_seconds = interview.state.active_seconds  # the clock does not go back
    undo_seq = turns[-1].seq + 1
    asked = [("respondent", "/undo", closing.topic, "command")]
    if before.preface:
        asked.append(("agent", before.preface, before.topic, "note"))
    asked.append(("agent", before.text, before.topic, "question"))
    interview.profile.version += 1
    stored = store.save_step(
        sid,
        undo_seq,
        interview.profile.model_dump(mode="json"),
        state.model_dump(mode="json"),
        asked,
        meta={"undo_wrap_up": wrap.seq},
    )
    if stored[0].seq != undo_seq:  # another writer came between: let a reload sort it out
        raise ICPError("The interview changed meanwhile; reload the page.")
    interview.state = state
    question = stored[-1]
    interview.question = Question(
        question.seq, question.text, question.topic, before.preface, question.created
    )
    return interview.question
