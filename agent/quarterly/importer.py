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
from agent.quarterly.reextract import guide_hash, reextract
from agent.quarterly.transcripts import Transcript, read_transcript
from agent.store.db import SessionInfo, Store, Turn, now

Chooser = Callable[[Transcript], list[str]]


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
) -> list[Imported]:
    """Read every file first (so a bad one imports nothing), then store each in one transaction."""
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
    return [
        _store_one(store, path, transcript, side, company, engine, lang)
        for (path, transcript), side in zip(read, sides, strict=True)
    ]


def _store_one(
    store: Store,
    path: Path,
    transcript: Transcript,
    side: list[str],
    company: str,
    engine: Engine,
    lang: str,
) -> Imported:
    """Extract in memory, then write session, turns, sources and profile in one transaction."""
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
    profile = reextract(session, turns, engine)
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
    info = store.save_import(session, rows, source, (profile.model_dump(mode="json"), state, meta))
    return Imported(path, info, transcript, side, len(profile.all_items()))


def _minutes(transcript: Transcript) -> float:
    """The call's length from its timestamps, or 0 when the file has none."""
    times = [u.end or u.start for u in transcript.utterances if (u.end or u.start)]
    if not times:
        return 0.0
    try:
        parts = [float(x) for x in times[-1].split(":")]
    except ValueError:
        return 0.0
    seconds = sum(value * 60**i for i, value in enumerate(reversed(parts)))
    return round(seconds / 60, 1)
