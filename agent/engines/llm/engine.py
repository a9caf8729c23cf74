"""The model engine: streamed question wording, grounded extraction off the critical path.

The offline engine stays underneath: its items are the floor, its wording is the fallback for
any step the model fails, and the planner still decides what to ask.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from agent.config import ModelSettings
from agent.engines import Context, Wording
from agent.engines.llm.client import ModelClient
from agent.engines.llm.errors import InvalidOutput, ModelError, ModelFailure
from agent.engines.llm.messages import clip, extract_messages, question_messages, synthesis_messages
from agent.engines.offline import OfflineEngine
from agent.interview.planner import Action
from agent.lang.guide import Guide
from agent.profile.models import Evidence, Item, Profile, SectionKey, Synthesis
from agent.reading.statements import (
    find_entities,
    find_quantities,
    read_statement,
    split_statements,
)
from agent.safety import clean_name, clean_strings, clean_text

QUESTION_TOKENS = 160
EXTRACT_TOKENS = 1500
SYNTHESIS_TOKENS = 2500
MAX_QUESTION_CHARS = 600
FAILURES_BEFORE_OFFLINE = 3  # consecutive failed calls, then the rest of the interview is offline
MIN_QUOTE_CHARS = 3


class NewItem(BaseModel):
    """One fact the model found in an answer, with quotes copied from it."""

    section: SectionKey
    text: str = Field(description="The fact, short, in plain words.")
    quotes: list[str] = Field(description="Exact substrings of the answer that support it.")
    concrete: bool = Field(description="Has a number, a named example or the customer's words.")
    said_by: str = Field(description='Who said a quoted customer phrase, else "".')


class Delta(BaseModel):
    """What one answer adds to the profile."""

    items: list[NewItem]


class LLMEngine:
    """Words questions with a chat model and extracts in a background thread."""

    name = "llm"

    def __init__(
        self,
        settings: ModelSettings,
        model: Any = None,
        guide: Guide | None = None,
        notify: Callable[[str], None] | None = None,
    ):
        self.client = ModelClient(settings, model)
        self.offline = OfflineEngine(guide)
        self.guide = self.offline.guide
        self.notify = notify or _stderr
        self.store: Any = None
        self.session_id = ""
        self.failures = 0
        self.disabled = False
        # The next answer waits at most this long for the previous one's extraction (which
        # had the whole reading and typing time already); a later result is dropped.
        self.wait_seconds = settings.timeout
        self._job: tuple[threading.Event, dict, int] | None = None
        self._queue: queue.Queue | None = None

    def bind(self, store: Any, session_id: str) -> None:
        """Where call records go: the interview's store and session."""
        self.store, self.session_id = store, session_id

    # the critical path: one streamed call per question
    def word(self, action: Action, profile: Profile, context: Context) -> Wording:
        """Stream the planned question from the model; the offline wording if that fails."""
        draft = self.offline.word(action, profile, context)
        if self.disabled:
            return draft
        prompt = question_messages(
            action, profile, self.guide, context.recent, context.minutes_left, draft.text
        )
        try:
            text = self.client.stream_text(
                prompt, _cleaned(context.on_token), "question", QUESTION_TOKENS, _after(context)
            )
            wording = _wording(action, text, draft)
        except ModelFailure as exc:
            self._failed(exc, "this question")
            return draft
        except ModelError:
            self.flush()
            raise
        self.failures = 0
        return wording

    # off the critical path: extraction runs while the respondent reads and types
    def extract(
        self, answer: str, turn: int, topic: str | None, context: Context
    ) -> list[tuple[str, Item]]:
        """The offline items now (the floor); the model's additions arrive via settle()."""
        floor = self.offline.extract(answer, turn, topic, context)
        if self.disabled:
            return floor
        question = next(
            (t.text for t in reversed(context.recent) if t.kind == "question" and t.seq < turn), ""
        )
        prompt = extract_messages(self.guide, answer, turn, topic, clip(question, 80), floor)
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                delta = self.client.structured(Delta, prompt, "extract", EXTRACT_TOKENS, turn)
                box["items"], box["dropped"] = self.verify(delta, answer, turn, floor)
            except BaseException as exc:  # handed to the main thread by settle()
                box["error"] = exc

        done = threading.Event()
        self._job = (done, box, turn)
        self._worker().put((run, done))
        return floor

    def _worker(self) -> queue.Queue:
        """The one background thread (a daemon: a hung call never delays exit), started once."""
        if self._queue is None:
            self._queue = queue.Queue()

            def loop(jobs: queue.Queue) -> None:
                while True:
                    job, done = jobs.get()
                    try:
                        job()
                    finally:
                        done.set()

            threading.Thread(
                target=loop, args=(self._queue,), name="icp-extract", daemon=True
            ).start()
        return self._queue

    @property
    def pending(self) -> int | None:
        """The answer whose background extraction has not been settled yet, if any."""
        return None if self._job is None else self._job[2]

    def ready(self, wait: float) -> bool:
        """True when no extraction is running or it finishes within `wait` seconds."""
        return self._job is None or self._job[0].wait(wait)

    def settle(self, final: bool = False, wait: float | None = None) -> list[tuple[str, Item]]:
        """Wait (at most `wait` seconds) for the background extraction; its verified items."""
        job, self._job = self._job, None
        if job is None:
            self.flush()
            return []
        done, box, turn = job
        if not done.wait(self.wait_seconds if wait is None else wait):
            self.notify(
                f"the model's extraction of answer {turn} took too long; kept the offline items"
            )
            self.flush()
            return []
        error = box.get("error")
        if isinstance(error, ModelError):
            self.flush()
            raise error
        if isinstance(error, ModelFailure):
            self._failed(error, f"the extraction of answer {turn}")
            self.flush()
            return []
        if error is not None:
            raise error
        self.failures = 0
        self.flush(kept=len(box["items"]), dropped=box["dropped"])
        return box["items"]

    def verify(
        self, delta: Delta, answer: str, turn: int, floor: list[tuple[str, Item]]
    ) -> tuple[list[tuple[str, Item]], int]:
        """Items whose every quote is in the answer, minus what the floor already has."""
        kept: list[tuple[str, Item]] = []
        dropped = 0
        for new in delta.items:
            quotes = list(dict.fromkeys(q for q in new.quotes if len(q.strip()) >= MIN_QUOTE_CHARS))
            if not quotes or len(quotes) < len(new.quotes) or not new.text.strip():
                dropped += 1
                continue
            if any(q not in answer for q in quotes):
                dropped += 1
                continue
            if any(
                section == new.section and all(q in ev.quote for q in quotes)
                for section, item in floor
                for ev in item.evidence
            ):
                continue  # the rules filed this statement here already
            kept.append((new.section, self._item(new, quotes, turn)))
        return kept, dropped

    def _item(self, new: NewItem, quotes: list[str], turn: int) -> Item:
        joined = " ".join(quotes)
        quantities = find_quantities(joined)
        judged = any(
            read_statement(s, self.guide, new.section).concrete for s in split_statements(joined)
        )
        grounded = bool(quantities or find_entities(joined) or judged)
        return Item(
            text=clip(" ".join(clean_text(new.text).split()), 60),
            evidence=[Evidence(turn=turn, quote=q) for q in quotes],
            concrete=new.concrete and (grounded or new.section == "customer_language"),
            quantities=quantities,
            said_by=clip(clean_name(new.said_by), 8),
            source="llm",
        )

    # the end: one synthesis call
    def synthesize(self, profile: Profile, context: Context) -> Synthesis | None:
        """Summary, rubric, negative personas and open questions tied to profile items."""
        if self.disabled:
            return None
        prompt, refs = synthesis_messages(profile)
        try:
            out = self.client.structured(
                Synthesis, prompt, "synthesis", SYNTHESIS_TOKENS, _after(context)
            )
        except ModelFailure as exc:
            self._failed(exc, "the report's synthesis")
            self.flush()
            return None
        except ModelError:
            self.flush()
            raise
        out = Synthesis.model_validate(clean_strings(out.model_dump()))  # model text: cleaned
        result, dropped = out.grounded(set(refs))
        self.flush(kept=result.size(), dropped=dropped, purpose="synthesis")
        return result

    def flush(self, kept: int = 0, dropped: int = 0, purpose: str = "extract") -> None:
        """Store the call records collected so far (main thread only)."""
        records = self.client.take_records()
        for record in reversed(records):
            if record.purpose == purpose and record.outcome == "ok":
                record.kept, record.dropped = kept, dropped
                break
        if self.store is not None and self.session_id and records:
            self.store.add_model_calls(self.session_id, [r.as_row() for r in records])

    def _failed(self, exc: ModelFailure, step: str) -> None:
        self.failures += 1
        self.notify(f"model {exc.kind} ({exc}); {step} uses the offline engine")
        if self.failures >= FAILURES_BEFORE_OFFLINE and not self.disabled:
            self.disabled = True
            self.notify(
                f"{self.failures} model failures in a row: the rest of this interview uses the "
                "offline engine (`icp doctor` checks the model)"
            )


def _wording(action: Action, text: str, draft: Wording) -> Wording:
    """The model's text as a Wording; a closing reply is split into summary and question."""
    text = clean_text(text)  # model output is untrusted: no escape sequences reach a terminal
    preface = draft.preface
    if action.kind == "close":
        head, sep, tail = text.rpartition("\n\n")
        if sep and head.strip() and tail.strip():
            preface, text = " ".join(head.split()), tail
    text = " ".join(text.split()).strip("\"'“”")
    if not text or len(text) > MAX_QUESTION_CHARS:
        raise InvalidOutput("the question was empty or far too long")
    return Wording(text, preface)


def _after(context: Context) -> int | None:
    return context.recent[-1].seq if context.recent else 0


def _cleaned(sink: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """The front end's token sink, given each streamed piece without control characters (an
    escape sequence split across pieces loses its ESC all the same)."""
    if sink is None:
        return None
    return lambda piece: sink(clean_text(piece, strip=False))


def _stderr(message: str) -> None:
    print(f"icp: notice: {clean_name(message)}", file=sys.stderr, flush=True)
