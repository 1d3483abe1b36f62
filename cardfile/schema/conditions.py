"""The one condition language: automation rules' ``when`` and the checks between fields.

A condition is pure data, ``{field: stage, equals: won}``, evaluated on a record as JSON
(field name -> JSON value) after a change. It lives in the schema layer so the engine
(checks) and automation (rules) read the same conditions without importing each other.

Ops: ``changed`` (true/false), ``equals``, ``not_equals``, ``in``, ``not_in``, ``contains``
(a multi-value holds it), ``empty`` (true/false), and ``gt``, ``gte``, ``lt``, ``lte``
(numbers; false when either side is not a number).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["CONDITION_OPS", "Condition", "ConditionError", "freeze", "thaw"]

CONDITION_OPS = (
    "changed", "equals", "not_equals", "in", "not_in", "contains", "empty", "gt", "gte", "lt", "lte",
)  # fmt: skip
_NUMBER_OPS = ("gt", "gte", "lt", "lte")


class ConditionError(ValueError):
    """A condition (or a rule holding it) is inconsistent."""


def freeze(v: Any) -> Any:
    """A JSON value made hashable (lists as tuples), as frozen rules keep it."""
    if isinstance(v, list | tuple):
        return tuple(freeze(x) for x in v)
    return v


def thaw(v: Any) -> Any:
    """A frozen value as JSON again (lists, not tuples)."""
    if isinstance(v, tuple):
        return [thaw(x) for x in v]
    return v


def _number(v: Any) -> Decimal | None:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        return None
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any = None

    def holds(self, record: Mapping[str, Any], changed: frozenset[str]) -> bool:
        cur = record.get(self.field)
        v = thaw(self.value)
        match self.op:
            case "changed":
                return (self.field in changed) == bool(v)
            case "equals":
                return bool(cur == v)
            case "not_equals":
                return bool(cur != v)
            case "in":
                return cur in v
            case "not_in":
                return cur not in v
            case "contains":
                return isinstance(cur, list) and v in cur
            case "empty":
                return (cur in (None, "", [], {})) == bool(v)
            case "gt" | "gte" | "lt" | "lte":
                a, b = _number(cur), _number(v)
                if a is None or b is None:
                    return False
                return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[self.op]
        return False

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, self.op: thaw(self.value)}

    @classmethod
    def from_json(cls, data: Any) -> Condition:
        if not isinstance(data, Mapping) or not isinstance(data.get("field"), str):
            raise ConditionError("a condition is an object like {field: stage, equals: won}")
        ops = [k for k in data if k != "field"]
        if len(ops) != 1 or ops[0] not in CONDITION_OPS:
            raise ConditionError(
                f"condition on {data['field']!r}: give exactly one of {', '.join(CONDITION_OPS)}"
            )
        op = ops[0]
        value = data[op]
        if op in ("in", "not_in") and not isinstance(value, list | tuple):
            raise ConditionError(f"condition on {data['field']!r}: {op!r} takes a list")
        if op in ("changed", "empty") and not isinstance(value, bool):
            raise ConditionError(f"condition on {data['field']!r}: {op!r} takes true or false")
        if op in _NUMBER_OPS and _number(value) is None:
            raise ConditionError(f"condition on {data['field']!r}: {op!r} takes a number")
        return cls(data["field"], op, freeze(value))
