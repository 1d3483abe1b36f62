"""One primary record per group (a record type's ``one_primary``).

When a write leaves a record primary, every other primary record of its group is
demoted in the same transaction, each with its own version, history row and event. The
demotion is part of the caller's write, not a change they asked for, so it runs as the
system: the caller may make a record's document primary without being allowed to edit
the documents others attached (Tracker's ``isPrimary``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from cardfile.engine.catalog import Catalog
from cardfile.engine.commands import Context, FieldOp, UpdateCommand
from cardfile.engine.query import Condition, Query, all_records
from cardfile.engine.results import WriteResult
from cardfile.schema.model import RecordType

__all__ = ["demote_others"]


class Engine(Protocol):
    """What a demotion uses of ``engine.update.Engine`` (a protocol: the engine imports this module)."""

    catalog: Catalog

    def update(self, cmd: UpdateCommand, ctx: Context, conn: Connection | None = None) -> WriteResult: ...


def demote_others(
    engine: Engine,
    conn: Connection,
    rt: RecordType,
    record_id: int,
    data: dict[str, Any],
    ctx: Context,
    changed: Iterable[str] | None = None,
) -> None:
    """Demote the other primary records of the group of ``record_id`` (whose stored data,
    after the write, is ``data``); nothing unless ``data`` holds the flag true and the
    write ``changed`` the flag or the group (None: a new record)."""
    rule = rt.one_primary
    if rule is None or data.get(rule.flag) is not True:
        return
    if changed is not None and not {rule.flag, *rule.per}.intersection(changed):
        return
    if any(data.get(n) is None for n in rule.per):
        return  # a record outside any group has no rivals
    conds = [Condition(n, "eq", data[n]) for n in rule.per] + [Condition(rule.flag, "eq", True)]
    system = replace(ctx, principal=None)  # every check lets the system through
    query = Query(rt.name, tuple(conds))
    rivals = [r["id"] for r in all_records(conn, engine.catalog, query) if r["id"] != record_id]
    for rid in rivals:
        engine.update(UpdateCommand(rt.name, rid, (FieldOp(rule.flag, "set", False),)), system, conn)
