"""Automation as the engine's hooks (``cardfile.engine.hooks``), wired by ``services.py``.

- before write: the type's ``stage: before`` rules, on the record as the request's ops
  leave it; their values join the change (one version), its reason names them;
- after write: every other rule (``runner.run_rules``), each change its own version;
- optional features: the features whose rules are all ``optional`` (any caller may
  decline them, as MDM's ``process: false`` does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from cardfile.automation.rulebook import rules_for
from cardfile.automation.runner import rule_ops, run_rules
from cardfile.engine.apply import diff
from cardfile.engine.commands import Context
from cardfile.engine.hooks import Amendment, Hooks
from cardfile.engine.records import values_json
from cardfile.schema.model import RecordType

__all__ = ["automation_hooks", "before_write", "optional_features"]


def automation_hooks() -> Hooks:
    """The hooks that make an engine run automation rules."""
    return Hooks(before_write=(before_write,), after_write=(run_rules,), optional_features=optional_features)


def before_write(
    conn: Connection,
    rt: RecordType,
    trigger: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    touched: Sequence[str],
    ctx: Context,
) -> Amendment | None:
    """The ops of the ``before`` rules that hold on ``new``, and the reason naming them."""
    if ctx.skip_automation:
        return None
    rules = [
        r
        for r in rules_for(conn, rt)
        if r.stage == "before" and trigger in r.on and r.feature not in ctx.skip
    ]
    if not rules:
        return None
    record = values_json(rt, dict(new))
    changed = frozenset(c.field for c in diff(rt, dict(old), dict(new), touched))
    maker = ctx.rule_chain[-1] if ctx.rule_chain else None
    fired = [r for r in rules if r.name != maker and r.applies(trigger, record, changed)]
    if not fired:
        return None
    by_feature: dict[str, list[str]] = {}
    for r in fired:
        by_feature.setdefault(r.feature, []).append(r.label or r.name)
    reason = "; ".join(f"{feature}: {', '.join(names)}" for feature, names in by_feature.items())
    return Amendment(tuple(op for r in fired for op in rule_ops(r)), reason)


def optional_features(conn: Connection, rt: RecordType) -> frozenset[str]:
    """Features of ``rt`` whose every rule is ``optional``."""
    rules = rules_for(conn, rt)
    if not rules:
        return frozenset()
    return frozenset(r.feature for r in rules if r.optional) - {r.feature for r in rules if not r.optional}
