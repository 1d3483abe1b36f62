"""SQL for searching records: a full-text term, typed filters, one sort key, page offsets.

The full-text term matches the *search text* of a record: the values of its name-like
fields (``SEARCH_KEYS``), split on every character that is not a letter or a digit. On
SQLite it is an FTS5 table kept by triggers (migration 0004); on PostgreSQL a GIN index on
``to_tsvector('simple', …)`` of the same text. Each word of the term must prefix-match a
word of the text (``"john do"`` finds John Doe), case- and accent-insensitively on SQLite,
case-insensitively on PostgreSQL.

Filters are ``store.query.Filter`` on fields of the record document, or on the system
columns ``id``, ``created_at`` and ``modified_at`` (kind ``column``, integer microseconds).
Pages are ``ORDER BY <sort>, id`` with an offset (stable as long as the data does not change)
or after a keyset cursor.
"""

from __future__ import annotations

import re
from typing import Any
from typing import cast as tcast

from sqlalchemy import ColumnElement, and_, func, or_, select, text
from sqlalchemy.engine import Connection, Row

from cardfile.store import tables
from cardfile.store.query import Filter, Sort, _after, _compare, _condition, _expr, _list_contains

__all__ = [
    "SEARCH_KEYS",
    "count_records",
    "fts_terms",
    "pg_search_text",
    "search_records",
    "sqlite_search_text",
]

R = tables.records

# The record fields whose values make a record's search text (any type that has them).
# The index (migration 0004) is built from this list: changing it needs a new migration.
SEARCH_KEYS = (
    "name",
    "first_name",
    "surname",
    "last_name",
    "preferred_name",
    "display_as",
    "nickname",
    "company",
    "email",
    "job_title",
    "subject",
    "activity_name",
    "username",
    "full_name",
    "project_code",
    "internal_reference",
    "invoice_number",
    "partner_record_id",
)
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8


def sqlite_search_text(doc: str) -> str:
    parts = " || ' ' || ".join(f"coalesce(json_extract({doc}, '$.{k}'), '')" for k in SEARCH_KEYS)
    return f"({parts})"


def pg_search_text(doc: str) -> str:
    parts = " || ' ' || ".join(f"coalesce({doc} ->> '{k}', '')" for k in SEARCH_KEYS)
    return f"regexp_replace(lower({parts}), '[^[:alnum:]]+', ' ', 'g')"


def fts_terms(term: str) -> list[str]:
    """The words of a search term (lower case, at most ``MAX_TERMS``)."""
    return [w.lower().replace("_", "") for w in _WORD.findall(term)][:MAX_TERMS]


def _match(conn: Connection, words: list[str]) -> ColumnElement[bool]:
    if conn.dialect.name == "postgresql":
        query = " & ".join(f"{w}:*" for w in words)
        cond = text(
            f"to_tsvector('simple'::regconfig, {pg_search_text('records.data')}) "
            "@@ to_tsquery('simple'::regconfig, :fts_query)"
        ).bindparams(fts_query=query)
        return tcast("ColumnElement[bool]", cond)
    query = " ".join(f'"{w}"*' for w in words)
    cond = text("records.id IN (SELECT rowid FROM record_search WHERE record_search MATCH :fts_query)")
    return tcast("ColumnElement[bool]", cond.bindparams(fts_query=query))


def _filter(conn: Connection, f: Filter) -> ColumnElement[bool]:
    if f.kind == "column":
        col = R.c[f.field]
        return tcast("ColumnElement[bool]", _compare(col, f.op, f.value))
    if f.kind == "text" and f.op == "ieq":  # case-insensitive equality
        return tcast("ColumnElement[bool]", _expr(f.field, "text").ilike(_escape(str(f.value)), escape="\\"))
    if f.kind == "list" and f.op == "any":  # holds any of the values
        return or_(*[_list_contains(conn, f.field, v) for v in f.value])
    return _condition(conn, f)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(
    conn: Connection,
    type_name: str,
    filters: list[Filter],
    term: str | None,
    visible_to: tuple[str | None, str | None, int] | None,
) -> ColumnElement[bool] | None:
    """The WHERE of a search; None when the term has no words (it matches nothing)."""
    conds: list[ColumnElement[bool]] = [R.c.type == type_name]
    conds.extend(_filter(conn, f) for f in filters)
    if term is not None:
        words = fts_terms(term)
        if not words:
            return None
        conds.append(_match(conn, words))
    if visible_to is not None:
        owner, follower, uid = visible_to
        seen = [_expr(owner, "number") == uid] if owner else []
        if follower:
            seen.append(_list_contains(conn, follower, uid))
        conds.append(or_(*seen) if seen else R.c.id < 0)
    return and_(*conds)


def search_records(
    conn: Connection,
    type_name: str,
    filters: list[Filter],
    sort: Sort,
    *,
    term: str | None,
    offset: int,
    limit: int,
    visible_to: tuple[str | None, str | None, int] | None = None,
    after: tuple[Any, int] | None = None,
) -> list[Row[Any]]:
    """One page of matching records; a term without words matches nothing.

    ``after`` = (sort value, id) of the last record of the previous page: a keyset cursor,
    which (unlike an offset) stays exact while records are added or removed."""
    where = _where(conn, type_name, filters, term, visible_to)
    if where is None:
        return []
    q = select(R).where(where)
    idcol = R.c.id
    if sort.field is None:
        if after is not None:
            q = q.where(idcol < after[1] if sort.desc else idcol > after[1])
        q = q.order_by(idcol.desc() if sort.desc else idcol.asc())
    else:
        e = R.c[sort.field] if sort.kind == "column" else _expr(sort.field, sort.kind)
        if after is not None:
            q = q.where(_after(e, sort.desc, after))
        if sort.desc:
            q = q.order_by(e.desc().nulls_last(), idcol.desc())
        else:
            q = q.order_by(e.asc().nulls_first(), idcol.asc())
    return list(conn.execute(q.offset(offset).limit(limit)).all())


def count_records(
    conn: Connection,
    type_name: str,
    filters: list[Filter],
    *,
    term: str | None = None,
    visible_to: tuple[str | None, str | None, int] | None = None,
) -> int:
    """How many records ``search_records`` would return over all its pages."""
    where = _where(conn, type_name, filters, term, visible_to)
    if where is None:
        return 0
    return int(conn.execute(select(func.count()).select_from(R).where(where)).scalar_one())


def rows_by_id(conn: Connection, ids: list[int]) -> list[Any]:
    """``(id, type, data)`` of the records with these ids, of any type."""
    if not ids:
        return []
    return list(conn.execute(select(R.c.id, R.c.type, R.c.data).where(R.c.id.in_(ids))).all())
