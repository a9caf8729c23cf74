"""End to end through the `icp` command: --jsonl with a scripted respondent, export, report."""

import json

import pytest

from agent.profile.models import SECTION_KEYS, SECTION_TITLES
from agent.sim.respondent import load_persona
from tests.conftest import SHARED_PERSONAS, icp, jsonl_interview, pdf_text, persona_paths

LEDGERLINE = SHARED_PERSONAS / "ledgerline.yaml"
PERSONA = LEDGERLINE if LEDGERLINE.exists() else persona_paths()[0]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One complete interview over --jsonl, shared by the checks below."""
    import os

    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("ICP_HOME")
    os.environ["ICP_HOME"] = str(home)
    try:
        sid, lines, answers = jsonl_interview(PERSONA, "--role", "founder")
    finally:
        if old is None:
            del os.environ["ICP_HOME"]
        else:
            os.environ["ICP_HOME"] = old
    return {"home": home, "sid": sid, "lines": lines, "answers": answers}


def env(finished):
    return {"ICP_HOME": str(finished["home"])}


def test_protocol_lines(finished):
    lines = finished["lines"]
    assert lines[0] == {"type": "started", "session": finished["sid"]}
    assert lines[-1] == {"type": "done", "session": finished["sid"], "complete": True}
    questions = [m for m in lines if m["type"] == "question"]
    assert all(set(q) >= {"text", "topic"} for q in questions)
    assert len(questions) <= 30


def test_export_has_every_section_with_exact_evidence(finished):
    result = icp("export", finished["sid"], "--format", "json", env=env(finished))
    assert result.returncode == 0, result.stderr
    profile = json.loads(result.stdout)
    assert list(profile["sections"]) == list(SECTION_KEYS)
    transcript = finished["answers"]
    items = [i for s in profile["sections"].values() for i in s["items"]]
    assert len(items) >= 20
    for item in items:
        assert item["text"] and item["evidence"]
        for ev in item["evidence"]:
            assert any(ev["quote"] in answer for answer in transcript)
    persona = load_persona(PERSONA)
    said = [
        f.quote for _, f in persona.facts() if f.quote and any(f.quote in a for a in transcript)
    ]
    language = [i["text"] for i in profile["sections"]["customer_language"]["items"]]
    assert said and all(q in language for q in said)


def test_sessions_json(finished):
    result = icp("sessions", "--json", env=env(finished))
    (row,) = json.loads(result.stdout)
    assert row["id"] == finished["sid"] and row["status"] == "complete"
    assert set(row) >= {"id", "company", "role", "started", "turns", "status"}
    assert row["role"] == "founder" and row["turns"] > 20


@pytest.mark.slow
def test_pdf_report_has_every_heading_and_a_verbatim_quote(finished, tmp_path):
    out = tmp_path / "report.pdf"
    result = icp("report", finished["sid"], "--out", str(out), env=env(finished))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    flat = pdf_text(out)
    for title in SECTION_TITLES.values():
        assert title in flat, title
    persona = load_persona(PERSONA)
    quote = next(f.quote for _, f in persona.facts() if f.quote)
    assert quote in flat


@pytest.mark.parametrize("suffix, marker", [(".html", "<html"), (".md", "# ")])
def test_html_and_markdown_reports(finished, tmp_path, suffix, marker):
    out = tmp_path / f"report{suffix}"
    result = icp("report", finished["sid"], "--out", str(out), env=env(finished))
    assert result.returncode == 0, result.stderr
    assert marker in out.read_text(encoding="utf-8")


def test_schema_is_json_schema():
    result = icp("schema")
    schema = json.loads(result.stdout)
    assert schema["properties"]["sections"]["required"] == list(SECTION_KEYS)


@pytest.mark.parametrize(
    "args, message",
    [
        (("export", "nope"), "no session 'nope'"),
        (("report", "nope", "--out", "x.pdf"), "no session 'nope'"),
        (("resume", "nope"), "no session 'nope'"),
    ],
)
def test_unknown_session_is_one_line_and_exit_1(args, message):
    result = icp(*args)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"icp: error: {message}; `icp sessions` lists them"
    ]


def test_damaged_database_is_one_line_and_exit_1(icp_home):
    icp_home.mkdir(parents=True)
    (icp_home / "icp.db").write_bytes(b"\x00garbage" * 512)
    result = icp("sessions")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a usable icp database" in lines[0]


@pytest.mark.slow
def test_unwritable_output_path_is_one_line_and_exit_1(finished, tmp_path):
    out = tmp_path / "missing-folder" / "report.pdf"
    result = icp("report", finished["sid"], "--out", str(out), env=env(finished))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot write" in result.stderr


def test_bad_suffix_is_refused(finished, tmp_path):
    result = icp("report", finished["sid"], "--out", str(tmp_path / "r.docx"), env=env(finished))
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_malformed_jsonl_line_exits_1_and_keeps_the_session():
    result = icp(
        "interview", "--jsonl", input='{"answer": "We sell AP automation."}\n{"answer": "cut'
    )
    assert result.returncode == 1
    assert "input line 2 is not valid JSON" in result.stderr
    sid = json.loads(result.stdout.splitlines()[0])["session"]
    listed = json.loads(icp("sessions", "--json").stdout)
    assert listed[0]["id"] == sid and listed[0]["status"] == "interrupted"
    assert listed[0]["turns"] == 3  # question, answer, next question: nothing lost


def test_end_of_input_ends_cleanly_and_resume_continues():
    first = icp("interview", "--jsonl", input='{"answer": "We sell AP automation."}\n')
    assert first.returncode == 0
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    sid, pending = lines[0]["session"], lines[-2]
    assert lines[-1] == {"type": "done", "session": sid, "complete": False}
    second = icp("resume", sid, "--jsonl", input="")
    again = [json.loads(line) for line in second.stdout.splitlines()]
    assert again[1] == pending


@pytest.mark.slow
def test_demo_writes_a_pdf_and_prints_its_path(tmp_path):
    out = tmp_path / "demo.pdf"
    result = icp("demo", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert out.read_bytes().startswith(b"%PDF")


def test_help_is_quick_to_import():
    result = icp("--help")
    assert result.returncode == 0 and "interview" in result.stdout
