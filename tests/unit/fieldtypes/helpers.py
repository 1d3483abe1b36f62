"""Small helpers shared by the field-type tests."""

from __future__ import annotations

from typing import Any

import pytest

import cardfile.fieldtypes  # noqa: F401 - registers every type
from cardfile.engine.commands import FieldOp
from cardfile.fieldtypes.base import FieldType, InvalidValue
from cardfile.fieldtypes.registry import registry
from cardfile.schema.model import FieldDef


def fd(type_: str, name: str = "f", **attrs: Any) -> FieldDef:
    return FieldDef.from_json({"name": name, "type": type_, **attrs})


def ft(type_: str) -> FieldType:
    return registry.get(type_)


def parse(field: FieldDef, raw: Any) -> Any:
    return ft(field.type).parse(raw, field)


def apply(field: FieldDef, current: Any, kind: str, value: Any = None, key: str | None = None) -> Any:
    op = FieldOp(field.name, kind, value, key=key)  # type: ignore[arg-type]
    return ft(field.type).apply(current, op, field)


def errors(exc: InvalidValue, field: str = "f") -> list[tuple[str, str]]:
    """(field path, code) of every error an InvalidValue carries."""
    return [(e.field, e.code) for e in exc.to_field_errors(field)]


def parse_fails(field: FieldDef, raw: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidValue) as info:
        parse(field, raw)
    return errors(info.value, field.name)


def apply_fails(
    field: FieldDef, current: Any, kind: str, value: Any = None, key: str | None = None
) -> list[tuple[str, str]]:
    with pytest.raises(InvalidValue) as info:
        apply(field, current, kind, value, key)
    return errors(info.value, field.name)


def validate(field: FieldDef, value: Any) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in ft(field.type).validate(value, field)]
