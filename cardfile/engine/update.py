"""The one update engine: every create, update, delete and revert of every channel.

Steps, in one transaction per record: load and lock the record, check preconditions,
apply each op through its field type, validate the result (all errors at once), check
links and unique values, then write the record, a history row and an outbox event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from cardfile.auth.principal import Principal
from cardfile.automation import locks
from cardfile.automation.runner import run_rules
from cardfile.engine import constraints
from cardfile.engine import permissions as perm
from cardfile.engine.catalog import Catalog
from cardfile.engine.commands import Context, CreateCommand, DeleteCommand, FieldOp, UpdateCommand
from cardfile.engine.preconditions import check_preconditions
from cardfile.engine.records import record_json
from cardfile.engine.results import Change, WriteResult
from cardfile.errors import (
    BatchFailed,
    CardfileError,
    Duplicate,
    FieldError,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from cardfile.fieldtypes import registry
from cardfile.fieldtypes.base import InvalidValue
from cardfile.schema.model import SYSTEM_FIELDS, RecordType
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
        self, db: Database, catalog: Catalog, *, batch_limit: int = 100, rule_depth: int = 5
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.batch_limit = batch_limit
        self.rule_depth = rule_depth  # automation rules firing rules: at most this many in a chain

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

    def find_unique(self, conn: Connection, type_name: str, values: dict[str, Any]) -> int | None:
        """The id of the record holding these values of one unique field (``{field: value}``)
        or of one ``unique_together`` group (a value per field of the group), or None.
        Values are parsed by their field types; a bad one raises ValidationFailed."""
        rt = self.catalog.record_type(conn, type_name)
        names = tuple(values)
        if len(names) == 1 and (fd := rt.get(names[0])) is not None and fd.unique:
            group: tuple[str, ...] = names
        else:
            group = next((g for g in rt.unique_together if set(g) == set(names)), ())
            if not group:
                raise ValueError(f"{type_name} has no unique field or group {names!r}")
        data: dict[str, Any] = {}
        errors: list[FieldError] = []
        for name in group:
            fd = rt.fields[name]
            ft = registry.get(fd.type)
            if values[name] is None:
                continue
            try:
                data[name] = ft.parse(values[name], fd)
            except InvalidValue as exc:
                errors.extend(exc.to_field_errors(name))
        if errors:
            raise ValidationFailed(errors)
        if len(group) == 1:
            fd = rt.fields[group[0]]
            key = registry.get(fd.type).unique_key(data[group[0]], fd) if data else None
        else:
            key = composite_key(rt, group, data)
        if key is None:
            return None
        return store.unique_owner(conn, type_name, "+".join(group), _bounded(key))

    # -- create -------------------------------------------------------------------
    def create(self, cmd: CreateCommand, ctx: Context, conn: Connection | None = None) -> WriteResult:
        with self._tx(conn) as c:
            rt = self.catalog.record_type(c, cmd.type)
            return self._dry_or_commit(c, cmd.validate_only, lambda: self._create(c, rt, cmd, ctx))

    def _create(self, conn: Connection, rt: RecordType, cmd: CreateCommand, ctx: Context) -> WriteResult:
        self._authorize_write(rt, "CREATE", cmd.ops, ctx)
        ops = list(cmd.ops)
        if (
            perm.restricted(ctx.principal, rt)
            and rt.owner_field
            and not any(o.field == rt.owner_field for o in ops)
        ):
            assert ctx.principal is not None
            ops.append(
                FieldOp(rt.owner_field, "set", ctx.principal.user_id)
            )  # a standard user owns what they create
        applied = self._apply(rt, {}, ops, creating=True, layout=cmd.layout)
        try:
            perm.require_visible(ctx.principal, rt, 0, applied.data)
        except NotFound:
            raise PermissionDenied(f"you may create only {rt.name} records you own or follow") from None
        self._check_links(conn, rt, applied)
        at = now_us()
        record_id = store.insert_record(conn, rt.name, applied.data, ctx.actor, at)
        self._claim_uniques(conn, rt, record_id, {}, applied)
        changes = self._diff(rt, {}, applied.data, [f.name for f in rt if f.name in applied.data])
        self._record_change(conn, rt, record_id, 1, "create", ctx, at, changes)
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

    def _authorize_write(self, rt: RecordType, action: str, ops: Sequence[FieldOp], ctx: Context) -> None:
        perm.require(ctx.principal, rt, action)
        perm.require_fields(ctx.principal, rt, (o.field for o in ops))
        if ctx.skip_automation or ctx.skip:
            perm.require_automation_skip(ctx.principal)

    def _update(self, conn: Connection, rt: RecordType, cmd: UpdateCommand, ctx: Context) -> WriteResult:
        self._authorize_write(rt, "UPDATE", cmd.ops, ctx)
        row = store.get_record(conn, rt.name, cmd.id, lock=True)
        if row is None:
            raise NotFound(f"no {rt.name} record with id {cmd.id}")
        at = now_us()
        locked = not ctx.rule_chain and row.locked_by is not None
        out = self._prepare_update(conn, rt, cmd, _RowState.of(row), ctx, at, locked=locked)
        if isinstance(out, _Pending):
            self._write_updates(conn, rt, [out], ctx, at)
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
        if locked:
            raise locks.refuse(rt.name, row.id)
        check_preconditions(
            conn,
            row,
            expected_version=cmd.expected_version,
            unmodified_since=cmd.unmodified_since,
            precision=cmd.unmodified_since_precision,
        )
        old = row.data
        applied = self._apply(rt, old, cmd.ops, creating=False, layout=cmd.layout)
        changes = self._diff(rt, old, applied.data, applied.touched)
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
        self._check_links(conn, rt, applied)
        self._claim_uniques(conn, rt, cmd.id, old, applied)
        version = row.version + 1
        record = record_json(rt, row, applied.data)
        record.update(version=version, modified_at=to_iso(at), modified_by=ctx.actor)
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
        return _Pending(row=row, after=after, changes=changes, result=result)

    def _write_updates(
        self, conn: Connection, rt: RecordType, pending: Sequence[_Pending], ctx: Context, at: int
    ) -> None:
        """Records, history rows and outbox events of many updates: three executemany calls."""
        if not pending:
            return
        store.update_records(conn, [(p.row.id, p.row.version, p.after.data) for p in pending], ctx.actor, at)
        self._record_changes(
            conn, rt, [(p.row.id, p.after.version, p.changes) for p in pending], "update", ctx, at
        )

    # -- delete -------------------------------------------------------------------
    def delete(self, cmd: DeleteCommand, ctx: Context, conn: Connection | None = None) -> WriteResult:
        with self._tx(conn) as c:
            rt = self.catalog.record_type(c, cmd.type)
            perm.require(ctx.principal, rt, "DELETE")
            row = store.get_record(c, rt.name, cmd.id, lock=True)
            if row is None:
                raise NotFound(f"no {rt.name} record with id {cmd.id}")
            perm.require_visible(ctx.principal, rt, cmd.id, row.data)
            if not ctx.rule_chain and row.locked_by is not None:
                raise locks.refuse(rt.name, cmd.id)
            check_preconditions(
                c,
                row,
                expected_version=cmd.expected_version,
                unmodified_since=cmd.unmodified_since,
                precision=cmd.unmodified_since_precision,
            )
            old = dict(row.data)
            changes = self._diff(rt, old, {}, [f.name for f in rt if f.name in old])
            at = now_us()
            store.delete_record(c, cmd.id)
            self._record_change(c, rt, cmd.id, row.version + 1, "delete", ctx, at, changes)
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
        if n > self.batch_limit:
            raise LimitExceeded(
                f"at most {self.batch_limit} records per request; got {n}", limit=self.batch_limit
            )
        if n == 0:
            raise LimitExceeded("the batch holds no records")

    def run_batch(
        self,
        items: Sequence[T],
        fn: Callable[[Connection, T], WriteResult],
        *,
        all_or_none: bool,
        key: Callable[[T], object] = lambda _: None,
        conn: Connection | None = None,
    ) -> list[WriteResult | CardfileError]:
        """Run ``fn`` for each item, each in its own savepoint.

        All-or-none: the first pass collects every failure, then raises BatchFailed so
        nothing commits. Per-record: good items commit, failures are returned in place.
        """
        self.check_batch_size(len(items))
        with self._tx(conn) as c:
            results: list[WriteResult | CardfileError] = []
            for item in items:
                try:
                    with c.begin_nested():
                        results.append(fn(c, item))
                except CardfileError as exc:
                    results.append(exc)
            failures = [(i, key(items[i]), r) for i, r in enumerate(results) if isinstance(r, CardfileError)]
            if all_or_none and failures:
                raise BatchFailed(failures)
            return results

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
                    self._authorize_write(rt, "UPDATE", cmd.ops, ctx)
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
        """Create or update each item, found by its value of the unique field ``match_on``."""
        with self._tx(conn) as c:
            rt = self.catalog.record_type(c, type_name)
            fd = rt.get(match_on)
            if fd is None or not fd.unique:
                raise ValidationFailed(
                    [
                        FieldError(
                            "match_on",
                            "NOT_UNIQUE_FIELD",
                            f"{match_on!r} is not a unique field of {type_name}",
                        )
                    ]
                )
            ft = registry.get(fd.type)

            def one(c2: Connection, item: tuple[Any, tuple[FieldOp, ...]]) -> WriteResult:
                value, ops = item
                try:
                    key = ft.unique_key(ft.parse(value, fd), fd)
                except InvalidValue as exc:
                    raise ValidationFailed(exc.to_field_errors(match_on)) from None
                if key is None:
                    raise ValidationFailed(
                        [FieldError(match_on, "REQUIRED", f"{match_on!r} is needed to match on")]
                    )
                holder = store.unique_owner(c2, type_name, match_on, _bounded(key))
                if holder is None:
                    return self.create(CreateCommand(type_name, ops), ctx, c2)
                return self.update(UpdateCommand(type_name, holder, ops), ctx, c2)

            return self.run_batch(items, one, all_or_none=all_or_none, key=lambda it: it[0], conn=c)

    # -- the steps ---------------------------------------------------------------
    def _apply(
        self,
        rt: RecordType,
        current: dict[str, Any],
        ops: Sequence[FieldOp],
        *,
        creating: bool,
        layout: str | None = None,
    ) -> _Applied:
        errors: list[FieldError] = []
        shown = None
        if layout is not None:
            ops, shown = constraints.in_layout(rt, layout, ops)
        data = dict(current)
        touched: list[str] = []
        for op in ops:
            fd = rt.get(op.field)
            if fd is None:
                if op.field in SYSTEM_FIELDS:
                    errors.append(
                        FieldError(op.field, "READ_ONLY_FIELD", f"{op.field!r} is a read-only system field")
                    )
                else:
                    errors.append(
                        FieldError(op.path, "UNKNOWN_FIELD", f"{rt.name} has no field {op.field!r}")
                    )
                continue
            if fd.read_only:
                errors.append(FieldError(op.path, "READ_ONLY_FIELD", f"{op.field!r} is read-only"))
                continue
            ft = registry.get(fd.type)
            try:
                cur = data.get(fd.name)
                data[fd.name] = ft.apply(
                    ft.from_storage(cur, fd) if cur is not None else ft.empty(fd), op, fd
                )
            except InvalidValue as exc:
                errors.extend(exc.to_field_errors(fd.name))
                continue
            if fd.name not in touched:
                touched.append(fd.name)
        bad = {e.field.split(".")[0].split("[")[0] for e in errors}
        for name in touched:
            if name in bad:
                continue
            fd = rt.fields[name]
            ft = registry.get(fd.type)
            value = data[name]
            if ft.is_empty(value):
                kept = ft.stored_when_empty(value, fd)  # e.g. sub-records keep their row-id counter
                if kept is None:
                    data.pop(name)
                else:
                    data[name] = kept
                if fd.required:
                    errors.append(FieldError(name, "REQUIRED", f"{name!r} is required and cannot be cleared"))
                continue
            errors.extend(ft.validate(value, fd))
            # sub-records count their rows
            items = value.get("rows") if isinstance(value, dict) and fd.type == "sub_records" else value
            if fd.max_items is not None and isinstance(items, list) and len(items) > fd.max_items:
                # checked on the resulting set, after every op of the request (add and remove)
                errors.append(
                    FieldError(
                        name,
                        "TOO_MANY_ITEMS",
                        f"{name!r} holds at most {fd.max_items} item(s); this change would leave {len(items)}",
                    )
                )
            data[name] = ft.to_storage(value, fd)
        if creating:
            for fd in rt:
                if fd.required and fd.name not in data and fd.name not in bad:
                    errors.append(FieldError(fd.name, "REQUIRED", f"{fd.name!r} is required"))
        if shown is not None:
            errors.extend(constraints.layout_errors(rt, shown, data, bad))
        errors.extend(constraints.check_errors(rt, data, touched, creating=creating, skip=bad))
        if errors:
            raise ValidationFailed(errors)
        return _Applied(data=data, touched=touched)

    def _check_links(self, conn: Connection, rt: RecordType, applied: _Applied) -> None:
        wanted: dict[str, set[Any]] = {}
        where: list[tuple[str, str, Any]] = []
        for name in applied.touched:
            if name not in applied.data:
                continue
            fd = rt.fields[name]
            for target, rid in registry.get(fd.type).references(applied.data[name], fd):
                wanted.setdefault(target, set()).add(rid)
                where.append((name, target, rid))
        if not where:
            return
        found = {
            t: (store.existing_user_ids(conn, ids) if t == "users" else store.existing_ids(conn, t, ids))
            for t, ids in wanted.items()
        }
        errors = [
            FieldError(
                name,
                "USER_NOT_FOUND" if t == "users" else "RECORD_NOT_FOUND",
                f"no active user with id {rid}" if t == "users" else f"no {t} record with id {rid}",
            )
            for name, t, rid in where
            if rid not in found[t]
        ]
        if errors:
            raise ValidationFailed(errors)

    def _claim_uniques(
        self, conn: Connection, rt: RecordType, record_id: int, old: dict[str, Any], applied: _Applied
    ) -> None:
        moves: list[tuple[str, str | None, str | None]] = []
        for name in applied.touched:
            fd = rt.fields[name]
            if not fd.unique:
                continue
            ft = registry.get(fd.type)
            before = ft.unique_key(old[name], fd) if name in old else None
            after = ft.unique_key(applied.data[name], fd) if name in applied.data else None
            if before != after:
                moves.append((name, before, after))
        touched = set(applied.touched)
        for group in rt.unique_together:
            if touched.intersection(group):
                before = composite_key(rt, group, old)
                after = composite_key(rt, group, applied.data)
                if before != after:
                    moves.append(("+".join(group), before, after))
        if not moves:
            return
        errors: list[FieldError] = []
        # a savepoint of its own, so a refused record of a batch leaves no claim behind
        with conn.begin_nested() as sp:
            for name, before, after in moves:
                if before is not None:
                    store.release_unique(conn, rt.name, name, _bounded(before), record_id)
                if after is not None and not store.claim_unique(
                    conn, rt.name, name, _bounded(after), record_id
                ):
                    holder = store.unique_owner(conn, rt.name, name, _bounded(after))
                    what = " and ".join(repr(n) for n in name.split("+"))
                    errors.append(
                        FieldError(
                            name,
                            "DUPLICATE_VALUE",
                            f"{what} must be unique{' together' if '+' in name else ''}; "
                            f"record {holder} has this value",
                        )
                    )
            if errors:
                sp.rollback()
        if errors:
            raise Duplicate(f"{len(errors)} unique value(s) already taken", errors=errors)

    def _diff(
        self, rt: RecordType, old: dict[str, Any], new: dict[str, Any], names: Sequence[str]
    ) -> list[Change]:
        out = []
        for name in names:
            fd = rt.fields[name]
            ft = registry.get(fd.type)
            o = ft.to_json(ft.from_storage(old[name], fd) if name in old else None, fd)
            n = ft.to_json(ft.from_storage(new[name], fd) if name in new else None, fd)
            if o != n:
                out.append(Change(name, o, n))
        return out

    def _automate(
        self, conn: Connection, rt: RecordType, result: WriteResult, trigger: str, ctx: Context
    ) -> WriteResult:
        """Run the type's automation rules on a written change (same transaction); the
        result then shows the record as the rules left it, with the caller's own changes."""
        last = run_rules(self, conn, rt, result, trigger, ctx)
        if last is None:
            return result
        return replace(result, version=last.version, record=last.record)

    def _record_change(
        self,
        conn: Connection,
        rt: RecordType,
        record_id: int,
        version: int,
        op: str,
        ctx: Context,
        at: int,
        changes: list[Change],
    ) -> None:
        self._record_changes(conn, rt, [(record_id, version, changes)], op, ctx, at)

    def _record_changes(
        self,
        conn: Connection,
        rt: RecordType,
        items: Sequence[tuple[int, int, list[Change]]],
        op: str,
        ctx: Context,
        at: int,
    ) -> None:
        """History rows and outbox events, in the caller's transaction: never one without the other."""
        event = _EVENTS[op]
        stamp = to_iso(at)
        store.insert_history_many(
            conn,
            [
                {"record_type": rt.name, "record_id": rid, "version": version, "op": op, "actor": ctx.actor,
                 "channel": ctx.channel, "at": at, "changes": [c.to_json() for c in changes],
                 "reason": ctx.reason, "client_id": ctx.client_id}
                for rid, version, changes in items
            ],
        )  # fmt: skip
        store.insert_outbox_many(
            conn,
            [
                {"event_type": event, "record_type": rt.name, "record_id": rid, "version": version,
                 "created_at": at, "status": "pending", "attempts": 0, "next_attempt_at": at, "delivered_at": None,
                 "payload": {"type": event, "record_type": rt.name, "record_id": rid, "version": version,
                             "actor": ctx.actor, "client_id": ctx.client_id, "channel": ctx.channel, "at": stamp,
                             "skip_automation": ctx.skip_automation, "changes": [c.to_json() for c in changes]}}
                for rid, version, changes in items
            ],
        )  # fmt: skip


_EVENTS = {"create": "record.created", "update": "record.updated", "delete": "record.deleted"}


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


def composite_key(rt: RecordType, group: Sequence[str], data: dict[str, Any]) -> str | None:
    """The unique key of a ``unique_together`` group: each field's unique key in a JSON list
    (null for an empty one); None when every field of the group is empty."""
    keys: list[str | None] = []
    for name in group:
        fd = rt.fields[name]
        keys.append(registry.get(fd.type).unique_key(data[name], fd) if name in data else None)
    if all(k is None for k in keys):
        return None
    return json.dumps(keys, ensure_ascii=False, separators=(",", ":"))


def _bounded(key: str) -> str:
    """Unique values longer than the index column are compared by digest."""
    return key if len(key) <= 400 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()
