"""Records locked by an automation rule: updates and deletes are refused (``RECORD_LOCKED``,
raised by the engine from the row's ``locked_by``).

A lock binds every caller on every channel, admins included; an admin unlocks it
explicitly (``DELETE /api/automation/locks/{type}/{id}``), or a rule with ``unlock: true``
does. Changes made by automation rules themselves are not refused: a rule that sets
fields and then locks, or a later rule of the same chain, still applies.

The flag is ``records.locked_by``, read with the row the engine loads (and locks) anyway:
checking costs no query. ``record_locks`` keeps when and why.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from cardfile.store import tables

__all__ = ["get_lock", "lock", "unlock"]

_L = tables.record_locks
_R = tables.records


def get_lock(conn: Connection, record_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(_L).where(_L.c.record_id == record_id)).first()
    return dict(row._mapping) if row is not None else None


def lock(conn: Connection, record_type: str, record_id: int, by: str, reason: str | None, at: int) -> bool:
    """Lock a record; False when it already was."""
    if get_lock(conn, record_id) is not None:
        return False
    conn.execute(
        insert(_L).values(
            record_id=record_id, record_type=record_type, locked_at=at, locked_by=by, reason=reason
        )
    )
    conn.execute(update(_R).where(_R.c.id == record_id).values(locked_by=by))
    return True


def unlock(conn: Connection, record_id: int) -> bool:
    conn.execute(update(_R).where(_R.c.id == record_id).values(locked_by=None))
    return conn.execute(delete(_L).where(_L.c.record_id == record_id)).rowcount > 0
