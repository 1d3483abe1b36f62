"""Unique values: single unique fields and ``unique_together`` groups, claimed in the
``unique_values`` table so the database itself refuses a second holder."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from cardfile.engine.apply import Applied
from cardfile.errors import Duplicate, FieldError, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.fieldtypes.base import InvalidValue
from cardfile.schema.model import RecordType
from cardfile.store import query as sql
from cardfile.store import records as store

__all__ = ["backfill_group", "bounded", "claim_uniques", "composite_key", "find_unique"]


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


def bounded(key: str) -> str:
    """Unique values longer than the index column are compared by digest."""
    return key if len(key) <= 400 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def find_unique(conn: Connection, rt: RecordType, values: dict[str, Any]) -> int | None:
    """The id of the record holding these values of one unique field (``{field: value}``)
    or of one ``unique_together`` group (a value per field of the group), or None.
    Values are parsed by their field types; a bad one raises ValidationFailed."""
    names = tuple(values)
    if len(names) == 1 and (fd := rt.get(names[0])) is not None and fd.unique:
        group: tuple[str, ...] = names
    else:
        group = next((g for g in rt.unique_together if set(g) == set(names)), ())
        if not group:
            raise ValueError(f"{rt.name} has no unique field or group {names!r}")
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
    return store.unique_owner(conn, rt.name, "+".join(group), bounded(key))


def claim_uniques(
    conn: Connection, rt: RecordType, record_id: int, old: dict[str, Any], applied: Applied
) -> None:
    """Move the record's claims from its old unique values to its new ones; raise
    Duplicate naming every value another record holds (and leave no claim behind)."""
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
                store.release_unique(conn, rt.name, name, bounded(before), record_id)
            if after is not None and not store.claim_unique(conn, rt.name, name, bounded(after), record_id):
                holder = store.unique_owner(conn, rt.name, name, bounded(after))
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


def backfill_group(conn: Connection, rt: RecordType, group: Sequence[str], *, page: int = 500) -> list[int]:
    """Claim a ``unique_together`` group newly declared on a type for the records stored
    before it, so the database refuses a new duplicate of them too. Records whose values
    an earlier one already holds stay unclaimed (their ids are returned): the data had
    duplicates before the rule, and the next write of the group to one of them is refused."""
    name = "+".join(group)
    unclaimed: list[int] = []
    after: tuple[Any, int] | None = None
    while True:
        rows = sql.list_records(conn, rt.name, [], sql.Sort(None, "id"), after=after, limit=page)
        for row in rows:
            key = composite_key(rt, group, dict(row.data))
            if key is not None and not store.claim_unique(conn, rt.name, name, bounded(key), int(row.id)):
                unclaimed.append(int(row.id))
        if len(rows) < page:
            return unclaimed
        after = (None, int(rows[-1].id))
