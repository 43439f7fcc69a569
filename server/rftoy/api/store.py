"""Saved scenes behind share links: JSON data in one SQL table (never pickled objects), pruned by count and age.

The database is SQLite (a file path, the default) or PostgreSQL (a postgresql:// URL, with the `postgres` extra),
which several replicas of the server can share.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS scenes (id TEXT PRIMARY KEY, created DOUBLE PRECISION NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS scenes_created ON scenes (created)",
)
URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
QUERY_PASSWORD = re.compile(r"(\bpassword=)[^&]*", re.IGNORECASE)
SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")
WRITE_LOCK_KEY = 0x7266746F79  # "rftoy"
T = TypeVar("T")


class StoreUnavailable(RuntimeError):
    """The database could not be reached, even on a fresh connection."""


@dataclass(frozen=True)
class Backend:
    """What differs between SQLite and PostgreSQL: the connection, how to open a transaction, the placeholder,
    the count pruning (SQLite's `LIMIT -1 OFFSET ?` has no PostgreSQL form), and a statement that every writing
    transaction runs first (on PostgreSQL an advisory lock, so that replicas create the table and prune one at a
    time rather than deadlock; SQLite locks the whole file anyway).

    Queries are written with `?` placeholders; `sql` turns them into the backend's own.
    """

    connection: Any
    placeholder: str
    prune_beyond_count: str
    transaction: Callable[[], AbstractContextManager[Any]]
    write_lock: str | None = None
    lost: tuple[type[Exception], ...] = ()  # errors that mean the connection is gone (reopen and retry once)

    def sql(self, query: str) -> str:
        return query.replace("?", self.placeholder)


def sqlite_backend(path: str) -> Backend:
    if path != ":memory:" and Path(path).parent != Path():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False)
    return Backend(
        connection=connection, placeholder="?", transaction=lambda: connection,
        prune_beyond_count="DELETE FROM scenes WHERE id IN "
                           "(SELECT id FROM scenes ORDER BY created DESC, rowid DESC LIMIT -1 OFFSET ?)")


def postgres_backend(url: str) -> Backend:
    try:
        import psycopg
    except ImportError as error:
        raise RuntimeError(f"the database {redact_password(url)} is PostgreSQL, which needs psycopg: "
                           "pip install 'rftoy[postgres]'") from error
    connection = psycopg.connect(url, autocommit=True)
    return Backend(
        connection=connection, placeholder="%s", transaction=connection.transaction,
        prune_beyond_count="DELETE FROM scenes WHERE id IN "
                           "(SELECT id FROM scenes ORDER BY created DESC, id DESC OFFSET ?)",
        write_lock=f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})",
        lost=(psycopg.OperationalError, psycopg.InterfaceError))


def open_backend(database: str | Path) -> Backend:
    """A path (SQLite), `:memory:`, `sqlite:///path` (`sqlite:////absolute/path`), or `postgresql://…`."""
    database = str(database)
    match = URL_SCHEME.match(database)
    if match is None:
        return sqlite_backend(database)
    scheme = match.group(1).lower()
    if scheme == "sqlite" and database.startswith(SQLITE_PREFIX) and len(database) > len(SQLITE_PREFIX):
        return sqlite_backend(database[len(SQLITE_PREFIX):])
    if scheme == "sqlite":
        raise ValueError(f"a SQLite database URL is sqlite:///relative/path or sqlite:////absolute/path, "
                         f"not {database}")
    if scheme in POSTGRES_SCHEMES:
        return postgres_backend(database)
    raise ValueError(f"unsupported database URL scheme {scheme!r}: use a file path, sqlite:///path or "
                     "postgresql://user:password@host:port/dbname")


def redact_password(database: str | Path) -> str:
    """The database as it may be shown: a URL's password replaced by ***."""
    database = str(database)
    if URL_SCHEME.match(database) is None:
        return database
    parts = urlsplit(database)
    netloc = parts.netloc
    if parts.password is not None:
        credentials, _, host = netloc.rpartition("@")
        netloc = f"{credentials.split(':', 1)[0]}:***@{host}"
    query = QUERY_PASSWORD.sub(r"\1***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


class SceneStore:
    """Scenes as {"scene": points scene, "config": whole config} JSON, keyed by a random url-safe id.

    At most `max_scenes` are kept (each save prunes the oldest beyond it); with `max_age_s`, older ones expire:
    they are pruned on open and on save, and never loaded. `database` is a path or URL (see `open_backend`).
    The store holds one connection, used by one thread at a time under its lock (the app calls it from worker
    threads, never on the event loop). A connection found lost (a database restart, a dropped link) is reopened
    and the call tried once more; when the database cannot be reached, the call raises StoreUnavailable.
    """

    def __init__(self, database: str | Path, max_scenes: int | None = None, max_age_s: float | None = None) -> None:
        self.database = redact_password(database)
        self.max_scenes = max_scenes
        self.max_age_s = max_age_s
        self._url = database
        self._lock = threading.Lock()
        self._backend = open_backend(database)
        self._db = self._backend.connection
        self._call(self._create, writing=True)

    def __repr__(self) -> str:
        return f"SceneStore({self.database!r})"

    @staticmethod
    def encode(body: dict[str, Any]) -> str:
        """The stored text of a body (its size is what the scene-size limit counts)."""
        return json.dumps(body, separators=(",", ":"), allow_nan=False)

    def save(self, body: dict[str, Any] | str) -> str:
        text = body if isinstance(body, str) else self.encode(body)
        insert = self._backend.sql("INSERT INTO scenes (id, created, body) VALUES (?, ?, ?) "
                                   "ON CONFLICT (id) DO NOTHING")

        def work() -> str:
            while True:
                scene_id = secrets.token_urlsafe(8)
                if self._db.execute(insert, (scene_id, time.time(), text)).rowcount == 1:
                    break
            self._prune()
            return scene_id

        return self._call(work, writing=True)

    def load(self, scene_id: str) -> dict[str, Any] | None:
        """The saved body with its id and creation time, or None (also when it has expired)."""
        query = self._backend.sql("SELECT created, body FROM scenes WHERE id = ? AND created >= ?")
        row = self._call(lambda: self._db.execute(query, (scene_id, self._oldest_allowed())).fetchone())
        if row is None:
            return None
        return {"id": scene_id, "created": row[0], **json.loads(row[1])}

    def count(self) -> int:
        return self._call(lambda: self._db.execute("SELECT COUNT(*) FROM scenes").fetchone()[0])

    def _create(self) -> None:
        for statement in SCHEMA:
            self._db.execute(statement)
        self._prune()

    def _call(self, work: Callable[[], T], writing: bool = False) -> T:
        """Run `work` under the lock (in a transaction with the write lock when writing); on a lost connection,
        reopen it and run `work` once more."""
        for attempt in range(2):
            with self._lock:
                try:
                    if self._db is None:
                        self._reopen()
                    if not writing:
                        return work()
                    with self._writing():
                        return work()
                except self._backend.lost as error:
                    self._drop()
                    if attempt:
                        raise StoreUnavailable(f"the scene store {self.database} cannot be reached: "
                                               f"{type(error).__name__}") from None
        raise AssertionError("unreachable")

    def _reopen(self) -> None:
        try:
            self._backend = open_backend(self._url)
        except self._backend.lost as error:
            raise StoreUnavailable(f"the scene store {self.database} cannot be reached: "
                                   f"{type(error).__name__}") from None
        self._db = self._backend.connection

    def _drop(self) -> None:
        with suppress(Exception):  # the connection is already broken; closing it only frees what is left
            self._db.close()
        self._db = None

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A transaction that takes the backend's write lock first (called with the lock held)."""
        with self._backend.transaction():
            if self._backend.write_lock:
                self._db.execute(self._backend.write_lock)
            yield

    def _oldest_allowed(self) -> float:
        return time.time() - self.max_age_s if self.max_age_s else -math.inf

    def _prune(self) -> None:
        """Drop expired scenes, then the oldest beyond `max_scenes` (called with the lock and a transaction)."""
        self._db.execute(self._backend.sql("DELETE FROM scenes WHERE created < ?"), (self._oldest_allowed(),))
        if self.max_scenes is not None:
            self._db.execute(self._backend.sql(self._backend.prune_beyond_count), (self.max_scenes,))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
