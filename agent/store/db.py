"""SQLite storage: sessions, immutable turns and profile versions, with migrations."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from agent.errors import ICPError, NotFound, SessionBusy, StoreError
from agent.files import sweep
from agent.paths import icp_home, private_dir, private_file
from agent.safety import clean_name
from agent.store.lock import SUPPORTED as LOCKS_SUPPORTED
from agent.store.lock import SessionLock, holder

DB_NAME = "icp.db"
BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for another process's transaction

# One entry per release that changed the schema; PRAGMA user_version counts how many ran.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        company TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL DEFAULT '',
        engine TEXT NOT NULL DEFAULT 'offline',
        minutes REAL NOT NULL DEFAULT 30,
        status TEXT NOT NULL DEFAULT 'active'
            CHECK (status IN ('active', 'interrupted', 'complete')),
        started TEXT NOT NULL,
        ended TEXT,
        meta TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE turns (
        session_id TEXT NOT NULL REFERENCES sessions(id),
        seq INTEGER NOT NULL,
        speaker TEXT NOT NULL CHECK (speaker IN ('agent', 'respondent')),
        text TEXT NOT NULL,
        topic TEXT,
        kind TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
    );
    CREATE TRIGGER turns_no_update BEFORE UPDATE ON turns
        BEGIN SELECT RAISE(ABORT, 'turns are immutable'); END;
    CREATE TRIGGER turns_no_delete BEFORE DELETE ON turns
        BEGIN SELECT RAISE(ABORT, 'turns are immutable'); END;
    CREATE TABLE profiles (
        session_id TEXT NOT NULL REFERENCES sessions(id),
        version INTEGER NOT NULL,
        after_seq INTEGER NOT NULL,
        data TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT '{}',
        created TEXT NOT NULL,
        PRIMARY KEY (session_id, version)
    );
    """,
    # 2: model calls with tokens and estimated cost (the LLM engine).
    """
    CREATE TABLE model_calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        after_seq INTEGER,
        purpose TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        estimated INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL,
        seconds REAL NOT NULL DEFAULT 0,
        outcome TEXT NOT NULL DEFAULT 'ok',
        kept INTEGER NOT NULL DEFAULT 0,
        dropped INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL
    );
    CREATE INDEX model_calls_session ON model_calls(session_id);
    """,
    # 3: imported transcripts (file hash, speakers, source timestamps), provenance of profile
    # versions (engine, guide hash, batch run) and batch runs with per-session progress.
    """
    CREATE TABLE imports (
        session_id TEXT PRIMARY KEY REFERENCES sessions(id),
        sha256 TEXT NOT NULL,
        name TEXT NOT NULL,
        format TEXT NOT NULL,
        respondent TEXT NOT NULL,
        speakers TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX imports_sha256 ON imports(sha256);
    CREATE TABLE import_turns (
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        speaker TEXT NOT NULL,
        line INTEGER NOT NULL,
        time_start TEXT,
        time_end TEXT,
        PRIMARY KEY (session_id, seq),
        FOREIGN KEY (session_id, seq) REFERENCES turns(session_id, seq)
    );
    ALTER TABLE profiles ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        key TEXT NOT NULL,
        options TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
        created TEXT NOT NULL,
        ended TEXT
    );
    CREATE TABLE run_items (
        run_id TEXT NOT NULL REFERENCES runs(id),
        position INTEGER NOT NULL,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'extracted', 'done', 'failed', 'skipped')),
        version INTEGER,
        report TEXT,
        error TEXT,
        seconds REAL,
        updated TEXT,
        PRIMARY KEY (run_id, session_id)
    );
    """,
    # 4: unsent answers kept per interview, so another browser or port still has them.
    """
    CREATE TABLE drafts (
        session_id TEXT PRIMARY KEY REFERENCES sessions(id),
        seq INTEGER NOT NULL,
        text TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    """,
)


def now() -> str:
    """The current UTC time as an ISO 8601 string with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Turn:
    """One immutable line of the transcript: a question from the agent or an answer."""

    seq: int
    speaker: str
    text: str
    topic: str | None = None
    kind: str = ""
    created: str = ""

    @property
    def is_answer(self) -> bool:
        """An answer the respondent gave; a command such as /skip is not one."""
        return self.speaker == "respondent" and self.kind == "answer"


@dataclass(frozen=True)
class SessionInfo:
    """A session's header row plus its turn count."""

    id: str
    company: str
    role: str
    engine: str
    minutes: float
    status: str
    started: str
    ended: str | None = None
    turns: int = 0
    meta: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The fields `icp sessions --json` prints."""
        return {
            "id": self.id,
            "company": self.company,
            "role": self.role,
            "engine": self.engine,
            "started": self.started,
            "ended": self.ended,
            "turns": self.turns,
            "status": self.status,
        }


@dataclass(frozen=True)
class ProfileRecord:
    """One stored profile version with the interview state it was computed with."""

    version: int
    after_seq: int
    data: dict
    state: dict
    created: str
    meta: dict = field(default_factory=dict)  # provenance: engine, guide hash, batch run


class StaleVersion(ICPError):
    """A change was made against a profile version that is no longer the latest."""

    def __init__(self, latest: int, given: int):
        self.latest, self.given = latest, given
        super().__init__(
            f"the profile changed since version {given} (the latest is version {latest}); "
            "nothing was saved: reload to see the changes, then try again"
        )


class Store:
    """A connection to the icp database; every write is its own committed transaction."""

    def __init__(self, path: Path | None = None):
        self.path = path or icp_home() / DB_NAME
        self.locks = self.path.with_name(self.path.name + "-locks")
        self.read_only = ""  # why writes are refused, when the database could only be read
        self._claims: dict[str, SessionLock] = {}
        try:
            # Answers are confidential: a folder and database icp creates are owner-only
            # (0700, 0600; SQLite gives -wal and -shm the database's mode). Existing ones keep
            # the permissions their owner chose.
            private_dir(self.path.parent)
            if not self.path.exists():
                _create(self.path)
            _refuse_empty(self.path)
        except OSError as exc:
            raise os_error(exc, self.path) from None
        try:
            self.db = self._connect()
        except sqlite3.DatabaseError as exc:
            error = storage_error(exc, self.path, opening=True)
            if error is None or not _readable_anyway(exc, self.path):
                raise (error or StoreError(_damaged_message(self.path, exc, True))) from None
            self.db = self._connect_read_only(error)

    def _connect(self) -> sqlite3.Connection:
        """Open for reading and writing with the settings below, migrated to this release."""
        # SQLite settings, chosen for "an acknowledged answer is never lost" while several
        # processes share one ICP_HOME (an interview, `icp serve`, a batch and its workers):
        # - isolation_level=None: we issue BEGIN IMMEDIATE/COMMIT ourselves, so each write
        #   is one atomic transaction that takes the write lock up front (no lock upgrade
        #   halfway, which SQLite would fail at once instead of waiting).
        # - busy_timeout: writers take turns. Every write is a short transaction, so a
        #   writer waits up to BUSY_TIMEOUT_MS for the other's instead of failing with
        #   "database is locked"; past that the user gets one line (StoreError).
        # - journal_mode=WAL: readers never block the writer or each other (a batch reads
        #   sessions while an interview commits), and a crash mid-commit is rolled back
        #   from the log on the next open.
        # - synchronous=FULL: each commit is fsynced before it returns, so an answer that
        #   was acknowledged survives power loss, not only a killed process.
        # - foreign_keys=ON: SQLite enforces them only when asked, per connection.
        # - mode=rw: never create the file here (_create does, whole), so a database that
        #   vanished is not silently replaced by an empty one.
        db = sqlite3.connect(
            f"file:{quote(str(self.path))}?mode=rw",
            uri=True,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
            factory=_Connection,
        )
        try:
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            self.db = db
            self._migrate()
        except BaseException:
            db.close()
            raise
        return db

    def _connect_read_only(self, why: StoreError) -> sqlite3.Connection:
        """Open a database icp may not write (a read-only or full disk, no permission to create
        the -wal and -shm files): reading commands work, a write gets `why`."""
        wal = Path(f"{self.path}-wal")
        unsaved = wal.exists() and wal.stat().st_size > 0
        # immutable=1 reads the database file alone: only when no log holds newer commits.
        for flags in ("mode=ro",) if unsaved else ("mode=ro", "immutable=1"):
            try:
                db = sqlite3.connect(
                    f"file:{quote(str(self.path))}?{flags}", uri=True, factory=_Connection
                )
                db.row_factory = sqlite3.Row
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError:
                continue
            self.db, self.read_only = db, str(why)
            if self._schema() != len(MIGRATIONS):
                db.close()
                raise StoreError(
                    f"{why} (it also needs upgrading to this release's schema, which needs writing)"
                )
            return db
        raise why

    def _schema(self) -> int:
        current = self.db.execute("PRAGMA user_version").fetchone()[0]
        if current > len(MIGRATIONS):
            raise StoreError(
                f"{self.path} was written by a newer icp (schema {current}, this release "
                f"knows {len(MIGRATIONS)}); upgrade icp to open it"
            )
        return current

    def _migrate(self) -> None:
        if self._schema() == len(MIGRATIONS):
            return
        # Under the write lock, read the version again: two processes opening a new database
        # at once must not both run the same migration.
        with self.transaction():
            current = self._schema()
            for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in _statements(script):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self, sid: str | None = None) -> Iterator[sqlite3.Connection]:
        """Run the block in one IMMEDIATE transaction, committed or rolled back as a whole.

        With `sid`, the write changes that interview: this Store must be its one writer
        (`claim`). An SQLite failure (full disk, read-only, damage) is a StoreError naming it.
        """
        if self.read_only:
            raise StoreError(self.read_only)
        if sid is not None:
            self.claim(sid)
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise (storage_error(exc, self.path) or exc) from None
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException as exc:
            if self.db.in_transaction:  # SQLite may have rolled back already (a full disk)
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK")
            error = (
                storage_error(exc, self.path) if isinstance(exc, sqlite3.DatabaseError) else None
            )
            if error is None:
                raise
            raise error from None

    # one writer per interview
    def claim(self, sid: str) -> None:
        """Become the one writer of an interview, or raise SessionBusy naming the one that is.

        Re-entrant for this Store; held until `release` or `close` (or the process ends,
        however it ends: the operating system lets the lock go).
        """
        if sid in self._claims:
            return
        lock = SessionLock(self.locks, sid)
        try:
            taken = lock.acquire()
        except OSError as exc:
            raise os_error(exc, self.locks) from None
        if not taken:
            raise SessionBusy(_open_elsewhere(sid, holder(self.locks, sid)))
        self._claims[sid] = lock

    def release(self, sid: str) -> None:
        """Stop being an interview's writer (another process may take it over)."""
        lock = self._claims.pop(sid, None)
        if lock is not None:
            lock.release()

    def owned(self, sid: str) -> bool:
        """True when some live process (this one included) is writing the interview."""
        return sid in self._claims or holder(self.locks, sid) is not None

    def close(self) -> None:
        """Release this Store's interviews and close the connection."""
        for sid in list(self._claims):
            self.release(sid)
        self.db.close()

    # sessions
    def create_session(
        self,
        company: str = "",
        role: str = "",
        engine: str = "offline",
        minutes: float = 30,
        meta: dict | None = None,
    ) -> SessionInfo:
        """Create and return a new active session; this Store is its writer (`claim`)."""
        sid = secrets.token_hex(4)
        with self.transaction(sid) as db:
            db.execute(
                "INSERT INTO sessions (id, company, role, engine, minutes, started, meta)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    sid,
                    clean_name(company),
                    clean_name(role),
                    engine,
                    minutes,
                    now(),
                    json.dumps(meta or {}),
                ),
            )
        return self.session(sid)

    def session(self, sid: str) -> SessionInfo:
        """Find a session by id or unique id prefix."""
        if not sid.strip():
            raise NotFound("no session id given; `icp sessions` lists them")
        rows = self.db.execute(
            "SELECT s.*, (SELECT COUNT(*) FROM turns t WHERE t.session_id = s.id) AS turns"
            " FROM sessions s WHERE s.id = ? OR s.id LIKE ? ESCAPE '\\' ORDER BY s.id = ? DESC",
            (sid, _like_prefix(sid), sid),
        ).fetchall()
        if not rows or (len(rows) > 1 and rows[0]["id"] != sid):
            why = "no session" if not rows else "more than one session starts with"
            raise NotFound(f"{why} {sid!r}; `icp sessions` lists them")
        return self._live(_session_info(rows[0]))

    def sessions(self) -> list[SessionInfo]:
        """All sessions, newest first."""
        rows = self.db.execute(
            "SELECT s.*, (SELECT COUNT(*) FROM turns t WHERE t.session_id = s.id) AS turns"
            " FROM sessions s ORDER BY s.started DESC, s.rowid DESC"
        ).fetchall()
        return [self._live(_session_info(row)) for row in rows]

    def _live(self, info: SessionInfo) -> SessionInfo:
        """An `active` session nobody is writing (its process was killed) is interrupted."""
        if info.status == "active" and LOCKS_SUPPORTED and not self.owned(info.id):
            return replace(info, status="interrupted")
        return info

    def set_status(self, sid: str, status: str) -> None:
        """Mark a session active, interrupted or complete."""
        ended = now() if status == "complete" else None
        with self.transaction(sid) as db:
            db.execute(
                "UPDATE sessions SET status = ?, ended = ? WHERE id = ?", (status, ended, sid)
            )

    # turns
    def add_turn(
        self, sid: str, speaker: str, text: str, topic: str | None = None, kind: str = ""
    ) -> Turn:
        """Append a turn and commit it before returning."""
        with self.transaction(sid) as db:
            return self._insert_turn(db, sid, speaker, text, topic, kind)

    @staticmethod
    def _insert_turn(
        db: sqlite3.Connection, sid: str, speaker: str, text: str, topic: str | None, kind: str
    ) -> Turn:
        seq = db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE session_id = ?", (sid,)
        ).fetchone()[0]
        created = now()
        db.execute(
            "INSERT INTO turns (session_id, seq, speaker, text, topic, kind, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (sid, seq, speaker, text, topic, kind, created),
        )
        return Turn(seq, speaker, text, topic, kind, created)

    def turns(self, sid: str) -> list[Turn]:
        """The transcript in order."""
        rows = self.db.execute(
            "SELECT seq, speaker, text, topic, kind, created FROM turns"
            " WHERE session_id = ? ORDER BY seq",
            (sid,),
        ).fetchall()
        return [Turn(**dict(row)) for row in rows]

    # profile versions
    def save_step(
        self,
        sid: str,
        after_seq: int,
        data: dict,
        state: dict,
        turns: list[tuple[str, str, str | None, str]] = (),
        status: str | None = None,
        meta: dict | None = None,
    ) -> list[Turn]:
        """In one transaction: a profile version with its meta, the next turns, the status."""
        with self.transaction(sid) as db:
            created = now()
            self._insert_profile(db, sid, after_seq, data, state, meta or {}, created)
            added = [self._insert_turn(db, sid, *turn) for turn in turns]
            if status:
                db.execute(
                    "UPDATE sessions SET status = ?, ended = ? WHERE id = ?",
                    (status, created if status == "complete" else None, sid),
                )
        return added

    @staticmethod
    def _insert_profile(
        db: sqlite3.Connection,
        sid: str,
        after_seq: int,
        data: dict,
        state: dict,
        meta: dict,
        created: str,
    ) -> int:
        """Insert the session's next profile version; returns its number."""
        version = db.execute(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM profiles WHERE session_id = ?", (sid,)
        ).fetchone()[0]
        data = {**data, "version": version}  # a batch may have taken the number expected
        db.execute(
            "INSERT INTO profiles (session_id, version, after_seq, data, state, created, meta)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (sid, version, after_seq, *map(json.dumps, (data, state)), created, json.dumps(meta)),
        )
        return version

    def profile(self, sid: str, version: int | None = None) -> ProfileRecord | None:
        """The latest (or a given) profile version, or None if none was stored."""
        query = "SELECT * FROM profiles WHERE session_id = ?"
        args: tuple = (sid,)
        if version is not None:
            query += " AND version = ?"
            args = (sid, version)
        row = self.db.execute(query + " ORDER BY version DESC LIMIT 1", args).fetchone()
        if row is None:
            if version is not None:
                raise NotFound(f"session {sid} has no profile version {version}")
            return None
        return _profile_record(row)

    def last_step(self, sid: str) -> ProfileRecord | None:
        """The version covering the most turns (newest among equals): where an interview resumes.

        Not simply the latest: a batch running alongside an interview stores a version built
        from the turns it read, possibly after the interview has stored later ones.
        """
        row = self.db.execute(
            "SELECT * FROM profiles WHERE session_id = ? ORDER BY after_seq DESC, version DESC"
            " LIMIT 1",
            (sid,),
        ).fetchone()
        return None if row is None else _profile_record(row)

    def step_before(self, sid: str, seq: int) -> ProfileRecord | None:
        """The version the interview stood at just before turn `seq` (newest among equals)."""
        row = self.db.execute(
            "SELECT * FROM profiles WHERE session_id = ? AND after_seq < ?"
            " ORDER BY after_seq DESC, version DESC LIMIT 1",
            (sid, seq),
        ).fetchone()
        return None if row is None else _profile_record(row)

    def create_derived(
        self, company: str, role: str, engine: str, meta: dict, data: dict
    ) -> SessionInfo:
        """In one transaction: a complete session without turns and its profile as version 1.

        For profiles derived from other sessions (`icp merge`); `data` gets the new id.
        """
        sid = secrets.token_hex(4)
        created = now()
        data = {**data, "session": sid, "version": 1}
        with self.transaction() as db:
            db.execute(
                "INSERT INTO sessions (id, company, role, engine, minutes, status, started,"
                " ended, meta) VALUES (?, ?, ?, ?, 0, 'complete', ?, ?, ?)",
                (sid, company, role, engine, created, created, json.dumps(meta)),
            )
            db.execute(
                "INSERT INTO profiles (session_id, version, after_seq, data, state, created)"
                " VALUES (?, 1, 0, ?, '{}', ?)",
                (sid, json.dumps(data), created),
            )
        return self.session(sid)

    # re-extraction and imports
    def add_profile(
        self, sid: str, after_seq: int, data: dict, state: dict, meta: dict, run: str = ""
    ) -> int:
        """Store a new profile version with its provenance (and a batch run's progress)."""
        with self.transaction() as db:
            version = self._insert_profile(db, sid, after_seq, data, state, meta, now())
            if run:  # in the same transaction: a crash never leaves a version the run forgot
                db.execute(
                    "UPDATE run_items SET status = 'extracted', version = ?, updated = ?"
                    " WHERE run_id = ? AND session_id = ?",
                    (version, now(), run, sid),
                )
        return version

    def add_version_after(self, sid: str, base: int, data: dict, meta: dict) -> int:
        """Store a new version made from version `base`, only if `base` is still the latest.

        The version keeps the base's interview position and state, so a resume is unaffected;
        raises StaleVersion (and stores nothing) when another version came first.
        """
        with self.transaction() as db:
            row = db.execute(
                "SELECT * FROM profiles WHERE session_id = ? ORDER BY version DESC LIMIT 1", (sid,)
            ).fetchone()
            if row is None or row["version"] != base:
                raise StaleVersion(row["version"] if row else 0, base)
            state = json.loads(row["state"])
            return self._insert_profile(db, sid, row["after_seq"], data, state, meta, now())

    def versions(self, sid: str) -> list[tuple[int, str, dict]]:
        """Every profile version of a session, oldest first: number, time and meta."""
        rows = self.db.execute(
            "SELECT version, created, meta FROM profiles WHERE session_id = ? ORDER BY version",
            (sid,),
        ).fetchall()
        return [(r["version"], r["created"], json.loads(r["meta"])) for r in rows]

    # drafts
    def save_draft(self, sid: str, seq: int, text: str) -> None:
        """Keep the unsent answer of an interview (an empty one removes it)."""
        with self.transaction() as db:
            if text:
                db.execute(
                    "INSERT INTO drafts (session_id, seq, text, updated) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (session_id) DO UPDATE SET seq = excluded.seq,"
                    " text = excluded.text, updated = excluded.updated",
                    (sid, seq, text, now()),
                )
            else:
                db.execute("DELETE FROM drafts WHERE session_id = ?", (sid,))

    def draft(self, sid: str) -> tuple[int, str] | None:
        """The unsent answer kept for an interview: the question's seq and the text."""
        row = self.db.execute(
            "SELECT seq, text FROM drafts WHERE session_id = ?", (sid,)
        ).fetchone()
        return (row["seq"], row["text"]) if row else None

    def drop_draft(self, sid: str, upto: int) -> None:
        """Forget the draft once the question it was typed for (or a later one) is answered."""
        with self.transaction() as db:
            db.execute("DELETE FROM drafts WHERE session_id = ? AND seq <= ?", (sid, upto))

    def save_import(
        self,
        session: SessionInfo,
        turns: list[tuple[str, str, str | None, str, str, int, str | None, str | None]],
        source: dict,
        profile: tuple[dict, dict, dict],
    ) -> SessionInfo:
        """In one transaction: an imported session, its turns with their source, its profile.

        `turns` are (speaker, text, topic, kind, label, line, start, end); `source` has the
        imports row (sha256, name, format, respondent, speakers); `profile` is data, state, meta.
        """
        return self.save_imports([(session, turns, source, profile)])[0]

    def save_imports(
        self,
        imports: list[
            tuple[
                SessionInfo,
                list[tuple[str, str, str | None, str, str, int, str | None, str | None]],
                dict,
                tuple[dict | str, dict, dict],
            ]
        ],
    ) -> list[SessionInfo]:
        """Several imports (as `save_import` takes them) in one transaction: all or none. A
        profile may come as its JSON text already (`Profile.model_dump_json`)."""
        created = now()
        with self.transaction() as db:
            for s, turns, source, profile in imports:
                self._insert_import(db, s, turns, source, profile, created)
        return [self.session(s.id) for s, *_ in imports]

    @staticmethod
    def _insert_import(
        db: sqlite3.Connection,
        s: SessionInfo,
        turns: list[tuple[str, str, str | None, str, str, int, str | None, str | None]],
        source: dict,
        profile: tuple[dict | str, dict, dict],
        created: str,
    ) -> None:
        db.execute(
            "INSERT INTO sessions (id, company, role, engine, minutes, status, started,"
            " ended, meta) VALUES (?, ?, ?, ?, ?, 'complete', ?, ?, ?)",
            (
                s.id,
                clean_name(s.company),
                clean_name(s.role),
                s.engine,
                s.minutes,
                created,
                created,
                json.dumps(s.meta),
            ),
        )
        db.executemany(
            "INSERT INTO turns (session_id, seq, speaker, text, topic, kind, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (s.id, seq, speaker, text, topic, kind, created)
                for seq, (speaker, text, topic, kind, *_) in enumerate(turns, 1)
            ],
        )
        db.executemany(
            "INSERT INTO import_turns (session_id, seq, speaker, line, time_start,"
            " time_end) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (s.id, seq, label, line, start, end)
                for seq, (*_, label, line, start, end) in enumerate(turns, 1)
            ],
        )
        db.execute(
            "INSERT INTO imports (session_id, sha256, name, format, respondent, speakers,"
            " created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                s.id,
                source["sha256"],
                source["name"],
                source["format"],
                json.dumps(source["respondent"]),
                json.dumps(source["speakers"]),
                created,
            ),
        )
        data, state, meta = profile
        db.execute(
            "INSERT INTO profiles (session_id, version, after_seq, data, state, created, meta)"
            " VALUES (?, 1, ?, ?, ?, ?, ?)",
            (s.id, len(turns), _json(data), json.dumps(state), created, json.dumps(meta)),
        )

    def imports(self, sha256: str | None = None, sid: str | None = None) -> list[dict]:
        """Imported transcripts, all or by file hash or session, oldest first."""
        query, args = "SELECT * FROM imports WHERE 1", []
        if sha256:
            query, args = query + " AND sha256 = ?", [*args, sha256]
        if sid:
            query, args = query + " AND session_id = ?", [*args, sid]
        rows = self.db.execute(query + " ORDER BY created, rowid", args).fetchall()
        return [
            {
                **dict(r),
                "respondent": json.loads(r["respondent"]),
                "speakers": json.loads(r["speakers"]),
            }
            for r in rows
        ]

    def import_turns(self, sid: str) -> dict[int, dict]:
        """Where each turn of an imported session came from: speaker label, line, timestamps."""
        rows = self.db.execute(
            "SELECT seq, speaker, line, time_start, time_end FROM import_turns"
            " WHERE session_id = ? ORDER BY seq",
            (sid,),
        ).fetchall()
        return {r["seq"]: dict(r) for r in rows}

    # model calls
    def add_model_calls(self, sid: str, records: list[dict]) -> None:
        """Record model calls (tokens, cost, outcome) in one transaction."""
        if not records:
            return
        columns = ("after_seq", "purpose", "model", "prompt_tokens", "completion_tokens")
        columns += ("estimated", "cost_usd", "seconds", "outcome", "kept", "dropped")
        # Accounting, not answers: skip this commit's fsync (WAL); the next durable commit
        # (the profile version moments later) makes it durable too.
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            with self.transaction() as db:
                db.executemany(
                    f"INSERT INTO model_calls (session_id, {', '.join(columns)}, created)"
                    f" VALUES (?, {', '.join('?' for _ in columns)}, ?)",
                    [(sid, *(r[c] for c in columns), now()) for r in records],
                )
        finally:
            self.db.execute("PRAGMA synchronous=FULL")

    def model_calls(self, sid: str | None = None) -> list[dict]:
        """Recorded model calls, of one session or all, oldest first."""
        query, args = "SELECT * FROM model_calls", ()
        if sid is not None:
            query, args = query + " WHERE session_id = ?", (sid,)
        return [dict(row) for row in self.db.execute(query + " ORDER BY id", args)]


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    return out


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


_SURROGATE = re.compile("[\ud800-\udfff]")


class _Connection(sqlite3.Connection):
    """Binds only text UTF-8 can hold: a lone surrogate (from a JSON escape, an undecodable
    file name or argument) becomes U+FFFD rather than failing the write with a traceback."""

    def execute(self, sql: str, parameters: tuple | list = (), /) -> sqlite3.Cursor:
        return super().execute(sql, _storable(parameters))

    def executemany(self, sql: str, rows, /) -> sqlite3.Cursor:
        return super().executemany(sql, (_storable(row) for row in rows))


def _storable(parameters: tuple | list) -> tuple | list:
    if not any(isinstance(p, str) and not p.isascii() for p in parameters):
        return parameters
    return tuple(_SURROGATE.sub("\ufffd", p) if isinstance(p, str) else p for p in parameters)


def damaged(exc: BaseException) -> StoreError | None:
    """An SQLite error raised after the database opened, as the one-line error to show."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return None  # an OSError here is about some other file: not the database's to name
    return storage_error(exc, icp_home() / DB_NAME)


# SQLite's primary result codes that say what went wrong with the file, not with icp.
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN = 10, 11, 13, 14
_SQLITE_AUTH, _SQLITE_NOTADB = 23, 26
_BUGS = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)


def storage_error(exc: BaseException, path: Path, opening: bool = False) -> StoreError | None:
    """The one-line error for a failed read or write of the database: a full disk, a read-only
    or forbidden file, an I/O error and real damage each named with what to do. None for what
    is not about storage (a bug keeps its traceback)."""
    if isinstance(exc, OSError):
        return os_error(exc, path)
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, _BUGS):
        return None
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or _busy(exc):
        return StoreError(_busy_message(path))
    if code == _SQLITE_FULL or (code == _SQLITE_IOERR and _disk_full(path)):
        return StoreError(_full_message(path))
    if code == _SQLITE_READONLY:
        return StoreError(_read_only_message(path))
    if code in (_SQLITE_PERM, _SQLITE_AUTH) or (code == _SQLITE_CANTOPEN and _forbidden(path)):
        return StoreError(_forbidden_message(path))
    if code == _SQLITE_CANTOPEN and _read_only_folder(path):
        return StoreError(_read_only_message(path))
    if code == _SQLITE_IOERR:
        return StoreError(
            f"a disk error while reading or writing {path} ({exc}); the database itself may "
            "well be fine: check the disk (or the network drive it is on), then try again"
        )
    return StoreError(_damaged_message(path, exc, opening))


def os_error(exc: OSError, path: Path) -> StoreError:
    """A failed file operation in ICP_HOME as a StoreError with the right advice."""
    where = Path(exc.filename) if exc.filename else path
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreError(_full_message(where))
    if exc.errno == errno.EROFS:
        return StoreError(_read_only_message(where))
    if exc.errno in (errno.EACCES, errno.EPERM):
        return StoreError(_forbidden_message(where))
    return StoreError(f"cannot use the database at {where}: {exc.strerror or exc}")


def _damaged_message(path: Path, exc: BaseException, opening: bool) -> str:
    reason = str(exc).split(" with text ")[0][:120]  # not the row's text
    what = "is not a usable icp database" if opening else "is damaged"
    return (
        f"{path} {what} ({reason}); keep a copy, then restore a backup or try "
        f"`sqlite3 {path} .recover`"
    )


def _full_message(path: Path) -> str:
    return (
        f"the disk holding {path} is full; the database is not damaged and everything stored "
        "before is kept: free some space, then run the command again (`icp resume ID` "
        "continues an interview where it stopped)"
    )


def _read_only_message(path: Path) -> str:
    folder = path if path.is_dir() else path.parent
    return (
        f"{path} is read-only (the file, its folder or the disk does not allow writing): "
        "icp can list, export and report what it holds but not store anything; make "
        f"{folder} writable, or set ICP_HOME to a folder that is"
    )


def _forbidden_message(path: Path) -> str:
    folder = path if path.is_dir() else path.parent
    return (
        f"permission denied for {path}: icp runs as a user who may not use it; check the "
        f"owner and permissions of {folder} and the files in it (`ls -la {folder}`)"
    )


def _disk_full(path: Path) -> bool:
    try:
        stats = os.statvfs(path.parent)
    except (OSError, AttributeError):
        return False
    return stats.f_bavail * stats.f_frsize < 64 * 1024


def _forbidden(path: Path) -> bool:
    """True when the database or its folder exists but this user may not open it."""
    folder = path.parent
    if folder.exists() and not os.access(folder, os.X_OK):
        return True
    return path.exists() and not os.access(path, os.R_OK)


def _read_only_folder(path: Path) -> bool:
    return not os.access(path.parent, os.W_OK) or _read_only_fs(path)


def _read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _readable_anyway(exc: sqlite3.DatabaseError, path: Path) -> bool:
    """True when opening for writing failed for a reason reading can live with."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code in (_SQLITE_READONLY, _SQLITE_FULL):
        return True
    if code in (_SQLITE_CANTOPEN, _SQLITE_IOERR, _SQLITE_PERM):
        return _read_only_folder(path) or _disk_full(path) or not os.access(path, os.W_OK)
    return False


def _create(path: Path) -> None:
    """Create an empty WAL database whole: under a temporary name, then linked into place.

    So `icp.db` never exists as an empty file, and an empty one can be refused as damaged.
    Two processes creating it at once both succeed; the second one's file is dropped.
    """
    sweep(path)  # temporary files of processes killed while creating
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    private_file(tmp)
    try:
        db = sqlite3.connect(tmp)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # writes the header page
        finally:
            db.close()
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # created by another process meanwhile: that one is the database
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
    except sqlite3.DatabaseError as exc:
        raise OSError(errno.EIO, str(exc), str(path)) from None
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _refuse_empty(path: Path) -> None:
    """An empty database file was truncated (icp never leaves one): refuse it, do not refill it."""
    if path.stat().st_size:
        return
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size:
        return  # an older release's new database, still all in its log
    raise StoreError(
        f"{path} is empty (0 bytes): it was cut short (a full disk, a failed copy or sync) and "
        "holds no interviews; restore it from a backup, or delete it to start a new, empty "
        "database"
    )


def _open_elsewhere(sid: str, who: dict | None) -> str:
    """The message for a second writer: who has the interview open, and what to do."""
    where = "another process"
    if who:
        command = who.get("command") or "icp"
        where = f"`{command}` (process {who.get('pid', '?')}"
        if who.get("host") and who.get("host") != _hostname():
            where += f" on {who['host']}"
        since = str(who.get("since", ""))[11:16]
        where += f", since {since} UTC)" if since else ")"
    return (
        f"interview {sid} is open elsewhere, in {where}; nothing was stored here. Finish or "
        f"stop it there (Ctrl-C saves it), then `icp resume {sid}`"
    )


def _hostname() -> str:
    import socket

    return socket.gethostname()


def _busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


def _busy_message(path: Path) -> str:
    return (
        f"{path} stayed busy for {BUSY_TIMEOUT_MS // 1000} s (another icp process is writing "
        "to it); nothing was lost, try again"
    )


def _profile_record(row: sqlite3.Row) -> ProfileRecord:
    return ProfileRecord(
        row["version"],
        row["after_seq"],
        json.loads(row["data"]),
        json.loads(row["state"]),
        row["created"],
        json.loads(row["meta"]),
    )


def _session_info(row: sqlite3.Row) -> SessionInfo:
    return SessionInfo(
        id=row["id"],
        company=row["company"],
        role=row["role"],
        engine=row["engine"],
        minutes=row["minutes"],
        status=row["status"],
        started=row["started"],
        ended=row["ended"],
        turns=row["turns"],
        meta=json.loads(row["meta"] or "{}"),
    )


def _json(data: dict | str) -> str:
    """A profile's JSON text: as given, or dumped from its dict."""
    return data if isinstance(data, str) else json.dumps(data)
