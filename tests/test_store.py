"""Storage: migrations, immutable turns, damaged and newer databases."""

import sqlite3

import pytest

from agent.errors import NotFound, StoreError
from agent.store.db import MIGRATIONS, Store


def test_new_database_is_migrated_to_the_latest_schema(store):
    version = store.db.execute("PRAGMA user_version").fetchone()[0]
    assert version == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_turns_are_immutable(store):
    s = store.create_session(company="Acme")
    store.add_turn(s.id, "respondent", "hello")
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        store.db.execute("UPDATE turns SET text = 'changed'")
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        store.db.execute("DELETE FROM turns")
    assert [t.text for t in store.turns(s.id)] == ["hello"]


def test_session_lookup_by_unique_prefix(store):
    s = store.create_session()
    assert store.session(s.id[:4]).id == s.id
    with pytest.raises(NotFound, match="no session 'zzzz'"):
        store.session("zzzz")
    with pytest.raises(NotFound):
        store.session("%")


def test_save_step_is_atomic(store):
    s = store.create_session()
    with pytest.raises(sqlite3.IntegrityError):
        store.save_step(s.id, 0, {}, {}, [("nobody", "bad speaker", None, "question")])
    assert store.profile(s.id) is None and store.turns(s.id) == []


def test_database_from_a_newer_release_is_refused(icp_home):
    Store().close()
    db = sqlite3.connect(icp_home / "icp.db")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    db.close()
    with pytest.raises(StoreError, match="newer icp"):
        Store()


def test_damaged_database_gives_a_clear_error(icp_home):
    icp_home.mkdir(parents=True)
    (icp_home / "icp.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable icp database"):
        Store()
