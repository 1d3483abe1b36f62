"""The one typed query of the engine: conditions, sort, a keyset cursor or a numbered page,
a full-text term, and the fields to return, run with the caller's permissions.

Every channel reads a list of records through ``run_query``: the native API parses its
``field__op`` query string into a ``Query`` (``api/kit/filters.py``), and a dialect
builds one from its vendor's search body. A numbered page is served by an offset in SQL,
so page N is one query, never N cursor pages walked by the caller.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
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
from cardfile.store import search as store
from cardfile.store.clock import from_datetime

__all__ = [
    "COLUMNS",
    "MAX_PAGE_SIZE",
    "OPS_BY_KIND",
    "Condition",
    "Page",
    "Query",
    "all_records",
    "decode_cursor",
    "encode_cursor",
    "run_query",
    "system_filters",
]

COLUMNS = ("id", "created_at", "modified_at")  # system columns a condition may name
MAX_PAGE_SIZE = 500
SYSTEM_KEYS = ("id", "version", "created_at", "created_by", "modified_at", "modified_by")
# Which ops apply to which kind of value (the field type's ``sql_kind``; ``column`` for
# the system columns, integer microseconds). ``ieq`` is case-insensitive equality of
# text; ``any`` matches a multi-value field holding any of a list of values.
OPS_BY_KIND: dict[str, frozenset[str]] = {
    "text": frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "contains", "in", "isnull", "ieq"}),
    "number": frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "in", "isnull"}),
    "bool": frozenset({"eq", "ne", "in", "isnull"}),
    "list": frozenset({"eq", "ne", "contains", "in", "any", "isnull"}),
    "column": frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "in"}),
}
_LIST_OPS = frozenset({"in", "any"})  # ops whose value is a list of values


@dataclass(frozen=True)
class Condition:
    """``field op value`` with a typed value (a number, not the string of one); ``in`` and
    ``any`` take a list, ``isnull`` a bool; ``created_at`` / ``modified_at`` an aware
    ``datetime`` or integer microseconds."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Query:
    """What to read: records of ``type`` matching every condition (and the full-text
    ``term``), ordered by ``sort`` then id.

    Pages: ``cursor`` (the ``next_cursor`` of the previous page) OR ``page`` (numbered
    from 1), each of ``page_size`` records; neither is the first page. ``fields`` keeps
    only those fields (and the system keys) in each item; ``with_total`` also counts the
    matches over all pages.
    """

    type: str
    conditions: tuple[Condition, ...] = ()
    sort: str | None = None  # a field or system column; None: by id
    descending: bool = False
    cursor: str | None = None
    page: int | None = None
    page_size: int = 50
    term: str | None = None
    fields: tuple[str, ...] | None = None
    with_total: bool = False


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    more: bool  # whether a later page holds records
    next_cursor: str | None = None  # in cursor mode, the cursor of the next page when ``more``
    total: int | None = None  # with ``with_total``
    page: int | None = None  # in numbered mode, the page served

    def to_json(self) -> dict[str, Any]:
        """The native listing's shape."""
        return {"items": self.items, "next_cursor": self.next_cursor}


def encode_cursor(value: Any, rid: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([value, rid])).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[Any, int]:
    try:
        value, rid = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(rid, int):
            raise ValueError
        return value, rid
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest("invalid cursor; pass the next_cursor of a previous page", field="_cursor") from None


def kind_of(rt: RecordType, name: str) -> str | None:
    """The kind of value ``name`` holds in SQL (see ``OPS_BY_KIND``), or None."""
    if name in COLUMNS:
        return "column"
    fd = rt.get(name)
    if fd is None:
        return None
    return registry.get(fd.type).sql_kind


def _plan(rt: RecordType, q: Query) -> tuple[list[sql.Filter], sql.Sort]:
    """The store's filters and sort for ``q``; every bad part is reported at once."""
    errors: list[FieldError] = []
    if not 1 <= q.page_size <= MAX_PAGE_SIZE:
        errors.append(FieldError("page_size", "OUT_OF_RANGE", f"must be 1 to {MAX_PAGE_SIZE}"))
    if q.page is not None and q.page < 1:
        errors.append(FieldError("page", "OUT_OF_RANGE", "pages are numbered from 1"))
    if q.page is not None and q.cursor is not None:
        errors.append(FieldError("page", "CURSOR_AND_PAGE", "ask for a cursor or a page number, not both"))
    filters: list[sql.Filter] = []
    for c in q.conditions:
        kind = kind_of(rt, c.field)
        if kind is None or c.op not in OPS_BY_KIND.get(kind, ()):
            errors.append(
                FieldError(c.field, "INVALID_FILTER", f"cannot filter {rt.name} by {c.field!r} {c.op}")
            )
        elif c.op in _LIST_OPS and not isinstance(c.value, list | tuple):
            errors.append(FieldError(c.field, "INVALID_FILTER", f"{c.op!r} takes a list of values"))
        else:
            value = list(c.value) if c.op in _LIST_OPS else c.value
            if kind == "column" and isinstance(value, datetime):  # a time: the column's microseconds
                value = from_datetime(value)
            filters.append(sql.Filter(c.field, kind, c.op, value))
    order = sql.Sort(None, "id", q.descending)
    if q.sort and q.sort != "id":
        kind = kind_of(rt, q.sort)
        if kind not in ("text", "number", "bool", "column"):
            errors.append(FieldError("sort", "INVALID_SORT", f"cannot sort {rt.name} by {q.sort!r}"))
        else:
            order = sql.Sort(q.sort, kind or "", q.descending)
    for name in q.fields or ():
        if name not in SYSTEM_KEYS and rt.get(name) is None:
            errors.append(FieldError("fields", "UNKNOWN_FIELD", f"{rt.name} has no field {name!r}"))
    if errors:
        raise ValidationFailed(errors)
    return filters, order


def run_query(conn: Connection, catalog: Catalog, q: Query, principal: Principal | None = None) -> Page:
    """One page of ``q`` as ``record_json`` items, showing only what ``principal`` may
    read and see (None: the system itself, which sees everything)."""
    rt = catalog.record_type(conn, q.type)
    perm.require(principal, rt, "READ")
    filters, order = _plan(rt, q)
    filters += system_filters(principal, rt)  # the system's own records are no caller's
    after = decode_cursor(q.cursor) if q.cursor else None
    term = q.term if q.term and q.term.strip() else None
    visible = perm.owner_filter(principal, rt)
    offset = (q.page - 1) * q.page_size if q.page is not None else 0
    rows = store.search_records(
        conn, rt.name, filters, order, term=term, offset=offset, limit=q.page_size + 1,
        visible_to=visible, after=after,
    )  # fmt: skip
    more = len(rows) > q.page_size
    rows = rows[: q.page_size]
    items = [_project(record_json(rt, r), q.fields) for r in rows]
    next_cursor = None
    if more and rows and q.page is None:
        last = rows[-1]
        if order.field is None:
            value = None
        elif order.kind == "column":
            value = int(getattr(last, order.field))
        else:
            value = last.data.get(order.field)
        next_cursor = encode_cursor(value, int(last.id))
    total = (
        store.count_records(conn, rt.name, filters, term=term, visible_to=visible) if q.with_total else None
    )
    return Page(items=items, more=more, next_cursor=next_cursor, total=total, page=q.page)


def system_filters(principal: Principal | None, rt: RecordType) -> list[sql.Filter]:
    """What leaves the type's system records out of a caller's listing (see permissions)."""
    flag = perm.system_hidden(principal, rt)
    return [] if flag is None else [sql.Filter(flag, "bool", "ne", True)]


def all_records(
    conn: Connection, catalog: Catalog, q: Query, principal: Principal | None = None
) -> Iterator[dict[str, Any]]:
    """Every record ``q`` matches, read a page of ``MAX_PAGE_SIZE`` at a time by cursor
    (``q``'s own page, cursor and page size are ignored)."""
    q = replace(q, page=None, cursor=None, page_size=MAX_PAGE_SIZE, with_total=False)
    while True:
        page = run_query(conn, catalog, q, principal)
        yield from page.items
        if page.next_cursor is None:
            return
        q = replace(q, cursor=page.next_cursor)


def _project(item: dict[str, Any], fields: Sequence[str] | None) -> dict[str, Any]:
    if fields is None:
        return item
    keep = set(fields).union(SYSTEM_KEYS)
    return {k: v for k, v in item.items() if k in keep}
