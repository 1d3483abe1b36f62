"""The change event: one writer for the history row and the outbox event of every change.

Both are written in the caller's transaction, so there is never one without the other.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from cardfile.engine.commands import Context
from cardfile.engine.results import Change
from cardfile.schema.model import RecordType
from cardfile.store import records as store
from cardfile.store.clock import to_iso

__all__ = ["EVENTS", "record_changes"]

EVENTS = {"create": "record.created", "update": "record.updated", "delete": "record.deleted"}


def record_changes(
    conn: Connection,
    rt: RecordType,
    items: Sequence[tuple[int, int, list[Change]]],
    op: str,
    ctx: Context,
    at: int,
) -> None:
    """History rows and outbox events of ``(record id, version, changes)`` items."""
    event = EVENTS[op]
    stamp = to_iso(at)
    store.insert_history_many(
        conn,
        [
            {"record_type": rt.name, "record_id": rid, "version": version, "op": op, "actor": ctx.actor,
             "channel": ctx.channel, "at": at, "changes": [c.to_json() for c in changes],
             "reason": ctx.reason, "client_id": ctx.client_id}
            for rid, version, changes in items
        ],
    )  # fmt: skip
    store.insert_outbox_many(
        conn,
        [
            {"event_type": event, "record_type": rt.name, "record_id": rid, "version": version,
             "created_at": at, "status": "pending", "attempts": 0, "next_attempt_at": at, "delivered_at": None,
             "payload": {"type": event, "record_type": rt.name, "record_id": rid, "version": version,
                         "actor": ctx.actor, "client_id": ctx.client_id, "channel": ctx.channel, "at": stamp,
                         "skip_automation": ctx.skip_automation, "changes": [c.to_json() for c in changes]}}
            for rid, version, changes in items
        ],
    )  # fmt: skip
