"""The hot path's few statements, run on the driver connection inside SQLAlchemy's transaction.

Executing a Core statement costs ~70-100 µs in SQLAlchemy (compiled-cache lookup,
execution context, events, result wrapping) against ~10 µs in the driver itself, and a
single-record update runs about eight of them. So the statements every write runs
(record read and update, history and outbox inserts, schema version, API-key lookup) are
Core statements compiled once per dialect here and executed on the DBAPI connection of
the caller's ``Connection``: same SQL as SQLAlchemy would send, same transaction, JSON
encoded with the engine's serializer. Driver errors are raised as SQLAlchemy's
exceptions, so callers see no difference. Everything else stays on plain Core.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import JSON
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["Prepared", "driver_execute", "loads"]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()  # as Database's json_serializer


def loads(value: Any) -> Any:
    """A JSON column as read: text on SQLite, already decoded by psycopg on PostgreSQL."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind names in the order the driver takes them
    positional: bool  # qmark (SQLite) takes a tuple; pyformat (psycopg) a dict
    json: frozenset[str]  # binds of JSON columns: encoded here, as SQLAlchemy would
    fixed: Mapping[str, Any]  # binds with a value in the statement itself


class Prepared:
    """A Core statement, compiled once per dialect, run on the driver's cursor."""

    def __init__(self, stmt: ClauseElement, *, column_keys: Sequence[str] | None = None) -> None:
        self.stmt = stmt
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def _for(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        c = self._compiled.get(key)
        if c is None:
            compiled = self.stmt.compile(dialect=dialect, column_keys=self.column_keys)
            assert isinstance(compiled, SQLCompiler)
            binds = {name: b for b, name in compiled.bind_names.items()}  # as named in the SQL
            positional = bool(compiled.positional)
            c = _Compiled(
                sql=compiled.string,
                names=tuple(compiled.positiontup or ()) if positional else tuple(binds),
                positional=positional,
                json=frozenset(n for n, b in binds.items() if isinstance(b.type, JSON)),
                fixed={n: b.value for n, b in binds.items() if not b.required and b.callable is None},
            )
            with self._lock:
                self._compiled[key] = c
        return c

    def _params(self, c: _Compiled, params: Mapping[str, Any]) -> Any:
        values = [
            _dumps(params[n]) if n in c.json else params[n] if n in params else c.fixed[n] for n in c.names
        ]
        return tuple(values) if c.positional else dict(zip(c.names, values, strict=True))

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row (a plain tuple, in the statement's column order), or None."""
        c = self._for(conn.dialect)
        cur = _run(conn, c.sql, self._params(c, params), many=False)
        try:
            row = cur.fetchone()
        finally:
            cur.close()
        return None if row is None else tuple(row)

    def run(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run once per parameter set; the rows it changed (-1 when the driver does not say)."""
        c = self._for(conn.dialect)
        if len(rows) == 1:  # the common case: a plain execute is cheaper than executemany
            cur = _run(conn, c.sql, self._params(c, rows[0]), many=False)
        else:
            cur = _run(conn, c.sql, [self._params(c, r) for r in rows], many=True)
        count = int(cur.rowcount)
        cur.close()
        return count


def _run(conn: Connection, sql: str, args: Any, *, many: bool) -> Any:
    if not conn.in_transaction():
        conn.begin()  # what Core's execute would do first (autobegin), so commit/rollback cover this
    return driver_execute(conn, sql, args, many=many)


def driver_execute(conn: Connection, sql: str, args: Any = (), *, many: bool = False) -> Any:
    """Run ``sql`` on the driver connection under ``conn``; the cursor, or SQLAlchemy's error."""
    driver = conn.connection.driver_connection
    assert driver is not None
    cur = driver.cursor()
    try:
        if many:
            cur.executemany(sql, args)
        else:
            cur.execute(sql, args)
    except conn.dialect.loaded_dbapi.Error as exc:
        cur.close()
        # as SQLAlchemy would raise it: OperationalError, IntegrityError, ... (without values)
        raise DBAPIError.instance(
            sql, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    return cur
