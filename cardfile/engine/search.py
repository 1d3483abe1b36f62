"""Searching records a page at a time (what dialect searches such as Tracker's ``…/Search``
bodies compile into).

``search_records`` is a shorthand for ``engine.query.run_query`` with a numbered page:
one typed query serves the native listing and every dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from cardfile.auth.principal import Principal
from cardfile.engine.catalog import Catalog
from cardfile.engine.query import COLUMNS, Condition, Query, run_query

__all__ = ["COLUMNS", "Condition", "search_records"]

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
