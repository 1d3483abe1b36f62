"""Processing rules of a repository: what ``process`` runs on a record before it is saved.

A rule is declared in the ``mdm`` section of a pack::

    process:
      - name: confirm rated companies
        when: {company_rating: {gte: 5}, website: {present: true}}
        set: {state: CONFIRMED}

Every rule whose conditions all hold, on the record as the request leaves it, adds its
``set`` values as ordinary ops of the same update: one version, one history row, the same
validation. Conditions: ``present`` (true/false), ``equals``, ``not_equals``, ``in``
(a list), ``gt``, ``gte``, ``lt``, ``lte`` (numbers).

This is deliberately small and lives in one place; it could later be declared as
automation rules of the engine (feature ``process``) without changing the dialect's
contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from cardfile.engine.commands import FieldOp
from cardfile.schema.model import RecordType, SchemaError

__all__ = ["Rule", "evaluate", "parse_rules"]

_OPS = ("present", "equals", "not_equals", "in", "gt", "gte", "lt", "lte")


@dataclass(frozen=True)
class Rule:
    name: str
    when: tuple[tuple[str, str, Any], ...]  # (field, op, operand)
    set: tuple[tuple[str, Any], ...]  # (field, value)


def parse_rules(raw: Sequence[Any], rt: RecordType, where: str) -> tuple[Rule, ...]:
    rules = []
    for i, r in enumerate(raw):
        if not isinstance(r, Mapping) or not isinstance(r.get("set"), Mapping) or not r["set"]:
            raise SchemaError(f"{where}: process rule {i} needs 'set' (fields and values)")
        when = []
        for fname, cond in (r.get("when") or {}).items():
            if fname not in rt.fields or not isinstance(cond, Mapping):
                raise SchemaError(f"{where}: process rule {i}: bad condition on {fname!r}")
            for op, operand in cond.items():
                if op not in _OPS:
                    raise SchemaError(f"{where}: process rule {i}: unknown condition {op!r}")
                when.append((str(fname), str(op), operand))
        unknown = [f for f in r["set"] if f not in rt.fields]
        if unknown:
            raise SchemaError(f"{where}: process rule {i} sets unknown field(s) {unknown}")
        rules.append(Rule(str(r.get("name") or f"rule {i}"), tuple(when), tuple(r["set"].items())))
    return tuple(rules)


def evaluate(rules: Sequence[Rule], record: Mapping[str, Any]) -> tuple[list[FieldOp], list[str]]:
    """The ops of every rule that holds on ``record`` (field -> JSON value), and their names."""
    ops: list[FieldOp] = []
    fired: list[str] = []
    for rule in rules:
        if all(_holds(record.get(f), op, operand) for f, op, operand in rule.when):
            fired.append(rule.name)
            ops.extend(FieldOp(f, "clear" if v is None else "set", v) for f, v in rule.set)
    return ops, fired


def _holds(value: Any, op: str, operand: Any) -> bool:
    present = value not in (None, "", [], {})
    if op == "present":
        return present == bool(operand)
    if op == "equals":
        return bool(value == operand)
    if op == "not_equals":
        return bool(value != operand)
    if op == "in":
        return isinstance(operand, list) and value in operand
    a, b = _number(value), _number(operand)
    if a is None or b is None:
        return False
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


def _number(v: Any) -> Decimal | None:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        return None
    try:
        return Decimal(str(v))
    except InvalidOperation:
        return None
