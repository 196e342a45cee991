"""The store of record for product metadata: SQLite in the index folder, or PostgreSQL.

Rows are versioned by index generation, which is what makes a write atomic across the
database and the FAISS files. A row is visible at generation ``g`` when
``gen_from <= g`` and (``gen_to`` is null or ``gen_to > g``). A writer (holding the index's
write lock) commits the new generation's rows in one transaction *before* it switches the
manifest; readers keep following the manifest, so they see the old generation's rows until
the switch and the new ones after it, never a mix. A writer that dies between the two
leaves rows of a generation the manifest never reached: the next writer rolls them back.

Several indexes can share one PostgreSQL database: rows carry the index's ``uid``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence

from .._errors import InvalidIndexError

#: The columns of a product row besides its versioning, in ProductRecord field order.
FIELDS = (
    "key", "id", "sku_id", "description", "image", "text", "category",
    "colours", "materials", "content_hash", "image_status", "attributes",
)
_JSON_FIELDS = ("colours", "materials", "attributes")
SQLITE_FILE = "products.sqlite"
_PG_TABLE = "scenefit_products"


class RecordStore(Protocol):
    kind: str

    def load(self, generation: int) -> list[dict[str, Any]]:
        """Every product row visible at ``generation``."""

    def load_ids(self, generation: int) -> list[tuple[str, int]]:
        """(id, key) of every product visible at ``generation``: all an index loads at open."""

    def get_many(self, generation: int, keys: Sequence[int]) -> list[dict[str, Any]]:
        """The rows of ``keys`` visible at ``generation`` (missing ones are left out)."""

    def field_names(self, generation: int) -> set[str]:
        """The attribute names of the products visible at ``generation`` (as written), for
        checking filters without reading every record."""

    def commit(self, generation: int, rows: Sequence[dict[str, Any]], retired: Iterable[int]) -> None:
        """Make ``rows`` visible and ``retired`` keys invisible from ``generation`` on."""

    def rollback_after(self, generation: int) -> None:
        """Undo what a writer committed for generations after ``generation`` (it crashed
        before switching the manifest)."""

    def prune(self, before: int) -> None:
        """Forget rows no reader at generation ``before`` or later can see."""


def _encode(row: dict[str, Any]) -> tuple:
    return tuple(
        json.dumps(row[f], ensure_ascii=False, default=str) if f in _JSON_FIELDS else row[f]
        for f in FIELDS
    )


def _decode(values: Sequence[Any]) -> dict[str, Any]:
    row = dict(zip(FIELDS, values))
    for f in _JSON_FIELDS:
        row[f] = json.loads(row[f]) if row[f] else ({} if f == "attributes" else [])
    return row


_VISIBLE = "gen_from <= {p} AND (gen_to IS NULL OR gen_to > {p})"
#: keys per IN (…) query: under SQLite's smallest variable limit
_CHUNK = 900


class SqliteStore:
    """One SQLite file inside the index folder (the default: no server needed)."""

    kind = "sqlite"

    def __init__(self, folder: Path, uid: str):
        self.path = folder / SQLITE_FILE
        self.uid = uid
        self._local = threading.local()  # one read connection per serving thread
        self._created = False

    def _read(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
        return con

    def load_ids(self, generation: int) -> list[tuple[str, int]]:
        cur = self._read().execute(
            f"SELECT id, key FROM products WHERE uid = ? AND {_VISIBLE.format(p='?')}",
            (self.uid, generation, generation))
        return cur.fetchall()

    def get_many(self, generation: int, keys: Sequence[int]) -> list[dict[str, Any]]:
        con, out = self._read(), []
        keys = [int(k) for k in keys]
        for i in range(0, len(keys), _CHUNK):
            part = keys[i : i + _CHUNK]
            cur = con.execute(
                f"SELECT {', '.join(FIELDS)} FROM products WHERE uid = ? AND key IN ({', '.join('?' * len(part))}) "
                f"AND {_VISIBLE.format(p='?')}", (self.uid, *part, generation, generation))
            out += [_decode(r) for r in cur]
        return out

    def field_names(self, generation: int) -> set[str]:
        cur = self._read().execute(
            "SELECT DISTINCT j.key FROM products, json_each(products.attributes) AS j "
            f"WHERE uid = ? AND {_VISIBLE.format(p='?')}", (self.uid, generation, generation))
        return {row[0] for row in cur}

    def _connect(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            if self._created:
                return con
            # WAL: serving processes keep reading while a writer commits.
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(
                "CREATE TABLE IF NOT EXISTS products (uid TEXT NOT NULL, key INTEGER NOT NULL, "
                "id TEXT NOT NULL, sku_id TEXT, description TEXT, image TEXT, text TEXT, "
                "category TEXT, colours TEXT, materials TEXT, content_hash TEXT, "
                "image_status TEXT, attributes TEXT, gen_from INTEGER NOT NULL, gen_to INTEGER, "
                "PRIMARY KEY (uid, key))"
            )
            self._created = True
            return con
        except sqlite3.DatabaseError as exc:
            raise InvalidIndexError(f"{self.path}: product database unreadable ({exc}); rebuild with "
                              "`scenefit ingest CATALOG --index DIR --rebuild`") from None

    def load(self, generation: int) -> list[dict[str, Any]]:
        con = self._connect()
        try:
            cur = con.execute(
                f"SELECT {', '.join(FIELDS)} FROM products WHERE uid = ? AND gen_from <= ? "
                "AND (gen_to IS NULL OR gen_to > ?)", (self.uid, generation, generation))
            return [_decode(r) for r in cur]
        finally:
            con.close()

    def commit(self, generation: int, rows: Sequence[dict[str, Any]], retired: Iterable[int]) -> None:
        con = self._connect()
        try:
            with con:  # one transaction
                con.executemany("UPDATE products SET gen_to = ? WHERE uid = ? AND key = ? AND gen_to IS NULL",
                                [(generation, self.uid, int(k)) for k in retired])
                con.executemany(
                    f"INSERT INTO products (uid, {', '.join(FIELDS)}, gen_from) "
                    f"VALUES ({', '.join('?' * (len(FIELDS) + 2))})",
                    [(self.uid, *_encode(r), generation) for r in rows])
        finally:
            con.close()

    def rollback_after(self, generation: int) -> None:
        con = self._connect()
        try:
            with con:
                con.execute("DELETE FROM products WHERE uid = ? AND gen_from > ?", (self.uid, generation))
                con.execute("UPDATE products SET gen_to = NULL WHERE uid = ? AND gen_to > ?", (self.uid, generation))
                # The file belongs to this folder alone: rows of an index it held before a
                # rebuild (another uid) are nobody's.
                con.execute("DELETE FROM products WHERE uid != ?", (self.uid,))
        finally:
            con.close()

    def prune(self, before: int) -> None:
        con = self._connect()
        try:
            with con:
                con.execute("DELETE FROM products WHERE uid = ? AND gen_to IS NOT NULL AND gen_to <= ?",
                            (self.uid, before))
        finally:
            con.close()


class PostgresStore:
    """A PostgreSQL table shared by every serving machine (``SCENEFIT_DATABASE_URL``)."""

    kind = "postgres"

    def __init__(self, url: str, uid: str):
        try:
            import psycopg
        except ImportError:
            raise InvalidIndexError("PostgreSQL support needs psycopg: pip install 'scenefit[postgres]'") from None
        self._psycopg = psycopg
        self.url = url
        self.uid = uid
        self._local = threading.local()
        with self._connect() as con:
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {_PG_TABLE} (uid TEXT NOT NULL, key BIGINT NOT NULL, "
                "id TEXT NOT NULL, sku_id TEXT, description TEXT, image TEXT, text TEXT, "
                "category TEXT, colours JSONB, materials JSONB, content_hash TEXT, "
                "image_status TEXT, attributes JSONB, gen_from BIGINT NOT NULL, gen_to BIGINT, "
                "PRIMARY KEY (uid, key))"
            )

    def _connect(self):
        try:
            return self._psycopg.connect(self.url, connect_timeout=10)
        except self._psycopg.OperationalError as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InvalidIndexError(f"PostgreSQL at SCENEFIT_DATABASE_URL unreachable: {detail}") from None

    def load_ids(self, generation: int) -> list[tuple[str, int]]:
        with self._connect() as con:
            cur = con.execute(f"SELECT id, key FROM {_PG_TABLE} WHERE uid = %s AND {_VISIBLE.format(p='%s')}",
                              (self.uid, generation, generation))
            return cur.fetchall()

    def get_many(self, generation: int, keys: Sequence[int]) -> list[dict[str, Any]]:
        cols = ", ".join(f"{f}::text" if f in _JSON_FIELDS else f for f in FIELDS)
        con = getattr(self._local, "con", None)
        if con is None or con.closed:
            con = self._local.con = self._connect()
            con.autocommit = True
        try:
            cur = con.execute(f"SELECT {cols} FROM {_PG_TABLE} WHERE uid = %s AND key = ANY(%s) "
                              f"AND {_VISIBLE.format(p='%s')}", (self.uid, [int(k) for k in keys], generation, generation))
            return [_decode(r) for r in cur]
        except self._psycopg.OperationalError:
            self._local.con = None  # a dropped connection: the next call reconnects
            raise

    def field_names(self, generation: int) -> set[str]:
        with self._connect() as con:
            cur = con.execute(f"SELECT DISTINCT jsonb_object_keys(attributes) FROM {_PG_TABLE} WHERE uid = %s "
                              f"AND jsonb_typeof(attributes) = 'object' AND {_VISIBLE.format(p='%s')}",
                              (self.uid, generation, generation))
            return {row[0] for row in cur}

    def load(self, generation: int) -> list[dict[str, Any]]:
        cols = ", ".join(f"{f}::text" if f in _JSON_FIELDS else f for f in FIELDS)
        with self._connect() as con:
            cur = con.execute(
                f"SELECT {cols} FROM {_PG_TABLE} WHERE uid = %s AND gen_from <= %s "
                "AND (gen_to IS NULL OR gen_to > %s)", (self.uid, generation, generation))
            return [_decode(r) for r in cur]

    def commit(self, generation: int, rows: Sequence[dict[str, Any]], retired: Iterable[int]) -> None:
        with self._connect() as con, con.transaction(), con.cursor() as cur:
            cur.executemany(f"UPDATE {_PG_TABLE} SET gen_to = %s WHERE uid = %s AND key = %s AND gen_to IS NULL",
                            [(generation, self.uid, int(k)) for k in retired])
            placeholders = ", ".join(["%s"] * (len(FIELDS) + 2))
            cur.executemany(f"INSERT INTO {_PG_TABLE} (uid, {', '.join(FIELDS)}, gen_from) VALUES ({placeholders})",
                            [(self.uid, *_encode(r), generation) for r in rows])

    def rollback_after(self, generation: int) -> None:
        with self._connect() as con, con.transaction():
            con.execute(f"DELETE FROM {_PG_TABLE} WHERE uid = %s AND gen_from > %s", (self.uid, generation))
            con.execute(f"UPDATE {_PG_TABLE} SET gen_to = NULL WHERE uid = %s AND gen_to > %s", (self.uid, generation))

    def prune(self, before: int) -> None:
        with self._connect() as con:
            con.execute(f"DELETE FROM {_PG_TABLE} WHERE uid = %s AND gen_to IS NOT NULL AND gen_to <= %s",
                        (self.uid, before))

    def drop_index(self) -> None:
        """Remove every row of this index (tests, and a user retiring an index)."""
        with self._connect() as con:
            con.execute(f"DELETE FROM {_PG_TABLE} WHERE uid = %s", (self.uid,))


def open_store(kind: str, folder: Path, uid: str, database_url: str | None) -> RecordStore:
    if kind == "sqlite":
        return SqliteStore(folder, uid)
    if kind == "postgres":
        if not database_url:
            raise InvalidIndexError(f"{folder}: this index keeps its products in PostgreSQL; "
                              "set SCENEFIT_DATABASE_URL to that database")
        return PostgresStore(database_url, uid)
    raise InvalidIndexError(f"{folder}: unknown product store {kind!r}")
