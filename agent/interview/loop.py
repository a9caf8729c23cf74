"""The interview loop shared by every front end: durable answers, extraction, next question."""

from __future__ import annotations

from collections.abc import Callable

from agent.engines import Context, Engine
from agent.engines.llm.errors import ModelError
from agent.errors import ICPError, InputError
from agent.interview.planner import (
    Action,
    LastAnswer,
    State,
    apply,
    elapsed_minutes,
    normalise_question,
    plan,
)
from agent.interview.question import Question, answer_seconds
from agent.interview.recovery import MODEL_PENDING as MODEL_PENDING
from agent.interview.recovery import Recovery
from agent.lang import load_guide
from agent.lang.guide import Guide
from agent.profile.models import SECTION_KEYS, SECTION_TITLES, Item, Profile
from agent.reading.quoteback import quote_backs
from agent.reading.sections import (
    correctable,
    merge,
    merge_answer,
    note_corrections,
    update_statuses,
)
from agent.reading.statements import (
    clean_answer,
    is_dont_know,
    is_exhausted,
    read_statement,
    split_statements,
)
from agent.store.db import SessionInfo, Store, Turn

MAX_ANSWER_CHARS = 200_000


class EmptyAnswer(InputError):
    """An answer with nothing in it; the question is asked again."""


class Interview(Recovery):
    """One interview session: answer() stores, extracts and returns the next question."""

    state_class: type[State] = State  # a subclass may keep more running state (agent.review)

    def __init__(
        self,
        store: Store,
        session: SessionInfo,
        engine: Engine,
        guide: Guide,
        profile: Profile,
        state: State,
        question: Question | None,
    ):
        self.store, self.session, self.engine, self.guide = store, session, engine, guide
        self.profile, self.state, self.question = profile, state, question
        self.on_token: Callable[[str], None] | None = None  # a front end's streaming sink
        # The closing answer, the sections it could correct and its items, for the model's late
        # items: they may correct something too.
        self._closing: tuple[Turn, set[str], list[tuple[str, Item]]] | None = None
        bind = getattr(engine, "bind", None)  # the llm engine records its calls in the store
        if bind is not None:
            bind(store, session.id)

    def context(self, recent: int = 6) -> Context:
        """What the engine may see: the last few turns, the minutes left, the token sink."""
        turns = tuple(self.store.turns(self.session.id)[-recent:])
        return Context(recent=turns, minutes_left=self.minutes_left(), on_token=self.on_token)

    @classmethod
    def start(
        cls,
        store: Store,
        engine: Engine,
        *,
        company: str = "",
        role: str = "",
        minutes: float = 30,
        guide: Guide | None = None,
    ) -> Interview:
        """Create a session and ask the first question."""
        if minutes <= 0:
            raise InputError("--minutes must be more than 0")
        session = store.create_session(
            company=company, role=role, engine=engine.name, minutes=minutes
        )
        profile = Profile(session=session.id, company=session.company, role=session.role)
        interview = cls(store, session, engine, guide or load_guide(), profile, State(), None)
        interview._advance(after_seq=0, last=None)
        return interview

    @property
    def done(self) -> bool:
        """True when the interview has ended."""
        return self.state.phase == "done"

    def answer(self, text: str) -> Question | None:
        """Store an answer durably, extract from it, and return the next question."""
        if self.done or self.question is None:
            raise ICPError("this interview has ended; `icp report` writes its report")
        if not isinstance(text, str):
            raise InputError("an answer must be text")
        text = clean_answer(text)
        if not text:
            raise EmptyAnswer("an empty answer was not stored; please type an answer")
        if len(text) > MAX_ANSWER_CHARS:
            raise InputError(
                f"that answer is over {MAX_ANSWER_CHARS:,} characters; please shorten it"
            )
        turn = self.store.add_turn(
            self.session.id, "respondent", text, self.question.topic, "answer"
        )
        self._guarded(turn)
        return self.question

    def _guarded(self, turn: Turn) -> None:
        """Process a stored turn; a model error that needs the user says how to continue."""
        try:
            self._process(turn)
        except ICPError as exc:
            if self.question is not None and isinstance(exc, ModelError):
                self.store.set_status(self.session.id, "interrupted")
                raise type(exc)(
                    f"{exc}. Your answer is saved: `icp resume {self.session.id}` continues"
                ) from None
            raise

    def skip(self) -> Question | None:
        """Leave the current topic (/skip)."""
        return self._command("/skip")

    def wrap_up(self) -> Question | None:
        """Go to the closing question now, or finish if it was already asked (/done)."""
        return self._command("/done")

    def minutes_left(self) -> float:
        """Minutes of the budget not yet used."""
        return max(0.0, self.session.minutes - elapsed_minutes(self.state, self.guide))

    def status(self) -> dict:
        """Sections with their status and item counts, and the minutes left."""
        return {
            "session": self.session.id,
            "minutes_left": round(self.minutes_left(), 1),
            "questions": self.state.questions,
            "current": self.state.current,
            "sections": {
                key: {
                    "title": SECTION_TITLES[key],
                    "status": self.profile.sections[key].status,
                    "items": len(self.profile.sections[key].items),
                }
                for key in SECTION_KEYS
            },
        }

    # internals
    def _command(self, command: str) -> Question | None:
        if self.done or self.question is None:
            raise ICPError("this interview has ended")
        turn = self.store.add_turn(
            self.session.id, "respondent", command, self.question.topic, "command"
        )
        self._guarded(turn)
        return self.question

    def _process(self, turn: Turn) -> None:
        """Everything after an answer (or command) is durable: extract, plan, store, ask."""
        state, asked = self.state, self.question
        self._settle()  # the engine's background extraction of the previous answer, if any
        state.active_seconds += answer_seconds(asked, turn)
        last: LastAnswer | None = None
        force_close = False
        if turn.kind == "command":
            key = state.current
            if turn.text == "/skip" and key:
                if not self.profile.sections[key].items and key not in state.declined:
                    state.declined.append(key)
                state.dont_knows[key] = 99
            elif turn.text == "/done":
                force_close = True
        elif state.phase == "intro":
            self.profile.product = turn.text[:500]
        else:
            last = self._extract(turn)
        if state.phase == "closing":
            state.phase = "done"
        update_statuses(self.profile, self.guide, set(state.declined), set(state.finished))
        actions = (
            []
            if state.phase == "done"
            else plan(state, self.profile, self.guide, self.session.minutes, last)
        )
        if force_close and state.phase != "done":
            actions = [Action(kind="close")]
        self._ask(actions, after_seq=turn.seq)

    def _extract(self, turn: Turn) -> LastAnswer:
        key, state = self.state.current, self.state
        before = len(self.profile.sections[key].items) if key else 0
        items = self.engine.extract(turn.text, turn.seq, turn.topic, self.context())
        self._merge(items, turn, turn.topic)
        gained = len(self.profile.sections[key].items) - before if key else 0
        exhausted = is_exhausted(turn.text, self.guide)
        dont_know = not exhausted and is_dont_know(turn.text, self.guide)
        if key:
            state.gained[key] = gained
            if exhausted and key not in state.exhausted:
                state.exhausted.append(key)
        if key and (dont_know or exhausted):
            if dont_know:
                state.dont_knows[key] = state.dont_knows.get(key, 0) + 1
            if not self.profile.sections[key].items and key not in state.declined:
                state.declined.append(key)
        own = (
            [read_statement(span, self.guide, key) for span in split_statements(turn.text)]
            if key
            else []
        )
        return LastAnswer(
            section=key,
            dont_know=dont_know,
            exhausted=exhausted,
            gained=gained,
            concrete=any(r.concrete for r in own),
            hedges=[quoted for r in own for quoted in quote_backs(r.span.text, r.hedges)],
        )

    def _advance(self, after_seq: int, last: LastAnswer | None) -> None:
        actions = plan(self.state, self.profile, self.guide, self.session.minutes, last)
        self._ask(actions, after_seq)

    def _ask(self, actions: list[Action], after_seq: int) -> None:
        """Word the first candidate not asked before, then store it with the new profile."""
        state = self.state
        asked = set(state.asked_texts)
        context = self.context()
        chosen = None
        for action in actions:
            wording = self.engine.word(action, self.profile, context)
            if normalise_question(wording.text) not in asked:
                chosen = (action, wording)
                break
        if chosen is None and state.phase not in ("closing", "done"):
            close = Action(kind="close")
            chosen = (close, self.engine.word(close, self.profile, context))
            if normalise_question(chosen[1].text) in asked:
                chosen = None
        if chosen is None:
            state.phase = "done"
            self._finish()
            self._commit(after_seq, None, None, "", status="complete")
            return
        action, wording = chosen
        apply(state, action, wording.text)
        topic = action.section if action.kind in ("open", "probe") else action.kind
        self._commit(after_seq, wording.text, topic, wording.preface)

    def _commit(
        self,
        after_seq: int,
        question: str | None,
        topic: str | None,
        preface: str,
        status: str | None = None,
    ) -> None:
        """Store the new profile version and the next question (if any) in one transaction."""
        turns: list[tuple[str, str, str | None, str]] = []
        if question is not None:
            if preface:
                turns.append(("agent", preface, topic, "note"))
            turns.append(("agent", question, topic, "question"))
        self.profile.version += 1
        stored = self.store.save_step(
            self.session.id,
            after_seq,
            self.profile.model_dump(mode="json"),
            self.state.model_dump(mode="json"),
            turns,
            status,
            self._meta(),
        )
        self.question = None
        if question is not None:
            q = stored[-1]
            self.question = Question(q.seq, q.text, q.topic, preface, q.created)

    def _merge(self, items: list[tuple[str, Item]], turn: Turn, topic: str | None) -> list[str]:
        """Merge an answer's items; the sections that changed."""
        had = correctable(self.profile) if topic == "close" else set()
        if topic == "close":
            self._closing = (turn, had, items)
        return merge_answer(self.profile, items, turn.text, turn.seq, topic, self.guide, had)

    def _settle(self, final: bool = False, wait: float | None = None) -> bool:
        """Merge what the engine extracted in the background; True if the profile changed."""
        settle = getattr(self.engine, "settle", None)
        if settle is None:
            return False
        pending = getattr(self.engine, "pending", None)
        items = settle(final, wait)
        changed = False
        for section, item in items:
            changed = merge(self.profile, section, item) or changed
        if items and self._closing and self._closing[0].seq == pending:
            turn, had, floor = self._closing  # a correction the model found at the closing
            among = floor + items
            note_corrections(self.profile, items, turn.text, turn.seq, had, self.guide, among)
        return changed

    def _finish(self) -> None:
        """At the end: the last background extraction, then the engine's synthesis, if any."""
        self._settle(final=True)
        self._restatus()
        synthesize = getattr(self.engine, "synthesize", None)
        if synthesize is not None:
            self.profile.synthesis = synthesize(self.profile, self.context()) or None

    def _restatus(self) -> None:
        """Section statuses from the items (the review keeps the reviewed ones it did not touch)."""
        update_statuses(
            self.profile, self.guide, set(self.state.declined), set(self.state.finished)
        )
