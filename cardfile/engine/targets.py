"""Allowed link targets: a lookup's ``target_where`` names which records it may link to.

A Tracker status is a ``setting`` record, but only one of the ``resource_status`` list
may be a resource's status; the rule is declared on the field and checked here, for
every channel, on every link a write touches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection

from cardfile.errors import FieldError
from cardfile.schema.model import RecordType
from cardfile.store import records as store

__all__ = ["CODE", "target_errors"]

CODE = "TARGET_NOT_ALLOWED"


def target_errors(
    conn: Connection, rt: RecordType, links: Iterable[tuple[str, str, Any]]
) -> list[FieldError]:
    """One error per ``(field, target type, id)`` link whose existing target does not
    match the field's ``target_where`` (a missing target is reported by the caller)."""
    wanted: dict[str, set[int]] = {}
    checked: list[tuple[str, str, Any]] = []
    for name, target, rid in links:
        fd = rt.fields[name]
        if fd.target_where and target == fd.target:
            wanted.setdefault(target, set()).add(rid)
            checked.append((name, target, rid))
    if not checked:
        return []
    data = {
        (t, int(row.id)): row.data
        for t, ids in wanted.items()
        for row in store.get_records(conn, t, sorted(ids))
    }
    errors = []
    for name, target, rid in checked:
        got = data.get((target, rid))
        if got is None:
            continue
        where = rt.fields[name].target_where
        if any(got.get(k) != v for k, v in where):
            wants = ", ".join(f"{k} {v!r}" for k, v in where)
            errors.append(
                FieldError(
                    name, CODE, f"{name!r} may link only to {target} records with {wants}; {rid} is not one"
                )
            )
    return errors
