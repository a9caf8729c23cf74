"""The interview loop every front end shares: durable answers, the pipeline, the next question."""

from __future__ import annotations

from collections.abc import Callable

from agent.errors import ICPError, InputError
from agent.interview.contract import CORRECTION, FOLLOW_UP, Context, Engine, Wording
from agent.interview.pipeline import Pipeline
from agent.interview.planner import (
    Action,
    State,
    apply,
    elapsed_minutes,
    normalise_question,
    questions_left,
)
from agent.interview.question import Question, answer_seconds
from agent.interview.recap import rating
from agent.interview.recovery import Recovery
from agent.interview.strategy import FirstInterview, Strategy, strategy_for
from agent.lang import DEFAULT, load_pack
from agent.profile.drift import Drift
from agent.profile.models import SECTION_KEYS, SECTION_TITLES, Profile
from agent.reading.statements import clean_answer, normalise
from agent.store.db import SessionInfo, Store, Turn

MAX_ANSWER_CHARS = 200_000


class EmptyAnswer(InputError):
    """An answer with nothing in it; the question is asked again."""


class Interview(Recovery):
    """One interview session: answer() stores, files and returns the next question.

    Every step runs the same way: the answer is stored first, the pipeline files it, the
    strategy picks the candidates for the next question, the engine words the first one not
    asked before, and the new profile version is stored with that question in one transaction.
    """

    def __init__(
        self,
        store: Store,
        session: SessionInfo,
        engine: Engine,
        profile: Profile,
        state: State,
        question: Question | None,
        strategy: Strategy | None = None,
    ):
        self.store, self.session, self.engine = store, session, engine
        self.pack = load_pack(session.meta.get("lang", DEFAULT))
        self.guide = self.pack.guide
        self.profile, self.state, self.question = profile, state, question
        self.strategy = strategy or strategy_for(session)
        self.pipeline = Pipeline(engine, self.pack)
        self.on_token: Callable[[str], None] | None = None  # a front end's streaming sink
        # Told the chosen move before it is worded: a front end shows its topic at once.
        self.on_question: Callable[[Action], None] | None = None
        self.rating: int | None = None  # the respondent's 1-4 rating of the closing summary
        engine.bind(store, session.id)

    @classmethod
    def start(
        cls,
        store: Store,
        engine: Engine,
        *,
        company: str = "",
        role: str = "",
        minutes: float = 30,
        lang: str = DEFAULT,
    ) -> Interview:
        """Create a session and ask the first question."""
        if minutes <= 0:
            raise InputError("--minutes must be more than 0")
        load_pack(lang)  # an unknown language fails before a session exists
        session = store.create_session(
            company=company, role=role, engine=engine.name, minutes=minutes, meta={"lang": lang}
        )
        profile = Profile(session=session.id, company=session.company, role=session.role)
        interview = cls(store, session, engine, profile, State(), None, FirstInterview())
        interview.begin()
        return interview

    def begin(self, after_seq: int = 0) -> None:
        """Ask the strategy's first (or, on resume, next) question."""
        self._ask(self.strategy.opening(self), after_seq)

    def context(self, recent: int = 6) -> Context:
        """What the engine may see: the last few turns, the minutes left, the token sink, every
        question asked so far and the current section's exchange."""
        turns = self.store.turns(self.session.id)
        current = self.state.current
        exchange: list[Turn] = []
        for turn in reversed(turns):  # the trailing run of turns on the current section
            if turn.kind == "note":
                continue
            if not current or turn.topic != current or turn.kind not in ("question", "answer"):
                break
            exchange.insert(0, turn)
        return Context(
            recent=tuple(turns[-recent:]),
            minutes_left=self.minutes_left(),
            on_token=self.on_token,
            asked=tuple(t.text for t in turns if t.kind == "question"),
            section=current,
            exchange=tuple(exchange),
            questions_left=questions_left(self.state, self.guide, self.session.minutes),
            may_follow_up=bool(current) and FOLLOW_UP not in self.state.used.get(current, []),
        )

    @property
    def done(self) -> bool:
        """True when the interview has ended."""
        return self.state.phase == "done"

    def answer(self, text: str) -> Question | None:
        """Store an answer durably, file it, and return the next question."""
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

    def skip(self) -> Question | None:
        """Leave the current topic (/skip)."""
        return self._command("/skip")

    def wrap_up(self) -> Question | None:
        """Go to the closing question now, or finish if it was already asked (/done)."""
        return self._command("/done")

    def review_drift(self) -> Drift | None:
        """For a quarterly review: what changed against the reviewed profile so far."""
        return self.strategy.drift(self)

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
    def _guarded(self, turn: Turn) -> None:
        """Process a stored turn; a model error that needs the user says how to continue."""
        from agent.engines.llm.errors import ModelError

        try:
            self._process(turn)
        except ICPError as exc:
            if self.question is not None and isinstance(exc, ModelError):
                self.store.set_status(self.session.id, "interrupted")
                raise type(exc)(
                    f"{exc}. Your answer is saved: `icp resume {self.session.id}` continues"
                ) from None
            raise

    def _command(self, command: str) -> Question | None:
        if self.done or self.question is None:
            raise ICPError("this interview has ended")
        turn = self.store.add_turn(
            self.session.id, "respondent", command, self.question.topic, "command"
        )
        self._guarded(turn)
        return self.question

    def _process(self, turn: Turn) -> None:
        """Everything after an answer (or command) is durable: file, plan, store, ask."""
        state, strategy = self.state, self.strategy
        self.pipeline.settle(self.profile)  # the engine's late items for the previous answer
        state.active_seconds += answer_seconds(self.question, turn)
        actions: list[Action]
        if state.phase == "closing":  # the answer to the closing question: file it, then end
            corrected = False
            if turn.kind != "command":
                corrected = self._closing_answer(turn)
            followed = state.last is not None and state.last.probe == CORRECTION
            first = not self.strategy.kind  # a review's closing asks what changed: no follow-up
            if corrected and first and not followed and state.questions < self.guide.max_questions:
                actions = [Action(kind="close", probe=CORRECTION)]  # one follow-up on it
            else:
                state.phase = "done"
                actions = []
        elif turn.kind == "command":
            actions = strategy.wrap_up(self) if turn.text == "/done" else strategy.skip(self)
        elif state.phase == "intro":
            self.profile.product = turn.text[:500]
            actions = strategy.after(self, None)
        else:
            topic = strategy.topic(self, turn)
            filed = self.pipeline.file(self.profile, turn, topic, self.context())
            actions = strategy.after(self, filed)
        strategy.statuses(self)
        self._ask(actions, after_seq=turn.seq)

    def _closing_answer(self, turn: Turn) -> bool:
        """File an answer to the closing summary; True when it corrects the summary (a
        correction noted in a section, a correction cue, or a rating of 1 or 2)."""
        notes = sum(len(s.notes) for s in self.profile.sections.values())
        self.pipeline.file(self.profile, turn, "close", self.context())
        given = rating(turn.text)
        if given is not None:
            self.rating = given
        noted = sum(len(s.notes) for s in self.profile.sections.values()) > notes
        cue = bool(self.guide.correction_re.search(normalise(turn.text)))
        return noted or cue or (given is not None and given <= 2)

    def _word(self, action: Action, context: Context) -> Wording:
        """A scripted question as written; any other worded by the engine."""
        if self.on_question is not None:
            self.on_question(action)
        if action.text:
            return Wording(action.text, action.preface)
        return self.engine.word(action, self.profile, context)

    def _ask(self, actions: list[Action], after_seq: int) -> None:
        """Let the engine choose among the candidates (guarded), then store the question with
        the new profile."""
        state = self.state
        asked = set(state.asked_texts)
        context = self.context()
        chosen = self._choose(actions, context, asked)
        if chosen is None and state.phase not in ("closing", "done"):
            close = self.strategy.wrap_up(self)[0]
            chosen = (close, self._word(close, context))
            if normalise_question(chosen[1].text) in asked:
                chosen = None
        if chosen is None:
            state.phase = "done"
            self._finish()
            self._commit(after_seq, None, None, "", status="complete")
            return
        action, wording = chosen
        apply(state, action, wording.text)
        self._commit(after_seq, wording.text, action.asked_topic, wording.preface)

    def _choose(
        self, actions: list[Action], context: Context, asked: set[str]
    ) -> tuple[Action, Wording] | None:
        """The engine's choice when the rules allow it, else the first candidate not asked.

        The rules guard every choice: a move outside the candidates is replaced by the first
        candidate, and a wording asked before falls back to the plain wording of the same move;
        only when that was asked too does the next candidate get its turn.
        """

        def fresh(wording: Wording) -> bool:
            return normalise_question(wording.text) not in asked

        scripted = any(a.text for a in actions)
        if actions and not scripted:
            if self.on_question is not None:
                self.on_question(actions[0])  # the planned topic, while the engine words it
            action, wording = self.engine.choose(actions, self.profile, context)
            if not self._allowed(action, actions, context):
                action = actions[0]
                wording = self._word(action, context)
            if not fresh(wording):
                wording = self._word(action, context)
            if fresh(wording):
                return action, wording
            actions = [a for a in actions if a != action]
        for action in actions:
            wording = self._word(action, context)
            if fresh(wording):
                return action, wording
        return None

    def _allowed(self, action: Action, candidates: list[Action], context: Context) -> bool:
        """Whether the rules let the engine's move through: a candidate (closing only when the
        planner closes), or one follow-up per section on words of the last answer."""
        if action.kind == "close":
            return candidates[0].kind == "close"
        if action in candidates:
            return True
        section = self.state.current
        if action.kind != "probe" or action.probe != FOLLOW_UP or action.section != section:
            return False
        if not any(c.kind == "probe" and c.section == section for c in candidates):
            return False  # the planner leaves this section: no more follow-ups on it
        if FOLLOW_UP in self.state.used.get(section or "", []):
            return False
        answer = next((t.text for t in reversed(context.recent) if t.kind == "answer"), "")
        return len(action.phrase.split()) >= 2 and action.phrase in answer

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

    def _finish(self) -> None:
        """At the end: the last background extraction, then the engine's synthesis, if any."""
        self.pipeline.settle(self.profile, final=True)
        self.strategy.statuses(self)
        self.profile.synthesis = self.engine.synthesize(self.profile, self.context()) or None
