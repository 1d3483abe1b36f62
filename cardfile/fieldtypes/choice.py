"""Choice types: single_select / radio (one option key), multi_select / checkbox (a set of keys).

Values are option keys, never labels; a label gets a hint naming its key.
"""

from __future__ import annotations

from typing import Any

from cardfile.engine.commands import FieldOp
from cardfile.errors import FieldError
from cardfile.fieldtypes.base import InvalidValue, InvalidValues, MultiValueFieldType, SingleValueFieldType
from cardfile.fieldtypes.registry import registry
from cardfile.schema.model import FieldDef

__all__ = ["Checkbox", "MultiSelect", "Radio", "SingleSelect", "parse_option"]


def _allowed(field: FieldDef) -> str:
    if not field.options:
        return "this field has no options"
    return "allowed keys: " + ", ".join(repr(o.key) for o in field.options)


def parse_option(raw: Any, field: FieldDef) -> str:
    """An option key of ``field``, or InvalidValue (with a hint when given a label)."""
    if not isinstance(raw, str):
        raise InvalidValue("INVALID_OPTION", f"expected an option key (a string); {_allowed(field)}")
    if raw in field.option_keys:
        return raw
    by_label = field.option_by_label(raw)
    if by_label is not None:
        raise InvalidValue("INVALID_OPTION", f"use the option key {by_label.key!r}, not its label {raw!r}")
    raise InvalidValue("INVALID_OPTION", f"{raw[:80]!r} is not an option; {_allowed(field)}")


@registry.register
class SingleSelect(SingleValueFieldType):
    name = "single_select"

    def parse(self, raw: Any, field: FieldDef) -> str:
        return parse_option(raw, field)

    def validate(self, value: Any, field: FieldDef) -> list[FieldError]:
        if isinstance(value, str) and value not in field.option_keys:
            return [
                FieldError(
                    field.name, "INVALID_OPTION", f"{value!r} is no longer an option; {_allowed(field)}"
                )
            ]
        return []


@registry.register
class Radio(SingleSelect):
    """A single_select shown as radio buttons."""

    name = "radio"


@registry.register
class MultiSelect(MultiValueFieldType):
    name = "multi_select"

    def parse_item(self, raw: Any, field: FieldDef) -> str:
        return parse_option(raw, field)

    def apply(self, current: Any, op: FieldOp, field: FieldDef) -> Any:
        if op.kind == "remove" and op.key is None and isinstance(op.value, list):
            # a key the record still holds can be removed even if it is no longer an option
            held = set(current or [])
            gone: set[Any] = set()
            errors: list[InvalidValue] = []
            for i, raw in enumerate(op.value):
                if isinstance(raw, str) and raw in held:
                    gone.add(raw)
                    continue
                try:
                    gone.add(self.parse_item(raw, field))
                except InvalidValue as exc:
                    errors.append(exc.under(f"[{i}]"))
            if errors:
                raise InvalidValues.of(errors)
            return [x for x in current or [] if x not in gone]
        return super().apply(current, op, field)

    def validate(self, value: Any, field: FieldDef) -> list[FieldError]:
        if not isinstance(value, list):
            return []
        keys = field.option_keys
        return [
            FieldError(
                f"{field.name}[{i}]", "INVALID_OPTION", f"{v!r} is no longer an option; {_allowed(field)}"
            )
            for i, v in enumerate(value)
            if v not in keys
        ]


@registry.register
class Checkbox(MultiSelect):
    """A multi_select shown as check boxes."""

    name = "checkbox"
