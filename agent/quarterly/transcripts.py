"""Read transcripts made elsewhere: plain text, Markdown, WebVTT, SRT captions and JSON lines.

The caption parsers are written here rather than taken from a subtitle library because an
import must name the exact line a file goes wrong on, which those libraries do not report.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.errors import InputError

FORMATS = ("text", "markdown", "vtt", "srt", "jsonl")
SUFFIXES = {
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
_SURROGATE = re.compile("[\ud800-\udfff]")  # a lone "\\ud800" escape: UTF-8 cannot hold it
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>")


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
    """A parsed transcript file."""

    name: str
    format: str
    sha256: str
    utterances: tuple[Utterance, ...]

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
    """Read and parse a transcript file, or raise InputError naming the file and the line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_bytes(data, path.name, fmt)


def parse_bytes(data: bytes, name: str, fmt: str | None = None) -> Transcript:
    """Parse a transcript's bytes; the format comes from `fmt`, the name's suffix or a sniff."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{name}, line {line}: not valid UTF-8 text") from None
    fmt = fmt or detect(name, text)
    if fmt not in FORMATS:
        raise InputError(f"unknown transcript format {fmt!r}; use one of: {', '.join(FORMATS)}")
    try:
        found = _PARSERS[fmt](text.splitlines())
    except _Bad as exc:
        raise InputError(f"{name}, line {exc.line}: {exc.why}") from None
    utterances = _merge_runs(found, "\n" if fmt in ("text", "markdown") else " ")
    if not utterances:
        raise InputError(f"{name}: no speaker turns found (read as {fmt})")
    digest = hashlib.sha256(data).hexdigest()
    return Transcript(name, fmt, digest, tuple(utterances))


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
    """Join consecutive turns of one speaker (caption cues split sentences across cues)."""
    out: list[Utterance] = []
    for u in found:
        text = u.text.strip("\n").rstrip()
        if not text.strip():
            continue
        if out and out[-1].speaker == u.speaker:
            last = out[-1]
            out[-1] = Utterance(
                last.speaker, last.text + joiner + text, last.line, last.start, u.end or u.start
            )
        else:
            out.append(Utterance(u.speaker, text, u.line, u.start, u.end))
    return out


def _is_name(name: str) -> bool:
    return 0 < len(name) <= 40 and not name.endswith((".", "?", "!", ","))


def parse_text(lines: list[str]) -> list[Utterance]:
    """`Name: text` lines; lines without a label continue the previous turn."""
    out: list[Utterance] = []
    speaker, start, first, buf = None, None, 0, []
    for number, line in enumerate(lines, 1):
        m = _LABEL.match(line)
        if m and _is_name(m["name"].strip()):
            if speaker:
                out.append(Utterance(speaker, "\n".join(buf), first, start))
            speaker, start, first = m["name"].strip(), m["time"], number
            buf = [line[m.end() :].rstrip()]
        elif speaker:
            buf.append(line.rstrip())
        elif line.strip():
            raise _Bad(number, "text before the first speaker label; expected 'Name: text'")
    if speaker:
        out.append(Utterance(speaker, "\n".join(buf), first, start))
    return out


def parse_markdown(lines: list[str]) -> list[Utterance]:
    """`**Name:** text` (or `**Name**: text`) lines, or `## Name` headings over paragraphs."""
    lines = _drop_front_matter(lines)
    bold = any(_MD_BOLD.match(line) for line in lines)
    out: list[Utterance] = []
    speaker, first, buf = None, 0, []
    for number, line in enumerate(lines, 1):
        m = _MD_BOLD.match(line) if bold else None
        heading = _MD_HEADING.match(line)
        if heading and not bold and heading["level"] != "#" and _is_name(heading["name"]):
            name, rest = heading["name"], ""
        elif m:
            name, rest = m["name"].strip(), line[m.end() :].rstrip()
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


def _timestamp(raw: str) -> str:
    """A cue time as HH:MM:SS.mmm."""
    parts = raw.replace(",", ".").split(":")
    hours = int(parts[0]) if len(parts) == 3 else 0
    minutes, seconds = int(parts[-2]), float(parts[-1])
    return f"{hours:02d}:{minutes:02d}:{seconds:06.3f}"


def _cue(
    number: int, block: list[str], timing_at: int, speaker: str | None
) -> tuple[list[Utterance], str | None]:
    """The turns in one caption cue; a cue without a speaker continues the last one."""
    m = _TIMING.match(block[timing_at])
    if not m:
        raise _Bad(number + timing_at, "expected a cue timing like '00:00:01.000 --> 00:00:04.000'")
    start, end = _timestamp(m["start"]), _timestamp(m["end"])
    out = []
    for offset, raw in enumerate(block[timing_at + 1 :], timing_at + 1):
        who = _VOICE.match(raw) or _BRACKET.match(raw)
        if who:
            speaker, raw = who["name"].strip(), raw[who.end() :]
        else:
            label = _LABEL.match(raw)
            if label and _is_name(label["name"].strip()):
                speaker, raw = label["name"].strip(), raw[label.end() :]
        text = html.unescape(_TAG.sub("", raw)).strip()
        if not text:
            continue
        if speaker is None:
            raise _Bad(number + offset, "no speaker: use '<v Name>' or 'Name:' on the first cue")
        out.append(Utterance(speaker, text, number + offset, start, end))
    return out, speaker


def parse_vtt(lines: list[str]) -> list[Utterance]:
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


def parse_srt(lines: list[str]) -> list[Utterance]:
    """SubRip blocks: a number, a timing line, text with `Name:`, `[Name]` or `<v Name>`."""
    out: list[Utterance] = []
    speaker = None
    for number, block in _blocks(lines):
        if not block[0].strip().isdigit():
            raise _Bad(number, "expected a subtitle number (SRT blocks start with 1, 2, 3...)")
        if len(block) < 2:
            raise _Bad(number, "a subtitle number without a timing line")
        found, speaker = _cue(number, block, 1, speaker)
        out += found
    return out


def parse_jsonl(lines: list[str]) -> list[Utterance]:
    """One JSON object a line: {"speaker": ..., "text": ..., "time": ...} ("end" optional)."""
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _Bad(number, f"not valid JSON ({exc.msg}, column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise _Bad(number, 'expected an object like {"speaker": "Dana", "text": "..."}')
        obj = {k: _SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for k, v in obj.items()}
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
        return value
    hours, rest = divmod(float(value), 3600)
    return f"{int(hours):02d}:{int(rest // 60):02d}:{rest % 60:06.3f}"


_PARSERS: dict[str, Callable[[list[str]], list[Utterance]]] = {
    "text": parse_text,
    "markdown": parse_markdown,
    "vtt": parse_vtt,
    "srt": parse_srt,
    "jsonl": parse_jsonl,
}
