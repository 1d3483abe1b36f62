"""Record states that refuse changes, and soft delete with cascade: schema rules the engine
applies on every channel.

- ``RecordType.frozen_states``: while a record's field holds one of a state's values, an
  update touching a field outside the state's ``allow`` is refused with ``RecordFrozen``
  (a delete too when the state refuses deletes). The check reads the row the engine has
  loaded and locked, and the fields the command's ops name (touched, changed or not), so
  it comes before preconditions and validation. With ``allow_on_exit`` an update that
  moves the field out of the state may change anything with it (a restore).
- ``RecordType.soft_delete``: a delete sets the type's boolean field instead of erasing
  the row. It is an update of that field (history, event and rules say ``update``; it
  needs the UPDATE permission as well as DELETE); a record already marked is not found.
  A soft-deleted record still reads and lists like any other, with the field true (filter
  on it to hide it); updates refuse it through the frozen state its type declares for it.
  A delete with ``cascade`` also deletes the records the ``cascade`` link fields point at,
  one level deep, each as its own type says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from cardfile.engine import permissions as perm
from cardfile.engine.catalog import Catalog
from cardfile.engine.commands import Context, DeleteCommand, FieldOp, UpdateCommand
from cardfile.engine.results import WriteResult
from cardfile.errors import NotFound, RecordFrozen
from cardfile.fieldtypes import registry
from cardfile.fieldtypes.base import InvalidValue
from cardfile.schema.model import FrozenState, RecordType
from cardfile.store import records as store

__all__ = ["check_delete", "check_update", "soft_delete"]


class _Writer(Protocol):
    """The engine's writes that a soft delete runs (``Engine`` in ``update.py``)."""

    catalog: Catalog

    def update(self, cmd: UpdateCommand, ctx: Context, conn: Connection | None = None) -> WriteResult: ...

    def delete(self, cmd: DeleteCommand, ctx: Context, conn: Connection | None = None) -> WriteResult: ...


def _json(rt: RecordType, name: str, value: Any) -> Any:
    """A field's value (in memory form) as JSON, the form a state's values are written in."""
    fd = rt.fields[name]
    return registry.get(fd.type).to_json(value, fd)


def _stored_json(rt: RecordType, name: str, data: dict[str, Any]) -> Any:
    fd = rt.fields[name]
    ft = registry.get(fd.type)
    return _json(rt, name, ft.from_storage(data[name], fd) if name in data else None)


def _state_of(rt: RecordType, data: dict[str, Any], action: str) -> FrozenState | None:
    """The first frozen state of the record that refuses ``action``."""
    for state in rt.frozen_states:
        if action in state.refuse and state.field in rt.fields:
            if _stored_json(rt, state.field, data) in state.values:
                return state
    return None


def _leaves(rt: RecordType, state: FrozenState, data: dict[str, Any], ops: Sequence[FieldOp]) -> bool:
    """Whether ``ops`` move the state's field to a value outside the state."""
    mine = [op for op in ops if op.field == state.field]
    if not mine:
        return False
    fd = rt.fields[state.field]
    ft = registry.get(fd.type)
    value = ft.from_storage(data[fd.name], fd) if fd.name in data else ft.empty(fd)
    try:
        for op in mine:
            value = ft.apply(value, op, fd)
    except InvalidValue:
        return False  # a bad value leaves nothing; validation reports it if the write goes on
    return _json(rt, fd.name, None if ft.is_empty(value) else value) not in state.values


def _refuse(rt: RecordType, record_id: int, state: FrozenState, action: str) -> RecordFrozen:
    detail = state.message or f"{rt.name} record {record_id} is {state.name}: it refuses this {action}"
    return RecordFrozen(detail, record_type=rt.name, record_id=record_id, state=state.name)


def check_update(rt: RecordType, record_id: int, data: dict[str, Any], ops: Sequence[FieldOp]) -> None:
    """Raise RecordFrozen when the record's state refuses an update with these ops."""
    if not rt.frozen_states:
        return
    touched = {op.field for op in ops}
    for state in rt.frozen_states:
        if "update" not in state.refuse or _stored_json(rt, state.field, data) not in state.values:
            continue
        if state.allow and touched <= set(state.allow):
            continue
        if state.allow_on_exit and _leaves(rt, state, data, ops):
            continue
        raise _refuse(rt, record_id, state, "update")


def check_delete(rt: RecordType, record_id: int, data: dict[str, Any]) -> None:
    """Raise RecordFrozen when the record's state refuses a delete."""
    state = _state_of(rt, data, "delete") if rt.frozen_states else None
    if state is not None:
        raise _refuse(rt, record_id, state, "delete")


def soft_delete(
    engine: _Writer, conn: Connection, rt: RecordType, cmd: DeleteCommand, ctx: Context
) -> WriteResult:
    """Mark the record deleted (and cascade); the caller has checked the DELETE permission."""
    assert rt.soft_delete is not None
    row = store.get_record(conn, rt.name, cmd.id, lock=True)
    if row is None:
        raise NotFound(f"no {rt.name} record with id {cmd.id}")
    perm.require_visible(ctx.principal, rt, cmd.id, row.data)
    flag = rt.soft_delete.field
    if row.data.get(flag):
        raise NotFound(f"{rt.name} record {cmd.id} is already deleted")
    check_delete(rt, cmd.id, row.data)
    update = UpdateCommand(
        rt.name,
        cmd.id,
        (FieldOp(flag, "set", True),),
        expected_version=cmd.expected_version,
        unmodified_since=cmd.unmodified_since,
        unmodified_since_precision=cmd.unmodified_since_precision,
    )
    result = engine.update(update, ctx, conn)
    if cmd.cascade:
        _cascade(engine, conn, rt, row.data, ctx)
    return replace(result, deleted=True)


def _cascade(engine: _Writer, conn: Connection, rt: RecordType, data: dict[str, Any], ctx: Context) -> None:
    """Delete the records the cascade fields link to; those already gone or marked are skipped."""
    assert rt.soft_delete is not None
    targets: list[tuple[str, int]] = []
    for name in rt.soft_delete.cascade:
        fd = rt.fields.get(name)
        if fd is None or name not in data:
            continue
        targets += [
            (t, int(rid)) for t, rid in registry.get(fd.type).references(data[name], fd) if t != "users"
        ]
    for type_name, rid in dict.fromkeys(targets):
        row = store.get_record(conn, type_name, rid)
        if row is None:
            continue
        trt = engine.catalog.current(conn).get(type_name)
        if trt is not None and trt.soft_delete is not None and row.data.get(trt.soft_delete.field):
            continue
        engine.delete(DeleteCommand(type_name, rid), ctx, conn)
