"""The widget's value rules: a column's scalar value (mostly a string) as a canonical op.

- ``null`` clears; ``""`` clears too, except for an "id" column.
- "id" columns (``columns.py`` marks them: ``resourcestatusid``, ``clientid``...) take only
  an integer, as a JSON number or a string of digits (``2`` or ``"2"``); anything else is
  refused (outcome 99). The integer is a settings entry's id (``getSettings``) or a
  record's id; 0 clears a link, as Tracker's integer ids do. On a multi-lookup
  (``contacttypeid``) the set becomes that one entry.
- a multi-value column takes comma-separated values that replace the whole set
  (``"a,b"``); settings entries by name (``clienttype``) are resolved by ``translate.py``,
  which needs the database.
- the rest are converted to the field type's input where the widget's strings need it
  (``"5"`` for an integer, ``"Yes"`` for a boolean, an option's label for its key); the
  field type then parses and validates as for every channel.
"""

from __future__ import annotations

import re
from typing import Any

from cardfile.engine.commands import FieldOp
from cardfile.fieldtypes.base import InvalidValue
from cardfile.schema.model import FieldDef

__all__ = ["id_value", "option_key", "value_op"]

_DIGITS = re.compile(r"^[0-9]+$")
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
_INT64_MAX = 2**63 - 1


def id_value(raw: Any) -> int:
    """An "id" column's integer: a JSON integer or a string of digits; else InvalidValue."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        n = raw
    elif isinstance(raw, str) and _DIGITS.match(raw.strip()):
        n = int(raw.strip())
    else:
        raise InvalidValue(
            "NOT_AN_INTEGER",
            f"an id column takes an integer (see getSettings), got {str(raw)[:40]!r}",
        )
    if n > _INT64_MAX:
        raise InvalidValue("TOO_LARGE", "the id is out of range")
    return n


def option_key(field: FieldDef, name: str) -> str:
    """The option of ``field`` named ``name`` (by key, or by label without regard to case);
    an unknown name is returned as given, for the field type to refuse with its hint."""
    name = name.strip()
    if name in field.option_keys:
        return name
    by_label = field.option_by_label(name)
    if by_label is not None:
        return by_label.key
    low = name.lower()
    return next((o.key for o in field.options if o.key.lower() == low), name)


def _text(raw: Any) -> Any:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return str(raw)
    return raw


def _boolean(raw: Any) -> Any:
    if isinstance(raw, str):
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    if isinstance(raw, int) and not isinstance(raw, bool) and raw in (0, 1):
        return bool(raw)
    return raw  # the field type refuses it


def _integer(raw: Any) -> Any:
    if isinstance(raw, str) and re.match(r"^[+-]?[0-9]+$", raw.strip()):
        return int(raw.strip())
    return raw


def value_op(field: FieldDef, raw: Any, *, id_column: bool, multi: bool) -> FieldOp:
    """The op that sets ``field`` from a widget value; raises InvalidValue.

    Settings entries given by name are resolved by the caller (they need the database);
    here an "id" column's value is an integer and 0 clears (Tracker's "no reference").
    """
    if raw is None:
        return FieldOp(field.name, "clear")
    if id_column:
        n = id_value(raw)
        if n == 0 and field.type in ("lookup", "user", "multi_lookup"):
            return FieldOp(field.name, "clear")
        if field.type == "multi_lookup":  # one entry's id: the set becomes that entry
            return FieldOp(field.name, "replace", [n])
        return FieldOp(field.name, "set", n)
    if isinstance(raw, str) and not raw.strip():
        return FieldOp(field.name, "clear")
    t = field.type
    if multi:
        text = _text(raw)
        names = [p.strip() for p in text.split(",") if p.strip()] if isinstance(text, str) else []
        return FieldOp(field.name, "replace", [option_key(field, n) for n in names])
    if t in ("single_select", "radio"):
        return FieldOp(field.name, "set", option_key(field, _text(raw)))
    if t == "boolean":
        return FieldOp(field.name, "set", _boolean(raw))
    if t == "integer":
        return FieldOp(field.name, "set", _integer(raw))
    if t in ("lookup", "user"):
        return FieldOp(field.name, "set", id_value(raw))
    if t in ("decimal", "money", "date", "datetime"):
        return FieldOp(field.name, "set", raw)
    return FieldOp(field.name, "set", _text(raw))
