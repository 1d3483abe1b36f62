"""Upserts: create a record, or update the one that already holds a unique value.

The engine finds the record, never the channel: an item is matched on the first of the
command's unique fields (in order of preference) whose value it gives and some record
holds; with none, it is created. Each item runs in its own savepoint inside the write
transaction (the engine's lock), so a batch is all-or-none or per-record like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy.engine import Connection

from cardfile.engine import batches, uniques
from cardfile.engine.commands import Context, CreateCommand, FieldOp, UpdateCommand
from cardfile.engine.results import WriteResult
from cardfile.errors import CardfileError, FieldError, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.fieldtypes.base import InvalidValue
from cardfile.schema.model import RecordType
from cardfile.store import records as store

__all__ = ["OpsFor", "UpsertCommand", "UpsertItem", "UpsertOutcome", "run_upsert"]


class Engine(Protocol):
    """What an upsert uses of ``engine.update.Engine`` (a protocol: the engine imports this module)."""

    def check_batch_size(self, n: int) -> None: ...

    def create(self, cmd: CreateCommand, ctx: Context, conn: Connection | None = None) -> WriteResult: ...

    def update(self, cmd: UpdateCommand, ctx: Context, conn: Connection | None = None) -> WriteResult: ...


# The ops of an item once the engine knows which record it updates (None: it creates one),
# computed in the item's savepoint: for a channel whose parse depends on it, or whose parse
# errors are the item's outcome (after a bad match value's), not the request's.
OpsFor = Callable[[int | None], Sequence[FieldOp]]


@dataclass(frozen=True)
class UpsertItem:
    """One record to create or update.

    ``match`` holds the raw values to match on, by field (a field ``ops`` sets is used
    when absent from it). ``id`` names the record to update outright, matching nothing.
    ``ops_for``, when given, replaces ``ops``.
    """

    ops: tuple[FieldOp, ...] = ()
    match: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
    ops_for: OpsFor | None = None
    layout: str | None = None


@dataclass(frozen=True)
class UpsertCommand:
    """``match_on``: unique fields, in order of preference. ``require_match``: an item
    with no value for any of them is refused (REQUIRED) instead of created."""

    type: str
    match_on: tuple[str, ...]
    items: tuple[UpsertItem, ...]
    all_or_none: bool = True
    require_match: bool = True


@dataclass(frozen=True)
class UpsertOutcome:
    """What happened to one item: its result or error, whether it was created or updated
    (None when it failed), and the field it matched on (None when created or given by id)."""

    result: WriteResult | CardfileError
    action: Literal["created", "updated"] | None = None
    matched: str | None = None


def _match_fields(rt: RecordType, names: Sequence[str], required: bool) -> None:
    errors = [
        FieldError("match_on", "NOT_UNIQUE_FIELD", f"{n!r} is not a unique field of {rt.name}")
        for n in names
        if (fd := rt.get(n)) is None or not fd.unique
    ]
    if not names and required:
        errors.append(FieldError("match_on", "REQUIRED", "name at least one unique field to match on"))
    if errors:
        raise ValidationFailed(errors)


def _value(item: UpsertItem, name: str) -> Any:
    if name in item.match:
        return item.match[name]
    for op in item.ops:
        if op.field == name and op.kind == "set" and op.key is None:
            return op.value
    return None


def _holder(conn: Connection, rt: RecordType, name: str, raw: Any) -> tuple[bool, int | None]:
    """(whether ``raw`` is a value to match on, the record holding it)."""
    fd = rt.fields[name]
    ft = registry.get(fd.type)
    try:
        key = ft.unique_key(ft.parse(raw, fd), fd)
    except InvalidValue as exc:
        raise ValidationFailed(exc.to_field_errors(name)) from None
    if key is None:
        return False, None
    return True, store.unique_owner(conn, rt.name, name, uniques.bounded(key))


def key_of(cmd: UpsertCommand, item: UpsertItem) -> object:
    """How a failure names its item: the first match value given, else its id."""
    for name in cmd.match_on:
        value = _value(item, name)
        if value is not None:
            return value
    return item.id


def run_upsert(
    engine: Engine, conn: Connection, rt: RecordType, cmd: UpsertCommand, ctx: Context
) -> list[UpsertOutcome]:
    """Every item of ``cmd``, each in a savepoint; BatchFailed for all-or-none failures."""
    _match_fields(rt, cmd.match_on, cmd.require_match)
    engine.check_batch_size(len(cmd.items))
    how: dict[int, tuple[Literal["created", "updated"], str | None]] = {}

    def one(c: Connection, entry: tuple[int, UpsertItem]) -> WriteResult:
        i, item = entry
        holder, matched = item.id, None
        if holder is None:
            given = False
            for name in cmd.match_on:
                raw = _value(item, name)
                if raw is None:
                    continue
                present, holder = _holder(c, rt, name, raw)
                given = given or present
                if holder is not None:
                    matched = name
                    break
            if not given and cmd.require_match:
                what = " or ".join(repr(n) for n in cmd.match_on)
                raise ValidationFailed(
                    [FieldError(cmd.match_on[0], "REQUIRED", f"{what} is needed to match on")]
                )
        ops = tuple(item.ops_for(holder)) if item.ops_for is not None else item.ops
        if holder is None:
            how[i] = ("created", None)
            return engine.create(CreateCommand(rt.name, ops, layout=item.layout), ctx, c)
        how[i] = ("updated", matched)
        return engine.update(UpdateCommand(rt.name, holder, ops, layout=item.layout), ctx, c)

    entries = list(enumerate(cmd.items))
    results = batches.run(conn, entries, one, all_or_none=cmd.all_or_none, key=lambda e: key_of(cmd, e[1]))
    out: list[UpsertOutcome] = []
    for (i, _item), r in zip(entries, results, strict=True):
        if isinstance(r, CardfileError):
            out.append(UpsertOutcome(r))
        else:
            action, matched = how[i]
            out.append(UpsertOutcome(r, action, matched))
    return out
