"""Several processes on one ICP_HOME: interviews, batches and readers at once; no corruption,
no "database is locked" reaching the user, and an interview resumes where it was."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time

import pytest

from agent.interview.loop import Interview
from agent.profile.models import Profile, verify_evidence
from agent.store.db import Store
from tests.conftest import persona_paths, run_persona
from tests.reliability.children import JsonlChild, spawn


def test_a_batch_version_stored_late_does_not_rewind_a_resume(store, engine):
    """A batch reads a profile, the interview goes on, then the batch stores its version."""
    interview = Interview.start(store, engine, company="Ledgerline")
    interview.answer("Accounts-payable automation for finance teams.")
    interview.answer("Mid-market companies with 200 to 1,000 employees in Germany.")
    base = store.profile(interview.session.id)  # what the batch read
    interview.answer("They run NetSuite and Salesforce, and Coupa for procurement.")
    interview.answer("A new CFO is the usual trigger, or a failed audit.")
    pending, items = interview.question, len(interview.profile.all_items())
    store.add_profile(
        interview.session.id, base.after_seq, base.data, base.state, {"kind": "batch"}
    )

    resumed = Interview.resume(store, engine, interview.session.id)
    assert resumed.question == pending  # the same question, not a re-run of an old answer
    assert len(resumed.profile.all_items()) == items
    questions = [t for t in store.turns(interview.session.id) if t.kind == "question"]
    assert questions[-1].seq == pending.seq  # nothing asked twice


def test_first_use_by_several_processes_at_once(tmp_path):
    """Six commands on a new ICP_HOME at the same moment: one migrates, the others wait."""
    for trial in range(2):
        env = {"ICP_HOME": str(tmp_path / f"home{trial}")}
        procs = [spawn(["sessions", "--json"], env=env) for _ in range(6)]
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert json.loads(out) == []


def test_busy_database_is_one_line_not_a_traceback(icp_home, monkeypatch):
    """A writer that holds the lock past the busy timeout: the other gets a StoreError."""
    import agent.store.db as store_module
    from agent.errors import StoreError

    Store().close()
    holder = sqlite3.connect(icp_home / "icp.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
        s = Store()
        with pytest.raises(StoreError, match=r"busy.*nothing was lost"):
            s.create_session(company="X")
        s.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.slow
def test_interviews_batches_and_readers_share_one_home(icp_home, engine, figures):
    """Two --jsonl interviews, repeated `icp batch --all` runs (worker processes) and readers,
    all at once on one database."""
    store = Store()
    personas = persona_paths()
    for path in personas[:8]:  # enough sessions for the batch's process pool
        run_persona(store, engine, path, minutes=6)
    store.close()

    interviews = [JsonlChild(personas[0], pause=0.15), JsonlChild(personas[1], pause=0.15)]
    batches: list[subprocess.CompletedProcess] = []
    readers: list[subprocess.CompletedProcess] = []
    done = threading.Event()

    def batch_loop() -> None:
        while not done.is_set() or len(batches) < 2:
            args = ["batch", "--all", "--format", "none", "--force", "--json"]
            batches.append(_run(args))

    def reader_loop() -> None:
        while not done.is_set():
            readers.append(_run(["sessions", "--json"]))
            time.sleep(0.1)

    threads = [threading.Thread(target=batch_loop), threading.Thread(target=reader_loop)]
    for t in threads:
        t.start()
    try:
        results = [child.finish() for child in interviews]  # run side by side (threads)
    finally:
        done.set()
        for t in threads:
            t.join(timeout=300)

    for proc in [*batches, *readers]:
        assert proc.returncode == 0, proc.stderr
        assert "locked" not in proc.stderr and "Traceback" not in proc.stderr
    for code, stderr in results:
        assert code == 0 and "locked" not in stderr and "Traceback" not in stderr, stderr

    store = Store()
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for child in interviews:
        stored = [t.text for t in store.turns(child.sid) if t.kind == "answer"]
        assert stored == child.sent  # every answer, once, in order
        assert store.session(child.sid).status == "complete"
    batch_versions = 0
    for session in store.sessions():
        answers = {t.seq: t.text for t in store.turns(session.id) if t.speaker == "respondent"}
        versions = store.db.execute(
            "SELECT version, data, meta FROM profiles WHERE session_id = ?", (session.id,)
        ).fetchall()
        for row in versions:
            profile = Profile.model_validate_json(row["data"])
            assert profile.version == row["version"]
            assert not verify_evidence(profile, answers), (session.id, row["version"])
            batch_versions += json.loads(row["meta"]).get("kind") == "batch"
    overlapped = [json.loads(p.stdout)["sessions"] for p in batches]
    assert all(row["status"] == "done" for run in overlapped for row in run if run)
    assert batch_versions >= 2 * 8
    store.close()
    figures["concurrent batch runs beside two interviews"] += len(batches)
    print(f"\n{len(batches)} batch runs and {len(readers)} reads beside two interviews")


def _run(args: list[str]) -> subprocess.CompletedProcess:
    proc = spawn(args, stdin=subprocess.DEVNULL)
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)
