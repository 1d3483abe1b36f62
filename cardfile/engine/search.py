"""Searching records a page at a time (what dialect searches such as Tracker's ``…/Search``
bodies compile into), and reading linked records by id.

``search_records`` is a shorthand for ``engine.query.run_query`` with a numbered page:
one typed query serves the native listing and every dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from cardfile.auth.principal import Principal
from cardfile.engine import permissions as perm
from cardfile.engine.catalog import Catalog
from cardfile.engine.query import COLUMNS, Condition, Query, run_query
from cardfile.errors import CardfileError
from cardfile.store import search as store

__all__ = ["COLUMNS", "Condition", "records_by_id", "search_records"]

MAX_PAGE = 500


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
    """Page ``page`` of the records of ``type_name`` as ``record_json`` (see ``Query``)."""
    q = Query(
        type_name, tuple(conditions), sort=sort, descending=descending, page=page, page_size=page_size,
        term=term,
    )  # fmt: skip
    return run_query(conn, catalog, q, principal).items


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
