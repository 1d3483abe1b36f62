"""Links to other records and to users: every id a write links to must exist (and match
the field's ``target_where``, see ``targets.py``), and a field marked ``refuse_locked`` may
not gain a link to a record an automation rule locked."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from cardfile.engine.apply import Applied
from cardfile.engine.targets import target_errors
from cardfile.errors import FieldError, LinkedRecordLocked, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.schema.model import RecordType
from cardfile.store import records as store

__all__ = ["check_links", "check_locked_links"]


def check_links(conn: Connection, rt: RecordType, applied: Applied) -> None:
    """Raise ValidationFailed naming each touched link whose target does not exist."""
    wanted: dict[str, set[Any]] = {}
    where: list[tuple[str, str, Any]] = []
    for name in applied.touched:
        if name not in applied.data:
            continue
        fd = rt.fields[name]
        for target, rid in registry.get(fd.type).references(applied.data[name], fd):
            wanted.setdefault(target, set()).add(rid)
            where.append((name, target, rid))
    if not where:
        return
    found = {
        t: (store.existing_user_ids(conn, ids) if t == "users" else store.existing_ids(conn, t, ids))
        for t, ids in wanted.items()
    }
    errors = [
        FieldError(
            name,
            "USER_NOT_FOUND" if t == "users" else "RECORD_NOT_FOUND",
            f"no active user with id {rid}" if t == "users" else f"no {t} record with id {rid}",
        )
        for name, t, rid in where
        if rid not in found[t]
    ]
    errors += target_errors(conn, rt, where)
    if errors:
        raise ValidationFailed(errors)


def check_locked_links(conn: Connection, rt: RecordType, old: dict[str, Any], applied: Applied) -> None:
    """Raise LinkedRecordLocked naming each link the write adds, from a ``refuse_locked``
    field, to a locked record (``records.locked_by``). Links the record already had stay
    allowed, so a record may still change after a record it links to was locked."""
    where: list[tuple[str, str, Any]] = []
    for name in applied.touched:
        fd = rt.fields[name]
        if not fd.refuse_locked or name not in applied.data:
            continue
        ft = registry.get(fd.type)
        before = set(ft.references(old[name], fd)) if name in old else set()
        where += [(name, t, rid) for t, rid in ft.references(applied.data[name], fd)
                  if t != "users" and (t, rid) not in before]  # fmt: skip
    if not where:
        return
    wanted: dict[str, set[Any]] = {}
    for _name, t, rid in where:
        wanted.setdefault(t, set()).add(rid)
    locked = {t: store.locked_ids(conn, t, ids) for t, ids in wanted.items()}
    errors = [
        FieldError(name, "LINKED_RECORD_LOCKED", f"{t} record {rid} is locked by an automation rule")
        for name, t, rid in dict.fromkeys(where)
        if rid in locked[t]
    ]
    if errors:
        ids = sorted({rid for name, t, rid in where if rid in locked[t]})
        raise LinkedRecordLocked(f"linked record(s) {ids} are locked", errors=errors)
