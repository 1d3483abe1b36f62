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

Conditions are the schema's (``cardfile.schema.conditions``): ``changed``, ``equals``,
``not_equals``, ``in``, ``not_in``, ``contains``, ``empty``, ``gt``/``gte``/``lt``/``lte``;
values are compared with the record as its JSON after the change. Actions: ``set``,
``add`` / ``remove`` (multi-value fields), ``lock`` / ``unlock``, ``emit`` (a named event
into the outbox).

``stage: before`` makes a rule part of the change itself: evaluated on the record as the
request leaves it, its values join the request's own ops (one version, one history row,
whose reason names the rule by its ``label``). ``optional: true`` lets any caller decline
the rule's feature (``Context.skip``) without the scope ``automation.SKIP``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cardfile.schema.conditions import CONDITION_OPS, Condition, ConditionError, thaw
from cardfile.schema.conditions import freeze as _freeze

__all__ = [
    "CONDITION_OPS", "STAGES", "TRIGGERS", "Action", "Condition", "Rule", "RuleError", "check_rules", "thaw",
]  # fmt: skip

TRIGGERS = ("create", "update")
# after: a change of its own once the write is done; before: joins the write (same version)
STAGES = ("after", "before")
ACTION_KINDS = ("set", "add", "remove", "lock", "unlock", "emit")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_EVENT = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$")
# event types the engine itself emits; a rule may not impersonate them
RESERVED_EVENT_PREFIXES = ("record.", "automation.")


RuleError = ConditionError  # a rule definition (or a condition in it) is inconsistent


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
        return {self.kind: {f: thaw(v) for f, v in self.values}}

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
    stage: str = "after"  # see STAGES
    label: str | None = None  # a human name, shown in the reason of a "before" rule's change
    # any caller may decline the rule's feature (a vendor's request flag, as MDM's `process`),
    # without the scope automation.SKIP
    optional: bool = False

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
        if self.stage != "after":
            out["stage"] = self.stage
        if self.label is not None:
            out["label"] = self.label
        if self.optional:
            out["optional"] = True
        if self.custom:
            out["custom"] = True
        return out

    @classmethod
    def from_json(cls, data: Any, *, custom: bool = False) -> Rule:
        if not isinstance(data, Mapping):
            raise RuleError("a rule is an object with name, feature, on, when, then")
        # YAML 1.1 reads a bare `on:` key as the boolean true
        data = {("on" if k is True else str(k)): v for k, v in data.items()}
        known = {"name", "feature", "on", "when", "then", "custom", "stage", "label", "optional"}
        unknown = sorted(set(data) - known)
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
        stage = data.get("stage", "after")
        if stage not in STAGES:
            raise RuleError(f"rule {name!r}: stage is one of {', '.join(STAGES)}")
        label = data.get("label")
        if label is not None and (not isinstance(label, str) or not 0 < len(label) <= 100):
            raise RuleError(f"rule {name!r}: label is a text of at most 100 characters")
        if not isinstance(data.get("optional", False), bool):
            raise RuleError(f"rule {name!r}: optional is true or false")
        when = data.get("when") or []
        then = data.get("then")
        if not isinstance(when, list):
            raise RuleError(f"rule {name!r}: 'when' is a list of conditions")
        if not isinstance(then, list) or not then:
            raise RuleError(f"rule {name!r}: 'then' is a non-empty list of actions")
        if stage == "before" and any(
            not isinstance(a, Mapping) or set(a) - {"set", "add", "remove"} for a in then
        ):
            raise RuleError(f"rule {name!r}: a 'before' rule only sets, adds and removes values")
        try:
            return cls(
                name=name,
                feature=feature,
                on=tuple(t for t in TRIGGERS if t in on),
                when=tuple(Condition.from_json(c) for c in when),
                then=tuple(Action.from_json(a) for a in then),
                custom=custom or bool(data.get("custom", False)),
                stage=stage,
                label=label,
                optional=bool(data.get("optional", False)),
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
