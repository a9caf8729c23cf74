"""Storage errors named truthfully: a full disk, a read-only home, a forbidden file and real
damage are different messages with different advice; a read-only home still answers the
commands that only read; an empty database file is refused, never silently refilled."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.interview.loop import Interview
from agent.store import db
from agent.store.db import Store
from tests.conftest import icp, persona_paths, run_persona
from tests.reliability.children import spawn

ANSWER = json.dumps({"answer": "Dental clinics with 10 to 50 staff in Germany."}) + "\n"


def one_line(result, *needles: str, absent: tuple[str, ...] = ()) -> str:
    err = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
    assert result.returncode == 1, err
    assert err.startswith("icp: error: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, err
    for needle in absent:
        assert needle not in err, err
    return err


@pytest.fixture
def home(icp_home, engine) -> tuple[Path, str]:
    """An ICP_HOME holding one finished interview, closed (one file): (home, session id)."""
    store = Store()
    sid = run_persona(store, engine, persona_paths()[0], minutes=5).session.id
    store.close()
    return icp_home, sid


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make `folder` read-only as a user meets it: a read-only mount (root ignores file modes),
    else no write permission on the folder and its files."""
    if os.geteuid() == 0:
        if not (
            _mount("--bind", str(folder), str(folder))
            and _mount("-o", "remount,ro,bind", str(folder))
        ):
            subprocess.run(["umount", str(folder)], capture_output=True)
            pytest.skip("running as root without permission to mount a read-only folder")
        try:
            yield
        finally:
            subprocess.run(["umount", str(folder)], check=True)
        return
    modes = {p: p.stat().st_mode for p in [folder, *folder.iterdir()]}
    for path in modes:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 2 MB file system of its own (tmpfs), to fill up for real; skipped where unavailable."""
    where = tmp_path / "small-disk"
    where.mkdir()
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)):
        pytest.skip("needs permission to mount a small file system (root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):
            while os.write(fd, b"\0" * 4096):
                pass
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_mid_interview_says_full_not_damaged(store, engine):
    """SQLite's own "database or disk is full", raised by a page limit on this connection."""
    interview = Interview.start(store, engine, company="Acme")
    interview.answer("Payroll software for dental clinics.")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError) as caught:
        interview.answer("Clinics with 10 to 50 staff. " * 400)
    message = str(caught.value)
    assert "is full" in message and "not damaged" in message and "free some space" in message
    assert "restore a backup" not in message and "damaged (" not in message
    store.db.execute("PRAGMA max_page_count = 1073741823")  # space freed
    sid = interview.session.id
    assert [t.text for t in store.turns(sid) if t.kind == "answer"] == [
        "Payroll software for dental clinics."
    ]
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow
def test_a_disk_that_fills_up_during_an_interview_is_named_and_loses_nothing(
    small_disk, monkeypatch
):
    home = small_disk / "icp"
    monkeypatch.setenv("ICP_HOME", str(home))
    proc = spawn(["interview", "--jsonl", "--company", "Acme"], env={"ICP_HOME": str(home)})
    sid = json.loads(proc.stdout.readline())["session"]
    proc.stdout.readline()
    proc.stdin.write(json.dumps({"answer": "Payroll software for dental clinics."}) + "\n")
    proc.stdin.flush()
    waiting = json.loads(proc.stdout.readline())
    filler = fill(small_disk)
    proc.stdin.write(json.dumps({"answer": "Clinics with 10 to 50 staff. " * 300}) + "\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert err.startswith("icp: error: the disk holding") and "is full" in err, err
    assert "damaged" not in err.replace("not damaged", "") and "Traceback" not in err
    assert json.loads(out.splitlines()[-1])["type"] == "error"
    listed = icp("sessions", "--json", env={"ICP_HOME": str(home)})  # reading still works
    assert listed.returncode == 0, listed.stderr
    filler.unlink()  # space freed: the same interview continues where it stopped
    resumed = icp("resume", sid, "--jsonl", input="", env={"ICP_HOME": str(home)})
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.splitlines()[1])["seq"] == waiting["seq"]
    store = Store()
    try:
        assert [t.text for t in store.turns(sid) if t.kind == "answer"] == [
            "Payroll software for dental clinics."
        ]
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()


@pytest.mark.slow
def test_a_full_home_at_start_up_still_reads_and_says_full_for_writes(small_disk, monkeypatch):
    home = small_disk / "icp"
    env = {"ICP_HOME": str(home)}
    started = icp("interview", "--jsonl", input=ANSWER, env=env)
    assert started.returncode == 0, started.stderr
    sid = json.loads(started.stdout.splitlines()[0])["session"]
    filler = fill(small_disk)
    try:
        listed = icp("sessions", "--json", env=env)
        assert listed.returncode == 0, listed.stderr
        assert [s["id"] for s in json.loads(listed.stdout)] == [sid]
        assert icp("export", sid, env=env).returncode == 0
        one_line(icp("interview", "--jsonl", input="", env=env), "is full", absent=("usable",))
    finally:
        filler.unlink()


@pytest.mark.slow
def test_a_read_only_home_reads_and_says_read_only_for_writes(home, tmp_path):
    icp_home, sid = home
    with read_only(icp_home):
        listed = icp("sessions", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [s["id"] for s in json.loads(listed.stdout)] == [sid]
        exported = icp("export", sid)
        assert exported.returncode == 0 and json.loads(exported.stdout)["session"] == sid
        report = icp("report", sid, "--out", str(tmp_path / "r.md"))
        assert report.returncode == 0, report.stderr
        for args in (["interview", "--jsonl"], ["interview", "--review", sid, "--jsonl"]):
            one_line(icp(*args, input=ANSWER), "is read-only", absent=("usable", "damaged"))
        one_line(icp("batch", "--all", "--format", "none"), "is read-only")
    assert (icp_home / "icp.db").stat().st_size > 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root may open any file")
def test_a_database_the_user_may_not_open_says_permission_denied(home):
    icp_home, _ = home
    os.chmod(icp_home / "icp.db", 0)
    try:
        one_line(icp("sessions"), "permission denied", absent=("usable", "damaged"))
    finally:
        os.chmod(icp_home / "icp.db", 0o600)


@pytest.mark.parametrize(
    ("code", "message", "says"),
    [
        (13, "database or disk is full", "is full"),
        (8, "attempt to write a readonly database", "is read-only"),
        (3, "access permission denied", "permission denied"),
        (23, "authorization denied", "permission denied"),
        (10 | (4 << 8), "disk I/O error", "a disk error"),
        (11, "database disk image is malformed", "is damaged"),
        (26, "file is not a database", "is damaged"),
        (5, "database is locked", "nothing was lost"),
    ],
)
def test_each_sqlite_failure_has_its_own_message(tmp_path, code, message, says):
    exc = sqlite3.OperationalError(message)
    exc.sqlite_errorcode = code
    error = db.storage_error(exc, tmp_path / "icp.db")
    assert error is not None and says in str(error)
    others = {"is full", "is read-only", "permission denied", "a disk error", "is damaged"}
    assert not [o for o in others - {says} if o in str(error)]


def test_a_bug_is_not_called_damage(tmp_path):
    """A broken constraint is icp's mistake: it keeps its traceback for the bug report."""
    assert db.storage_error(sqlite3.IntegrityError("CHECK constraint failed"), tmp_path) is None


def test_an_empty_database_file_is_refused_not_recreated(home, tmp_path):
    icp_home, sid = home
    os.truncate(icp_home / "icp.db", 0)
    for args in (["sessions", "--json"], ["export", sid], ["interview", "--jsonl"]):
        one_line(icp(*args, input=""), "is empty (0 bytes)", "restore it from a backup")
    assert (icp_home / "icp.db").stat().st_size == 0  # left as it was, for recovery


def test_a_new_home_is_created_whole_by_processes_starting_together(tmp_path):
    """The database appears complete under its name (never as an empty file), so the check
    above cannot refuse a database another process is creating."""
    env = {"ICP_HOME": str(tmp_path / "new")}
    procs = [spawn(["sessions", "--json"], env=env) for _ in range(6)]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert json.loads(out) == []
    # SQLite's own -wal and -shm files may outlive six connections closing at once (the last
    # one to close deletes them only if it gets the lock); nothing else may be left behind.
    names = {p.name for p in (tmp_path / "new").iterdir()} - {"icp.db-wal", "icp.db-shm"}
    assert names == {"icp.db"}
