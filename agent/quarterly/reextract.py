"""Derive a profile from a stored transcript again, with the current guide and any engine."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import cache, lru_cache

from agent.interview.contract import Context, Engine
from agent.interview.pipeline import Extracted, Pipeline
from agent.interview.strategy import Strategy, strategy_for
from agent.lang import DEFAULT, Pack, load_pack
from agent.lang.guide import Guide
from agent.paths import resource
from agent.processes import can_fork, in_order
from agent.profile.models import SECTION_KEYS, Profile
from agent.reading.sections import DEFINING, section_scores
from agent.reading.terms import vocabulary
from agent.store.db import SessionInfo, Store, Turn


class Cancelled(Exception):
    """Raised between answers when a batch is being stopped."""


@cache
def guide_hash() -> str:
    """A short hash of the guide and prompt files, to tell which guide made a profile."""
    digest = hashlib.sha256()
    root = resource("prompts")
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def question_topic(turn: Turn, guide: Guide) -> str | None:
    """The topic of an interviewer turn: stored by an interview, guessed for an import."""
    if turn.topic:
        return turn.topic
    return guess_topic(turn.text, guide)


_GUESSERS: dict[int, Callable[[str], str | None]] = {}


def _words(text: str) -> frozenset[str]:
    stop = vocabulary().stopwords
    return frozenset(w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in stop)


def guess_topic(question: str, guide: Guide) -> str | None:
    """The section a question from someone else's interview is about, or None.

    The guide's cues are tuned for answers, so a question also scores a point for each word
    it shares with the guide's own questions for a section; a tie guesses nothing. Guesses
    are remembered per guide: interviewers working from a script ask the same questions.
    """
    guesser = _GUESSERS.get(id(guide))
    if guesser is None:
        vocabulary = {
            key: _words(
                " ".join([s.opening, s.more, s.example, s.words or "", s.goal, s.noun])
                + " ".join(f.probe for f in s.facets)
            )
            for key, s in guide.sections.items()
        }

        @lru_cache(maxsize=4096)
        def guesser(text: str) -> str | None:
            words = _words(text)
            asked = {
                key: DEFINING * bool(s.asked_re.search(text)) for key, s in guide.sections.items()
            }
            scores = {
                key: score + len(words & vocabulary[key]) + asked[key]
                for key, score in section_scores(text, guide).items()
            }
            ranked = sorted(scores, key=scores.__getitem__, reverse=True)
            best, second = scores[ranked[0]], scores[ranked[1]]
            return ranked[0] if best >= 1.5 and best > second else None

        _GUESSERS[id(guide)] = guesser
    return guesser(question)


PARALLEL_ANSWERS = 400  # fewer answers are read before worker processes pay for themselves
BATCH = 64  # answers sent to a worker process at a time


def reextract(
    session: SessionInfo,
    turns: list[Turn],
    engine: Engine,
    *,
    store: Store | None = None,
    upto: int | None = None,
    stop: threading.Event | None = None,
    answered: Callable[[], None] | None = None,
    processes: int = 1,
) -> Profile:
    """A fresh profile from the answers in `turns` (up to seq `upto`), filed by `engine`.

    Each answer goes through the same pipeline as in the live interview. Its topic is the one
    stored with it, or for imported transcripts the one guessed from the interviewer's turn
    before it; `stop` is checked between answers and `answered` called after each one. A
    quarterly review starts again from the profile it reviewed (read from `store`), as its
    strategy says. With `processes` over 1, a pure engine (`cpu_bound`) reads the answers of a
    long transcript in that many worker processes while this one files them, in order.
    """
    strategy = strategy_for(session)
    pack = load_pack(session.meta.get("lang", DEFAULT))
    start = strategy.start_profile(store, session)
    profile = start.model_copy(deep=True)
    pipeline = Pipeline(engine, pack)
    asked: set[str] = set()
    unanswered: set[str] = set()  # sections declined, skipped or answered "I don't know"
    answers, recent = _answers(turns, upto, pack, strategy, asked, unanswered)
    reads = _reads(pipeline, [a for a in answers if a.about != "intro"], processes)
    try:
        for answer in answers:
            if stop is not None and stop.is_set():
                raise Cancelled
            if answer.about == "intro":
                profile.product = answer.turn.text[:500]
            else:
                filed = pipeline.file(
                    profile, answer.turn, answer.about, answer.context, next(reads)
                )
                pipeline.settle(profile)  # an engine extracting in the background: wait for it
                if answer.about in SECTION_KEYS and filed.declined:
                    unanswered.add(answer.about)
            if answered is not None:
                answered()
    finally:
        reads.close()  # worker processes stop with the import
    declined = {key for key in unanswered if not profile.sections[key].items}
    strategy.restatus(profile, pack.guide, declined, asked, base=start if strategy.kind else None)
    profile.synthesis = engine.synthesize(profile, Context(recent=recent)) or None
    return profile


@dataclass
class _Answer:
    """An answer to file, with the topic it answers ("intro": what the company sells)."""

    turn: Turn
    about: str | None
    context: Context


def _answers(
    turns: list[Turn],
    upto: int | None,
    pack: Pack,
    strategy: Strategy,
    asked: set[str],
    unanswered: set[str],
) -> tuple[list[_Answer], tuple[Turn, ...]]:
    """The answers of a transcript with their topics, and its last turns; the topics asked
    and skipped go into `asked` and `unanswered`."""
    out: list[_Answer] = []
    recent: deque[Turn] = deque(maxlen=6)
    topic: str | None = None
    for turn in turns:
        if upto is not None and turn.seq > upto:
            break
        if turn.speaker == "agent":
            if turn.kind != "note":
                topic = question_topic(turn, pack.guide)
                if topic in SECTION_KEYS:
                    asked.add(topic)
        elif turn.kind == "command":
            if turn.text == "/skip" and topic in SECTION_KEYS:
                unanswered.add(topic)
        else:
            about = turn.topic or topic
            if about != "close" and strategy.quiet(turn.text, pack):
                about = None
            out.append(_Answer(turn, about, Context(recent=tuple(recent), minutes_left=0.0)))
        recent.append(turn)
    return out, tuple(recent)


def _reads(
    pipeline: Pipeline, answers: list[_Answer], processes: int
) -> Generator[Extracted | None, None, None]:
    """Each answer read ahead in worker processes, in order; None (read when filed) when the
    engine is not pure, the transcript is short or workers cannot start as copies of this
    process."""
    if (
        processes < 2
        or not pipeline.engine.cpu_bound
        or len(answers) < PARALLEL_ANSWERS
        or not can_fork()
    ):
        yield from (None for _ in answers)
        return
    jobs = ((a.turn, a.about, a.context) for a in answers)
    for batch in in_order(_read_batch, jobs, processes, BATCH, _start_reader, (pipeline,)):
        yield from batch


_READER: Pipeline | None = None


def _start_reader(pipeline: Pipeline) -> None:
    global _READER
    _READER = pipeline


def _read_batch(jobs: list[tuple[Turn, str | None, Context]]) -> list[Extracted]:
    assert _READER is not None
    return [_READER.read(turn, about, context) for turn, about, context in jobs]
