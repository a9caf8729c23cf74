"""Read transcripts made elsewhere: plain text, Markdown, WebVTT, SRT captions and JSON lines.

The caption parsers are written here rather than taken from a subtitle library because an
import must name the exact line a file goes wrong on, which those libraries do not report.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.errors import InputError
from agent.safety import ZERO_WIDTH, Hostile, clean_name, clean_text, load_json

FORMATS = ("text", "markdown", "vtt", "srt", "jsonl")  # identifiers: transcript formats
SUFFIXES = {  # identifiers: file suffixes and formats
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".vtt": "vtt",
    ".srt": "srt",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}

# "Name: text", optionally after a "[00:01:02]" timestamp: each word of the name capitalised
# (or a number: "Speaker 2"), so "Our biggest problem: cost" stays part of the answer.
_NAME = r"[^\W\d_][\w.'’&/-]*(?:\s+(?:[A-Z0-9][\w.'’&/-]*|\([^()]{1,30}\))){0,3}"
_TIME = r"\d{1,2}(?::\d{2}){1,2}(?:[.,]\d{1,3})?"
_LABEL = re.compile(rf"^\s*(?:[\[(](?P<time>{_TIME})[\])]\s*)?(?P<name>{_NAME})\s*:(?:\s+|$)")
_MD_BOLD = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*|__)(?P<name>[^*_:]{1,40}?)\s*(?::(?:\*\*|__)|(?:\*\*|__)\s*:)\s*"
)
_MD_HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<name>.*?)\s*#*\s*$")
_MD_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_CUE_TIME = r"(?:\d{1,}:)?\d{1,2}:\d{2}[.,]\d{1,3}"
_TIMING = re.compile(rf"^\s*(?P<start>{_CUE_TIME})\s+-->\s+(?P<end>{_CUE_TIME})(?:\s+.*)?$")
_VOICE = re.compile(r"^\s*<v(?:\.[^\s>]*)?\s+(?P<name>[^>]+?)\s*>")
_BRACKET = re.compile(r"^\s*\[(?P<name>[^\]]{1,40})\]\s*")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>")
_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH}]")

# The largest transcript `icp import` reads: about 80 hours of talk, far past any call or
# workshop. Past it the file is refused before it is read (split it; import the parts).
MAX_BYTES = 5 * 1024 * 1024
MAX_HOURS = 9999  # a timestamp past this is not a recording's
MAX_WARNINGS = 5  # per kind of timing problem; the rest are counted


@dataclass(frozen=True)
class Utterance:
    """One speaker's turn as the file has it, with the line it starts on and its timestamps."""

    speaker: str
    text: str
    line: int
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class Transcript:
    """A parsed transcript file, with warnings about what it holds but looks wrong."""

    name: str
    format: str
    sha256: str
    utterances: tuple[Utterance, ...]
    warnings: tuple[str, ...] = ()

    def speakers(self) -> dict[str, int]:
        """Each speaker with their number of turns, in order of first appearance."""
        counts: dict[str, int] = {}
        for u in self.utterances:
            counts[u.speaker] = counts.get(u.speaker, 0) + 1
        return counts


class _Bad(Exception):
    """A parse error at a line; read_transcript adds the file name."""

    def __init__(self, line: int, why: str):
        super().__init__(why)
        self.line, self.why = line, why


def read_transcript(path: Path, fmt: str | None = None) -> Transcript:
    """Read and parse a transcript file, or raise InputError naming the file and the line.

    The file is read in chunks, hashed and decoded as it comes, and refused past MAX_BYTES
    (before reading when its size is known, else as soon as the limit is passed).
    """
    path = Path(path)
    digest, decoder = hashlib.sha256(), codecs.getincrementaldecoder("utf-8-sig")()
    parts, size, lines = [], 0, 1
    try:
        if path.is_file() and path.stat().st_size > MAX_BYTES:
            raise InputError(_too_big(path, path.stat().st_size))
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise InputError(_too_big(path, size, known=False))
                digest.update(chunk)
                try:
                    parts.append(decoder.decode(chunk))
                except UnicodeDecodeError as exc:
                    line = lines + chunk[: exc.start].count(b"\n")
                    raise InputError(f"{path.name}, line {line}: not valid UTF-8 text") from None
                lines += chunk.count(b"\n")
            parts.append(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        raise InputError(f"{path.name}, line {lines}: not valid UTF-8 text (cut short)") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_text_of("".join(parts), path.name, digest.hexdigest(), fmt)


def _too_big(path: Path, size: int, known: bool = True) -> str:
    what = (
        f"is {_size(size)} (the limit is {_size(MAX_BYTES)})"
        if known
        else (f"is over the limit of {_size(MAX_BYTES)}")
    )
    return f"{path} {what}; split it into parts and import them together"


def _size(n: int) -> str:
    return f"{n / 2**20:.1f}".removesuffix(".0") + " MB" if n >= 2**20 else f"{n:,} bytes"


def parse_bytes(data: bytes, name: str, fmt: str | None = None) -> Transcript:
    """Parse a transcript's bytes; the format comes from `fmt`, the name's suffix or a sniff."""
    if len(data) > MAX_BYTES:
        raise InputError(_too_big(Path(name), len(data)))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{name}, line {line}: not valid UTF-8 text") from None
    return parse_text_of(text, name, hashlib.sha256(data).hexdigest(), fmt)


def parse_text_of(text: str, name: str, digest: str, fmt: str | None = None) -> Transcript:
    """Parse decoded transcript text (whose bytes hash to `digest`)."""
    name = clean_name(name)  # a file name is shown and stored: no escape sequences in it
    fmt = fmt or detect(name, text)
    if fmt not in FORMATS:
        raise InputError(f"unknown transcript format {fmt!r}; use one of: {', '.join(FORMATS)}")
    notes: list[tuple[str, int, str]] = []
    lines = [clean_text(line, strip=False) for line in text.splitlines()]  # untrusted
    try:
        found = _PARSERS[fmt](lines, notes)
    except _Bad as exc:
        raise InputError(f"{name}, line {exc.line}: {exc.why}") from None
    if fmt in ("vtt", "srt", "jsonl"):
        _check_order(found, notes)
    utterances = _merge_runs(found, "\n" if fmt in ("text", "markdown") else " ")
    if not utterances:
        raise InputError(f"{name}: no speaker turns found (read as {fmt})")
    return Transcript(name, fmt, digest, tuple(utterances), _warnings(name, notes))


def _warnings(name: str, notes: list[tuple[str, int, str]]) -> tuple[str, ...]:
    """At most MAX_WARNINGS lines per kind of problem, then how many more there were."""
    out, seen = [], {}
    for kind, line, text in sorted(notes, key=lambda note: note[1]):
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= MAX_WARNINGS:
            out.append(f"{name}, line {line}: {text}")
    for kind, count in seen.items():
        if count > MAX_WARNINGS:
            out.append(f"{name}: {count - MAX_WARNINGS} more like that ({kind})")
    return tuple(out)


def _check_order(found: list[Utterance], notes: list[tuple[str, int, str]]) -> None:
    """Timing that cannot be right: a cue ending before it starts, or starting before the one
    above it. Kept as the file has it (the words are what matter), with a warning each."""
    last: float | None = None
    for u in found:
        start, end = seconds(u.start), seconds(u.end)
        if start is not None and end is not None and end < start:
            notes.append(
                (
                    "ends before it starts",
                    u.line,
                    f"ends before it starts ({u.start} --> {u.end}); kept as written",
                )
            )
        if start is not None:
            if last is not None and start < last:
                notes.append(
                    (
                        "out of order",
                        u.line,
                        f"starts at {u.start}, before the cue above it; kept in the file's order",
                    )
                )
            last = start if last is None else max(last, start)


def seconds(stamp: str | None) -> float | None:
    """A timestamp ("01:02:03.5", "62:03", "3723.5") in seconds; None if it is not one or is
    past MAX_HOURS."""
    if not stamp:
        return None
    try:
        parts = [float(x) for x in stamp.strip().replace(",", ".").split(":")]
    except ValueError:
        return None
    if not parts or len(parts) > 3 or not all(math.isfinite(x) and x >= 0 for x in parts):
        return None
    total = sum(value * 60**i for i, value in enumerate(reversed(parts)))
    return total if total <= MAX_HOURS * 3600 else None


def detect(name: str, text: str) -> str:
    """The format by file suffix, else by the first lines."""
    suffix = Path(name).suffix.lower()
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    lines = [line.strip() for line in text.splitlines() if line.strip()][:3]
    if not lines:
        return "text"
    if lines[0].startswith("WEBVTT"):
        return "vtt"
    if lines[0].startswith("{"):
        return "jsonl"
    if lines[0].isdigit() and len(lines) > 1 and "-->" in lines[1]:
        return "srt"
    if any(_MD_BOLD.match(line) or _MD_HEADING.match(line) for line in lines):
        return "markdown"
    return "text"


def _merge_runs(found: list[Utterance], joiner: str) -> list[Utterance]:
    """Join consecutive turns of one speaker (caption cues split sentences across cues).

    Text and names are untrusted: control characters and escape sequences go (`clean_text`,
    newlines and tabs kept), names lose zero-width characters too, so "Dana" and "Dana\u200d"
    are one speaker.
    """
    out: list[Utterance] = []
    for u in found:
        text = clean_text(u.text.strip("\n").rstrip(), strip=False).strip("\n").rstrip()
        speaker = clean_name(u.speaker)
        if not text.strip() or not speaker:
            continue
        if out and out[-1].speaker == speaker:
            last = out[-1]
            out[-1] = Utterance(
                last.speaker, last.text + joiner + text, last.line, last.start, u.end or u.start
            )
        else:
            out.append(Utterance(speaker, text, u.line, u.start, u.end))
    return out


def _is_name(name: str) -> bool:
    return 0 < len(name) <= 40 and not name.endswith((".", "?", "!", ","))


def _label(line: str) -> tuple[str, str | None, str] | None:
    """A "Name: text" line as (name, time, text), zero-width characters in the label ignored
    ("Dana\u200d: ..." is Dana's turn); the text is kept exactly as written."""
    found = _match_ignoring_zero_width(_LABEL, line)
    if not found or not _is_name(found[0]["name"].strip()):
        return None
    m, rest = found
    return m["name"].strip(), m["time"], rest


def _match_ignoring_zero_width(pattern: re.Pattern[str], line: str) -> tuple[re.Match, str] | None:
    """`pattern` matched at the start of `line` as if it had no zero-width characters: the
    match, and the rest of the original line after it (its zero-widths kept: in the words,
    U+200D holds emoji sequences together)."""
    probe = _ZERO_WIDTH.sub("", line) if _ZERO_WIDTH.search(line) else line
    m = pattern.match(probe)
    if not m or probe is line:
        return (m, line[m.end() :]) if m else None
    kept, at = 0, 0  # where the match ends in the original line
    while kept < m.end():
        if line[at] not in ZERO_WIDTH:
            kept += 1
        at += 1
    return m, line[at:]


def parse_text(lines: list[str], notes: list | None = None) -> list[Utterance]:
    """`Name: text` lines; lines without a label continue the previous turn."""
    out: list[Utterance] = []
    speaker, start, first, buf = None, None, 0, []
    for number, line in enumerate(lines, 1):
        label = _label(line)
        if label:
            if speaker:
                out.append(Utterance(speaker, "\n".join(buf), first, start))
            speaker, start, first = label[0], label[1], number
            buf = [label[2].rstrip()]
        elif speaker:
            buf.append(line.rstrip())
        elif line.strip():
            raise _Bad(number, "text before the first speaker label; expected 'Name: text'")
    if speaker:
        out.append(Utterance(speaker, "\n".join(buf), first, start))
    return out


def parse_markdown(lines: list[str], notes: list | None = None) -> list[Utterance]:
    """`**Name:** text` (or `**Name**: text`) lines, or `## Name` headings over paragraphs."""
    lines = _drop_front_matter(lines)
    bold = any(_match_ignoring_zero_width(_MD_BOLD, line) for line in lines)
    out: list[Utterance] = []
    speaker, first, buf = None, 0, []
    for number, line in enumerate(lines, 1):
        found = _match_ignoring_zero_width(_MD_BOLD, line) if bold else None
        heading = _MD_HEADING.match(line)
        if heading and not bold and heading["level"] != "#" and _is_name(heading["name"]):
            name, rest = heading["name"], ""
        elif found:
            name, rest = found[0]["name"].strip(), found[1].rstrip()
        else:
            if heading or _MD_RULE.match(line):
                continue  # structure, not words
            if speaker:
                buf.append(line.rstrip())
            elif line.strip():
                raise _Bad(number, "text before the first speaker; expected '**Name:** text'")
            continue
        if speaker:
            out.append(Utterance(speaker, "\n".join(buf), first))
        speaker, first, buf = name, number, [rest] if rest else []
    if speaker:
        out.append(Utterance(speaker, "\n".join(buf), first))
    return out


def _drop_front_matter(lines: list[str]) -> list[str]:
    """Blank out a leading `---` YAML block, keeping line numbers."""
    if lines and lines[0].strip() == "---":
        for i in range(1, len(lines)):
            if lines[i].strip() in ("---", "..."):
                return [""] * (i + 1) + lines[i + 1 :]
    return lines


def _blocks(lines: list[str], start: int = 0) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines with the (1-based) number of their first line."""
    out, block, first = [], [], 0
    for number, line in enumerate(lines[start:], start + 1):
        if line.strip():
            if not block:
                first = number
            block.append(line)
        elif block:
            out.append((first, block))
            block = []
    if block:
        out.append((first, block))
    return out


def _timestamp(raw: str, line: int) -> str:
    """A cue time as HH:MM:SS.mmm; hours past MAX_HOURS, or minutes or seconds past 59, are
    a bad timing line."""
    parts = raw.replace(",", ".").split(":")
    if len(parts) == 3 and len(parts[0].lstrip("0")) > len(str(MAX_HOURS)):
        raise _Bad(line, f"a cue time of more than {MAX_HOURS} hours ({raw[:20]}...)")
    hours = int(parts[0]) if len(parts) == 3 else 0
    minutes, secs = int(parts[-2]), float(parts[-1])
    if hours > MAX_HOURS or minutes > 59 or secs >= 60:
        raise _Bad(line, f"{raw} is not a time (minutes and seconds run to 59)")
    return f"{hours:02d}:{minutes:02d}:{secs:06.3f}"


def _cue(
    number: int, block: list[str], timing_at: int, speaker: str | None
) -> tuple[list[Utterance], str | None]:
    """The turns in one caption cue; a cue without a speaker continues the last one."""
    m = _TIMING.match(block[timing_at])
    if not m:
        raise _Bad(number + timing_at, "expected a cue timing like '00:00:01.000 --> 00:00:04.000'")
    start = _timestamp(m["start"], number + timing_at)
    end = _timestamp(m["end"], number + timing_at)
    out = []
    for offset, raw in enumerate(block[timing_at + 1 :], timing_at + 1):
        who = _VOICE.match(raw) or _BRACKET.match(raw)
        if who:
            speaker, raw = who["name"].strip(), raw[who.end() :]
        else:
            label = _label(raw)
            if label:
                speaker, raw = label[0], label[2]
        text = html.unescape(_TAG.sub("", raw)).strip()
        if not text:
            continue
        if speaker is None:
            raise _Bad(number + offset, "no speaker: use '<v Name>' or 'Name:' on the first cue")
        out.append(Utterance(speaker, text, number + offset, start, end))
    return out, speaker


def parse_vtt(lines: list[str], notes: list | None = None) -> list[Utterance]:
    """WebVTT cues with `<v Name>` voice tags or `Name:` prefixes."""
    if not lines or not lines[0].startswith("WEBVTT"):
        raise _Bad(1, "a WebVTT file starts with a 'WEBVTT' line")
    out: list[Utterance] = []
    speaker = None
    blocks = _blocks(lines, 1)
    if len(lines) > 1 and lines[1].strip() and "-->" not in lines[1]:
        blocks = blocks[1:]  # header metadata ("Kind: captions") up to the first blank line
    for number, block in blocks:
        if block[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        if "-->" in block[0]:
            timing_at = 0
        elif len(block) > 1 and "-->" in block[1]:
            timing_at = 1  # an optional cue identifier comes first
        else:
            raise _Bad(number, "expected a cue timing like '00:00:01.000 --> 00:00:04.000'")
        found, speaker = _cue(number, block, timing_at, speaker)
        out += found
    return out


def parse_srt(lines: list[str], notes: list | None = None) -> list[Utterance]:
    """SubRip blocks: a number, a timing line, text with `Name:`, `[Name]` or `<v Name>`.

    A subtitle number seen before is noted in `notes` (the cue is kept).
    """
    out: list[Utterance] = []
    speaker = None
    numbers: dict[str, int] = {}
    for number, block in _blocks(lines):
        label = block[0].strip()
        if not label.isdigit():
            raise _Bad(number, "expected a subtitle number (SRT blocks start with 1, 2, 3...)")
        label = label.lstrip("0") or "0"
        if label in numbers and notes is not None:
            notes.append(
                (
                    "repeated numbers",
                    number,
                    f"subtitle number {label[:12]} again "
                    f"(first at line {numbers[label]}); both cues kept",
                )
            )
        numbers.setdefault(label, number)
        if len(block) < 2:
            raise _Bad(number, "a subtitle number without a timing line")
        found, speaker = _cue(number, block, 1, speaker)
        out += found
    return out


def parse_jsonl(lines: list[str], notes: list | None = None) -> list[Utterance]:
    """One JSON object a line: {"speaker": ..., "text": ..., "time": ...} ("end" optional)."""
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = load_json(line)
        except json.JSONDecodeError as exc:
            raise _Bad(number, f"not valid JSON ({exc.msg}, column {exc.colno})") from None
        except Hostile as exc:
            raise _Bad(number, f"not usable JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise _Bad(number, 'expected an object like {"speaker": "Dana", "text": "..."}')
        speaker, text = obj.get("speaker"), obj.get("text")
        for key, value in (("speaker", speaker), ("text", text)):
            if not isinstance(value, str) or not value.strip():
                raise _Bad(number, f'"{key}" must be non-empty text')
        start = _json_time(obj.get("time", obj.get("start")), number)
        out.append(
            Utterance(speaker.strip(), text, number, start, _json_time(obj.get("end"), number))
        )
    return out


def _json_time(value: object, number: int) -> str | None:
    """A JSON time: seconds as a number become HH:MM:SS.mmm, text is kept as written."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Bad(number, '"time" must be seconds or text like "00:01:02"')
    if isinstance(value, str):
        return clean_name(value)[:40] or None
    if not 0 <= value <= MAX_HOURS * 3600:
        raise _Bad(number, f'"time" must be seconds from 0 to {MAX_HOURS} hours, not {value:g}')
    hours, rest = divmod(float(value), 3600)
    return f"{int(hours):02d}:{int(rest // 60):02d}:{rest % 60:06.3f}"


_PARSERS: dict[str, Callable[[list[str], list], list[Utterance]]] = {  # identifiers: formats
    "text": parse_text,
    "markdown": parse_markdown,
    "vtt": parse_vtt,
    "srt": parse_srt,
    "jsonl": parse_jsonl,
}
