"""Fuzzing the parsers with Hypothesis: answer analysis and extraction, the --jsonl line parser
and loop, transcript import. Strategies live in strategies.py; examples are bounded for CI."""

from __future__ import annotations

import io
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.engines.offline import file_answer as extract
from agent.errors import InputError
from agent.frontends.jsonl import parse_line, run_jsonl
from agent.interview.loop import MAX_ANSWER_CHARS, Interview
from agent.interview.pipeline import merge
from agent.lang import load_pack
from agent.profile.models import SECTION_KEYS, UNSORTED, Profile, verify_evidence
from agent.quarterly.transcripts import FORMATS, parse_bytes
from agent.reading.quantities import find_quantities, parse_number
from agent.reading.statements import clean_answer, find_quotes, split_statements
from tests.reliability.strategies import (
    ANSWER_TEXT,
    ANY_TEXT,
    WORDS,
    conversations,
    damaged,
    hostile_transcript_lines,
    jsonl_lines,
    render_transcript,
    rules_files,
)

PACK = load_pack()
GUIDE = PACK.guide
TOPICS = st.sampled_from([None, "intro", "close", *SECTION_KEYS])
FAST = settings(max_examples=300, deadline=None)
SLOW = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TRIED: dict[str, int] = {}


@pytest.fixture(autouse=True, scope="module")
def _report(figures):
    yield
    figures["fuzzed parser inputs (Hypothesis)"] += sum(TRIED.values())


def tried(name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1


@FAST
@given(ANY_TEXT)
def test_clean_answer_leaves_storable_text(text):
    tried("clean_answer")
    cleaned = clean_answer(text)
    cleaned.encode("utf-8")  # no lone surrogates left
    assert clean_answer(cleaned) == cleaned
    assert all(ch in "\n\t" or ord(ch) >= 32 for ch in cleaned)


@FAST
@given(ANSWER_TEXT)
def test_statements_and_quotes_are_exact_slices(text):
    tried("split_statements")
    spans = split_statements(text)
    end = 0
    for span in spans:
        assert span.start >= end and text[span.start : span.end] == span.text
        assert span.text and span.text == span.text.strip()
        end = span.end
    for quote in find_quotes(text):
        assert text[quote.start : quote.end] == quote.text


@FAST
@given(ANSWER_TEXT)
def test_quantities_are_finite_and_ordered(text):
    tried("find_quantities")
    for q in find_quantities(text):
        assert q.text in text
        for value in (q.low, q.high):
            assert value is None or math.isfinite(value)
        if q.low is not None and q.high is not None:
            assert q.low <= q.high or q.kind == "duration"


@FAST
@given(ANSWER_TEXT, TOPICS, st.integers(1, 500))
def test_extraction_is_grounded_and_exports_as_strict_json(text, topic, turn):
    tried("extract")
    answer = clean_answer(text)
    profile = Profile(session="fuzz")
    for section, item in extract(answer, turn, topic, PACK):
        assert section in (*SECTION_KEYS, UNSORTED)
        assert all(ev.turn == turn for ev in item.evidence)
        merge(profile, section, item)
    assert not verify_evidence(profile, {turn: answer})
    dumped = json.dumps(profile.model_dump(mode="json"), allow_nan=False, ensure_ascii=False)
    assert Profile.model_validate_json(dumped) == profile


@FAST
@given(st.lists(WORDS, max_size=6).map(" ".join) | ANY_TEXT)
def test_typed_numbers_parse_or_raise_value_error(text):
    tried("parse_number")
    try:
        parsed = parse_number(text)
    except ValueError:
        return
    if parsed is not None:
        assert all(v is None or math.isfinite(v) for v in parsed)


def _hostile(value: object, depth: int = 1) -> bool:
    """Holds what parsers must refuse: NaN or an infinity, an integer over 18 digits, nesting
    past 32 levels."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return len(str(abs(value))) > 18
    if isinstance(value, dict | list):
        items = value.values() if isinstance(value, dict) else value
        return depth > 32 or any(_hostile(v, depth + 1) for v in items)
    return False


def _standard_json(raw: bytes) -> object:
    """What Python's own json module makes of a line (None where it fails or gives up)."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


@FAST
@given(jsonl_lines(), st.integers(1, 10_000))
def test_jsonl_parse_line_gives_an_object_or_a_one_line_error(raw, number):
    tried("parse_line")
    expected = _standard_json(raw)
    try:
        obj = parse_line(raw, number)
    except InputError as exc:
        message = str(exc)
        assert message.startswith(f"input line {number} ") and "\n" not in message
        assert not isinstance(expected, dict) or _hostile(expected)
        return
    assert isinstance(obj, dict) and obj == expected and not _hostile(obj)


@SLOW
@given(st.lists(jsonl_lines(), max_size=8))
def test_jsonl_loop_stores_exactly_the_answers_it_accepts(store, engine, lines):
    """Whatever arrives, run_jsonl either ends or stops with an InputError; every answer it
    stored is an accepted one, in order; every line it wrote is JSON."""
    tried("run_jsonl")
    interview = Interview.start(store, engine, minutes=30)
    out = io.StringIO()
    accepted, stopped = [], False
    for raw in lines:
        if not raw.strip():  # blank lines are skipped
            continue
        try:
            obj = parse_line(raw, 1)
        except InputError:
            break
        text = obj.get("answer") if obj.get("command") is None else None
        if isinstance(text, str) and 0 < len(clean_answer(text)) <= MAX_ANSWER_CHARS:
            accepted.append(clean_answer(text))
    try:
        run_jsonl(interview, io.BytesIO(b"".join(line + b"\n" for line in lines)), out)
    except InputError:
        stopped = True
    written = [json.loads(line) for line in out.getvalue().splitlines()]
    assert written[0]["type"] == "started" and written[-1]["type"] in ("done", "error")
    stored = [t.text for t in store.turns(interview.session.id) if t.kind == "answer"]
    assert stored == accepted[: len(stored)]
    if not interview.done:
        assert stored == accepted
    assert store.session(interview.session.id).status != "active" or interview.done
    assert stopped == (written[-1]["type"] == "error")


@FAST
@given(st.sampled_from(FORMATS), conversations())
def test_well_formed_transcripts_read_back_exactly(fmt, turns):
    tried("transcripts")
    data = render_transcript(fmt, turns)
    transcript = parse_bytes(data, f"call.{fmt}", fmt)
    assert [(u.speaker, u.text) for u in transcript.utterances] == turns


@FAST
@given(st.sampled_from(FORMATS), conversations(), st.data())
def test_damaged_transcripts_parse_or_name_the_line(fmt, turns, data):
    tried("transcripts")
    raw = data.draw(damaged(render_transcript(fmt, turns)))
    name = f"call.{fmt}"
    _parse_or_one_line_error(raw, name, fmt)


@FAST
@given(
    st.binary(max_size=600), st.sampled_from(["x.txt", "x.md", "x.vtt", "x.srt", "x.jsonl", "x"])
)
def test_any_bytes_parse_or_name_the_file(raw, name):
    tried("transcripts")
    _parse_or_one_line_error(raw, name, None)


@FAST
@given(hostile_transcript_lines())
def test_json_transcripts_with_hostile_numbers_and_nesting_parse_or_name_the_line(raw):
    tried("transcripts (hostile numbers)")
    _parse_or_one_line_error(raw, "call.jsonl", "jsonl")


@FAST
@given(
    st.sampled_from(["vtt", "srt"]),
    st.integers(0, 6000),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 10**6),
)
def test_caption_times_of_any_size_parse_or_name_the_line(fmt, digits, minutes, seconds, millis):
    tried("transcripts (hostile numbers)")
    stamp = f"{'9' * digits}{':' if digits else ''}{minutes:02d}:{seconds:02d}.{millis:03d}"
    sep = "," if fmt == "srt" else "."
    timing = f"{stamp.replace('.', sep)} --> 00:00:01{sep}000"
    head = "WEBVTT\n\n" if fmt == "vtt" else "1\n"
    raw = f"{head}{timing}\nAnn: What kind?\n".encode()
    _parse_or_one_line_error(raw, f"call.{fmt}", fmt)


@SLOW
@given(rules_files())
def test_rules_files_with_hostile_values_load_or_name_the_problem(tmp_path, text):
    from agent.scoring.rules import load_rules

    tried("rules files")
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_rules(path)
    except InputError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)


def _parse_or_one_line_error(raw: bytes, name: str, fmt: str | None) -> None:
    try:
        transcript = parse_bytes(raw, name, fmt)
    except InputError as exc:
        assert str(exc).startswith(name) and "\n" not in str(exc)
        return
    lines = raw.decode("utf-8-sig").splitlines()
    assert transcript.utterances
    for u in transcript.utterances:
        assert u.speaker.strip() and u.text.strip()
        assert 1 <= u.line <= len(lines)
        u.text.encode("utf-8")  # storable
