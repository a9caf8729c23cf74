"""`icp import`: turn transcript files into sessions with raw turns and an extracted profile."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.errors import ICPError, InputError
from agent.interview.contract import Engine
from agent.interview.planner import State
from agent.lang import DEFAULT, load_pack
from agent.processes import cores
from agent.quarterly.reextract import guide_hash, reextract
from agent.quarterly.transcripts import Transcript, read_transcript, seconds
from agent.safety import clean_name
from agent.store.db import SessionInfo, Store, Turn, now

Chooser = Callable[[Transcript], list[str]]
Progress = Callable[[int, int], None]  # (answers extracted, answers in all)
PROGRESS_CHARS = 200_000  # imports with more text than this report progress
WORDS_PER_MINUTE = 150  # speaking pace, for the length of a call without usable timestamps


class DuplicateImport(ICPError):
    """The same file (by its SHA-256) was imported before."""


@dataclass(frozen=True)
class Imported:
    """One imported file: its session and what was read from it."""

    path: Path
    session: SessionInfo
    transcript: Transcript
    respondent: list[str]
    items: int

    def as_dict(self) -> dict:
        """The line `icp import --json` prints for this file."""
        return {
            "file": str(self.path),
            "session": self.session.id,
            "format": self.transcript.format,
            "sha256": self.transcript.sha256,
            "speakers": self.transcript.speakers(),
            "respondent": self.respondent,
            "turns": len(self.transcript.utterances),
            "items": self.items,
            "warnings": list(self.transcript.warnings),
        }


def speakers_line(transcript: Transcript) -> str:
    """The detected speakers with their turn counts, for messages and prompts."""
    counts = transcript.speakers().items()
    return ", ".join(f"{name} ({n} turn{'s' if n != 1 else ''})" for name, n in counts)


def respondent_side(
    transcript: Transcript, wanted: tuple[str, ...], choose: Chooser | None
) -> list[str]:
    """The speaker labels that are the respondent: by --respondent, else asked, else an error."""
    speakers = list(transcript.speakers())
    wanted = tuple(clean_name(w) for w in wanted)
    if wanted:
        by_fold = {name.casefold(): name for name in speakers}
        missing = [w for w in wanted if w.casefold() not in by_fold]
        if missing and len(missing) == len(wanted):
            raise InputError(
                f"{transcript.name}: no speaker named {missing[0]!r}; "
                f"speakers are {speakers_line(transcript)}"
            )
        return [by_fold[w.casefold()] for w in wanted if w.casefold() in by_fold]
    if choose is None:
        raise InputError(
            f"{transcript.name}: say which speaker is the respondent with --respondent NAME; "
            f"speakers are {speakers_line(transcript)}"
        )
    chosen = choose(transcript)
    if not chosen or any(name not in speakers for name in chosen):
        raise InputError(f"{transcript.name}: choose one of {speakers_line(transcript)}")
    return chosen


def import_files(
    store: Store,
    paths: list[Path],
    engine: Engine,
    *,
    respondent: tuple[str, ...] = (),
    company: str = "",
    force: bool = False,
    choose: Chooser | None = None,
    lang: str = DEFAULT,
    progress: Progress | None = None,
) -> list[Imported]:
    """Read every file, extract every profile, then store them all in one transaction: a bad
    file, a failed extraction or a failed write imports nothing, so a re-run starts clean.

    `progress(done, total)` hears of each answer extracted when the files hold more than
    PROGRESS_CHARS characters of text.
    """
    load_pack(lang)  # an unknown language fails before anything is read
    read = [(Path(p), read_transcript(Path(p))) for p in paths]
    seen: dict[str, Path] = {}
    for path, transcript in read:
        if force:
            break
        earlier = store.imports(sha256=transcript.sha256)
        if earlier:
            row = earlier[0]
            raise DuplicateImport(
                f"{path} was already imported as session {row['session_id']} "
                f"({row['name']}, {row['created'][:10]}); `icp batch {row['session_id']}` "
                "re-extracts it, --force imports a second copy"
            )
        if transcript.sha256 in seen:
            raise DuplicateImport(f"{path} and {seen[transcript.sha256]} are the same file")
        seen[transcript.sha256] = path
    sides = [respondent_side(t, respondent, choose) for _, t in read]
    answered = _counter(read, sides, progress)
    prepared = [
        _prepare(path, transcript, side, company, engine, lang, answered)
        for (path, transcript), side in zip(read, sides, strict=True)
    ]
    infos = store.save_imports([payload for payload, _ in prepared])
    return [
        Imported(path, info, transcript, side, items)
        for (path, transcript), side, info, (_, items) in zip(
            read, sides, infos, prepared, strict=True
        )
    ]


def _counter(
    read: list[tuple[Path, Transcript]], sides: list[list[str]], progress: Progress | None
) -> Callable[[], None] | None:
    """A callback counting answers into `progress`, when the import is large enough to show."""
    chars = sum(len(u.text) for _, t in read for u in t.utterances)
    if progress is None or chars <= PROGRESS_CHARS:
        return None
    total = sum(
        u.speaker in side for (_, t), side in zip(read, sides, strict=True) for u in t.utterances
    )
    done = 0

    def answered() -> None:
        nonlocal done
        done = min(total, done + 1)
        progress(done, total)

    return answered


def _prepare(
    path: Path,
    transcript: Transcript,
    side: list[str],
    company: str,
    engine: Engine,
    lang: str,
    answered: Callable[[], None] | None,
) -> tuple[tuple, int]:
    """Extract in memory: what `Store.save_imports` stores for one file, and its item count."""
    sid = secrets.token_hex(4)
    session = SessionInfo(
        id=sid,
        company=company,
        role="",
        engine=engine.name,
        minutes=_minutes(transcript),
        status="complete",
        started=now(),
        meta={
            "source": "import",
            "file": transcript.name,
            "format": transcript.format,
            "lang": lang,
        },
    )
    rows, turns = [], []
    for seq, u in enumerate(transcript.utterances, 1):
        speaker = "respondent" if u.speaker in side else "agent"
        kind = "answer" if speaker == "respondent" else "question"
        rows.append((speaker, u.text, None, kind, u.speaker, u.line, u.start, u.end))
        turns.append(Turn(seq, speaker, u.text, None, kind))
    profile = reextract(session, turns, engine, answered=answered, processes=cores())
    profile.version = 1
    meta = {"kind": "import", "engine": engine.name, "guide": guide_hash()}
    source = {
        "sha256": transcript.sha256,
        "name": transcript.name,
        "format": transcript.format,
        "respondent": side,
        "speakers": transcript.speakers(),
    }
    state = State(phase="done").model_dump(mode="json")  # nothing to resume
    payload = (session, rows, source, (profile.model_dump_json(), state, meta))
    return payload, len(profile.all_items())


def _minutes(transcript: Transcript) -> float:
    """The call's length: its latest usable timestamp, else its words at a speaking pace;
    never 0 and never infinite, whatever the timestamps say."""
    stamps = [seconds(t) for u in transcript.utterances for t in (u.start, u.end)]
    latest = max((s for s in stamps if s is not None), default=0.0)
    if latest > 0:
        return max(0.1, round(latest / 60, 1))
    words = sum(len(u.text.split()) for u in transcript.utterances)
    return max(0.1, round(words / WORDS_PER_MINUTE, 1))
