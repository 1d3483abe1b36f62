"""Searching records a page at a time: a full-text term, typed filters, sort, page offset.

What dialect searches (Tracker's ``…/Search`` bodies, and any vendor's) compile into.
Unlike ``engine.query.list_records`` (keyset cursors over string filters), the filters
here are typed triples and pages are numbered; the term uses the database's full-text
index (``store.search``), never a scan in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cardfile.auth.principal import Principal
from cardfile.engine import permissions as perm
from cardfile.engine.catalog import Catalog
from cardfile.engine.query import system_filters
from cardfile.engine.records import record_json
from cardfile.errors import CardfileError, FieldError, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.store import query as sql
from cardfile.store import search as store

__all__ = ["COLUMNS", "Condition", "records_by_id", "search_records"]

COLUMNS = ("id", "created_at", "modified_at")  # system columns a condition may name
MAX_PAGE = 500
_OPS = {"eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "ieq", "any", "isnull"}


@dataclass(frozen=True)
class Condition:
    """``field op value``: ``ieq`` is case-insensitive equality of text, ``any`` matches a
    multi-value field holding any of a list of values; system columns take microseconds."""

    field: str
    op: str
    value: Any


def search_records(
    conn: Connection,
    catalog: Catalog,
    type_name: str,
    conditions: Sequence[Condition] = (),
    *,
    term: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    page: int = 1,
    page_size: int = 10,
    principal: Principal | None = None,
) -> list[dict[str, Any]]:
    """Records of ``type_name`` as ``record_json``; every bad condition is reported."""
    if not 1 <= page_size <= MAX_PAGE:
        raise ValidationFailed([FieldError("page_size", "OUT_OF_RANGE", f"must be 1 to {MAX_PAGE}")])
    if page < 1:
        raise ValidationFailed([FieldError("page", "OUT_OF_RANGE", "pages are numbered from 1")])
    rt = catalog.record_type(conn, type_name)
    perm.require(principal, rt, "READ")
    filters: list[sql.Filter] = []
    errors: list[FieldError] = []
    for c in conditions:
        kind = _kind(rt, c.field)
        if kind is None or c.op not in _OPS:
            errors.append(
                FieldError(c.field, "INVALID_FILTER", f"cannot filter {rt.name} by {c.field!r} {c.op}")
            )
            continue
        filters.append(sql.Filter(c.field, kind, c.op, c.value))
    filters += system_filters(principal, rt)  # the system's own records are no caller's
    order = sql.Sort(None, "id", descending)
    if sort:
        kind = _kind(rt, sort)
        if kind not in ("text", "number", "bool", "column"):
            errors.append(FieldError("sort", "INVALID_SORT", f"cannot sort {rt.name} by {sort!r}"))
        elif sort != "id":
            order = sql.Sort(sort, kind, descending)
    if errors:
        raise ValidationFailed(errors)
    rows = store.search_records(
        conn,
        type_name,
        filters,
        order,
        term=term if term and term.strip() else None,
        offset=(page - 1) * page_size,
        limit=page_size,
        visible_to=perm.owner_filter(principal, rt),
    )
    return [record_json(rt, r) for r in rows]


def _kind(rt: Any, name: str) -> str | None:
    if name in COLUMNS:
        return "column"
    fd = rt.get(name)
    if fd is None:
        return None
    return registry.get(fd.type).sql_kind


def records_by_id(
    conn: Connection, catalog: Catalog, ids: Sequence[int], principal: Principal | None = None
) -> dict[int, tuple[str, dict[str, Any]]]:
    """``{id: (type, fields)}`` of the records with these ids that the caller may read and
    see (what a dialect needs to show the names of linked records)."""
    schema = catalog.current(conn)
    out: dict[int, tuple[str, dict[str, Any]]] = {}
    readable: dict[str, bool] = {}
    for row in store.rows_by_id(conn, sorted(set(ids))):
        rt = schema.get(row.type)
        if rt is None:
            continue
        if row.type not in readable:
            try:
                perm.require(principal, rt, "READ")
                readable[row.type] = True
            except CardfileError:
                readable[row.type] = False
        if not readable[row.type]:
            continue
        try:
            perm.require_visible(principal, rt, int(row.id), row.data)
        except CardfileError:
            continue  # a record this user may not see (not owned or followed)
        out[int(row.id)] = (row.type, dict(row.data))
    return out
