"""Confidential answers: the folder and database icp creates are owner-only (0700, 0600, the
SQLite -wal and -shm files too); folders and files the user made or chose keep their modes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agent.store.db import Store
from tests.conftest import icp

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")


@pytest.fixture(autouse=True)
def usual_umask():
    """The common 022, under which a file created with default permissions is world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


PRIVATE = {"icp.db": 0o600, "icp.db-wal": 0o600, "icp.db-shm": 0o600}


def locks(home: Path) -> dict[str, int]:
    """The writer locks of open interviews (one per interview being written)."""
    return {p.name: mode(p) for p in (home / "icp.db-locks").iterdir()}


def open_and_write(home: Path) -> Store:
    """A store that has committed an answer and is still open, so -wal and -shm exist."""
    store = Store(home / "icp.db")
    session = store.create_session(company="Acme")
    store.add_turn(session.id, "respondent", "Our best customer is a 300-person bank.")
    return store


def test_a_new_home_and_database_are_owner_only_with_their_wal_and_shm(tmp_path, monkeypatch):
    home = tmp_path / "work" / "team" / "icp-data"
    monkeypatch.setenv("ICP_HOME", str(home))
    store = open_and_write(home)
    try:
        files = {p.name: mode(p) for p in home.iterdir()}
        assert files == {**PRIVATE, "icp.db-locks": 0o700}
        assert locks(home) == {f"{store.sessions()[0].id}.lock": 0o600}  # its one writer
        assert mode(home) == 0o700
        # The parents are the user's folders: made as `mkdir -p` makes them.
        assert mode(home.parent) == mode(home.parent.parent) == 0o755
        Store(home / "icp.db").close()  # a second process opening it changes nothing
        assert mode(home) == 0o700 and mode(home / "icp.db") == 0o600
    finally:
        store.close()


def test_a_strict_umask_still_leaves_a_usable_owner_only_database(tmp_path):
    os.umask(0o277)  # owner read-only: the modes are set, not left to the umask
    home = tmp_path / "icp-data"
    store = open_and_write(home)
    try:
        assert mode(home) == 0o700
        assert {p.name: mode(p) for p in home.iterdir()} == {**PRIVATE, "icp.db-locks": 0o700}
        assert set(locks(home).values()) == {0o600}
    finally:
        store.close()


def test_an_existing_folder_and_database_keep_the_modes_their_owner_chose(tmp_path):
    home = tmp_path / "shared-with-my-team"
    home.mkdir()
    os.chmod(home, 0o750)
    Store(home / "icp.db").close()
    assert mode(home) == 0o750  # a folder the user made is not icp's to change
    assert mode(home / "icp.db") == 0o600  # but the database icp created in it is private
    os.chmod(home / "icp.db", 0o640)  # the owner shares it with the group on purpose
    store = open_and_write(home)
    try:
        assert {p.name: mode(p) for p in home.iterdir()} == {
            "icp.db": 0o640,
            "icp.db-wal": 0o640,
            "icp.db-shm": 0o640,
            "icp.db-locks": 0o700,  # icp's own, like a folder it creates
        }
    finally:
        store.close()


@pytest.mark.slow
def test_the_cli_keeps_data_private_and_reports_where_the_user_put_them(tmp_path):
    home, config_home = tmp_path / "home", tmp_path / "config-first"
    out = tmp_path / "reports" / "demo.md"
    out.parent.mkdir()
    ran = icp("demo", "--out", str(out), "--quiet", env={"ICP_HOME": str(home)})
    assert ran.returncode == 0, ran.stderr
    assert mode(home) == 0o700 and mode(home / "icp.db") == 0o600
    assert mode(out) == 0o644  # a report is the user's document: normal permissions
    ran = icp("config", "set", "timeout", "30", env={"ICP_HOME": str(config_home)})
    assert ran.returncode == 0, ran.stderr
    assert mode(config_home) == 0o700 and mode(config_home / "config.toml") == 0o600
