"""The model engine: it chooses and asks the next move, extracts off the critical path.

The offline engine stays underneath: its items are the floor, its wording is the draft asked
whenever the model is slow, down or wrong, and the planner still offers the moves and guards
what the model picks (coverage, time, the cap on questions, no repeats).
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from agent.config import ModelSettings, key_variables, resolve
from agent.engines.llm.breaker import Breaker
from agent.engines.llm.checks import item_problems, synthesis_problems
from agent.engines.llm.client import ModelClient
from agent.engines.llm.errors import (
    InvalidOutput,
    ModelError,
    ModelFailure,
    Skipped,
    TooLong,
)
from agent.engines.llm.messages import (
    Move,
    choose_messages,
    clip,
    extract_messages,
    synthesis_messages,
)
from agent.engines.offline import OfflineEngine
from agent.interview.contract import FOLLOW_UP, Context, Engine, Found, Wording
from agent.interview.planner import Action
from agent.lang import Pack
from agent.profile.models import Evidence, Item, Profile, SectionKey, Synthesis
from agent.prompts import render
from agent.reading.quantities import find_quantities
from agent.reading.statements import find_entities, read_statement, split_statements
from agent.safety import clean_name, clean_strings, clean_text

if TYPE_CHECKING:
    from agent.engines import EngineSpec

CHOOSE_TOKENS = 300  # a move, a quote, an acknowledgement and a question
EXTRACT_TOKENS = 1500
SYNTHESIS_TOKENS = 2500
MAX_QUESTION_CHARS = 600
MAX_ACK_CHARS = 200
TAIL_SECONDS = 2.0  # after the first token, the rest of the reply must come within this
MENU_PROBES = 4  # follow-ups on the current section offered to the model, besides moving on
CHUNK_CHARS = 6000  # an answer longer than this is extracted in pieces (a small context)
MIN_CHUNK_CHARS = 400
PROMPT_TOKENS = 900  # the extraction prompt without the answer, roughly
CHARS_PER_TOKEN = 3  # conservative: fewer characters per token than English averages

LABELS = ("MOVE", "QUOTE", "ACK", "QUESTION")  # identifiers: the reply's line labels
_LABEL = re.compile(rf"^[ \t*#>-]*({'|'.join(LABELS)})[ \t*]*:[ \t]*", re.MULTILINE)
_MOVE = re.compile(r"\s*([0-9]+|[Ff])\b")


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


class Reply(BaseModel):
    """The model's turn: the move it picked, a quote for a follow-up, an acknowledgement and
    the question, read from four labelled lines."""

    move: str = "1"
    quote: str = ""
    ack: str = ""
    question: str


def parse_reply(text: str) -> Reply:
    """The labelled lines of a reply; a bare question is the plan's first move."""
    marks = list(_LABEL.finditer(text))
    if not marks:
        return Reply(question=text.strip())
    fields: dict[str, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        fields.setdefault(mark.group(1).lower(), text[mark.end() : end].strip())
    if not fields.get("question"):
        raise InvalidOutput("the reply has no QUESTION line")
    return Reply(**fields)


class _Sink:
    """Passes the acknowledgement and the question of a streamed reply to the front end, as
    they arrive, and nothing of the move or the quote."""

    def __init__(self, on_token: Callable[[str], None]):
        self.on_token = on_token
        self.text, self.sent, self.mode, self.acked = "", 0, "", False

    def feed(self, piece: str) -> None:
        self.text += clean_text(piece, strip=False)  # model output: no escape reaches a terminal
        if not self.mode:
            if _LABEL.match(self.text):
                self.mode = "labels"
            elif "\n" in self.text or len(self.text.strip()) >= 12:
                self.mode = "plain"
            else:
                return
        if self.mode == "plain":
            self._send(len(self.text))
            return
        marks = {m.group(1): m for m in _LABEL.finditer(self.text)}
        question = marks.get("QUESTION")
        ack = marks.get("ACK")
        if ack and not self.acked:
            end = self.text.find("\n", ack.end())
            if end >= 0 or question:
                stop = end if end >= 0 else question.start()
                said = self.text[ack.end() : stop].strip()
                self.acked = True
                if said:
                    self.on_token(said + "\n\n")
        if question:
            self.acked = True
            self.sent = max(self.sent, question.end())
            self._send(len(self.text))

    def _send(self, end: int) -> None:
        piece, self.sent = self.text[self.sent : end], end
        if piece:
            self.on_token(piece)


class LLMEngine(Engine):
    """Chooses and asks each move with a chat model; extracts in background threads."""

    name = "llm"
    streams = True
    background = True

    @classmethod
    def from_spec(cls, spec: EngineSpec, notify: Callable[[str], None] | None = None) -> Engine:
        """The model the flags, environment and config name; offline (said) when none is set."""
        settings = resolve(spec.model, spec.base_url)
        if settings.configured:
            return cls(settings, notify=notify)
        keys = " or ".join(key_variables(settings.provider)) or "the provider's credentials"
        print(
            f"icp: notice: no model configured for {settings.model} (no API key, no base URL): "
            f"running the offline engine. Set {keys}, `icp config set api_key ...` or "
            "--base-url; `icp doctor` checks the setup.",
            file=sys.stderr,
            flush=True,
        )
        return OfflineEngine()

    def __init__(
        self,
        settings: ModelSettings,
        model: Any = None,
        pack: Pack | None = None,
        notify: Callable[[str], None] | None = None,
        breaker: Breaker | None = None,
        read_first: bool = False,
    ):
        self.settings = settings
        self.client = ModelClient(settings, model)
        self.offline = OfflineEngine(pack)
        self.pack, self.guide = self.offline.pack, self.offline.guide
        self.notify = notify or _stderr
        self.breaker = breaker or Breaker()
        # Read then ask: wait for the answer's extraction before choosing (measured against
        # one call that reads and asks, in bench/bench_llm.py; off by default).
        self.read_first = read_first
        self.store: Any = None
        self.session_id = ""
        self.chunk_chars = _chunk_chars(settings)
        self._job: tuple[threading.Event, dict, int] | None = None
        self.last_source = ""  # "model" or "draft": who worded the last question

    @property
    def disabled(self) -> bool:
        """True during an outage: steps use the offline engine until a probe succeeds."""
        return self.breaker.open

    def bind(self, store: Any, session_id: str) -> None:
        """Where call records go: the interview's store and session."""
        self.store, self.session_id = store, session_id

    def word(self, action: Action, profile: Profile, context: Context) -> Wording:
        """The plain wording of a move (the offline draft): no model call."""
        return self.offline.word(action, profile, context)

    # the critical path: one streamed call per question
    def choose(
        self, candidates: list[Action], profile: Profile, context: Context
    ) -> tuple[Action, Wording]:
        """Let the model read the last answer, pick among the plan's moves and ask; the plan's
        first move in its draft wording when the model is slow, down or answers out of bounds."""
        first = candidates[0]
        self.last_source = "draft"
        moves = self._menu(candidates, profile, context)
        if moves is None or not self.breaker.allow():
            return first, self.offline.word(first, profile, context)
        answer = next((t.text for t in reversed(context.recent) if t.kind == "answer"), "")
        follow_up = bool(
            answer
            and context.may_follow_up
            and any(m.action.kind == "probe" and m.action.section == context.section for m in moves)
        )
        read = self._read(context) if self.read_first else []
        prompt = choose_messages(moves, profile, self.guide, context, answer, follow_up, read)
        sink = _Sink(context.on_token) if context.on_token else None
        try:
            text = self.client.stream_text(
                prompt,
                sink.feed if sink else None,
                "question",
                CHOOSE_TOKENS,
                _after(context),
                first_token=self.settings.first_token_timeout,
                tail=TAIL_SECONDS,
            )
            reply = parse_reply(clean_text(text))  # model output: no escape reaches a terminal
            action, wording = _resolve(reply, moves, context, answer, follow_up)
        except ModelFailure as exc:
            self._failed(exc, "this question")
            return first, self.offline.word(first, profile, context)
        except ModelError:
            self.flush()
            raise
        self._succeeded()
        self.last_source = "model"
        return action, wording

    def _menu(
        self, candidates: list[Action], profile: Profile, context: Context
    ) -> list[Move] | None:
        """The moves the model may pick, in the plan's order: follow-ups on the current section
        and the plan's next move elsewhere; None when the plan closes (its summary is built from
        the profile, not written by the model)."""
        if candidates[0].kind == "close":
            return None
        stay = [c for c in candidates if c.kind == "probe" and c.section == context.section]
        stay = stay[:MENU_PROBES]
        leave = [c for c in candidates if c.kind != "close" and c not in stay][:1]
        picked = [c for c in candidates if c in stay or c in leave]
        return [
            Move(str(i), action, self.offline.word(action, profile, context).text)
            for i, action in enumerate(picked, start=1)
        ]

    def _read(self, context: Context) -> list[str]:
        """Read then ask: what the extraction of the last answer found, waited for."""
        if self._job is None:
            return []
        done, box, _ = self._job
        done.wait(self.settings.first_token_timeout)
        return [f"[{section}] {item.text}" for section, item in box.get("items", [])]

    # off the critical path: extraction runs while the respondent reads and types
    def extract(self, answer: str, turn: int, topic: str | None, context: Context) -> Found:
        """The offline items now (the floor); the model's additions arrive via settle()."""
        floor = self.offline.extract(answer, turn, topic, context)
        if self.breaker.open:  # during an outage the next question probes, not this
            return floor
        question = next(
            (t.text for t in reversed(context.recent) if t.kind == "question" and t.seq < turn), ""
        )
        box: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                box["items"], box["dropped"] = self._extract(answer, turn, topic, question, floor)
            except BaseException as exc:  # handed to the main thread by settle()
                box["error"] = exc
            finally:
                done.set()

        # A thread per answer: one that hangs never holds up the next answer's extraction.
        threading.Thread(target=run, name="icp-extract", daemon=True).start()
        self._job = (done, box, turn)
        return floor

    def _extract(
        self, answer: str, turn: int, topic: str | None, question: str, floor: Found
    ) -> tuple[Found, int]:
        """The model's checked items for an answer, piece by piece when it is long."""
        kept: Found = []
        dropped = 0
        pieces = chunks(answer, self.chunk_chars, self.pack)
        while pieces:
            piece = pieces.pop(0)
            noted = [(s, i) for s, i in floor if any(ev.quote in piece for ev in i.evidence)]
            prompt = extract_messages(self.guide, piece, turn, topic, clip(question, 80), noted)
            try:
                delta = self.client.structured(Delta, prompt, "extract", EXTRACT_TOKENS, turn)
            except TooLong:
                if len(piece) <= MIN_CHUNK_CHARS:
                    raise
                self.chunk_chars = max(MIN_CHUNK_CHARS, len(piece) // 2)
                pieces[:0] = chunks(piece, self.chunk_chars, self.pack)
                continue
            good, bad = self._checked(delta.items, answer, topic)
            if bad:  # fed back once, with what is wrong
                failures = [
                    (f"item {i + 1} ({new.text!r})", why) for i, (new, why) in enumerate(bad)
                ]
                again = [
                    *prompt,
                    _ai(json.dumps({"items": [new.model_dump() for new, _ in bad]})),
                    _human(render("llm_recheck.j2", failures=failures)),
                ]
                try:
                    fixed = self.client.structured(Delta, again, "extract", EXTRACT_TOKENS, turn)
                    more, bad = self._checked(fixed.items, answer, topic)
                    good += [m for m in more if all(m.text != g.text for g in good)]
                except ModelFailure:
                    pass  # the items that failed stay dropped
            dropped += len(bad)
            kept += self._new(good, floor, turn)
        return kept, dropped

    def _checked(
        self, items: list[NewItem], answer: str, topic: str | None
    ) -> tuple[list[NewItem], list[tuple[NewItem, list[str]]]]:
        """Items that pass the checks on their claims, and the others with what is wrong."""
        good, bad = [], []
        for new in items:
            problems = item_problems(new, answer, topic, self.pack)
            if problems:
                bad.append((new, problems))
            else:
                good.append(new)
        return good, bad

    def _new(self, items: list[NewItem], floor: Found, turn: int) -> Found:
        """Checked items as profile items, minus what the rules filed there already."""
        out: Found = []
        for new in items:
            quotes = list(dict.fromkeys(q for q in new.quotes if q.strip()))
            if any(
                section == new.section and all(q in ev.quote for q in quotes)
                for section, item in floor
                for ev in item.evidence
            ):
                continue  # the rules filed this statement here already
            out.append((new.section, self._item(new, quotes, turn)))
        return out

    @property
    def pending(self) -> int | None:
        """The answer whose background extraction has not been settled yet, if any."""
        return None if self._job is None else self._job[2]

    def ready(self, wait: float) -> bool:
        """True when no extraction is running or it finishes within `wait` seconds."""
        return self._job is None or self._job[0].wait(wait)

    def settle(self, final: bool = False, wait: float | None = None) -> Found:
        """Wait (at most `wait` seconds; by default the short extraction budget, or the request
        timeout at the end) for the background extraction; its checked items."""
        job, self._job = self._job, None
        if job is None:
            self.flush()
            return []
        done, box, turn = job
        if wait is None:
            wait = self.settings.timeout if final else self.settings.extract_wait
        if not done.wait(wait):
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
        self._succeeded()
        self.flush(kept=len(box["items"]), dropped=box["dropped"])
        return box["items"]

    def _item(self, new: NewItem, quotes: list[str], turn: int) -> Item:
        joined = " ".join(quotes)
        quantities = find_quantities(joined, self.pack)
        judged = any(
            read_statement(s, self.pack, new.section).concrete
            for s in split_statements(joined, self.pack)
        )
        grounded = bool(quantities or find_entities(joined, self.pack) or judged)
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
        """Summary, rubric, negative personas and open questions, each claim found in the
        profile items it cites; entries without real support are left out."""
        if not self.breaker.allow():
            return None
        prompt, refs = synthesis_messages(profile)
        items = {ref: profile.sections[key].items[index] for ref, (key, index) in refs.items()}
        after = _after(context)
        try:
            out = self.client.structured(Synthesis, prompt, "synthesis", SYNTHESIS_TOKENS, after)
            problems = synthesis_problems(out, items, self.pack)
            if problems:  # fed back once, with what is wrong
                failures = [(f"{field}[{i}]", why) for (field, i), why in problems.items()]
                again = [
                    *prompt,
                    _ai(out.model_dump_json()),
                    _human(render("llm_recheck.j2", failures=failures)),
                ]
                kept = _without(out, problems)
                try:
                    fixed = self.client.structured(
                        Synthesis, again, "synthesis", SYNTHESIS_TOKENS, after
                    )
                    kept = _joined(
                        kept, _without(fixed, synthesis_problems(fixed, items, self.pack))
                    )
                except ModelFailure:
                    pass
                dropped_checks = out.size() - kept.size()
                out = kept
            else:
                dropped_checks = 0
        except ModelFailure as exc:
            self._failed(exc, "the report's synthesis")
            self.flush()
            return None
        except ModelError:
            self.flush()
            raise
        self._succeeded()
        out = Synthesis.model_validate(clean_strings(out.model_dump()))  # model text: cleaned
        result, dropped = out.grounded(set(refs))
        self.flush(
            kept=result.size(), dropped=dropped + max(0, dropped_checks), purpose="synthesis"
        )
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
        if isinstance(exc, Skipped):
            return
        self.notify(f"model {exc.kind} ({exc}); {step} uses the offline engine")
        if self.breaker.failure():
            self.notify(
                f"{self.breaker.failures} model failures in a row: the offline engine asks "
                f"until the model answers again (tried again in {self.breaker.cooldown:.0f} s; "
                "`icp doctor` checks the model)"
            )

    def _succeeded(self) -> None:
        if self.breaker.success():
            self.notify("the model answers again: it asks the next questions")


def _resolve(
    reply: Reply, moves: list[Move], context: Context, answer: str, follow_up: bool
) -> tuple[Action, Wording]:
    """The move and wording a reply names, or InvalidOutput when it names none it may."""
    m = _MOVE.match(reply.move)
    move = m.group(1).upper() if m else reply.move.strip()
    if move == "F" and follow_up:
        quote = reply.quote.strip().strip("\"'“”")
        if len(quote.split()) < 2 or quote not in answer:
            raise InvalidOutput("the follow-up's QUOTE is not words of the last answer")
        action = Action(kind="probe", section=context.section, probe=FOLLOW_UP, phrase=quote)
    else:
        found = next((m for m in moves if m.id == move), None)
        if found is None:
            raise InvalidOutput(f"MOVE {move!r} is not one of the moves offered")
        action = found.action
    question = " ".join(reply.question.split()).strip("\"'“”")
    if not question or len(question) > MAX_QUESTION_CHARS:
        raise InvalidOutput("the question was empty or far too long")
    ack = " ".join(reply.ack.split()).strip("\"'“”")
    ack = "" if action.kind == "intro" or len(ack) > MAX_ACK_CHARS else ack
    return action, Wording(question, ack)


def chunks(answer: str, size: int, pack: Pack) -> list[str]:
    """An answer in pieces of at most `size` characters, cut between statements where it can;
    every piece is an exact substring, so quotes from a piece are quotes from the answer."""
    if len(answer) <= size:
        return [answer]
    out: list[str] = []
    start = 0
    for span in split_statements(answer, pack):
        if span.end - start > size and span.start > start:
            out.append(answer[start : span.start].strip())
            start = span.start
        while span.end - start > size:  # one statement longer than a piece: cut at a space
            cut = answer.rfind(" ", start, start + size)
            cut = cut if cut > start else start + size
            out.append(answer[start:cut].strip())
            start = cut
    if answer[start:].strip():
        out.append(answer[start:].strip())
    return [piece for piece in out if piece]


def _chunk_chars(settings: ModelSettings) -> int:
    """The longest answer piece one extraction prompt holds, from the context window if set."""
    if not settings.context_tokens:
        return CHUNK_CHARS
    room = settings.context_tokens - EXTRACT_TOKENS - PROMPT_TOKENS
    return max(MIN_CHUNK_CHARS, min(CHUNK_CHARS, room * CHARS_PER_TOKEN))


def _without(out: Synthesis, problems: dict[tuple[str, int], list[str]]) -> Synthesis:
    """The synthesis without the entries that failed their checks."""
    return Synthesis(
        **{
            field: [e for i, e in enumerate(getattr(out, field)) if (field, i) not in problems]
            for field in Synthesis.model_fields
        }
    )


def _joined(first: Synthesis, more: Synthesis) -> Synthesis:
    """Entries of both, each once."""
    return Synthesis(
        **{
            field: getattr(first, field)
            + [e for e in getattr(more, field) if e not in getattr(first, field)]
            for field in Synthesis.model_fields
        }
    )


def _ai(text: str) -> Any:
    from langchain_core.messages import AIMessage

    return AIMessage(content=text)


def _human(text: str) -> Any:
    from langchain_core.messages import HumanMessage

    return HumanMessage(content=text)


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
