"""Hypothesis strategies for the parsers: answers, --jsonl lines and transcript files."""

from __future__ import annotations

import json

from hypothesis import strategies as st

from tests.reliability.corpus import ANSWERS

# Words an interview answer is made of, with the pieces the analysis treats specially:
# hedges, quotes, abbreviations, decimals, numbers with units and scales, named tools.
WORDS = st.sampled_from(
    [
        "clinics", "dental", "finance", "teams", "we", "sell", "to", "they", "buy", "when",
        "a", "new", "CFO", "joins", "it", "depends", "usually", "mostly", "various", "the",
        "usual", "mid-market", "NetSuite", "Salesforce", "G2", "Dr.", "e.g.", "i.e.", "Inc.",
        "3.5", "200", "200-500", "1,000", "$5k", "€2M", "40%", "90", "days", "employees",
        "weeks", "ten", "dozen", "1e309", "9" * 400, "-5", "NaN", "“chaos", "every", "month”",
        '"we', 'need', 'it"', "'gut", "feel'", "«vite»", "„so“", "?", "!", "...", ";", ":",
        "I", "don't", "know", "(roughly)", "[sic]", "—", "–", "/skip", "{{", "}}", "<b>",
        "東京", "מרפאות", "🦷", "\u200b", "\t", "\n", "  ",
    ]
)  # fmt: skip
SENTENCES = st.lists(WORDS, min_size=1, max_size=25).map(" ".join)

# Any text at all, including lone surrogates and control characters.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=400)

ANSWER_TEXT = st.one_of(
    SENTENCES,
    st.lists(SENTENCES, min_size=1, max_size=6).map(". ".join),
    ANY_TEXT,
    st.sampled_from([a for a in ANSWERS.values() if len(a) < 40_000]),
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)

# Numbers and nesting that only an attack (or a broken exporter) writes, as JSON text.
HOSTILE_NUMBERS = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e400", "1e308"]),
    st.integers(19, 6000).map(lambda n: "9" * n),  # past 64 bits, past int()'s 4,300 digits
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True)
    .map(repr)
    .map(lambda r: {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}.get(r, r)),
)
DEEP = st.integers(1, 3000).map(lambda n: "[" * n + "1" + "]" * n)
HOSTILE_JSON = st.one_of(HOSTILE_NUMBERS, DEEP, JSON_VALUES.map(json.dumps))


@st.composite
def hostile_objects(draw, keys: tuple[str, ...]) -> bytes:
    """A JSON object (one line) whose values may be hostile numbers or deep nesting."""
    fields = []
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=len(keys), unique=True)):
        value = draw(st.one_of(HOSTILE_JSON, st.sampled_from(['"Dana"', '"We sell to clinics."'])))
        fields.append(f"{json.dumps(key)}: {value}")
    return ("{" + ", ".join(fields) + "}").encode()


@st.composite
def jsonl_lines(draw) -> bytes:
    """One line as a front end might send it, well-formed or not (without the newline)."""
    kinds = ["answer", "command", "other json", "cut", "bytes", "bad utf-8", "hostile"]
    kind = draw(st.sampled_from(kinds))
    if kind == "hostile":
        return draw(hostile_objects(("answer", "seq", "command")))
    if kind == "answer":
        value = draw(st.one_of(ANSWER_TEXT, JSON_VALUES))
        return json.dumps({"answer": value}).encode()
    if kind == "command":
        name = draw(st.sampled_from(["status", "skip", "done", "help", ""]) | st.text(max_size=8))
        return json.dumps({"command": name}).encode()
    if kind == "other json":
        return json.dumps(draw(JSON_VALUES)).encode()
    if kind == "cut":  # the writer died mid-line
        line = json.dumps({"answer": draw(SENTENCES)}).encode()
        return line[: draw(st.integers(0, len(line) - 1))]
    if kind == "bad utf-8":
        line = json.dumps({"answer": draw(SENTENCES)}, ensure_ascii=False).encode()
        at = draw(st.integers(0, len(line)))
        return (
            line[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"]))
            + line[at:]
        )
    return draw(st.binary(max_size=120)).replace(b"\n", b"")


# Transcripts: names that read as speaker labels, texts that cannot be mistaken for one.
SPEAKERS = st.sampled_from(["Dana", "Ann Lee", "Speaker 2", "Dr. Kim", "Jo-Ann", "Interviewer"])
LINE_WORDS = "we sell to clinics with 200 staff and they pay $5k yearly because audits hurt"
LINE_TEXT = st.lists(
    st.sampled_from([*LINE_WORDS.split(" "), "“chaos”", "really", "東京", "🦷", "it's"]),
    min_size=1,
    max_size=12,
).map(" ".join)


@st.composite
def conversations(draw) -> list[tuple[str, str]]:
    """Turns that alternate between two or three speakers (consecutive turns would merge)."""
    names = draw(st.lists(SPEAKERS, min_size=2, max_size=3, unique=True))
    turns, last = [], None
    for _ in range(draw(st.integers(1, 8))):
        name = draw(st.sampled_from([n for n in names if n != last]))
        turns.append((name, draw(LINE_TEXT)))
        last = name
    return turns


def _clock(seconds: int, sep: str) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{sep}000"


def render_transcript(fmt: str, turns: list[tuple[str, str]]) -> bytes:
    """A well-formed file of `fmt` holding `turns`."""
    if fmt == "text":
        body = "\n".join(f"{name}: {text}" for name, text in turns)
    elif fmt == "markdown":
        body = "# Call notes\n\n" + "\n\n".join(f"**{name}:** {text}" for name, text in turns)
    elif fmt == "vtt":
        cues = [
            f"{_clock(i * 5, '.')} --> {_clock(i * 5 + 4, '.')}\n<v {name}>{text}"
            for i, (name, text) in enumerate(turns)
        ]
        body = "WEBVTT\n\n" + "\n\n".join(cues)
    elif fmt == "srt":
        cues = [
            f"{i + 1}\n{_clock(i * 5, ',')} --> {_clock(i * 5 + 4, ',')}\n{name}: {text}"
            for i, (name, text) in enumerate(turns)
        ]
        body = "\n\n".join(cues)
    else:
        body = "\n".join(
            json.dumps({"speaker": name, "text": text, "time": i * 5}, ensure_ascii=False)
            for i, (name, text) in enumerate(turns)
        )
    return (body + "\n").encode("utf-8")


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """`data` cut short, with bytes dropped, or with garbage put in."""
    how = draw(st.sampled_from(["cut", "drop", "insert"]))
    at = draw(st.integers(0, len(data)))
    if how == "cut":
        return data[:at]
    if how == "drop":
        return data[:at] + data[at + draw(st.integers(1, 20)) :]
    return data[:at] + draw(st.binary(min_size=1, max_size=20)) + data[at:]


@st.composite
def hostile_transcript_lines(draw) -> bytes:
    """A JSON-lines transcript whose lines may carry hostile numbers or nesting anywhere."""
    good = [
        b'{"speaker": "Ann", "text": "What kind of companies buy?", "time": 1}',
        b'{"speaker": "Dana", "text": "Dental clinics.", "time": 4.5, "end": 6}',
    ]
    bad = hostile_objects(("speaker", "text", "time", "start", "end", "extra"))
    lines = draw(st.lists(st.one_of(st.sampled_from(good), bad), min_size=1, max_size=5))
    return b"\n".join(lines) + b"\n"


# Rules files: real keys, with scalars that may be non-finite, huge or deeply nested.
_RULE_SCALARS = st.one_of(
    st.sampled_from([".nan", ".inf", "-.inf", ".NaN", "1e999", "-50", "0", "17", "0x1f", "1_000"]),
    st.integers(19, 6000).map(lambda n: "9" * n),
    st.integers(1, 2000).map(lambda n: "[" * n + "1" + "]" * n),
    st.text("abc xyz-", min_size=1, max_size=12).map(json.dumps),
)


@st.composite
def rules_files(draw) -> str:
    """A rules file as `icp rules` writes it, with hostile values dropped in."""
    value = lambda: draw(_RULE_SCALARS)  # noqa: E731
    depth = draw(st.integers(0, 700))
    nested = "".join("  " * i + "- \n" for i in range(1, depth)) if depth > 40 else ""
    return (
        f"tiers: {{A: {value()}, B: {value()}, C: {value()}}}\n"
        f"categories: {{firmographic: {value()}, technographic: 20, behavioural: 30}}\n"
        "rules:\n"
        "  - id: employees\n"
        "    category: firmographic\n"
        "    label: Employees\n"
        f"    points: {value()}\n"
        "    field: employees\n"
        f"    min: {value()}\n"
        f"    max: {value()}\n"
        f"disqualifiers: {'[]' if not nested else ''}\n{nested}"
    )
