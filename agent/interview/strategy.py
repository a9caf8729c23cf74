"""Who decides the next question: a strategy the interview loop asks after every step.

The loop owns what every interview shares (durable answers, the pipeline, wording, storage,
the closing); a strategy owns its running state and the choice of questions. The first
interview follows the guide's planner; the quarterly review (`agent.interview.review`) asks
what moved since a profile was made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from agent.interview.pipeline import Filed, update_statuses
from agent.interview.planner import Action, LastAnswer, State, plan
from agent.lang import Pack
from agent.lang.guide import Guide
from agent.profile.models import Profile
from agent.reading.quoteback import quote_backs
from agent.reading.statements import read_statement, split_statements

if TYPE_CHECKING:
    from agent.interview.loop import Interview
    from agent.profile.drift import Drift
    from agent.store.db import SessionInfo, Store, Turn


class Strategy:
    """The choice of questions for one kind of interview; the base asks nothing itself."""

    kind: ClassVar[str] = ""  # the session's meta "kind" this strategy resumes
    state_class: ClassVar[type[State]] = State

    def opening(self, interview: Interview) -> list[Action]:
        """The first question's candidates."""
        return self.next(interview, None)

    def topic(self, interview: Interview, turn: Turn) -> str | None:
        """The section an answer is filed under (its own cues may still file it elsewhere)."""
        return interview.state.current

    def after(self, interview: Interview, filed: Filed | None) -> list[Action]:
        """Candidates after an answer was filed (`filed` is None for the opening answer)."""
        return self.next(interview, filed)

    def next(self, interview: Interview, filed: Filed | None) -> list[Action]:
        """Candidates for the next question, best first; the loop asks the first one not asked."""
        raise NotImplementedError

    def skip(self, interview: Interview) -> list[Action]:
        """Candidates after /skip: leave the current topic."""
        return self.next(interview, None)

    def wrap_up(self, interview: Interview) -> list[Action]:
        """The closing question (after /done, or when nothing is left to ask)."""
        return [Action(kind="close")]

    def drift(self, interview: Interview) -> Drift | None:
        """What changed against the profile a review started from; None for other interviews."""
        return None

    def start_profile(self, store: Store, session: SessionInfo) -> Profile:
        """The profile a session starts from: empty, for a first interview."""
        return Profile(session=session.id, company=session.company, role=session.role)

    def quiet(self, text: str, pack: Pack) -> bool:
        """True for an answer filed by its own cues only, not under the question's section."""
        return False

    def statuses(self, interview: Interview) -> None:
        """Recompute the sections' statuses after a step."""
        state = interview.state
        self.restatus(interview.profile, interview.guide, set(state.declined), set(state.finished))

    def restatus(
        self,
        profile: Profile,
        guide: Guide,
        declined: set[str],
        finished: set[str],
        base: Profile | None = None,
    ) -> None:
        """Each section's status from its items, the sections declined and those finished."""
        update_statuses(profile, guide, declined, finished)


class FirstInterview(Strategy):
    """The guide's interview: every section in order, follow-ups paced to the time budget."""

    def topic(self, interview: Interview, turn: Turn) -> str | None:
        """The topic of the question it answers, as stored with the answer."""
        return turn.topic

    def after(self, interview: Interview, filed: Filed | None) -> list[Action]:
        """Note what the answer did to the current section, then plan."""
        state = interview.state
        key = state.current
        if filed is None or not key:
            return self.next(interview, None)
        if filed.asked_back and "clarify" not in state.used.get(key, []):
            return [self.clarify(interview, filed), *self.next(interview, None)]
        gained = filed.gained.get(key, 0)
        state.gained[key] = gained
        if filed.exhausted and key not in state.exhausted:
            state.exhausted.append(key)
        if filed.declined:
            if filed.dont_know:
                state.dont_knows[key] = state.dont_knows.get(key, 0) + 1
            if not interview.profile.sections[key].items and key not in state.declined:
                state.declined.append(key)
        spans = split_statements(filed.turn.text, interview.pack)
        readings = [read_statement(span, interview.pack, key) for span in spans]
        last = LastAnswer(
            section=key,
            dont_know=filed.dont_know,
            exhausted=filed.exhausted,
            gained=gained,
            concrete=any(r.concrete for r in readings),
            hedges=[
                q for r in readings for q in quote_backs(r.span.text, r.hedges, interview.pack)
            ],
        )
        return self.next(interview, last)

    def clarify(self, interview: Interview, filed: Filed) -> Action:
        """Say what the question meant, then ask it again: it is not filed, nor moved on from."""
        question = interview.question
        offered = interview.pack.meaning.alternatives_re.search(filed.turn.text)
        return Action(
            kind="probe",
            section=interview.state.current,
            probe="clarify",
            phrase=question.text if question else "",
            hedge="either" if offered else "",
        )

    def next(self, interview: Interview, last: LastAnswer | Filed | None) -> list[Action]:
        """The planner's candidates."""
        last = last if isinstance(last, LastAnswer) else None
        return plan(
            interview.state, interview.profile, interview.guide, interview.session.minutes, last
        )

    def skip(self, interview: Interview) -> list[Action]:
        """Leave the current section for good; one with nothing in it counts as declined."""
        state = interview.state
        key = state.current
        if key:
            if not interview.profile.sections[key].items and key not in state.declined:
                state.declined.append(key)
            state.dont_knows[key] = 99
        return self.next(interview, None)


def strategy_for(session: SessionInfo) -> Strategy:
    """The strategy a stored session was started with, from its meta "kind"."""
    if session.meta.get("kind") == "review":
        from agent.interview.review import QuarterlyReview

        return QuarterlyReview()
    return FirstInterview()
