"""Imports: all files of one call or none, a size limit with a clear message and progress for
large files, zero-width characters in speaker labels, timing checked with warnings, and a
call length that is never 0 or infinite."""

from __future__ import annotations

import json
import math

import pytest

import agent.quarterly.importer as importer
import agent.quarterly.transcripts as transcripts
from agent.errors import ICPError, InputError
from agent.quarterly.importer import import_files
from agent.quarterly.transcripts import parse_bytes
from tests.conftest import icp
from tests.reliability.corpus import ZWJ_SPEAKER

CALL = (
    "Interviewer: What kind of companies are your best customers?\n"
    "Dana: Dental clinics with 200 employees in Germany.\n"
    "Interviewer: What made them buy?\n"
    "Dana: A new practice manager, within 90 days of joining.\n"
)


def test_a_failure_in_the_second_file_imports_neither_and_a_rerun_succeeds(
    store, engine, tmp_path, monkeypatch
):
    first, second = tmp_path / "one.txt", tmp_path / "two.txt"
    first.write_text(CALL)
    second.write_text(CALL.replace("Germany", "Austria"))
    real, calls = importer.reextract, []

    def fails_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ICPError("the model went away while extracting two.txt")
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "reextract", fails_second)
    with pytest.raises(ICPError, match=r"two\.txt"):
        import_files(store, [first, second], engine, respondent=("Dana",))
    assert store.sessions() == [] and store.imports() == []
    monkeypatch.setattr(importer, "reextract", real)
    done = import_files(store, [first, second], engine, respondent=("Dana",))
    assert [d.path for d in done] == [first, second]  # not refused as a duplicate


def test_a_write_that_fails_on_the_second_file_imports_neither(store, engine, tmp_path):
    """The database refuses the second file's rows (here: its session id is taken)."""
    first, second = tmp_path / "one.txt", tmp_path / "two.txt"
    first.write_text(CALL)
    second.write_text(CALL.replace("Germany", "Austria"))
    taken = store.create_session(company="Already here").id
    ids = iter(["0badf00d", taken])
    original = importer.secrets.token_hex
    importer.secrets.token_hex = lambda n: next(ids)
    try:
        with pytest.raises(Exception, match="UNIQUE"):
            import_files(store, [first, second], engine, respondent=("Dana",))
    finally:
        importer.secrets.token_hex = original
    assert [s.id for s in store.sessions()] == [taken] and store.imports() == []


def test_a_transcript_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    big.write_text(CALL * 10)
    monkeypatch.setattr(transcripts, "MAX_BYTES", 1000)
    with pytest.raises(InputError) as caught:
        transcripts.read_transcript(big)
    message = str(caught.value)
    size = big.stat().st_size
    assert message.startswith(f"{big} is {size:,} bytes (the limit is 1,000 bytes)")
    assert "split it into parts and import them together" in message


@pytest.mark.slow
def test_the_size_limit_in_the_command_line(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("w") as fh:
        while fh.tell() <= transcripts.MAX_BYTES:
            fh.write(CALL * 100)
    result = icp("import", str(big), "--respondent", "Dana")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "the limit is 5 MB" in result.stderr and "split it" in result.stderr


def test_a_large_import_reports_progress(store, engine, tmp_path, monkeypatch):
    path = tmp_path / "long.txt"
    path.write_text(CALL * 40)
    monkeypatch.setattr(importer, "PROGRESS_CHARS", 1000)
    seen: list[tuple[int, int]] = []
    import_files(store, [path], engine, respondent=("Dana",), progress=lambda *a: seen.append(a))
    assert seen and seen[-1] == (80, 80) and [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.slow
def test_the_progress_bar_goes_to_stderr(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text(CALL * 1500)  # over 200,000 characters of talk
    result = icp("import", str(path), "--respondent", "Dana", "--json")
    assert result.returncode == 0, result.stderr
    assert "Extracting answers" in result.stderr
    assert json.loads(result.stdout)[0]["turns"] == 6000


@pytest.mark.parametrize("fmt", ["text", "markdown", "vtt", "srt", "jsonl"])
def test_a_zero_width_character_in_a_label_does_not_merge_turns(fmt):
    name = ZWJ_SPEAKER
    bodies = {
        "text": f"Ann: What kind?\n{name}: Dental clinics 👩🏽‍⚕️.\nAnn: Why?\n{name}: Audits.\n",
        "markdown": f"**Ann:** What kind?\n**{name}:** Dental clinics 👩🏽‍⚕️.\n**Ann:** Why?\n"
        f"**{name}**: Audits.\n",
        "vtt": "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann>What kind?\n\n"
        f"00:00:03.000 --> 00:00:04.000\n<v {name}>Dental clinics 👩🏽‍⚕️.\n\n"
        f"00:00:05.000 --> 00:00:06.000\nAnn: Why?\n\n00:00:07.000 --> 00:00:08.000\n"
        f"{name}: Audits.\n",
        "srt": "1\n00:00:01,000 --> 00:00:02,000\nAnn: What kind?\n\n2\n00:00:03,000 --> "
        f"00:00:04,000\n[{name}] Dental clinics 👩🏽‍⚕️.\n\n3\n00:00:05,000 --> 00:00:06,000\n"
        f"Ann: Why?\n\n4\n00:00:07,000 --> 00:00:08,000\n{name}: Audits.\n",
        "jsonl": "\n".join(
            json.dumps({"speaker": who, "text": text}, ensure_ascii=False)
            for who, text in [
                ("Ann", "What kind?"),
                (name, "Dental clinics 👩🏽‍⚕️."),
                ("Ann", "Why?"),
                ("Dana", "Audits."),
            ]
        ),
    }
    transcript = parse_bytes(bodies[fmt].encode(), f"call.{fmt}", fmt)
    assert [(u.speaker, u.text) for u in transcript.utterances] == [
        ("Ann", "What kind?"),
        ("Dana", "Dental clinics 👩🏽‍⚕️."),  # the emoji keeps its joiner: words are not labels
        ("Ann", "Why?"),
        ("Dana", "Audits."),
    ]
    assert transcript.speakers() == {"Ann": 2, "Dana": 2}


def test_timing_that_cannot_be_right_is_kept_with_a_warning(tmp_path):
    srt = (
        "1\n00:00:05,000 --> 00:00:04,000\nAnn: What kind?\n\n"  # ends before it starts
        "2\n00:00:06,000 --> 00:00:07,000\nDana: Dental clinics.\n\n"
        "2\n00:00:01,000 --> 00:00:02,000\nAnn: Why?\n\n"  # number 2 again, and earlier
        "4\n00:00:08,000 --> 00:00:09,000\nDana: Audits.\n"
    )
    transcript = parse_bytes(srt.encode(), "call.srt")
    assert len(transcript.utterances) == 4  # every cue kept, in the file's order
    assert transcript.warnings == (
        "call.srt, line 3: ends before it starts (00:00:05.000 --> 00:00:04.000); kept as written",
        "call.srt, line 9: subtitle number 2 again (first at line 5); both cues kept",
        "call.srt, line 11: starts at 00:00:01.000, before the cue above it; kept in the file's "
        "order",
    )
    path = tmp_path / "call.srt"
    path.write_text(srt)
    result = icp("import", str(path), "--respondent", "Dana", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("icp: warning: call.srt, line ") == 3
    assert json.loads(result.stdout)[0]["warnings"] == list(transcript.warnings)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("no timestamps.txt", CALL),
        (
            "all zero.srt",
            "1\n00:00:00,000 --> 00:00:00,000\nAnn: What kind?\n\n2\n"
            "00:00:00,000 --> 00:00:00,000\nDana: Dental clinics with 200 employees.\n",
        ),
        (
            "text times.jsonl",
            '{"speaker": "Ann", "text": "What kind?", "time": "9'
            + "9" * 400
            + ':00"}\n{"speaker": "Dana", "text": "Dental clinics.", "time": "soon"}\n',
        ),
        (
            "negative.jsonl",
            '{"speaker": "Ann", "text": "What kind?", "time": "-05:00"}\n'
            '{"speaker": "Dana", "text": "Dental clinics.", "end": "nan"}\n',
        ),
    ],
)
def test_the_call_length_is_never_zero_or_infinite(store, engine, tmp_path, name, body):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    done = import_files(store, [path], engine, respondent=("Dana",))
    minutes = store.session(done[0].session.id).minutes
    assert math.isfinite(minutes) and 0 < minutes < 60, minutes
    exported = icp("sessions", "--json")
    assert exported.returncode == 0 and "Infinity" not in exported.stdout
