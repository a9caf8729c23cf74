"""SQLite storage: sessions, immutable turns and profile versions, with migrations."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from agent.errors import ICPError, NotFound, StoreError
from agent.paths import icp_home, private_dir, private_file

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
        try:
            # Answers are confidential: a folder and database icp creates are owner-only
            # (0700, 0600; SQLite gives -wal and -shm the database's mode). Existing ones keep
            # the permissions their owner chose.
            private_file(private_dir(self.path.parent) / self.path.name)
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
            self.db = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                factory=_Connection,
            )
            self.db.row_factory = sqlite3.Row
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            if _busy(exc):
                raise StoreError(_busy_message(self.path)) from None
            raise StoreError(f"{self.path} is not a usable icp database ({exc})") from None
        except OSError as exc:
            raise StoreError(f"cannot open the database at {self.path}: {exc.strerror}") from None

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
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one IMMEDIATE transaction, committed or rolled back as a whole."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise StoreError(_busy_message(self.path)) from None
            raise
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
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
        """Create and return a new active session."""
        sid = secrets.token_hex(4)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO sessions (id, company, role, engine, minutes, started, meta)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sid, company, role, engine, minutes, now(), json.dumps(meta or {})),
            )
        return self.session(sid)

    def session(self, sid: str) -> SessionInfo:
        """Find a session by id or unique id prefix."""
        rows = self.db.execute(
            "SELECT s.*, (SELECT COUNT(*) FROM turns t WHERE t.session_id = s.id) AS turns"
            " FROM sessions s WHERE s.id = ? OR s.id LIKE ? ESCAPE '\\' ORDER BY s.id = ? DESC",
            (sid, _like_prefix(sid), sid),
        ).fetchall()
        if not rows or (len(rows) > 1 and rows[0]["id"] != sid):
            why = "no session" if not rows else "more than one session starts with"
            raise NotFound(f"{why} {sid!r}; `icp sessions` lists them")
        return _session_info(rows[0])

    def sessions(self) -> list[SessionInfo]:
        """All sessions, newest first."""
        rows = self.db.execute(
            "SELECT s.*, (SELECT COUNT(*) FROM turns t WHERE t.session_id = s.id) AS turns"
            " FROM sessions s ORDER BY s.started DESC, s.rowid DESC"
        ).fetchall()
        return [_session_info(row) for row in rows]

    def set_status(self, sid: str, status: str) -> None:
        """Mark a session active, interrupted or complete."""
        ended = now() if status == "complete" else None
        with self.transaction() as db:
            db.execute(
                "UPDATE sessions SET status = ?, ended = ? WHERE id = ?", (status, ended, sid)
            )

    # turns
    def add_turn(
        self, sid: str, speaker: str, text: str, topic: str | None = None, kind: str = ""
    ) -> Turn:
        """Append a turn and commit it before returning."""
        with self.transaction() as db:
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
        with self.transaction() as db:
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
        s, created = session, now()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO sessions (id, company, role, engine, minutes, status, started,"
                " ended, meta) VALUES (?, ?, ?, ?, ?, 'complete', ?, ?, ?)",
                (
                    s.id,
                    s.company,
                    s.role,
                    s.engine,
                    s.minutes,
                    created,
                    created,
                    json.dumps(s.meta),
                ),
            )
            for seq, (speaker, text, topic, kind, label, line, start, end) in enumerate(turns, 1):
                db.execute(
                    "INSERT INTO turns (session_id, seq, speaker, text, topic, kind, created)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (s.id, seq, speaker, text, topic, kind, created),
                )
                db.execute(
                    "INSERT INTO import_turns (session_id, seq, speaker, line, time_start,"
                    " time_end) VALUES (?, ?, ?, ?, ?, ?)",
                    (s.id, seq, label, line, start, end),
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
                (s.id, len(turns), json.dumps(data), json.dumps(state), created, json.dumps(meta)),
            )
        return self.session(s.id)

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
        return None
    path = icp_home() / DB_NAME
    if _busy(exc):
        return StoreError(_busy_message(path))
    reason = str(exc).split(" with text ")[0][:120]  # not the row's text
    return StoreError(
        f"{path} is damaged ({reason}); keep a copy, then restore a backup or try "
        f"`sqlite3 {path} .recover`"
    )


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
