"""Connections and transactions for SQLite (embedded default) and PostgreSQL.

``Database.write()`` is the only way to change data. On SQLite it takes the write lock
up front (``BEGIN IMMEDIATE``), so two writers never deadlock upgrading read locks; a
process-local mutex queues this process's writers without the busy-wait back-off, and
the busy timeout only covers other processes. A lock held past it becomes ``Locked``
(503 + Retry-After), never a 500. On PostgreSQL rows are locked with ``FOR UPDATE``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from cardfile.errors import Locked
from cardfile.store import tables
from cardfile.store.dbapi import driver_execute
from cardfile.store.writer import GroupCommitWriter

__all__ = ["Database", "sqlite_url"]

# SQLite's synchronous levels an operator may choose; FULL survives power loss.
SYNC_MODES = ("full", "normal", "extra")


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+pysqlite:///{data_dir / 'cardfile.db'}"


class Database:
    def __init__(self, url: str, *, sync: str = "full", busy_timeout_ms: int = 5000) -> None:
        if sync not in SYNC_MODES:
            raise ValueError(f"sync must be one of {', '.join(SYNC_MODES)}")
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.busy_timeout_ms = busy_timeout_ms
        self._write_mutex: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        )
        if self.is_sqlite:
            self.engine: Engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
                pool_size=8,
                max_overflow=56,
                json_serializer=_json_dumps,
                hide_parameters=True,  # SQL logs and errors never show values (key digests, hashes)
                json_deserializer=orjson.loads,
            )
            self._setup_sqlite(sync)
            self.writer: GroupCommitWriter | None = GroupCommitWriter(self)
        else:
            self.writer = None
            url = url.replace("postgresql://", "postgresql+psycopg://", 1)
            self.engine = create_engine(
                url,
                pool_size=10,
                max_overflow=30,
                pool_pre_ping=True,
                json_serializer=_json_dumps,
                hide_parameters=True,  # SQL logs and errors never show values (key digests, hashes)
                json_deserializer=orjson.loads,
            )

    def _setup_sqlite(self, sync: str) -> None:
        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy (not the driver) issue BEGIN, so savepoints and BEGIN IMMEDIATE work.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={sync.upper()}")
            cur.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn: Connection) -> None:
            opts = conn.get_execution_options()
            if opts.get("cardfile_autocommit"):
                return  # one-statement read: no transaction needed
            # on the driver: through Core this statement cost more than the whole update's SQL
            driver_execute(conn, "BEGIN IMMEDIATE" if opts.get("cardfile_write") else "BEGIN").close()

    @contextlib.contextmanager
    def write(self, held: Connection | None = None) -> Iterator[Connection]:
        """One write transaction: commits on success, rolls back on any exception.
        ``held``: a connection from ``write_connection()`` that the caller keeps open
        (the group-commit writer's: no pool checkout per transaction); else one from the pool."""
        with self._write_mutex:
            try:
                if held is not None:
                    with held.begin():
                        yield held
                else:
                    with self.engine.connect() as raw:
                        conn = raw.execution_options(cardfile_write=True)
                        with conn.begin():
                            yield conn
            except OperationalError as exc:
                raise self._translate(exc) from exc

    def write_connection(self) -> Connection:
        """A connection for ``write(held=...)``; the caller closes it."""
        return self.engine.connect().execution_options(cardfile_write=True)

    @contextlib.contextmanager
    def using(self, conn: Connection | None, *, write: bool) -> Iterator[Connection]:
        """The caller's transaction when it has one, else a new one."""
        if conn is not None:
            yield conn
        else:
            with self.write() if write else self.read() as c:
                yield c

    @contextlib.contextmanager
    def read_one(self) -> Iterator[Connection]:
        """For a single-statement read: no explicit transaction on SQLite."""
        try:
            with self.engine.connect() as raw:
                yield raw.execution_options(cardfile_autocommit=True)
        except OperationalError as exc:
            raise self._translate(exc) from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A consistent snapshot for reads."""
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except OperationalError as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: DBAPIError) -> Exception:
        text = str(exc.orig).lower()
        if "locked" in text or "busy" in text or "deadlock" in text:
            return Locked("the database stayed locked; retry shortly", retry_after=1)
        return exc

    def migrate(self) -> None:
        """Bring the system tables to the newest Alembic revision."""
        from cardfile.store.migrate import upgrade  # Alembic loads only when migrating

        upgrade(self.engine, self.url)

    def get_meta(self, conn: Connection, key: str) -> str | None:
        return conn.execute(select(tables.meta.c.value).where(tables.meta.c.key == key)).scalar()

    def dispose(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.engine.dispose()
