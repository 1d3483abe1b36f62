"""Running rules inside the engine's transaction, after a record was created or updated.

Each rule whose trigger and conditions hold applies its actions as the actor
``rule:<name>``: field changes go through the engine like any update (a new version,
a history row and an outbox event, in the same transaction as the change that fired
it), then locks and named events. The change a rule makes does not fire that same rule
again, and a chain of rules firing rules stops at ``max_depth``; the stop is recorded as
an ``automation.chain_stopped`` event and logged. Rules run for every channel; a change
may skip named features (``Context.skip``) or all automation (``skip_automation``).

``run_rules`` is the engine's after-write hook (see ``automation/hooks.py``); ``stage: before``
rules are not run here, they join the change itself.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Connection

from cardfile.automation import locks
from cardfile.automation.model import Rule, thaw
from cardfile.automation.rulebook import rules_for
from cardfile.engine.commands import Context, FieldOp, UpdateCommand
from cardfile.engine.events import ChangeEvent, write_events
from cardfile.engine.hooks import Writer
from cardfile.engine.results import WriteResult
from cardfile.schema.model import RecordType
from cardfile.store.clock import now_us

__all__ = ["rule_ops", "run_rules"]

log = logging.getLogger("cardfile.automation")


def run_rules(
    engine: Writer, conn: Connection, rt: RecordType, result: WriteResult, trigger: str, ctx: Context
) -> WriteResult | None:
    """Apply the (after-write) rules ``result`` fires; the last write any of them made, or None.

    This is the engine's after-write hook (``engine/hooks.py``)."""
    if ctx.skip_automation:
        return None
    rules = rules_for(conn, rt)
    if not rules:
        return None
    maker = ctx.rule_chain[-1] if ctx.rule_chain else None
    changed = frozenset(c.field for c in result.changes)
    firing = [
        r
        for r in rules
        if r.stage == "after"
        and r.name != maker
        and r.feature not in ctx.skip
        and r.applies(trigger, result.record, changed)
    ]
    if not firing:
        return None
    if len(ctx.rule_chain) >= engine.rule_depth:
        _chain_stopped(conn, rt, result, ctx, firing, engine.rule_depth)
        return None
    last: WriteResult | None = None
    version = result.version
    for rule in firing:
        out, version = _apply(engine, conn, rt, rule, result, version, ctx)
        if out is not None:
            last = out
    return last


def _rule_context(rule: Rule, ctx: Context) -> Context:
    return Context(
        actor=f"rule:{rule.name}",
        channel=ctx.channel,
        reason=f"automation rule {rule.name} ({rule.feature})",
        skip=ctx.skip,
        principal=None,  # the rule acts as the system: an admin defined it
        rule_chain=(*ctx.rule_chain, rule.name),
    )


def rule_ops(rule: Rule) -> list[FieldOp]:
    """The field ops of a rule's ``set`` / ``add`` / ``remove`` actions, in order."""
    ops: list[FieldOp] = []
    for action in rule.then:
        if action.kind == "set":
            ops.extend(
                FieldOp(f, "clear") if v is None else FieldOp(f, "set", thaw(v)) for f, v in action.values
            )
        elif action.kind in ("add", "remove"):
            ops.extend(FieldOp(f, action.kind, thaw(v)) for f, v in action.values)  # type: ignore[arg-type]
    return ops


def _apply(
    engine: Writer,
    conn: Connection,
    rt: RecordType,
    rule: Rule,
    cause: WriteResult,
    version: int,
    ctx: Context,
) -> tuple[WriteResult | None, int]:
    rctx = _rule_context(rule, ctx)
    ops = rule_ops(rule)
    out: WriteResult | None = None
    if ops:
        res = engine.update(UpdateCommand(rt.name, cause.id, tuple(ops)), rctx, conn)
        if res.committed:
            out = res
            version = res.version
    at = now_us()
    for action in rule.then:
        if action.kind == "lock" and locks.lock(conn, rt.name, cause.id, rctx.actor, rctx.reason, at):
            _emit(conn, "record.locked", rt, cause, version, rctx, rule, at)
        elif action.kind == "unlock" and locks.unlock(conn, cause.id):
            _emit(conn, "record.unlocked", rt, cause, version, rctx, rule, at)
        elif action.kind == "emit" and action.event:
            _emit(conn, action.event, rt, cause, version, rctx, rule, at)
    return out, version


def _emit(
    conn: Connection,
    event: str,
    rt: RecordType,
    cause: WriteResult,
    version: int,
    ctx: Context,
    rule: Rule,
    at: int,
) -> None:
    write_events(
        conn,
        [ChangeEvent.of(event, rt.name, cause.id, version, ctx, at, cause.changes, rule=rule.name,
                        feature=rule.feature)],
    )  # fmt: skip


def _chain_stopped(
    conn: Connection, rt: RecordType, cause: WriteResult, ctx: Context, firing: list[Rule], depth: int
) -> None:
    names = [r.name for r in firing]
    log.warning(
        "automation chain on %s %s stopped at depth %d: %s would fire after %s",
        rt.name, cause.id, depth, ", ".join(names), " -> ".join(ctx.rule_chain),
    )  # fmt: skip
    at = now_us()
    write_events(
        conn,
        [ChangeEvent.of("automation.chain_stopped", rt.name, cause.id, cause.version, ctx, at, cause.changes,
                        chain=list(ctx.rule_chain), not_run=names, max_depth=depth)],
    )  # fmt: skip
