"""The change event: one shape and one writer for every history row and outbox event.

Every writer of a change (the engine, automation rules, locks, the importer, an admin's
unlock) builds ``ChangeEvent`` values and hands them to ``write_events``, in the caller's
transaction: there is never a change without its history row and its event, and every
event has the same envelope whoever wrote it. A batch is two executemany calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cardfile.engine.commands import Context
from cardfile.engine.results import Change
from cardfile.schema.model import RecordType
from cardfile.store import records as store
from cardfile.store.clock import to_iso

__all__ = ["EVENTS", "ChangeEvent", "change_events", "record_changes", "write_events"]

# the history op of a record change -> its event type
EVENTS = {"create": "record.created", "update": "record.updated", "delete": "record.deleted"}


@dataclass(slots=True)  # not frozen: a frozen dataclass costs 4x to build, and batches build many
class ChangeEvent:
    """One event of one record.

    ``op`` (create, update, delete) makes it a record change with a history row as well;
    without one (a lock, a rule's named event) it is an outbox event only. ``extra`` adds
    keys to the event's payload (a rule's name, a stopped chain).
    """

    type: str
    record_type: str
    record_id: int
    version: int
    actor: str
    channel: str
    client_id: str | None
    at: int  # microseconds
    changes: Sequence[Change] = ()
    op: str | None = None
    reason: str | None = None
    skip_automation: bool | None = None  # in the payload of record changes only
    extra: Mapping[str, Any] | None = None

    @classmethod
    def of(
        cls,
        type_: str,
        record_type: str,
        record_id: int,
        version: int,
        ctx: Context,
        at: int,
        changes: Sequence[Change] = (),
        **extra: Any,
    ) -> ChangeEvent:
        """An outbox-only event by the actor of ``ctx``."""
        return cls(type_, record_type, record_id, version, ctx.actor, ctx.channel, ctx.client_id, at,
                   changes, extra=extra)  # fmt: skip

    def payload(self, stamp: str | None = None) -> dict[str, Any]:
        """The outbox payload; ``stamp``: ``at`` in ISO 8601, when the caller has it already."""
        out: dict[str, Any] = {
            "type": self.type, "record_type": self.record_type, "record_id": self.record_id,
            "version": self.version, "actor": self.actor, "client_id": self.client_id, "channel": self.channel,
            "at": stamp or to_iso(self.at),
        }  # fmt: skip
        if self.skip_automation is not None:
            out["skip_automation"] = self.skip_automation
        out["changes"] = [c.to_json() for c in self.changes]
        if self.extra:
            out.update(self.extra)
        return out


def write_events(conn: Connection, events: Sequence[ChangeEvent]) -> None:
    """The history rows (of record changes) and outbox events of ``events``."""
    history = [
        {"record_type": e.record_type, "record_id": e.record_id, "version": e.version, "op": e.op,
         "actor": e.actor, "channel": e.channel, "at": e.at, "changes": [c.to_json() for c in e.changes],
         "reason": e.reason, "client_id": e.client_id}
        for e in events
        if e.op is not None
    ]  # fmt: skip
    if history:
        store.insert_history_many(conn, history)
    if events:
        stamps = {e.at: to_iso(e.at) for e in events}  # a batch shares one time: format it once
        store.insert_outbox_many(
            conn,
            [
                {"event_type": e.type, "record_type": e.record_type, "record_id": e.record_id,
                 "version": e.version, "created_at": e.at, "status": "pending", "attempts": 0,
                 "next_attempt_at": e.at, "delivered_at": None, "payload": e.payload(stamps[e.at])}
                for e in events
            ],
        )  # fmt: skip


def record_changes(
    conn: Connection,
    rt: RecordType,
    items: Sequence[tuple[int, int, Sequence[Change]]],
    op: str,
    ctx: Context,
    at: int,
) -> None:
    """History rows and outbox events of ``(record id, version, changes)`` items, by ``ctx``."""
    write_events(conn, change_events(rt.name, items, op, ctx, at))


def change_events(
    type_name: str, items: Sequence[tuple[int, int, Sequence[Change]]], op: str, ctx: Context, at: int
) -> list[ChangeEvent]:
    """The record-change events of ``items`` (see ``record_changes``)."""
    event, actor, channel, client, reason, skip = (
        EVENTS[op],
        ctx.actor,
        ctx.channel,
        ctx.client_id,
        ctx.reason,
        ctx.skip_automation,
    )
    return [
        ChangeEvent(event, type_name, rid, version, actor, channel, client, at, changes, op=op, reason=reason,
                    skip_automation=skip)
        for rid, version, changes in items
    ]  # fmt: skip
