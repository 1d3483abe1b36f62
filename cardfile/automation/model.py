"""Rule definitions: pure data, parsed from a pack's ``rules:`` or an API body.

```yaml
rules:
  - name: deal_won
    feature: workflows          # a named feature an update may skip
    on: [update]                # create and/or update
    when:                       # every condition must hold
      - {field: stage, changed: true}
      - {field: stage, equals: won}
    then:
      - set: {won: true, probability: 100}
      - add: {checklist: [budget]}
      - lock: true
      - emit: deal.won
```

Conditions: ``changed`` (true/false), ``equals``, ``not_equals``, ``in``, ``not_in``,
``contains`` (a multi-value holds it), ``empty`` (true/false); values are compared with
the record as its JSON after the change. Actions: ``set``, ``add`` / ``remove`` (multi-value
fields), ``lock`` / ``unlock``, ``emit`` (a named event into the outbox).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CONDITION_OPS", "TRIGGERS", "Action", "Condition", "Rule", "RuleError", "check_rules", "thaw"]

TRIGGERS = ("create", "update")
CONDITION_OPS = ("changed", "equals", "not_equals", "in", "not_in", "contains", "empty")
ACTION_KINDS = ("set", "add", "remove", "lock", "unlock", "emit")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_EVENT = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$")
# event types the engine itself emits; a rule may not impersonate them
RESERVED_EVENT_PREFIXES = ("record.", "automation.")


class RuleError(ValueError):
    """A rule definition is inconsistent."""


def _freeze(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return tuple(_freeze(x) for x in v)
    return v


def thaw(v: Any) -> Any:
    """A rule value as JSON again (lists, not the tuples a frozen rule keeps)."""
    return _thaw(v)


def _thaw(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_thaw(x) for x in v]
    return v


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any = None

    def holds(self, record: Mapping[str, Any], changed: frozenset[str]) -> bool:
        cur = record.get(self.field)
        v = _thaw(self.value)
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
        return False

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, self.op: _thaw(self.value)}

    @classmethod
    def from_json(cls, data: Any) -> Condition:
        if not isinstance(data, Mapping) or not isinstance(data.get("field"), str):
            raise RuleError("a condition is an object like {field: stage, equals: won}")
        ops = [k for k in data if k != "field"]
        if len(ops) != 1 or ops[0] not in CONDITION_OPS:
            raise RuleError(f"condition on {data['field']!r}: give exactly one of {', '.join(CONDITION_OPS)}")
        op = ops[0]
        value = data[op]
        if op in ("in", "not_in") and not isinstance(value, list | tuple):
            raise RuleError(f"condition on {data['field']!r}: {op!r} takes a list")
        if op in ("changed", "empty") and not isinstance(value, bool):
            raise RuleError(f"condition on {data['field']!r}: {op!r} takes true or false")
        return cls(data["field"], op, _freeze(value))


@dataclass(frozen=True)
class Action:
    kind: str
    values: tuple[tuple[str, Any], ...] = ()  # set / add / remove: (field, value) pairs
    event: str | None = None  # emit

    def to_json(self) -> dict[str, Any]:
        if self.kind == "emit":
            return {"emit": self.event}
        if self.kind in ("lock", "unlock"):
            return {self.kind: True}
        return {self.kind: {f: _thaw(v) for f, v in self.values}}

    @classmethod
    def from_json(cls, data: Any) -> Action:
        if not isinstance(data, Mapping) or len(data) != 1:
            raise RuleError(f"an action is an object with one of {', '.join(ACTION_KINDS)}")
        ((kind, arg),) = data.items()
        if kind not in ACTION_KINDS:
            raise RuleError(f"unknown action {kind!r}; known: {', '.join(ACTION_KINDS)}")
        if kind == "emit":
            if not isinstance(arg, str) or not _EVENT.match(arg) or len(arg) > 64:
                raise RuleError(f"emit: {arg!r} is not an event name like deal.won")
            if arg.startswith(RESERVED_EVENT_PREFIXES):
                raise RuleError(
                    f"emit: event names starting with {' or '.join(RESERVED_EVENT_PREFIXES)} are reserved"
                )
            return cls("emit", event=arg)
        if kind in ("lock", "unlock"):
            if arg is not True:
                raise RuleError(f"{kind}: write '{kind}: true'")
            return cls(kind)
        if not isinstance(arg, Mapping) or not arg or not all(isinstance(k, str) for k in arg):
            raise RuleError(f"{kind}: expected {{field: value, ...}}")
        if kind in ("add", "remove") and not all(isinstance(v, list) for v in arg.values()):
            raise RuleError(f"{kind}: each value is a list of items")
        return cls(kind, tuple((k, _freeze(v)) for k, v in arg.items()))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for f, _ in self.values)


@dataclass(frozen=True)
class Rule:
    name: str
    feature: str
    on: tuple[str, ...]
    when: tuple[Condition, ...]
    then: tuple[Action, ...]
    custom: bool = False  # added through the API (kept when the pack is installed again)

    def applies(self, trigger: str, record: Mapping[str, Any], changed: frozenset[str]) -> bool:
        return trigger in self.on and all(c.holds(record, changed) for c in self.when)

    @property
    def fields(self) -> frozenset[str]:
        """Every field the rule reads or writes (checked against the type)."""
        return frozenset(c.field for c in self.when) | frozenset(f for a in self.then for f in a.fields)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "feature": self.feature,
            "on": list(self.on),
            "when": [c.to_json() for c in self.when],
            "then": [a.to_json() for a in self.then],
        }
        if self.custom:
            out["custom"] = True
        return out

    @classmethod
    def from_json(cls, data: Any, *, custom: bool = False) -> Rule:
        if not isinstance(data, Mapping):
            raise RuleError("a rule is an object with name, feature, on, when, then")
        # YAML 1.1 reads a bare `on:` key as the boolean true
        data = {("on" if k is True else str(k)): v for k, v in data.items()}
        unknown = sorted(set(data) - {"name", "feature", "on", "when", "then", "custom"})
        if unknown:
            raise RuleError(f"unknown rule attribute(s): {', '.join(unknown)}")
        name = data.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise RuleError(f"rule name {name!r} must be lower_snake")
        feature = data.get("feature", "workflows")
        if not isinstance(feature, str) or not _NAME.match(feature):
            raise RuleError(f"rule {name!r}: feature {feature!r} must be lower_snake")
        on = data.get("on", ["update"])
        if isinstance(on, str):
            on = [on]
        if not isinstance(on, Sequence) or not on or not set(on) <= set(TRIGGERS):
            raise RuleError(f"rule {name!r}: 'on' is a list of {', '.join(TRIGGERS)}")
        when = data.get("when") or []
        then = data.get("then")
        if not isinstance(when, list):
            raise RuleError(f"rule {name!r}: 'when' is a list of conditions")
        if not isinstance(then, list) or not then:
            raise RuleError(f"rule {name!r}: 'then' is a non-empty list of actions")
        try:
            return cls(
                name=name,
                feature=feature,
                on=tuple(t for t in TRIGGERS if t in on),
                when=tuple(Condition.from_json(c) for c in when),
                then=tuple(Action.from_json(a) for a in then),
                custom=custom or bool(data.get("custom", False)),
            )
        except RuleError as exc:
            raise RuleError(f"rule {name!r}: {exc}") from None


def check_rules(rules: Sequence[Rule], field_names: frozenset[str] | set[str]) -> None:
    """Raise RuleError unless names are unique and every field a rule uses exists."""
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise RuleError(f"rule {rule.name!r} is defined twice")
        seen.add(rule.name)
        missing = sorted(rule.fields - set(field_names))
        if missing:
            raise RuleError(f"rule {rule.name!r}: unknown field(s) {', '.join(missing)}")
