"""A listing query string → the engine's typed ``Query`` (the native API's, which dialects reuse).

``field=value`` or ``field__op=value`` (op in ``FILTER_OPS``), ``_sort=field`` or
``-field``, ``_limit`` and ``_cursor``. Values arrive as strings: each is read as its
field's kind of value (a number, true/false), and every bad filter is reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from cardfile.engine.query import MAX_PAGE_SIZE, Condition, Query
from cardfile.errors import BadRequest, FieldError, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.schema.model import RecordType

__all__ = ["FILTER_OPS", "check_limit", "list_query", "parse_filters", "parse_sort"]

FILTER_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "contains", "in", "isnull")
# the query string's ops by the field's kind of value (a subset of the engine's)
_OPS_BY_KIND = {
    "text": {"eq", "ne", "lt", "lte", "gt", "gte", "contains", "in", "isnull"},
    "number": {"eq", "ne", "lt", "lte", "gt", "gte", "in", "isnull"},
    "bool": {"eq", "ne", "isnull"},
    "list": {"eq", "ne", "contains", "in", "isnull"},
}


def _scalar(kind: str, raw: str) -> Any:
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


def parse_filters(rt: RecordType, params: Iterable[tuple[str, str]]) -> list[Condition]:
    """``field=value`` or ``field__op=value`` pairs as typed conditions."""
    out: list[Condition] = []
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
                value: Any = _scalar("bool", raw)
            elif op == "in":
                value = [_scalar(item_kind, v) for v in raw.split(",")]
            else:
                value = _scalar(item_kind, raw)
        except ValueError as exc:
            errors.append(FieldError(key, "INVALID_FILTER", str(exc)))
            continue
        out.append(Condition(name, op, value))
    if errors:
        raise ValidationFailed(errors)
    return out


def parse_sort(rt: RecordType, raw: str | None) -> tuple[str | None, bool]:
    """``field`` or ``-field`` (descending) as (field, descending); None sorts by id."""
    if not raw:
        return None, False
    desc = raw.startswith("-")
    name = raw.lstrip("-")
    if name == "id":
        return None, desc
    fd = rt.get(name)
    kind = registry.get(fd.type).sql_kind if fd else None
    if fd is None or kind not in ("text", "number", "bool"):
        raise ValidationFailed([FieldError("_sort", "INVALID_SORT", f"cannot sort {rt.name} by {name!r}")])
    return name, desc


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadRequest(f"_limit must be between 1 and {MAX_PAGE_SIZE}", field="_limit")


def list_query(
    rt: RecordType,
    params: Iterable[tuple[str, str]],
    *,
    sort: str | None,
    limit: int,
    cursor: str | None,
) -> Query:
    """The ``Query`` of ``GET /api/records/{type}`` (filters first, then the sort)."""
    conditions = parse_filters(rt, params)
    field, desc = parse_sort(rt, sort)
    return Query(rt.name, tuple(conditions), sort=field, descending=desc, cursor=cursor, page_size=limit)
