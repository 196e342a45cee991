"""The store of record for served matches, their scene photos and the feedback on them.

SQLite in the index folder by default (``feedback.sqlite``, no server needed), or the
PostgreSQL database the index keeps its products in. Rows are scoped by the index's uid, so
several indexes can share one database. What must stay true:

- a scene photo is stored once per index, under the sha256 of its bytes, and goes when the
  last match that showed it goes (retention or delete);
- an event with a client ``event_id`` is recorded once, however often it is sent;
- nothing is kept in memory only: every write is committed before the call returns.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from .._errors import BackendError, ConfigError
from ._events import Event, FeedbackEvent, MatchRecord, ShownItem

SQLITE_FILE = "feedback.sqlite"
#: The advisory lock key under which PostgreSQL's tables are created ("scenefit" in ASCII).
_DDL_LOCK = 0x7363656E65666974

_TABLES = (
    "CREATE TABLE IF NOT EXISTS scenefit_scenes (uid TEXT NOT NULL, digest TEXT NOT NULL, photo {blob} NOT NULL, "
    "created_at TEXT NOT NULL, PRIMARY KEY (uid, digest))",
    "CREATE TABLE IF NOT EXISTS scenefit_matches (uid TEXT NOT NULL, match_id TEXT NOT NULL, "
    "created_at TEXT NOT NULL, digest TEXT NOT NULL, variant TEXT NOT NULL, subject TEXT, k INTEGER NOT NULL, "
    "context TEXT, filters TEXT NOT NULL, shown TEXT NOT NULL, n_shown INTEGER NOT NULL, PRIMARY KEY (uid, match_id))",
    "CREATE INDEX IF NOT EXISTS scenefit_matches_created ON scenefit_matches (uid, created_at)",
    # seq: the order events arrived in (times can tie), which the latest judgement relies on.
    "CREATE TABLE IF NOT EXISTS scenefit_events (seq {serial}, uid TEXT NOT NULL, match_id TEXT NOT NULL, "
    "product_id TEXT NOT NULL, event TEXT NOT NULL, rank INTEGER NOT NULL, created_at TEXT NOT NULL, "
    "event_id TEXT)",
    "CREATE INDEX IF NOT EXISTS scenefit_events_match ON scenefit_events (uid, match_id)",
    # A client's event ids are unique within its match (two storefronts may both count from
    # 1). NULLs are distinct in both databases: events without a client id are never merged.
    "DROP INDEX IF EXISTS scenefit_events_client_id",  # unique per index, before the match scoped it
    "CREATE UNIQUE INDEX IF NOT EXISTS scenefit_events_match_event_id ON scenefit_events (uid, match_id, event_id)",
)
_TYPES = {"sqlite": {"blob": "BLOB", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"},
          "postgres": {"blob": "BYTEA", "serial": "BIGSERIAL PRIMARY KEY"}}
_MATCH_COLUMNS = "match_id, created_at, digest, variant, subject, k, context, filters, shown"
_EVENTS_OF_MATCHES = ("FROM scenefit_events e JOIN scenefit_matches m ON m.uid = e.uid AND m.match_id = e.match_id "
                      "WHERE e.uid = ? AND m.created_at >= ?")


@dataclass
class Purged:
    matches: int
    events: int
    scenes: int


class FeedbackStore:
    """Matches, scene photos and events of one index (``uid``)."""

    def __init__(self, uid: str, *, folder: Path | None = None, database_url: str | None = None):
        if (folder is None) == (database_url is None):
            raise ConfigError("a feedback store needs an index folder (SQLite) or a database URL, not both")
        self.uid = uid
        self.kind = "postgres" if database_url else "sqlite"
        self._url = database_url
        self._path = folder / SQLITE_FILE if folder is not None else None
        self._local = threading.local()  # one connection per thread
        with self._transaction(write=True) as cur:
            if self.kind == "postgres":
                # Processes starting together would race in CREATE … IF NOT EXISTS (a unique
                # violation in PostgreSQL's catalogue): one at a time.
                cur.execute("SELECT pg_advisory_xact_lock(?)", (_DDL_LOCK,))
            for sql in _TABLES:
                cur.execute(sql.format(**_TYPES[self.kind]))

    @property
    def where(self) -> str:
        return str(self._path) if self._path is not None else "PostgreSQL (SCENEFIT_DATABASE_URL)"

    # -- connections -----------------------------------------------------------------------
    def _connection(self):
        con = getattr(self._local, "con", None)
        if con is not None and not (self.kind == "postgres" and con.closed):
            return con
        if self.kind == "sqlite":
            con = sqlite3.connect(self._path, timeout=30, check_same_thread=False, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")  # serving processes write while others read
        else:
            import psycopg

            try:
                con = psycopg.connect(self._url, connect_timeout=10, autocommit=True)
            except psycopg.OperationalError as exc:
                detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise BackendError(f"PostgreSQL at SCENEFIT_DATABASE_URL unreachable: {detail}") from None
        self._local.con = con
        return con

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.kind == "postgres" else sql

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator["_Cursor"]:
        """A cursor whose statements commit together, or not at all. A database that fails
        (down, locked past the timeout, out of disk) is a BackendError: the service answers
        503, and the next call on this thread starts from a new connection."""
        con = self._connection()
        try:
            if self.kind == "sqlite":
                cur = con.cursor()
                # Writers take the lock at once (no upgrade deadlock later); readers need none
                # under WAL, so a long export never holds up recording.
                cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield _Cursor(cur, self._sql)
                except BaseException:
                    if con.in_transaction:  # SQLite may have rolled back by itself already
                        cur.execute("ROLLBACK")
                    raise
                cur.execute("COMMIT")
            else:
                with con.transaction(), con.cursor() as cur:
                    yield _Cursor(cur, self._sql)
        except Exception as exc:
            if _is_database_failure(exc):
                self._local.con = None
                with suppress(Exception):
                    con.close()
                detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise BackendError(f"feedback store {self.where}: {detail}") from None
            raise

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._transaction() as cur:
            return list(cur.execute(sql, params).fetchall())

    # -- writes ----------------------------------------------------------------------------
    def record_match(self, record: MatchRecord, photo: bytes) -> None:
        """Store a served match, and its scene photo unless this index has it already."""
        with self._transaction(write=True) as cur:
            # A photo seen again is fresh again: retention never takes a photo in use (its
            # created_at is when a match last showed it).
            cur.execute("INSERT INTO scenefit_scenes (uid, digest, photo, created_at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (uid, digest) DO UPDATE SET created_at = excluded.created_at",
                        (self.uid, record.scene_digest, photo, record.created_at))
            cur.execute(f"INSERT INTO scenefit_matches (uid, {_MATCH_COLUMNS}, n_shown) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (self.uid, record.match_id, record.created_at, record.scene_digest, record.variant,
                         record.subject, record.k, record.context, json.dumps(record.filters),
                         json.dumps([s.model_dump() for s in record.shown]), len(record.shown)))

    def add_event(self, event: FeedbackEvent) -> bool:
        """Record an event; False when its ``event_id`` was recorded before on its match, or
        the match is gone (deleted since it was looked up): nothing written."""
        with self._transaction(write=True) as cur:
            # Only while the match exists: an event never outlives its match's deletion.
            cur.execute("INSERT INTO scenefit_events (uid, match_id, product_id, event, rank, created_at, event_id) "
                        "SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM scenefit_matches "
                        "WHERE uid = ? AND match_id = ?) ON CONFLICT DO NOTHING",
                        (self.uid, event.match_id, event.product_id, event.event.value, event.rank, event.created_at,
                         event.event_id, self.uid, event.match_id))
            return cur.cur.rowcount == 1

    def delete_match(self, match_id: str) -> bool:
        """Remove a match, its events, and its photo when no other match showed it."""
        with self._transaction(write=True) as cur:
            row = cur.execute("SELECT digest FROM scenefit_matches WHERE uid = ? AND match_id = ?",
                              (self.uid, match_id)).fetchone()
            if row is None:
                return False
            cur.execute("DELETE FROM scenefit_events WHERE uid = ? AND match_id = ?", (self.uid, match_id))
            cur.execute("DELETE FROM scenefit_matches WHERE uid = ? AND match_id = ?", (self.uid, match_id))
            cur.execute("DELETE FROM scenefit_scenes WHERE uid = ? AND digest = ? AND NOT EXISTS "
                        "(SELECT 1 FROM scenefit_matches WHERE uid = ? AND digest = ?)",
                        (self.uid, row[0], self.uid, row[0]))
            return True

    def delete_scene(self, digest: str) -> int:
        """Remove a scene photo and every match (and event) that showed it; how many matches."""
        with self._transaction(write=True) as cur:
            ids = [r[0] for r in cur.execute("SELECT match_id FROM scenefit_matches WHERE uid = ? AND digest = ?",
                                             (self.uid, digest)).fetchall()]
            for match_id in ids:
                cur.execute("DELETE FROM scenefit_events WHERE uid = ? AND match_id = ?", (self.uid, match_id))
            cur.execute("DELETE FROM scenefit_matches WHERE uid = ? AND digest = ?", (self.uid, digest))
            cur.execute("DELETE FROM scenefit_scenes WHERE uid = ? AND digest = ?", (self.uid, digest))
            return len(ids)

    def purge(self, before: str) -> Purged:
        """Remove matches served before ``before`` (UTC ISO time), their events, and the photos
        no remaining match showed: the retention period."""
        before = utc_iso(before)
        with self._transaction(write=True) as cur:
            old = "SELECT match_id FROM scenefit_matches WHERE uid = ? AND created_at < ?"
            events = cur.execute(f"DELETE FROM scenefit_events WHERE uid = ? AND match_id IN ({old})",
                                 (self.uid, self.uid, before)).rowcount
            matches = cur.execute("DELETE FROM scenefit_matches WHERE uid = ? AND created_at < ?",
                                  (self.uid, before)).rowcount
            # Only photos last shown before the cut: one a match is storing right now is newer.
            scenes = cur.execute("DELETE FROM scenefit_scenes WHERE uid = ? AND created_at < ? AND digest NOT IN "
                                 "(SELECT digest FROM scenefit_matches WHERE uid = ?)",
                                 (self.uid, before, self.uid)).rowcount
        return Purged(matches, events, scenes)

    # -- reads -----------------------------------------------------------------------------
    def get_match(self, match_id: str) -> MatchRecord | None:
        rows = self._query(f"SELECT {_MATCH_COLUMNS} FROM scenefit_matches WHERE uid = ? AND match_id = ?",
                           (self.uid, match_id))
        return _match(rows[0]) if rows else None

    def count_events(self, match_id: str) -> int:
        return self._query("SELECT COUNT(*) FROM scenefit_events WHERE uid = ? AND match_id = ?",
                           (self.uid, match_id))[0][0]

    def matches(self, since: str | None = None) -> Iterator[MatchRecord]:
        """Every match (served at or after ``since``), oldest first."""
        since = utc_iso(since)
        rows = self._query(f"SELECT {_MATCH_COLUMNS} FROM scenefit_matches WHERE uid = ? AND created_at >= ? "
                           "ORDER BY created_at, match_id", (self.uid, since or ""))
        return (_match(r) for r in rows)

    def events(self, since: str | None = None) -> Iterator[FeedbackEvent]:
        """Every event on a match served at or after ``since``, oldest first."""
        since = utc_iso(since)
        rows = self._query(
            "SELECT e.match_id, e.product_id, e.event, e.rank, e.created_at, e.event_id FROM scenefit_events e "
            "JOIN scenefit_matches m ON m.uid = e.uid AND m.match_id = e.match_id "
            "WHERE e.uid = ? AND m.created_at >= ? ORDER BY e.seq", (self.uid, since or ""))
        return (FeedbackEvent(match_id=r[0], product_id=r[1], event=Event(r[2]), rank=r[3], created_at=r[4],
                              event_id=r[5]) for r in rows)

    # -- aggregates (the experiment report: counted by the database, never loaded whole) -------
    def variant_totals(self, k: int, since: str | None = None) -> dict[str, tuple[int, int]]:
        """Per variant: (matches served, products shown within the top ``k``)."""
        rows = self._query("SELECT variant, COUNT(*), SUM(CASE WHEN n_shown < ? THEN n_shown ELSE ? END) "
                           "FROM scenefit_matches WHERE uid = ? AND created_at >= ? GROUP BY variant",
                           (k, k, self.uid, utc_iso(since) or ""))
        return {variant: (int(n), int(shown or 0)) for variant, n, shown in rows}

    def event_counts(self, since: str | None = None) -> dict[tuple[str, str], int]:
        """Per (variant, event): events recorded on matches served at or after ``since``."""
        rows = self._query(f"SELECT m.variant, e.event, COUNT(*) {_EVENTS_OF_MATCHES} GROUP BY m.variant, e.event",
                           (self.uid, utc_iso(since) or ""))
        return {(variant, event): int(n) for variant, event, n in rows}

    def matches_with(self, events: Iterable[Event], k: int, since: str | None = None) -> dict[str, int]:
        """Per variant: matches with at least one of ``events`` on a product shown within the top ``k``."""
        kinds = sorted(e.value for e in events)
        rows = self._query(f"SELECT m.variant, COUNT(DISTINCT e.match_id) {_EVENTS_OF_MATCHES} AND e.rank <= ? "
                           f"AND e.event IN ({', '.join('?' * len(kinds))}) GROUP BY m.variant",
                           (self.uid, utc_iso(since) or "", k, *kinds))
        return {variant: int(n) for variant, n in rows}

    def scene_photo(self, digest: str) -> bytes | None:
        rows = self._query("SELECT photo FROM scenefit_scenes WHERE uid = ? AND digest = ?", (self.uid, digest))
        return bytes(rows[0][0]) if rows else None

    def counts(self) -> dict[str, int]:
        return {table: self._query(f"SELECT COUNT(*) FROM scenefit_{table} WHERE uid = ?", (self.uid,))[0][0]
                for table in ("matches", "events", "scenes")}

    def drop(self) -> None:
        """Remove every row of this index (tests, and a user retiring an index)."""
        with self._transaction(write=True) as cur:
            for table in ("events", "matches", "scenes"):
                cur.execute(f"DELETE FROM scenefit_{table} WHERE uid = ?", (self.uid,))


def _match(row: tuple) -> MatchRecord:
    match_id, created_at, digest, variant, subject, k, context, filters, shown = row
    return MatchRecord(match_id=match_id, created_at=created_at, scene_digest=digest, variant=variant,
                       subject=subject, k=k, context=context, filters=json.loads(filters),
                       shown=[ShownItem(**s) for s in json.loads(shown)])


def utc_iso(when: str | datetime | None) -> str | None:
    """A time as the store compares it (UTC, ISO 8601, to the microsecond); a date or a time
    without a zone is taken as UTC. A malformed one is a ConfigError, not a silent empty answer."""
    if when is None:
        return None
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when.strip())
        except ValueError:
            raise ConfigError(f"since: {when!r} is not an ISO 8601 time (e.g. 2026-12-01 or 2026-12-01T08:00)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _is_database_failure(exc: Exception) -> bool:
    """The database failed, as opposed to a bug in a statement: connection lost, locked past
    the timeout, disk full."""
    if isinstance(exc, sqlite3.OperationalError):
        return True
    return type(exc).__name__ in {"OperationalError", "InterfaceError"} and type(exc).__module__.startswith("psycopg")


class _Cursor:
    """A cursor taking ``?`` placeholders on either database."""

    def __init__(self, cur, sql):
        self.cur, self._sql = cur, sql

    def execute(self, sql: str, params: Sequence[Any] = ()):
        self.cur.execute(self._sql(sql), tuple(params))
        return self.cur
