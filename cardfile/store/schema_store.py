"""Persisted record types (packs installed plus runtime custom fields) and the schema version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from cardfile.store import tables
from cardfile.store.clock import now_us

__all__ = ["bump_schema_version", "load_type_rows", "read_schema_version", "save_type"]

_KEY = "schema_version"


_READ_VERSION = select(tables.meta.c.value).where(tables.meta.c.key == _KEY)  # built once: read per request


def read_schema_version(conn: Connection) -> int:
    v = conn.execute(_READ_VERSION).scalar()
    return int(v) if v is not None else 0


def bump_schema_version(conn: Connection) -> int:
    """Every process compares this number per request, so a change is seen on the next one."""
    new = read_schema_version(conn) + 1
    res = conn.execute(update(tables.meta).where(tables.meta.c.key == _KEY).values(value=str(new)))
    if res.rowcount == 0:
        conn.execute(tables.meta.insert().values(key=_KEY, value=str(new)))
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
