"""Layouts and checks between fields: schema rules the engine applies in ``_apply``.

- A write naming a layout (``CreateCommand.layout`` / ``UpdateCommand.layout``) drops the
  ops on fields outside the layout (they are ignored, not refused) and requires each of
  the layout's mandatory fields to hold a value afterwards (``REQUIRED``).
- A ``Check`` of the record type is evaluated on the record as the write leaves it, when
  the write creates the record or touches one of the check's fields: if every ``when``
  condition holds and a ``require`` condition does not, the write fails with the check's
  code on its field. Conditions are the automation rules' (``cardfile.schema.conditions``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cardfile.engine.commands import FieldOp
from cardfile.engine.records import values_json
from cardfile.errors import FieldError, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.schema.conditions import Condition
from cardfile.schema.model import Layout, RecordType

__all__ = ["check_errors", "in_layout", "layout_errors"]


def in_layout(rt: RecordType, name: str, ops: Sequence[FieldOp]) -> tuple[list[FieldOp], Layout]:
    layout = rt.layouts.get(name)
    if layout is None:
        known = ", ".join(repr(n) for n in rt.layouts) or "none"
        raise ValidationFailed(
            [FieldError("layout", "UNKNOWN_LAYOUT", f"{rt.name} has no layout {name!r}; layouts: {known}")]
        )
    if not layout.fields:
        return list(ops), layout
    shown = set(layout.fields)
    return [op for op in ops if op.field in shown], layout


def layout_errors(rt: RecordType, layout: Layout, data: dict[str, Any], skip: set[str]) -> list[FieldError]:
    out = []
    for name in layout.required:
        fd = rt.fields[name]
        if name not in skip and registry.get(fd.type).is_empty(data.get(name)):
            out.append(FieldError(name, "REQUIRED", f"{name!r} is mandatory in layout {layout.name!r}"))
    return out


def check_errors(
    rt: RecordType, data: dict[str, Any], touched: Sequence[str], *, creating: bool, skip: set[str]
) -> list[FieldError]:
    if not rt.checks:
        return []
    changed = frozenset(touched)
    due = [c for c in rt.checks if (creating or c.fields & changed) and c.field not in skip]
    if not due:
        return []
    record = values_json(rt, data)
    out = []
    for check in due:
        when = [Condition.from_json(c) for c in check.when]
        require = [Condition.from_json(c) for c in check.require]
        if all(c.holds(record, changed) for c in when) and not all(c.holds(record, changed) for c in require):
            message = check.message or f"check {check.name!r} failed"
            out.append(FieldError(check.field, check.code, message))
    return out
