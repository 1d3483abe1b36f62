"""SQL for listing records: filters on JSON fields, one sort key plus id, keyset cursors.

Field values are read out of the record document with SQLAlchemy's JSON index
operators, which render ``json_extract`` on SQLite and ``->>`` with a cast on
PostgreSQL, so one query serves both engines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import cast as tcast

from sqlalchemy import ColumnElement, and_, exists, literal, not_, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql import func

from cardfile.store import tables

__all__ = ["Filter", "Sort", "count_records", "list_records"]

R = tables.records


@dataclass(frozen=True)
class Filter:
    field: str
    kind: str  # the field type's sql_kind: text, number, bool, list
    op: str  # eq ne lt lte gt gte contains in isnull
    value: Any


@dataclass(frozen=True)
class Sort:
    field: str | None  # None: by id
    kind: str
    desc: bool = False


def _expr(field: str, kind: str) -> ColumnElement[Any]:
    item = R.c.data[field]
    if kind == "number":
        return tcast("ColumnElement[Any]", item.as_float())
    if kind == "bool":
        return tcast("ColumnElement[Any]", item.as_boolean())
    return tcast("ColumnElement[Any]", item.as_string())


def _list_contains(conn: Connection, field: str, value: Any) -> ColumnElement[bool]:
    if conn.dialect.name == "postgresql":
        return type_coerce(R.c.data, JSONB)[field].contains([value])
    je = func.json_each(R.c.data, f'$."{field}"').table_valued("value")
    return exists(select(literal(1)).select_from(je).where(je.c.value == value))


def _condition(conn: Connection, f: Filter) -> ColumnElement[bool]:
    if f.op == "isnull":
        present = R.c.data[f.field].as_string().is_not(None) if f.kind != "list" else _nonempty(conn, f.field)
        return not_(present) if f.value else present
    if f.kind == "list":
        if f.op == "in":
            return or_(*[_list_contains(conn, f.field, v) for v in f.value])
        cond = _list_contains(conn, f.field, f.value)
        if f.op == "ne":  # as for single values, a record without the field qualifies too
            return or_(not_(cond), R.c.data[f.field].as_string().is_(None))
        return cond
    return tcast("ColumnElement[bool]", _compare(_expr(f.field, f.kind), f.op, f.value))


def _compare(e: ColumnElement[Any], op: str, value: Any) -> Any:
    match op:
        case "eq":
            return e == value
        case "ne":
            return or_(e != value, e.is_(None))
        case "lt":
            return e < value
        case "lte":
            return e <= value
        case "gt":
            return e > value
        case "gte":
            return e >= value
        case "in":
            return e.in_(list(value))
        case "contains":
            pattern = "%" + str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            return e.ilike(pattern, escape="\\")
    raise ValueError(f"unknown filter op {op}")


def _nonempty(conn: Connection, field: str) -> ColumnElement[bool]:
    # An empty list is stored as an absent key, whose array length is NULL: count it as 0.
    # (cast("[]", JSONB) would bind the JSON string "[]", a scalar, not an empty array.)
    if conn.dialect.name == "postgresql":
        doc = type_coerce(R.c.data, JSONB)[field]
        return func.coalesce(func.jsonb_array_length(doc), 0) > 0
    return func.coalesce(func.json_array_length(R.c.data, f'$."{field}"'), 0) > 0


def _where(conn: Connection, type_name: str, filters: list[Filter]) -> ColumnElement[bool]:
    return and_(R.c.type == type_name, *[_condition(conn, f) for f in filters])


def list_records(
    conn: Connection,
    type_name: str,
    filters: list[Filter],
    sort: Sort,
    *,
    after: tuple[Any, int] | None,
    limit: int,
    visible_to: tuple[str | None, str | None, int] | None = None,
) -> list[Row[Any]]:
    """Nulls sort first ascending (last descending) on both engines.

    ``visible_to`` = (owner field, follower field, user id) keeps only the records that
    user owns or follows."""
    q = select(R).where(_where(conn, type_name, filters))
    if visible_to is not None:
        owner, follower, uid = visible_to
        seen = [_expr(owner, "number") == uid] if owner else []
        if follower:
            seen.append(_list_contains(conn, follower, uid))
        q = q.where(or_(*seen)) if seen else q.where(R.c.id < 0)
    idcol = R.c.id
    if sort.field is None:
        if after is not None:
            q = q.where(idcol < after[1] if sort.desc else idcol > after[1])
        q = q.order_by(idcol.desc() if sort.desc else idcol.asc())
    else:
        e = _expr(sort.field, sort.kind)
        if after is not None:
            q = q.where(_after(e, sort.desc, after))
        if sort.desc:
            q = q.order_by(e.desc().nulls_last(), idcol.desc())
        else:
            q = q.order_by(e.asc().nulls_first(), idcol.asc())
    return list(conn.execute(q.limit(limit)).all())


def _after(e: ColumnElement[Any], desc: bool, after: tuple[Any, int]) -> ColumnElement[bool]:
    value, last_id = after
    if not desc:
        if value is None:
            return or_(and_(e.is_(None), R.c.id > last_id), e.is_not(None))
        return or_(e > value, and_(e == value, R.c.id > last_id))
    if value is None:
        return and_(e.is_(None), R.c.id < last_id)
    return or_(e < value, and_(e == value, R.c.id < last_id), e.is_(None))


def count_records(conn: Connection, type_name: str, filters: list[Filter]) -> int:
    q = select(func.count()).select_from(R).where(_where(conn, type_name, filters))
    return int(conn.execute(q).scalar_one())
