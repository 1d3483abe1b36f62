"""Persisted record types (packs installed plus runtime custom fields) and the schema version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from cardfile.store import tables
from cardfile.store.clock import now_us
from cardfile.store.dbapi import Prepared

__all__ = ["bump_schema_version", "load_type_rows", "read_schema_version", "save_type"]

_KEY = "schema_version"


# read by every request: on the driver (store/dbapi.py)
_READ_VERSION = Prepared(select(tables.meta.c.value).where(tables.meta.c.key == _KEY))


# conn.info key: (transaction, savepoint) -> version read in it
_MEMO = "cardfile.schema_version"


def read_schema_version(conn: Connection) -> int:
    """The version as this transaction (or savepoint) first read it: a request asks more
    than once (the dialect parsing its body, then the engine), and one read will do."""
    tx = conn.get_transaction()
    scope = (tx, conn.get_nested_transaction())
    memo = conn.info.get(_MEMO)
    if tx is not None and memo is not None and memo[0] == scope:
        return int(memo[1])
    row = _READ_VERSION.first(conn, {})
    version = int(row[0]) if row is not None else 0
    conn.info[_MEMO] = ((conn.get_transaction(), conn.get_nested_transaction()), version)
    return version


def bump_schema_version(conn: Connection) -> int:
    """Every process compares this number per request, so a change is seen on the next one."""
    conn.info.pop(_MEMO, None)  # read it afresh, and again after this change
    new = read_schema_version(conn) + 1
    res = conn.execute(update(tables.meta).where(tables.meta.c.key == _KEY).values(value=str(new)))
    if res.rowcount == 0:
        conn.execute(tables.meta.insert().values(key=_KEY, value=str(new)))
    conn.info.pop(_MEMO, None)
    return new


def load_type_rows(conn: Connection) -> list[tuple[str, dict[str, Any], str | None]]:
    t = tables.record_types
    rows = conn.execute(select(t.c.name, t.c.definition, t.c.pack).order_by(t.c.name)).all()
    return [(r.name, r.definition, r.pack) for r in rows]


def save_type(conn: Connection, name: str, definition: dict[str, Any], pack: str | None) -> None:
    t = tables.record_types
    res = conn.execute(
        update(t).where(t.c.name == name).values(definition=definition, pack=pack, updated_at=now_us())
    )
    if res.rowcount == 0:
        conn.execute(t.insert().values(name=name, definition=definition, pack=pack, updated_at=now_us()))
