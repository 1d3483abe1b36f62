"""Field defaults and mirrored fields (``cardfile.schema.defaults``), for every channel.

``default_ops`` adds, to a create, an op for each field with a ``default`` that no op of
the write names (an explicit ``clear`` counts as naming it: the caller asked for nothing).
``Engine._create`` calls it, so the native API, every dialect, batches, upserts that
create and validate-only writes all fill the same defaults. The ops go through the field
types like the caller's (``apply_ops(defaults=...)``), after the layout filter, on
read-only fields too: the engine sets them, not the caller.

``apply_mirrors`` runs inside ``apply_ops`` on every write: a field that mirrors another
takes the first item of it whenever the write touches that other field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from cardfile.engine import permissions as perm
from cardfile.engine.commands import Context, FieldOp
from cardfile.errors import FieldError
from cardfile.fieldtypes import registry
from cardfile.fieldtypes.base import InvalidValue
from cardfile.schema.model import FieldDef, RecordType, Schema, SchemaError
from cardfile.store import records as store

__all__ = ["apply_mirrors", "check_derived", "default_ops"]

_USER_TYPES = ("user", "multi_user")


class Catalog(Protocol):
    """What defaults read of ``engine.catalog.Catalog``: the live schema. A protocol, since the
    catalog imports this module (it checks defaults with ``check_derived``)."""

    def current(self, conn: Connection) -> Schema: ...


def default_ops(
    conn: Connection, catalog: Catalog, rt: RecordType, ops: Sequence[FieldOp], ctx: Context
) -> list[FieldOp]:
    """The ops that give a record created with ``ops`` its defaults.

    Args:
        conn: the write's connection (a copied default reads the linked record).
        catalog: the live schema (the linked record's type).
        rt: the record type created.
        ops: the caller's ops.
        ctx: who creates it (``from: creator`` is their user; nobody for the system).

    Returns:
        One op per default that applies, literals and the creator first, then copies.
    """
    named = {op.field for op in ops}
    out: list[FieldOp] = []
    uid = ctx.principal.user_id if ctx.principal is not None else None
    owner = rt.owner_field
    if owner and owner not in named and uid is not None and perm.restricted(ctx.principal, rt):
        out.append(_op(rt.fields[owner], uid))  # a standard user owns what they create
        named.add(owner)
    later: list[FieldDef] = []
    for fd in rt:
        d = fd.default
        if d is None or fd.name in named:
            continue
        if d.copied is not None:
            later.append(fd)
        elif d.from_creator:
            if uid is not None:
                out.append(_op(fd, uid))
        else:
            out.append(_op(fd, d.value))
    for fd in later:  # a copy may follow a link that a default set
        value = _copied(conn, catalog, rt, fd, [*ops, *out])
        if value is not None:
            out.append(_op(fd, value))
    return out


def _op(fd: FieldDef, value: Any) -> FieldOp:
    ft = registry.get(fd.type)
    if ft.multi:
        return FieldOp(fd.name, "replace", value if isinstance(value, list) else [value])
    return FieldOp(fd.name, "set", value)


def _copied(conn: Connection, catalog: Catalog, rt: RecordType, fd: FieldDef, ops: Iterable[FieldOp]) -> Any:
    """The JSON value of the linked record's field, or None (no link, no record, no value)."""
    assert fd.default is not None and fd.default.copied is not None
    link_name, name = fd.default.copied
    link = rt.fields.get(link_name)
    if link is None or link.target is None:
        return None
    ft = registry.get(link.type)
    target_id: Any = None
    try:  # the link's value as the write leaves it; a bad one is reported by apply_ops
        for op in ops:
            if op.field == link.name:
                target_id = ft.apply(target_id, op, link)
    except InvalidValue:
        return None
    if target_id is None:
        return None
    row = store.get_record(conn, link.target, target_id)
    if row is None or name not in row.data:
        return None  # check_links reports a link to no record
    target_type = catalog.current(conn).get(link.target)
    target = target_type.get(name) if target_type is not None else None
    if target is None:
        return None
    tft = registry.get(target.type)
    return tft.to_json(tft.from_storage(row.data[name], target), target)


def apply_mirrors(
    rt: RecordType, data: dict[str, Any], touched: list[str], bad: set[str]
) -> list[FieldError]:
    """Set each mirrored field whose source the write touched; the field errors, if any.

    ``data`` is in storage form and ``touched`` lists the fields the ops touched; both are
    updated in place. A mirror set from its source overrides an op on the mirror itself.
    """
    errors: list[FieldError] = []
    for fd in rt.mirrors:
        assert fd.mirror is not None
        source_name, _, column = fd.mirror.partition(".")
        source = rt.fields.get(source_name)
        if source is None or source_name not in touched or source_name in bad:
            continue
        sft = registry.get(source.type)
        items = (
            sft.to_json(sft.from_storage(data[source_name], source), source) if source_name in data else []
        )
        first = items[0] if isinstance(items, list) and items else None
        value = first.get(column) if column and isinstance(first, Mapping) else first
        ft = registry.get(fd.type)
        if value is None:
            data.pop(fd.name, None)
        else:
            try:
                parsed = ft.apply(ft.empty(fd), _op(fd, value), fd)
            except InvalidValue as exc:
                errors.extend(exc.to_field_errors(fd.name))
                continue
            errors.extend(ft.validate(parsed, fd))
            data[fd.name] = ft.to_storage(parsed, fd)
        if fd.name not in touched:
            touched.append(fd.name)
    return errors


def check_derived(rt: RecordType, types: Mapping[str, RecordType] | None = None) -> None:
    """Raise SchemaError unless every default and mirror of ``rt`` is usable."""
    for fd in rt:
        ft = registry.get(fd.type)
        d = fd.default
        if d is not None:
            if d.from_creator and fd.type not in _USER_TYPES:
                raise SchemaError(f"field {fd.name!r}: default from creator needs a user or multi_user field")
            if d.copied is not None:
                link_name, name = d.copied
                link = rt.fields.get(link_name)
                if link is None or link.type != "lookup":
                    raise SchemaError(
                        f"field {fd.name!r}: default from {d.source!r}: {link_name!r} is no lookup"
                    )
                target = (types or {}).get(link.target or "")
                if target is not None and name not in target.fields:
                    raise SchemaError(f"field {fd.name!r}: {link.target} has no field {name!r} to copy")
            if fd.type == "sub_records" and (d.copied is not None or d.from_creator):
                raise SchemaError(f"field {fd.name!r}: a sub-records field takes a literal default only")
            if d.source is None:
                try:
                    problems = [
                        e.message for e in ft.validate(ft.apply(ft.empty(fd), _op(fd, d.value), fd), fd)
                    ]
                except InvalidValue as exc:
                    problems = [exc.message]
                if problems:
                    raise SchemaError(f"field {fd.name!r}: default {d.value!r}: {problems[0]}")
        if fd.mirror is not None:
            source_name, _, column = fd.mirror.partition(".")
            source = rt.fields.get(source_name)
            ok = source is not None and source_name != fd.name and not ft.multi
            if ok and source is not None:
                if source.type == "sub_records":
                    ok = bool(column) and source.column(column) is not None
                else:
                    ok = not column and registry.get(source.type).multi
            if not ok:
                raise SchemaError(
                    f"field {fd.name!r}: mirror {fd.mirror!r} must name a multi-value field of {rt.name} "
                    "(or a sub-records field and its column), and the field itself holds one value"
                )
