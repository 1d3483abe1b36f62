"""Listing records: filters and sort checked against the schema, keyset cursors."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from cardfile.auth.principal import Principal
from cardfile.engine import permissions as perm
from cardfile.engine.catalog import Catalog
from cardfile.engine.records import record_json
from cardfile.errors import BadRequest, FieldError, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.schema.model import RecordType
from cardfile.store import query as sql
from cardfile.store.database import Database

__all__ = ["FILTER_OPS", "count_records", "list_records", "system_filters"]

FILTER_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "contains", "in", "isnull")
_OPS_BY_KIND = {
    "text": {"eq", "ne", "lt", "lte", "gt", "gte", "contains", "in", "isnull"},
    "number": {"eq", "ne", "lt", "lte", "gt", "gte", "in", "isnull"},
    "bool": {"eq", "ne", "isnull"},
    "list": {"eq", "ne", "contains", "in", "isnull"},
}
MAX_LIMIT = 500


def _scalar(kind: str, raw: str, name: str) -> Any:
    if kind == "number":
        try:
            d = Decimal(raw)
        except InvalidOperation:
            raise ValueError(f"{raw!r} is not a number") from None
        if not d.is_finite():
            raise ValueError(f"{raw!r} is not a number")
        return int(d) if d == d.to_integral_value() else float(d)
    if kind == "bool":
        if raw.lower() not in ("true", "false"):
            raise ValueError("expected true or false")
        return raw.lower() == "true"
    return raw


def parse_filters(rt: RecordType, params: Iterable[tuple[str, str]]) -> list[sql.Filter]:
    """``field=value`` or ``field__op=value``; every bad filter is reported."""
    out: list[sql.Filter] = []
    errors: list[FieldError] = []
    for key, raw in params:
        name, _, op = key.partition("__")
        op = op or "eq"
        fd = rt.get(name)
        if name == "id":
            errors.append(FieldError(key, "NOT_FILTERABLE", "fetch a record by id with GET .../{id}"))
            continue
        if fd is None:
            errors.append(FieldError(key, "UNKNOWN_FIELD", f"{rt.name} has no field {name!r}"))
            continue
        ft = registry.get(fd.type)
        kind = ft.sql_kind or ""
        if op not in _OPS_BY_KIND.get(kind, set()):
            allowed = ", ".join(sorted(_OPS_BY_KIND.get(kind, set()))) or "none"
            errors.append(
                FieldError(key, "INVALID_FILTER", f"{op!r} does not apply to {name!r} (allowed: {allowed})")
            )
            continue
        item_kind = getattr(ft, "sql_item_kind", "text") if kind == "list" else kind
        try:
            if op == "isnull":
                value: Any = _scalar("bool", raw, name)
            elif op == "in":
                value = [_scalar(item_kind, v, name) for v in raw.split(",")]
            else:
                value = _scalar(item_kind, raw, name)
        except ValueError as exc:
            errors.append(FieldError(key, "INVALID_FILTER", str(exc)))
            continue
        out.append(sql.Filter(name, kind, op, value))
    if errors:
        raise ValidationFailed(errors)
    return out


def parse_sort(rt: RecordType, raw: str | None) -> sql.Sort:
    if not raw:
        return sql.Sort(None, "id")
    desc = raw.startswith("-")
    name = raw.lstrip("-")
    if name == "id":
        return sql.Sort(None, "id", desc)
    fd = rt.get(name)
    kind = registry.get(fd.type).sql_kind if fd else None
    if fd is None or kind not in ("text", "number", "bool"):
        raise ValidationFailed([FieldError("_sort", "INVALID_SORT", f"cannot sort {rt.name} by {name!r}")])
    return sql.Sort(name, kind, desc)


def _encode_cursor(value: Any, rid: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([value, rid])).decode().rstrip("=")


def _decode_cursor(raw: str) -> tuple[Any, int]:
    try:
        value, rid = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(rid, int):
            raise ValueError
        return value, rid
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest("invalid cursor; pass the next_cursor of a previous page", field="_cursor") from None


def list_records(
    db: Database,
    catalog: Catalog,
    type_name: str,
    params: list[tuple[str, str]],
    *,
    sort: str | None,
    limit: int,
    cursor: str | None,
    conn: Connection | None = None,
    principal: Principal | None = None,
) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"_limit must be between 1 and {MAX_LIMIT}", field="_limit")
    with db.using(conn, write=False) as conn:
        rt = catalog.record_type(conn, type_name)
        perm.require(principal, rt, "READ")
        filters = parse_filters(rt, params) + system_filters(principal, rt)
        order = parse_sort(rt, sort)
        after = _decode_cursor(cursor) if cursor else None
        rows = sql.list_records(
            conn,
            type_name,
            filters,
            order,
            after=after,
            limit=limit + 1,
            visible_to=perm.owner_filter(principal, rt),
        )
        more = len(rows) > limit
        rows = rows[:limit]
        items = [record_json(rt, r) for r in rows]
        next_cursor = None
        if more and rows:
            last = rows[-1]
            sort_value = None if order.field is None else last.data.get(order.field)
            next_cursor = _encode_cursor(sort_value, int(last.id))
        return {"items": items, "next_cursor": next_cursor}


def system_filters(principal: Principal | None, rt: RecordType) -> list[sql.Filter]:
    """What leaves the type's system records out of a caller's listing (see permissions)."""
    flag = perm.system_hidden(principal, rt)
    return [] if flag is None else [sql.Filter(flag, "bool", "ne", True)]


def count_records(
    db: Database,
    catalog: Catalog,
    type_name: str,
    params: list[tuple[str, str]],
    *,
    conn: Connection | None = None,
    principal: Principal | None = None,
) -> int:
    """How many records ``list_records`` would return over all its pages."""
    with db.using(conn, write=False) as conn:
        rt = catalog.record_type(conn, type_name)
        perm.require(principal, rt, "READ")
        filters = parse_filters(rt, params) + system_filters(principal, rt)
        if perm.owner_filter(principal, rt) is None:
            return sql.count_records(conn, type_name, filters)
        # a caller limited to the records they own or follow: count what the listing shows
        total, after = 0, None
        while True:
            rows = sql.list_records(
                conn, type_name, filters, sql.Sort(None, "id"), after=after, limit=MAX_LIMIT,
                visible_to=perm.owner_filter(principal, rt),
            )  # fmt: skip
            total += len(rows)
            if len(rows) < MAX_LIMIT:
                return total
            after = (None, int(rows[-1].id))
