"""Links to other records and to users: every id a write links to must exist (and match
the field's ``target_where``, see ``targets.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from cardfile.engine.apply import Applied
from cardfile.engine.targets import target_errors
from cardfile.errors import FieldError, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.schema.model import RecordType
from cardfile.store import records as store

__all__ = ["check_links"]


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
