"""`icp import`: every transcript format, malformed files, duplicates, nothing half-imported."""

import json

import pytest

from agent.engines import get_engine
from agent.errors import InputError
from agent.processes import can_fork
from agent.profile.models import Profile, verify_evidence
from agent.quarterly.importer import DuplicateImport, import_files
from agent.quarterly.transcripts import parse_bytes
from tests.conftest import icp

TEXT = """\
Interviewer: Think of the customers you'd most like to clone. What kind of companies are they?
Dana (Tailwag): Independent vet clinics with 2 to 6 veterinarians and 10-30 staff.
Our biggest problem: they run a server in a closet.

[00:03:10] Interviewer: What happened just before they started looking?
Dana (Tailwag): A server dying is the number one trigger; we get calls the same week.
"""

MARKDOWN = """\
---
title: Win/loss call
---
# Call with Tailwag

**Interviewer:** What happened just before they started looking?
**Dana**: A server dying is the number one trigger.
A practice manager told me "I just want the phone to stop ringing".

- **Interviewer:** Who do you never want to sell to?
- **Dana:** Corporate groups with more than 20 clinics.
"""

MARKDOWN_HEADINGS = """\
# Discovery call

### Sam
Which tools do they run today?

### Dana
Most are migrating off AVImark or Cornerstone.

They need IDEXX lab integrations.
"""

VTT = """\
WEBVTT
Kind: captions

NOTE recorded on Zoom

1
00:00:01.000 --> 00:00:04.000
<v Sam>Which tools do they run today?</v>

00:00:04.500 --> 00:00:06.000 align:start
<v.loud Dana>Most are migrating off AVImark,

00:00:06.000 --> 00:00:08.250
or Cornerstone &amp; a server in a closet.
"""

SRT = """\
1
00:00:01,000 --> 00:00:04,000
Sam: Which tools do they run today?

2
00:00:04,500 --> 00:00:06,000
[Dana] Most are migrating off AVImark.

3
00:00:06,000 --> 00:00:07,000
<v Sam>Thanks.</v>
"""

JSONL = (
    '{"speaker": "Sam", "text": "Which tools do they run today?", "time": 1.5}\n'
    "\n"
    '{"speaker": "Dana", "text": "Most are migrating off AVImark.", "time": "00:00:04",'
    ' "end": 9}\n'
)


def test_plain_text_labels_continuations_and_timestamps():
    t = parse_bytes(TEXT.encode(), "call.txt")
    assert t.format == "text"
    assert t.speakers() == {"Interviewer": 2, "Dana (Tailwag)": 2}
    second = t.utterances[1]
    # "Our biggest problem:" is part of the answer, not a speaker; the lines stay as written.
    assert second.text == (
        "Independent vet clinics with 2 to 6 veterinarians and 10-30 staff.\n"
        "Our biggest problem: they run a server in a closet."
    )
    assert second.line == 2
    assert t.utterances[2].start == "00:03:10" and t.utterances[2].line == 5


def test_markdown_bold_labels_skip_front_matter_and_headings():
    t = parse_bytes(MARKDOWN.encode(), "call.md")
    assert t.format == "markdown"
    assert [u.speaker for u in t.utterances] == ["Interviewer", "Dana", "Interviewer", "Dana"]
    assert t.utterances[1].text.endswith('"I just want the phone to stop ringing".')
    assert t.utterances[1].line == 7


def test_markdown_headings_as_speakers():
    t = parse_bytes(MARKDOWN_HEADINGS.encode(), "call.md")
    assert t.speakers() == {"Sam": 1, "Dana": 1}
    assert t.utterances[1].text == (
        "Most are migrating off AVImark or Cornerstone.\n\nThey need IDEXX lab integrations."
    )


def test_webvtt_voices_merge_cues_and_keep_timestamps():
    t = parse_bytes(VTT.encode(), "call.vtt")
    assert t.format == "vtt"
    sam, dana = t.utterances
    assert (sam.speaker, sam.start, sam.end, sam.line) == ("Sam", "00:00:01.000", "00:00:04.000", 8)
    # A cue without a voice continues the last speaker; tags and entities are decoded.
    assert dana.text == "Most are migrating off AVImark, or Cornerstone & a server in a closet."
    assert (dana.start, dana.end) == ("00:00:04.500", "00:00:08.250")


def test_srt_labels_brackets_and_voices():
    t = parse_bytes(SRT.encode(), "call.srt")
    assert [(u.speaker, u.text) for u in t.utterances] == [
        ("Sam", "Which tools do they run today?"),
        ("Dana", "Most are migrating off AVImark."),
        ("Sam", "Thanks."),
    ]
    assert t.utterances[1].start == "00:00:04.500"


def test_json_lines_with_times():
    t = parse_bytes(JSONL.encode(), "call.jsonl")
    assert [u.line for u in t.utterances] == [1, 3]
    assert t.utterances[0].start == "00:00:01.500"
    assert (t.utterances[1].start, t.utterances[1].end) == ("00:00:04", "00:00:09.000")


def test_format_sniffed_without_a_suffix():
    assert parse_bytes(VTT.encode(), "call").format == "vtt"
    assert parse_bytes(SRT.encode(), "call").format == "srt"
    assert parse_bytes(JSONL.encode(), "call").format == "jsonl"
    assert parse_bytes(MARKDOWN_HEADINGS.encode(), "call").format == "markdown"
    assert parse_bytes(TEXT.encode(), "call").format == "text"


@pytest.mark.parametrize(
    ("name", "data", "where"),
    [
        ("a.txt", "Call notes from Tuesday\nSam: hi\n", "a.txt, line 1: text before the first"),
        ("b.md", "# Title\n\nSome prose first.\n**Sam:** hi\n", "b.md, line 3: text before"),
        ("c.vtt", "WEBVT\n\n00:00:01.000 --> 00:00:02.000\nhi\n", "c.vtt, line 1: a WebVTT"),
        ("d.vtt", "WEBVTT\n\n1\n00:00:01.000 -> 00:00:02.000\n<v Sam>hi\n", "d.vtt, line 3:"),
        ("e.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello\n", "e.vtt, line 4: no speaker"),
        ("f.vtt", "WEBVTT\n\n00:00:01 --> 00:00:02.000\n<v Sam>hi\n", "f.vtt, line 3: expected"),
        ("g.srt", "1\n00:00:01,000 --> 00:00:02,000\nSam: hi\n\nSam: no number\n", "g.srt, line 5"),
        ("h.srt", "1\n00:00:01,000 to 00:00:02,000\nSam: hi\n", "h.srt, line 2: expected a cue"),
        (
            "i.jsonl",
            '{"speaker": "Sam", "text": "hi"}\n{"speaker": "Dana"\n',
            "i.jsonl, line 2: not",
        ),
        ("j.jsonl", '{"speaker": "Sam", "text": ""}\n', 'j.jsonl, line 1: "text" must'),
        ("k.jsonl", '["Sam", "hi"]\n', "k.jsonl, line 1: expected an object"),
        ("l.txt", "", "l.txt: no speaker turns found"),
    ],
)
def test_malformed_files_name_the_line(name, data, where):
    with pytest.raises(InputError) as exc:
        parse_bytes(data.encode(), name)
    assert str(exc.value).startswith(where)


def test_invalid_utf8_names_the_line():
    with pytest.raises(InputError, match=r"x.txt, line 2: not valid UTF-8"):
        parse_bytes(b"Sam: hi\nDana: caf\xe9\n", "x.txt")


def test_import_stores_raw_turns_sources_and_a_verified_profile(store, tmp_path):
    path = tmp_path / "call.txt"
    path.write_text(TEXT, encoding="utf-8")
    (done,) = import_files(store, [path], get_engine(), respondent=("dana (tailwag)",))
    sid = done.session.id
    turns = store.turns(sid)
    transcript = parse_bytes(TEXT.encode(), "call.txt")
    assert [t.text for t in turns] == [u.text for u in transcript.utterances]
    assert [t.speaker for t in turns] == ["agent", "respondent", "agent", "respondent"]
    sources = store.import_turns(sid)
    assert sources[3] == {
        "seq": 3,
        "speaker": "Interviewer",
        "line": 5,
        "time_start": "00:03:10",
        "time_end": None,
    }
    (row,) = store.imports(sid=sid)
    assert row["respondent"] == ["Dana (Tailwag)"] and row["format"] == "text"
    record = store.profile(sid)
    assert record.meta["kind"] == "import" and record.state["phase"] == "done"
    profile = Profile.model_validate(record.data)
    assert profile.all_items()
    answers = {t.seq: t.text for t in turns if t.speaker == "respondent"}
    assert verify_evidence(profile, answers) == []
    # The company question was guessed from the interviewer's words, the answer filed there.
    assert profile.sections["company_profile"].items
    assert profile.sections["buying_triggers"].items


def test_choose_callback_and_unknown_respondent(store, tmp_path):
    path = tmp_path / "call.vtt"
    path.write_text(VTT, encoding="utf-8")
    with pytest.raises(InputError, match=r"no speaker named 'Lee'; speakers are Sam \(1 turn\)"):
        import_files(store, [path], get_engine(), respondent=("Lee",))
    asked = []
    (done,) = import_files(
        store, [path], get_engine(), choose=lambda t: asked.append(t.speakers()) or ["Dana"]
    )
    assert asked == [{"Sam": 1, "Dana": 1}]
    assert done.respondent == ["Dana"]


def test_duplicate_import_is_refused_unless_forced(store, tmp_path):
    path = tmp_path / "call.srt"
    path.write_text(SRT, encoding="utf-8")
    (first,) = import_files(store, [path], get_engine(), respondent=("Dana",))
    copy = tmp_path / "renamed.srt"
    copy.write_bytes(path.read_bytes())
    with pytest.raises(DuplicateImport, match=f"already imported as session {first.session.id}"):
        import_files(store, [copy], get_engine(), respondent=("Dana",))
    (again,) = import_files(store, [copy], get_engine(), respondent=("Dana",), force=True)
    assert again.session.id != first.session.id
    assert len(store.sessions()) == 2


def test_cli_import_errors_leave_nothing_behind(tmp_path):
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.srt"
    good.write_text(JSONL, encoding="utf-8")
    bad.write_text("1\n00:00:01,000 --> 00:00:02,000\nSam: hi\n\noops\n", encoding="utf-8")
    result = icp("import", str(good), str(bad), "--respondent", "Dana")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "icp: error: bad.srt, line 5: expected a subtitle number (SRT blocks start with 1, 2, 3...)"
    )
    assert json.loads(icp("sessions", "--json").stdout) == []
    # Without --respondent and without a terminal: the speakers are listed.
    result = icp("import", str(good), input="")
    assert result.returncode == 1
    assert "--respondent NAME; speakers are Sam (1 turn), Dana (1 turn)" in result.stderr


@pytest.mark.slow
def test_cli_import_then_duplicate_then_report(tmp_path):
    path = tmp_path / "call.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    result = icp("import", str(path), "--respondent", "Dana", "--company", "Tailwag", "--json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["speakers"] == {"Interviewer": 2, "Dana": 2} and row["format"] == "markdown"
    again = icp("import", str(path), "--respondent", "Dana")
    assert again.returncode == 1
    assert f"already imported as session {row['session']}" in again.stderr
    out = tmp_path / "r.md"
    report = icp("report", row["session"], "--out", str(out))
    assert report.returncode == 0, report.stderr
    assert "I just want the phone to stop ringing" in out.read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.skipif(not can_fork(), reason="workers start with fork")
def test_a_long_transcript_read_in_worker_processes_gives_the_same_profile(monkeypatch):
    """Reading a long call's answers in worker processes and filing them in order here makes
    the profile one process makes."""
    from agent.quarterly import reextract as module
    from agent.quarterly.reextract import PARALLEL_ANSWERS, reextract

    batches = []

    def counted(*args, **kwargs):
        for batch in module_in_order(*args, **kwargs):
            batches.append(len(batch))
            yield batch

    module_in_order = module.in_order
    monkeypatch.setattr(module, "in_order", counted)
    from agent.store.db import SessionInfo, Turn

    facts = [
        "Mostly 3PLs in Texas with 200 to 2,000 employees.",
        "They run NetSuite and hate the WMS module.",
        "The CFO signs, the warehouse manager runs the trial.",
        "We're 9 people.",
        "No Salesforce at most of them.",
        "Deals take 60 to 90 days, sorry, I mean 90 to 120 days.",
        "Referrals from accountants, and we stopped going to the Modex show.",
        "Never a fit: national carriers.",
        "That's all I've got on that one.",
    ]
    questions = ["What kind of companies buy?", "Which tools?", "Who signs?", "What else?"]
    turns, seq = [], 0
    for i in range(PARALLEL_ANSWERS + 40):
        seq += 1
        turns.append(Turn(seq, "agent", questions[i % len(questions)], None, "question"))
        seq += 1
        said = f"{facts[i % len(facts)]} {facts[(i * 7 + 3) % len(facts)]} Deal {i}."
        turns.append(Turn(seq, "respondent", said, None, "answer"))
    session = SessionInfo(
        id="s1", company="", role="", engine="offline", minutes=30, status="complete",
        started="2026-01-01", meta={"source": "import"},
    )  # fmt: skip
    engine = get_engine("offline")
    alone = reextract(session, turns, engine, processes=1)
    shared = reextract(session, turns, engine, processes=2)
    assert sum(batches) == PARALLEL_ANSWERS + 40  # every answer read by a worker
    assert shared.model_dump() == alone.model_dump()
    assert len(alone.all_items()) > 20 and alone.unsorted
