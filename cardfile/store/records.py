"""SQL for records, their history, outbox events and unique values.

Every function takes the caller's connection: the engine decides the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from cardfile.store import tables
from cardfile.store.dbapi import Prepared, loads

__all__ = [
    "claim_unique",
    "delete_record",
    "existing_ids",
    "existing_user_ids",
    "get_record",
    "history_rows",
    "get_records",
    "insert_history_many",
    "insert_outbox_many",
    "update_records",
    "insert_record",
    "RecordRow",
    "release_unique",
    "unique_owner",
    "versions_in_window",
]

R = tables.records


class RecordRow(NamedTuple):
    """A ``records`` row as ``get_record`` reads it (attributes as on a Core row)."""

    id: int
    type: str
    version: int
    data: dict[str, Any]
    created_at: int
    created_by: str
    modified_at: int
    modified_by: str
    locked_by: str | None


assert RecordRow._fields == tuple(R.c.keys()), "RecordRow must list the records columns in order"

# Every write runs these: compiled once per dialect, run on the driver (store/dbapi.py).
_GET = Prepared(select(R).where(R.c.id == bindparam("id"), R.c.type == bindparam("type")))
_GET_FOR_UPDATE = Prepared(select(R).where(R.c.id == bindparam("id"), R.c.type == bindparam("type"))
                           .with_for_update())  # fmt: skip
_UPDATE = Prepared(
    update(R)
    .where(R.c.id == bindparam("b_id"), R.c.version == bindparam("b_version"))
    .values(version=bindparam("new_version"), data=bindparam("data"), modified_at=bindparam("modified_at"),
            modified_by=bindparam("modified_by"))
)  # fmt: skip
_HISTORY_KEYS = ("record_type", "record_id", "version", "op", "actor", "channel", "at", "changes", "reason",
                 "client_id")  # fmt: skip
_OUTBOX_KEYS = ("event_type", "record_type", "record_id", "version", "created_at", "status", "attempts",
                "next_attempt_at", "delivered_at", "payload")  # fmt: skip
# inline(): no RETURNING of the new id, which nobody reads
_INSERT_HISTORY = Prepared(insert(tables.history).inline(), column_keys=_HISTORY_KEYS)
_INSERT_OUTBOX = Prepared(insert(tables.outbox).inline(), column_keys=_OUTBOX_KEYS)
_INSERT = insert(R).returning(R.c.id)


def get_record(conn: Connection, type_name: str, record_id: int, *, lock: bool = False) -> RecordRow | None:
    # SQLite already holds the write lock (BEGIN IMMEDIATE); PostgreSQL locks the row
    q = _GET_FOR_UPDATE if lock and conn.dialect.name == "postgresql" else _GET
    row = q.first(conn, {"id": record_id, "type": type_name})
    if row is None:
        return None
    return RecordRow._make((*row[:3], loads(row[3]), *row[4:]))


def get_records(
    conn: Connection, type_name: str, ids: Sequence[int], *, lock: bool = False
) -> list[Row[Any]]:
    """Many records at once; locked in id order on PostgreSQL, so two batches never deadlock."""
    wanted = sorted({i for i in ids if isinstance(i, int) and not isinstance(i, bool)})
    if not wanted:
        return []
    q = select(R).where(R.c.type == type_name, R.c.id.in_(wanted)).order_by(R.c.id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    return list(conn.execute(q).all())


def insert_record(conn: Connection, type_name: str, data: dict[str, Any], actor: str, at: int) -> int:
    params = {"type": type_name, "version": 1, "data": data, "created_at": at, "created_by": actor,
              "modified_at": at, "modified_by": actor}  # fmt: skip
    return int(conn.execute(_INSERT, params).scalar_one())


def update_records(
    conn: Connection, items: Sequence[tuple[int, int, dict[str, Any]]], actor: str, at: int
) -> None:
    """(id, current version, new data) for each record, in order: one executemany."""
    params = [
        {"b_id": rid, "b_version": version, "new_version": version + 1, "data": data, "modified_at": at,
         "modified_by": actor}
        for rid, version, data in items
    ]  # fmt: skip
    count = _UPDATE.run(conn, params)
    if count not in (len(params), -1):  # the row locks make this unreachable; guard the invariant
        raise RuntimeError("a record changed under a held lock")


def insert_history_many(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Rows with every key of ``_HISTORY_KEYS``."""
    _INSERT_HISTORY.run(conn, rows)


def insert_outbox_many(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Rows with every key of ``_OUTBOX_KEYS``."""
    _INSERT_OUTBOX.run(conn, rows)


def delete_record(conn: Connection, record_id: int) -> None:
    conn.execute(delete(R).where(R.c.id == record_id))
    conn.execute(delete(tables.unique_values).where(tables.unique_values.c.record_id == record_id))


def history_rows(
    conn: Connection, type_name: str, record_id: int, *, limit: int = 100, before: int | None = None
) -> list[Row[Any]]:
    h = tables.history
    q = select(h).where(h.c.record_type == type_name, h.c.record_id == record_id)
    if before is not None:
        q = q.where(h.c.version < before)
    return list(conn.execute(q.order_by(h.c.version.desc(), h.c.id.desc()).limit(limit)).all())


def versions_in_window(conn: Connection, type_name: str, record_id: int, start: int, end: int) -> int:
    """How many versions of a record were written in [start, end) (microseconds)."""
    h = tables.history
    q = select(func.count()).where(
        h.c.record_type == type_name,
        h.c.record_id == record_id,
        h.c.at >= start,
        h.c.at < end,
        h.c.op != "delete",
    )
    return int(conn.execute(q).scalar_one())


def unique_owner(conn: Connection, type_name: str, field: str, value: str) -> int | None:
    u = tables.unique_values
    q = select(u.c.record_id).where(u.c.record_type == type_name, u.c.field == field, u.c.value == value)
    rid = conn.execute(q).scalar()
    return int(rid) if rid is not None else None


def claim_unique(conn: Connection, type_name: str, field: str, value: str, record_id: int) -> bool:
    """Insert the value's row; False when another record holds it (the primary key decides)."""
    try:
        with conn.begin_nested():
            conn.execute(
                insert(tables.unique_values).values(
                    record_type=type_name, field=field, value=value, record_id=record_id
                )
            )
    except IntegrityError:
        return False
    return True


def release_unique(conn: Connection, type_name: str, field: str, value: str, record_id: int) -> None:
    u = tables.unique_values
    conn.execute(
        delete(u).where(
            and_(
                u.c.record_type == type_name,
                u.c.field == field,
                u.c.value == value,
                u.c.record_id == record_id,
            )
        )
    )


def existing_ids(conn: Connection, type_name: str, ids: Iterable[int]) -> set[int]:
    wanted = sorted({i for i in ids if isinstance(i, int)})
    if not wanted:
        return set()
    q = select(R.c.id).where(R.c.type == type_name, R.c.id.in_(wanted))
    return {int(r) for r in conn.execute(q).scalars()}


def existing_user_ids(conn: Connection, ids: Iterable[int]) -> set[int]:
    wanted = sorted({i for i in ids if isinstance(i, int)})
    if not wanted:
        return set()
    q = select(tables.users.c.id).where(tables.users.c.id.in_(wanted), tables.users.c.active.is_(True))
    return {int(r) for r in conn.execute(q).scalars()}


def locked_ids(conn: Connection, type_name: str, ids: Iterable[int]) -> set[int]:
    """The ids among ``ids`` of records an automation rule locked (``locked_by`` set)."""
    wanted = sorted({i for i in ids if isinstance(i, int)})
    if not wanted:
        return set()
    q = select(R.c.id).where(R.c.type == type_name, R.c.id.in_(wanted), R.c.locked_by.is_not(None))
    return {int(r) for r in conn.execute(q).scalars()}


def people(conn: Connection, ids: Iterable[int], emails: Iterable[str]) -> list[Any]:
    """Users by id or by email (``id, username, display_name, email``), active or not."""
    u = tables.users
    by_id = sorted({i for i in ids if isinstance(i, int)})
    by_email = sorted(set(emails))
    if not by_id and not by_email:
        return []
    q = select(u.c.id, u.c.username, u.c.display_name, u.c.email).where(
        or_(u.c.id.in_(by_id or [-1]), u.c.email.in_(by_email or [""]))
    )
    return list(conn.execute(q).all())
