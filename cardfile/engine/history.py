"""Reading a record's history, and reverting it to an earlier version.

History rows hold, per change, every changed field's old and new JSON value. Walking
back from the current record and putting each old value back rebuilds any earlier
version; a revert then applies that state as an ordinary, audited update.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from cardfile.auth.principal import Principal
from cardfile.engine import permissions as perm
from cardfile.engine.commands import Context, FieldOp, UpdateCommand
from cardfile.engine.records import values_json
from cardfile.engine.results import WriteResult
from cardfile.engine.update import Engine
from cardfile.errors import BadRequest, NotFound
from cardfile.fieldtypes import registry
from cardfile.store import records as store
from cardfile.store.clock import to_iso

__all__ = ["list_history", "revert"]


def history_entry_json(row: Any) -> dict[str, Any]:
    return {
        "version": row.version,
        "op": row.op,
        "actor": row.actor,
        "channel": row.channel,
        "at": to_iso(row.at),
        "reason": row.reason,
        "changes": row.changes,
    }


def list_history(
    engine: Engine,
    type_name: str,
    record_id: int,
    *,
    limit: int = 100,
    before: int | None = None,
    conn: Connection | None = None,
    principal: Principal | None = None,
) -> list[dict[str, Any]]:
    """Newest first. A deleted record keeps its history (for callers not limited to their own)."""
    with engine.db.using(conn, write=False) as conn:
        rt = engine.catalog.record_type(conn, type_name)
        perm.require(principal, rt, "READ")
        row = store.get_record(conn, type_name, record_id)
        if row is not None:
            perm.require_visible(principal, rt, record_id, row.data)
        elif perm.restricted(principal, rt):
            raise NotFound(f"no history for {type_name} record {record_id}")
        rows = store.history_rows(conn, type_name, record_id, limit=limit, before=before)
        if not rows and before is None:
            raise NotFound(f"no history for {type_name} record {record_id}")
        return [history_entry_json(r) for r in rows]


def revert(
    engine: Engine,
    type_name: str,
    record_id: int,
    version: int,
    ctx: Context,
    *,
    expected_version: int | None = None,
    conn: Connection | None = None,
) -> WriteResult:
    with engine.db.using(conn, write=True) as conn:
        rt = engine.catalog.record_type(conn, type_name)
        row = store.get_record(conn, type_name, record_id, lock=True)
        if row is None:
            raise NotFound(f"no {type_name} record with id {record_id}")
        if not 1 <= version < row.version:
            raise BadRequest(f"version must be between 1 and {row.version - 1}", field="version")
        current = values_json(rt, row.data)
        state = dict(current)
        for h in store.history_rows(conn, type_name, record_id, limit=row.version):
            if h.version <= version:
                break
            for change in h.changes:
                if change["field"] in state:
                    state[change["field"]] = change["old"]
        ops: list[FieldOp] = []
        for fd in rt:
            want = state[fd.name]
            if want == current[fd.name]:
                continue
            ft = registry.get(fd.type)
            # ``want`` is the JSON form: compare with the JSON form of "no value" (is_empty
            # takes the stored form, which differs for sub_records: a list is not a row set)
            if want is None or want == ft.to_json(None, fd):
                ops.append(FieldOp(fd.name, "clear"))
            elif fd.type == "keyed_text":  # "set" merges keys; a revert replaces them all
                ops += [FieldOp(fd.name, "clear"), FieldOp(fd.name, "set", want)]
            elif fd.type == "sub_records":
                # rows still held are replaced whole under their id; rows deleted since come
                # back as new rows (new ids), since a row id is never reused
                held = {r["id"] for r in current[fd.name]}
                rows = [r if r.get("id") in held else {k: v for k, v in r.items() if k != "id"} for r in want]
                ops.append(FieldOp(fd.name, "replace", rows))
            else:
                ops.append(FieldOp(fd.name, "set", want))
        cmd = UpdateCommand(type=type_name, id=record_id, ops=tuple(ops), expected_version=expected_version)
        reverted = Context(
            ctx.actor, ctx.channel, ctx.reason or f"revert to version {version}", ctx.skip_automation
        )
        return engine.update(cmd, reverted, conn)
