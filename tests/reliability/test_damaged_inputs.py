"""Damaged inputs: a database from a newer release, a truncated or corrupted database, a
malformed import, a JSON line cut in half. Each is one line naming the problem, exit code 1,
and nothing else is touched."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
from pathlib import Path

import pytest

from agent.store.db import Store
from tests.conftest import icp, persona_paths, run_persona


@pytest.fixture
def home(icp_home, engine) -> tuple[Path, str]:
    """An ICP_HOME with one finished interview and a settings file: (home, session id)."""
    store = Store()
    sid = run_persona(store, engine, persona_paths()[0], minutes=5).session.id
    store.close()  # checkpoints the WAL: the database is one file
    (icp_home / "config.toml").write_text('engine = "offline"\n')
    return icp_home, sid


def snapshot(folder: Path) -> dict[str, str]:
    """Every file in the folder with a hash of its bytes (SQLite's -wal/-shm aside)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


def one_line_error(result, *needles: str) -> str:
    err = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
    assert result.returncode == 1, err
    assert err.count("\n") == 1 and err.startswith("icp: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


def commands(sid: str, tmp_path: Path) -> list[list[str]]:
    """Everything a user might run against a database."""
    return [
        ["sessions", "--json"],
        ["export", sid],
        ["report", sid, "--out", str(tmp_path / "r.md")],
        ["resume", sid, "--jsonl"],
        ["interview", "--jsonl"],
        ["batch", "--all", "--format", "none"],
    ]


def test_a_database_from_a_newer_release_is_refused_untouched(home, tmp_path):
    icp_home, sid = home
    db = sqlite3.connect(icp_home / "icp.db")
    db.execute("PRAGMA user_version = 99")
    db.close()
    before = snapshot(icp_home)
    for args in commands(sid, tmp_path):
        one_line_error(icp(*args, input=""), "newer icp (schema 99", "upgrade icp")
    assert snapshot(icp_home) == before
    assert not (tmp_path / "r.md").exists()


@pytest.mark.parametrize("size", ["empty header", "half", "all but one page"])
def test_a_truncated_database_is_named_and_left_alone(home, tmp_path, size):
    icp_home, sid = home
    path = icp_home / "icp.db"
    full = path.stat().st_size
    keep = {"empty header": 50, "half": full // 2, "all but one page": full - 4096}[size]
    os.truncate(path, keep)
    before = snapshot(icp_home)
    for args in commands(sid, tmp_path):
        one_line_error(icp(*args, input=""), str(path))
    assert snapshot(icp_home) == before


def test_a_database_with_garbage_pages_fails_mid_command_in_one_line(home, tmp_path):
    """The header is fine, so it opens; the tables are noise, found only when read."""
    icp_home, sid = home
    path = icp_home / "icp.db"
    data = path.read_bytes()
    noise = random.Random(7).randbytes(len(data) - 4096)
    path.write_bytes(data[:4096] + noise)  # page 1 (header, schema) kept
    before = snapshot(icp_home)
    for args in commands(sid, tmp_path):
        one_line_error(icp(*args, input=""), str(path))
    assert snapshot(icp_home) == before


MALFORMED = {
    "cut.jsonl": (
        b'{"speaker": "Dana", "text": "hi"}\n{"speaker": "Ann", "text": "cut in ha',
        "cut.jsonl, line 2: not valid JSON",
    ),
    "timing.vtt": (
        b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Ann>Hi\n\n00:00:05.000 -> x\n<v Dana>We\n",
        "timing.vtt, line 6: expected a cue timing",
    ),
    "number.srt": (
        b"1\n00:00:01,000 --> 00:00:02,000\nDana: hi\n\nx\n",
        "number.srt, line 5: expected a subtitle number",
    ),
    "binary.txt": (b"Dana: hi\n\x00\x01\x02\xff\xfe\x80", "binary.txt, line 2: not valid UTF-8"),
    "empty.md": (b"", "empty.md: no speaker turns found"),
    "object.jsonl": (b'["Dana", "hi"]\n', "object.jsonl, line 1: expected an object"),
}


def test_a_malformed_import_names_file_and_line_and_imports_nothing(home, tmp_path):
    icp_home, _ = home
    good = tmp_path / "good.txt"
    good.write_text("Ann: What kind of companies buy?\nDana: Dental clinics, 200 employees.\n")
    before = snapshot(icp_home)
    sessions = icp("sessions", "--json").stdout
    for name, (data, message) in MALFORMED.items():
        bad = tmp_path / name
        bad.write_bytes(data)
        one_line_error(icp("import", str(good), str(bad), "--respondent", "Dana"), message)
        assert bad.read_bytes() == data
    assert icp("sessions", "--json").stdout == sessions  # not even the good file
    after = snapshot(icp_home)
    assert after.keys() == before.keys() and after["config.toml"] == before["config.toml"]


def test_a_json_line_cut_in_half_ends_the_run_and_keeps_the_answers(icp_home):
    answers = ["Payroll software for dental clinics.", "Clinics with 10 to 50 staff in Germany."]
    stdin = "".join(json.dumps({"answer": a}) + "\n" for a in answers)
    stdin += '{"answer": "They run Dentrix and pay by inv'  # the writer died mid-line
    result = icp("interview", "--jsonl", input=stdin)
    one_line_error(result, "input line 3 is not valid JSON")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-1]["type"] == "error" and "input line 3" in lines[-1]["message"]
    sid = lines[0]["session"]
    pending = [m for m in lines if m["type"] == "question"][-1]
    store = Store()
    assert [t.text for t in store.turns(sid) if t.kind == "answer"] == answers
    assert store.session(sid).status == "interrupted"
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()
    resumed = icp("resume", sid, "--jsonl", input="")
    assert resumed.returncode == 0, resumed.stderr
    first = [json.loads(x) for x in resumed.stdout.splitlines()][1]
    assert first["text"] == pending["text"]  # continues at the question that was waiting


def test_a_damaged_settings_file_is_one_line(icp_home):
    icp_home.mkdir(parents=True, exist_ok=True)
    (icp_home / "config.toml").write_text('engine = "offline"\napi_key = "sk-unterminated\n')
    one_line_error(icp("interview", "--jsonl", input=""), "config.toml is not valid TOML")
    (icp_home / "config.toml").write_bytes(b"engine = \xff\n")
    one_line_error(icp("config", "show"), "config.toml")


def test_an_empty_session_id_picks_no_session(home, tmp_path):
    """With one session, "" (an unset shell variable) is a prefix of it: still no match."""
    _, sid = home
    for args in (["export", ""], ["report", "", "--out", str(tmp_path / "r.md")], ["rules", " "]):
        one_line_error(icp(*args), "no session id given")
    assert not (tmp_path / "r.md").exists()
    assert json.loads(icp("export", sid).stdout)["session"] == sid
