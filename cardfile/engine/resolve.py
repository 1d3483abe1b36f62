"""Ops whose input is judged by other records, read in the write's transaction.

Some input is only valid against another record: a skill value against its skill (a list
value must be one of the skill's values, a skill date a calendar day). A field type names
the records it needs for an op (``needs``, given the value the engine loaded under its
lock); they are read here once per write and handed back (``resolve``), which returns the
op with its input judged (e.g. in the list's spelling) or refuses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from cardfile.engine.catalog import Catalog
from cardfile.engine.commands import FieldOp
from cardfile.engine.records import record_json
from cardfile.errors import FieldError, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.fieldtypes.base import InvalidValue, Reference
from cardfile.schema.model import RecordType
from cardfile.store import records as store

__all__ = ["resolve_ops"]


def resolve_ops(
    conn: Connection, catalog: Catalog, rt: RecordType, current: dict[str, Any], ops: Sequence[FieldOp]
) -> list[FieldOp]:
    """``ops`` judged by the records their field types need; ValidationFailed lists every
    refusal. Ops on unknown fields are left for ``apply_ops`` to report."""
    wanted: list[tuple[int, Any, Any, list[Reference]]] = []
    for i, op in enumerate(ops):
        fd = rt.get(op.field)
        if fd is None:
            continue
        ft = registry.get(fd.type)
        if not ft.judged_by_records:
            continue  # the common case: nothing to load the stored value for
        cur = current.get(fd.name)
        value = ft.from_storage(cur, fd) if cur is not None else ft.empty(fd)
        refs = list(ft.needs(op, value, fd))
        if refs:
            wanted.append((i, fd, value, refs))
    if not wanted:
        return list(ops)
    by_type: dict[str, set[int]] = {}
    for *_, refs in wanted:
        for t, rid in refs:
            by_type.setdefault(t, set()).add(rid)
    records: dict[Reference, dict[str, Any]] = {}
    for t, ids in by_type.items():
        if t == "users":
            continue  # no field type judges by a user yet
        trt = catalog.record_type(conn, t)
        for row in store.get_records(conn, t, sorted(ids)):
            records[(t, int(row.id))] = record_json(trt, row)
    out = list(ops)
    errors: list[FieldError] = []
    for i, fd, value, _ in wanted:
        try:
            out[i] = registry.get(fd.type).resolve(ops[i], value, fd, records)
        except InvalidValue as exc:
            errors.extend(exc.to_field_errors(fd.name))
    if errors:
        raise ValidationFailed(errors)
    return out
