"""The one update engine: every create, update, delete and revert of every channel.

Steps, in one transaction per record: load and lock the record, check preconditions,
apply each op through its field type, validate the result (all errors at once), check
links and unique values, then write the record, a history row and an outbox event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from cardfile.auth.principal import Principal
from cardfile.engine import batches, states, uniques
from cardfile.engine import permissions as perm
from cardfile.engine.apply import Applied, apply_ops, diff
from cardfile.engine.catalog import Catalog
from cardfile.engine.commands import Context, CreateCommand, DeleteCommand, FieldOp, UpdateCommand
from cardfile.engine.defaults import default_ops
from cardfile.engine.events import change_events, record_changes, write_events
from cardfile.engine.hooks import Hooks
from cardfile.engine.links import check_links, check_locked_links
from cardfile.engine.preconditions import check_preconditions
from cardfile.engine.primary import demote_others
from cardfile.engine.query import Page, Query, run_query
from cardfile.engine.records import record_json
from cardfile.engine.resolve import resolve_ops
from cardfile.engine.results import Change, WriteResult
from cardfile.engine.upsert import UpsertCommand, UpsertItem, UpsertOutcome, run_upsert
from cardfile.errors import (
    BatchFailed,
    CardfileError,
    NotFound,
    PermissionDenied,
    RecordLocked,
)
from cardfile.schema.model import RecordType
from cardfile.store import records as store
from cardfile.store.clock import now_us, to_iso
from cardfile.store.database import Database

__all__ = ["Engine"]

T = TypeVar("T")


class _DryRun(Exception):
    """Raised inside a savepoint to roll a validate-only write back."""


@dataclass
class _Applied:
    data: dict[str, Any]
    touched: list[str]


class Engine:
    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        *,
        batch_limit: int = 100,
        rule_depth: int = 5,
        hooks: Hooks | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.batch_limit = batch_limit
        self.rule_depth = rule_depth  # automation rules firing rules: at most this many in a chain
        self.hooks = hooks or Hooks()  # automation, plugged in by services.py (engine/hooks.py)

    # -- transactions ---------------------------------------------------------
    @contextmanager
    def _tx(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self.db.write() as c:
                yield c

    def _dry_or_commit(self, conn: Connection, validate_only: bool, fn: Callable[[], T]) -> T:
        """Run ``fn``; for a dry run, inside a savepoint rolled back afterwards."""
        if not validate_only:
            return fn()
        box: list[T] = []
        try:
            with conn.begin_nested():
                box.append(fn())
                raise _DryRun
        except _DryRun:
            pass
        return box[0]

    # -- reads ------------------------------------------------------------------
    def get(
        self,
        type_name: str,
        record_id: int,
        conn: Connection | None = None,
        principal: Principal | None = None,
    ) -> dict[str, Any]:
        if conn is None:
            with self.db.read() as c:
                return self.get(type_name, record_id, c, principal)
        rt = self.catalog.record_type(conn, type_name)
        perm.require(principal, rt, "READ")
        row = store.get_record(conn, type_name, record_id)
        if row is None:
            raise NotFound(f"no {type_name} record with id {record_id}")
        perm.require_visible(principal, rt, record_id, row.data)
        return record_json(rt, row)

    def query(self, q: Query, conn: Connection | None = None, principal: Principal | None = None) -> Page:
        """One page of records (see ``engine.query.run_query``)."""
        if conn is None:
            with self.db.read() as c:
                return run_query(c, self.catalog, q, principal)
        return run_query(conn, self.catalog, q, principal)

    def find_unique(self, conn: Connection, type_name: str, values: dict[str, Any]) -> int | None:
        """See ``uniques.find_unique``."""
        return uniques.find_unique(conn, self.catalog.record_type(conn, type_name), values)

    # -- create -------------------------------------------------------------------
    def create(self, cmd: CreateCommand, ctx: Context, conn: Connection | None = None) -> WriteResult:
        with self._tx(conn) as c:
            rt = self.catalog.record_type(c, cmd.type)
            return self._dry_or_commit(c, cmd.validate_only, lambda: self._create(c, rt, cmd, ctx))

    def _create(self, conn: Connection, rt: RecordType, cmd: CreateCommand, ctx: Context) -> WriteResult:
        self._authorize_write(rt, "CREATE", cmd.ops, ctx, conn)
        ops = resolve_ops(conn, self.catalog, rt, {}, cmd.ops)  # input judged by other records
        filled = default_ops(conn, self.catalog, rt, ops, ctx)
        applied = apply_ops(rt, {}, ops, creating=True, layout=cmd.layout, defaults=filled)
        applied, ctx = self._amend(conn, rt, "create", {}, applied, ctx, creating=True)
        try:
            perm.require_visible(ctx.principal, rt, 0, applied.data)
        except NotFound:
            raise PermissionDenied(f"you may create only {rt.name} records you own or follow") from None
        check_links(conn, rt, applied)
        check_locked_links(conn, rt, {}, applied)
        at = now_us()
        record_id = store.insert_record(conn, rt.name, applied.data, ctx.actor, at)
        uniques.claim_uniques(conn, rt, record_id, {}, applied)
        changes = diff(rt, {}, applied.data, [f.name for f in rt if f.name in applied.data])
        record_changes(conn, rt, [(record_id, 1, changes)], "create", ctx, at)
        demote_others(self, conn, rt, record_id, applied.data, ctx)
        row = store.get_record(conn, rt.name, record_id)
        result = WriteResult(
            type=rt.name,
            id=record_id,
            version=1,
            record=record_json(rt, row),
            changes=changes,
            actor=ctx.actor,
            at=to_iso(at),
            created=True,
            committed=not cmd.validate_only,
        )
        return self._automate(conn, rt, result, "create", ctx)

    # -- update -------------------------------------------------------------------
    def update(self, cmd: UpdateCommand, ctx: Context, conn: Connection | None = None) -> WriteResult:
        with self._tx(conn) as c:
            rt = self.catalog.record_type(c, cmd.type)
            return self._dry_or_commit(c, cmd.validate_only, lambda: self._update(c, rt, cmd, ctx))

    def _authorize_write(
        self, rt: RecordType, action: str, ops: Sequence[FieldOp], ctx: Context, conn: Connection
    ) -> None:
        perm.require(ctx.principal, rt, action)
        perm.require_fields(ctx.principal, rt, (o.field for o in ops))
        if ctx.skip_automation or (ctx.skip and ctx.skip - self._optional_features(conn, rt)):
            perm.require_automation_skip(ctx.principal)

    def _optional_features(self, conn: Connection, rt: RecordType) -> frozenset[str]:
        find = self.hooks.optional_features
        return find(conn, rt) if find is not None else frozenset()

    def _update(self, conn: Connection, rt: RecordType, cmd: UpdateCommand, ctx: Context) -> WriteResult:
        self._authorize_write(rt, "UPDATE", cmd.ops, ctx, conn)
        row = store.get_record(conn, rt.name, cmd.id, lock=True)
        if row is None:
            raise NotFound(f"no {rt.name} record with id {cmd.id}")
        at = now_us()
        locked = not ctx.rule_chain and row.locked_by is not None
        out = self._prepare_update(conn, rt, cmd, _RowState.of(row), ctx, at, locked=locked)
        if isinstance(out, _Pending):
            self._write_updates(conn, rt, [out], ctx, at)
            demote_others(self, conn, rt, cmd.id, out.after.data, ctx, [ch.field for ch in out.changes])
            return self._automate(conn, rt, out.result, "update", ctx)
        return out

    def _prepare_update(
        self,
        conn: Connection,
        rt: RecordType,
        cmd: UpdateCommand,
        row: _RowState,
        ctx: Context,
        at: int,
        *,
        locked: bool = False,
    ) -> _Pending | WriteResult:
        """Everything that can refuse an update; the row itself is written by _write_updates."""
        perm.require_visible(ctx.principal, rt, row.id, row.data)
        if not ctx.rule_chain:  # a state refuses the caller's changes, not its rules' (as locks)
            states.check_update(rt, row.id, row.data, cmd.ops)
        if locked:
            raise _locked(rt.name, row.id)
        check_preconditions(
            conn,
            row,
            expected_version=cmd.expected_version,
            unmodified_since=cmd.unmodified_since,
            precision=cmd.unmodified_since_precision,
        )
        old = row.data
        ops = resolve_ops(conn, self.catalog, rt, old, cmd.ops)  # input judged by other records
        applied = apply_ops(rt, old, ops, creating=False, layout=cmd.layout)
        applied, amended = self._amend(conn, rt, "update", old, applied, ctx, creating=False)
        changes = diff(rt, old, applied.data, applied.touched)
        if not changes:  # nothing changed: no new version, no history, no event
            return WriteResult(
                type=rt.name,
                id=cmd.id,
                version=row.version,
                record=record_json(rt, row),
                actor=row.modified_by,
                at=to_iso(row.modified_at),
                committed=False,
            )
        check_links(conn, rt, applied)
        check_locked_links(conn, rt, old, applied)
        uniques.claim_uniques(conn, rt, cmd.id, old, applied)
        version = row.version + 1
        record = record_json(rt, row, applied.data)
        record.update(version=version, modified_at=to_iso(at), modified_by=ctx.actor)
        own = None if amended is ctx else amended  # a before-write hook gave this change a reason
        result = WriteResult(
            type=rt.name,
            id=cmd.id,
            version=version,
            record=record,
            changes=changes,
            actor=ctx.actor,
            at=to_iso(at),
            committed=not cmd.validate_only,
        )
        after = replace(row, version=version, data=applied.data, modified_at=at, modified_by=ctx.actor)
        return _Pending(row=row, after=after, changes=changes, result=result, ctx=own)

    def _write_updates(
        self, conn: Connection, rt: RecordType, pending: Sequence[_Pending], ctx: Context, at: int
    ) -> None:
        """Records, history rows and outbox events of many updates: three executemany calls."""
        if not pending:
            return
        store.update_records(conn, [(p.row.id, p.row.version, p.after.data) for p in pending], ctx.actor, at)
        if all(p.ctx is None for p in pending):
            record_changes(
                conn, rt, [(p.row.id, p.after.version, p.changes) for p in pending], "update", ctx, at
            )
            return
        # some were amended by a before-write hook: their history rows carry its reason
        events = [e for p in pending
                  for e in change_events(rt.name, [(p.row.id, p.after.version, p.changes)], "update", p.ctx or ctx, at)]  # fmt: skip
        write_events(conn, events)

    # -- delete -------------------------------------------------------------------
    def delete(self, cmd: DeleteCommand, ctx: Context, conn: Connection | None = None) -> WriteResult:
        with self._tx(conn) as c:
            rt = self.catalog.record_type(c, cmd.type)
            perm.require(ctx.principal, rt, "DELETE")
            if rt.soft_delete is not None:
                return states.soft_delete(self, c, rt, cmd, ctx)
            row = store.get_record(c, rt.name, cmd.id, lock=True)
            if row is None:
                raise NotFound(f"no {rt.name} record with id {cmd.id}")
            perm.require_visible(ctx.principal, rt, cmd.id, row.data)
            if not ctx.rule_chain and row.locked_by is not None:
                raise _locked(rt.name, cmd.id)
            states.check_delete(rt, cmd.id, row.data)
            check_preconditions(
                c,
                row,
                expected_version=cmd.expected_version,
                unmodified_since=cmd.unmodified_since,
                precision=cmd.unmodified_since_precision,
            )
            old = dict(row.data)
            changes = diff(rt, old, {}, [f.name for f in rt if f.name in old])
            at = now_us()
            store.delete_record(c, cmd.id)
            record_changes(c, rt, [(cmd.id, row.version + 1, changes)], "delete", ctx, at)
            return WriteResult(
                type=rt.name,
                id=cmd.id,
                version=row.version + 1,
                record=record_json(rt, row),
                changes=changes,
                actor=ctx.actor,
                at=to_iso(at),
                deleted=True,
            )

    # -- batches ------------------------------------------------------------------
    def check_batch_size(self, n: int) -> None:
        batches.check_size(n, self.batch_limit)

    def run_batch(
        self,
        items: Sequence[T],
        fn: Callable[[Connection, T], WriteResult],
        *,
        all_or_none: bool,
        key: Callable[[T], object] = lambda _: None,
        conn: Connection | None = None,
    ) -> list[WriteResult | CardfileError]:
        """Run ``fn`` for each item, each in its own savepoint (see ``batches.run``)."""
        self.check_batch_size(len(items))
        with self._tx(conn) as c:
            return batches.run(c, items, fn, all_or_none=all_or_none, key=key)

    def update_many(
        self,
        cmds: Sequence[UpdateCommand],
        ctx: Context,
        *,
        all_or_none: bool,
        conn: Connection | None = None,
    ) -> list[WriteResult | CardfileError]:
        """Many updates of one type: one read, then three executemany writes.

        Each command is checked against the record as the earlier commands of the batch
        left it. Nothing is written before every command was checked, so a refused one
        leaves no trace (its unique-value claims run in a savepoint of their own).
        """
        self.check_batch_size(len(cmds))
        with self._tx(conn) as c:
            rt = self.catalog.record_type(c, cmds[0].type)
            raw = store.get_records(c, rt.name, [cmd.id for cmd in cmds], lock=True)
            rows = {r.id: _RowState.of(r) for r in raw}
            at = now_us()
            locked = set() if ctx.rule_chain else {r.id for r in raw if r.locked_by is not None}
            results: list[WriteResult | CardfileError] = []
            pending: list[_Pending] = []
            for cmd in cmds:
                try:
                    self._authorize_write(rt, "UPDATE", cmd.ops, ctx, c)
                    row = rows.get(cmd.id)
                    if row is None or cmd.type != rt.name:
                        raise NotFound(f"no {cmd.type} record with id {cmd.id}")
                    out = self._prepare_update(c, rt, cmd, row, ctx, at, locked=cmd.id in locked)
                except CardfileError as exc:
                    results.append(exc)
                    continue
                if isinstance(out, _Pending):
                    pending.append(out)
                    rows[cmd.id] = out.after
                    results.append(out.result)
                else:
                    results.append(out)
            failures = [(i, cmds[i].id, r) for i, r in enumerate(results) if isinstance(r, CardfileError)]
            if all_or_none and failures:
                raise BatchFailed(failures)
            self._write_updates(c, rt, pending, ctx, at)
            if rt.one_primary is not None:  # the batch's last primary of a group stays primary
                for p in reversed(pending):
                    now = store.get_record(c, rt.name, p.row.id)  # maybe demoted by a later one
                    if now is not None:
                        demote_others(
                            self, c, rt, p.row.id, dict(now.data), ctx, [ch.field for ch in p.changes]
                        )
            for i, r in enumerate(results):  # rules run once every change of the batch is written
                if isinstance(r, WriteResult) and r.committed and not r.created:
                    results[i] = self._automate(c, rt, r, "update", ctx)
            return results

    def upsert_many(
        self,
        type_name: str,
        match_on: str,
        items: Sequence[tuple[Any, tuple[FieldOp, ...]]],
        ctx: Context,
        *,
        all_or_none: bool,
        conn: Connection | None = None,
    ) -> list[WriteResult | CardfileError]:
        """Create or update each item, found by its value of the unique field ``match_on``
        (an ``UpsertCommand`` of one match field; see ``upsert``)."""
        cmd = UpsertCommand(
            type_name,
            (match_on,),
            tuple(UpsertItem(ops, match={match_on: value}) for value, ops in items),
            all_or_none=all_or_none,
        )
        return [o.result for o in self.upsert(cmd, ctx, conn)]

    def upsert(self, cmd: UpsertCommand, ctx: Context, conn: Connection | None = None) -> list[UpsertOutcome]:
        """Create or update each item of ``cmd`` (see ``engine.upsert``), in one transaction."""
        with self._tx(conn) as c:
            return run_upsert(self, c, self.catalog.record_type(c, cmd.type), cmd, ctx)

    # -- the steps ---------------------------------------------------------------
    def _amend(
        self,
        conn: Connection,
        rt: RecordType,
        trigger: str,
        old: dict[str, Any],
        applied: Applied,
        ctx: Context,
        *,
        creating: bool,
    ) -> tuple[Applied, Context]:
        """Let the before-write hooks add ops to the change (applied on top of the request's,
        in the same version); the context then carries their reason for the history row."""
        for hook in self.hooks.before_write:
            amendment = hook(conn, rt, trigger, old, applied.data, applied.touched, ctx)
            if amendment is None or not amendment.ops:
                continue
            more = apply_ops(rt, applied.data, amendment.ops, creating=creating)
            applied = Applied(
                more.data, [*applied.touched, *(n for n in more.touched if n not in applied.touched)]
            )
            if amendment.reason:
                ctx = replace(ctx, reason="; ".join(filter(None, [ctx.reason, amendment.reason])))
        return applied, ctx

    def _automate(
        self, conn: Connection, rt: RecordType, result: WriteResult, trigger: str, ctx: Context
    ) -> WriteResult:
        """Run the after-write hooks (automation rules) on a written change (same transaction);
        the result then shows the record as they left it, with the caller's own changes."""
        for hook in self.hooks.after_write:
            last = hook(self, conn, rt, result, trigger, ctx)
            if last is not None:
                result = replace(result, version=last.version, record=last.record)
        return result


def _locked(record_type: str, record_id: int) -> RecordLocked:
    """The refusal of a change to a record an automation rule locked (``records.locked_by``)."""
    return RecordLocked(
        f"{record_type} record {record_id} is locked by an automation rule; an admin may unlock it",
        record_type=record_type,
        record_id=record_id,
    )


@dataclass(frozen=True)
class _RowState:
    """A record row as the engine works on it; a batch keeps the latest one per id."""

    id: int
    type: str
    version: int
    data: dict[str, Any]
    created_at: int
    created_by: str
    modified_at: int
    modified_by: str

    @classmethod
    def of(cls, row: Any) -> _RowState:
        return cls(
            id=int(row.id), type=row.type, version=int(row.version), data=dict(row.data),
            created_at=int(row.created_at), created_by=row.created_by, modified_at=int(row.modified_at),
            modified_by=row.modified_by,
        )  # fmt: skip


@dataclass(frozen=True)
class _Pending:
    """An update that passed every check and waits to be written."""

    row: _RowState
    after: _RowState
    changes: list[Change]
    result: WriteResult
    ctx: Context | None = None  # the change's own context, when a before-write hook gave it a reason
