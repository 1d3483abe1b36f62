"""Applying a command's ops to a record's data through the field types, and diffing.

Every op goes through its field type; the resulting record is validated as a whole
(required fields, item limits, layouts, checks between fields) and every field error is
collected, so one refusal lists all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cardfile.engine import constraints
from cardfile.engine.commands import FieldOp
from cardfile.engine.defaults import apply_mirrors
from cardfile.engine.results import Change
from cardfile.errors import FieldError, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.fieldtypes.base import InvalidValue
from cardfile.schema.model import SYSTEM_FIELDS, RecordType

__all__ = ["Applied", "apply_ops", "diff"]


@dataclass
class Applied:
    """A record's data after the ops, in storage form, and the fields the ops touched."""

    data: dict[str, Any]
    touched: list[str]


def apply_ops(
    rt: RecordType,
    current: dict[str, Any],
    ops: Sequence[FieldOp],
    *,
    creating: bool,
    layout: str | None = None,
    defaults: Sequence[FieldOp] = (),
) -> Applied:
    """The data ``ops`` make of ``current``; raises ValidationFailed with every field error.

    ``defaults`` are the engine's own ops (field defaults on create): applied after
    ``ops``, outside any layout, and on read-only fields too."""
    errors: list[FieldError] = []
    shown = None
    if layout is not None:
        ops, shown = constraints.in_layout(rt, layout, ops)
    data = dict(current)
    touched: list[str] = []
    for op, by_engine in [*((o, False) for o in ops), *((o, True) for o in defaults)]:
        fd = rt.get(op.field)
        if fd is None:
            if op.field in SYSTEM_FIELDS:
                errors.append(
                    FieldError(op.field, "READ_ONLY_FIELD", f"{op.field!r} is a read-only system field")
                )
            else:
                errors.append(FieldError(op.path, "UNKNOWN_FIELD", f"{rt.name} has no field {op.field!r}"))
            continue
        if fd.read_only and not by_engine:
            errors.append(FieldError(op.path, "READ_ONLY_FIELD", f"{op.field!r} is read-only"))
            continue
        ft = registry.get(fd.type)
        try:
            cur = data.get(fd.name)
            data[fd.name] = ft.apply(ft.from_storage(cur, fd) if cur is not None else ft.empty(fd), op, fd)
        except InvalidValue as exc:
            errors.extend(exc.to_field_errors(fd.name))
            continue
        if fd.name not in touched:
            touched.append(fd.name)
    bad = {e.field.split(".")[0].split("[")[0] for e in errors}
    for name in touched:
        if name in bad:
            continue
        fd = rt.fields[name]
        ft = registry.get(fd.type)
        value = data[name]
        if ft.is_empty(value):
            kept = ft.stored_when_empty(value, fd)  # e.g. sub-records keep their row-id counter
            if kept is None:
                data.pop(name)
            else:
                data[name] = kept
            if fd.required:
                errors.append(FieldError(name, "REQUIRED", f"{name!r} is required and cannot be cleared"))
            continue
        errors.extend(ft.validate(value, fd))
        # sub-records count their rows
        items = value.get("rows") if isinstance(value, dict) and fd.type == "sub_records" else value
        if fd.max_items is not None and isinstance(items, list) and len(items) > fd.max_items:
            # checked on the resulting set, after every op of the request (add and remove)
            errors.append(
                FieldError(
                    name,
                    "TOO_MANY_ITEMS",
                    f"{name!r} holds at most {fd.max_items} item(s); this change would leave {len(items)}",
                )
            )
        data[name] = ft.to_storage(value, fd)
    errors.extend(apply_mirrors(rt, data, touched, bad))
    if creating:
        for fd in rt:
            if fd.required and fd.name not in data and fd.name not in bad:
                errors.append(FieldError(fd.name, "REQUIRED", f"{fd.name!r} is required"))
    if shown is not None:
        errors.extend(constraints.layout_errors(rt, shown, data, bad))
    errors.extend(constraints.check_errors(rt, data, touched, creating=creating, skip=bad))
    if errors:
        raise ValidationFailed(errors)
    return Applied(data=data, touched=touched)


def diff(rt: RecordType, old: dict[str, Any], new: dict[str, Any], names: Sequence[str]) -> list[Change]:
    """The changes between two stored forms of a record, in JSON form, for ``names``."""
    out = []
    for name in names:
        fd = rt.fields[name]
        ft = registry.get(fd.type)
        o = ft.to_json(ft.from_storage(old[name], fd) if name in old else None, fd)
        n = ft.to_json(ft.from_storage(new[name], fd) if name in new else None, fd)
        if o != n:
            out.append(Change(name, o, n))
    return out
