"""Bulk import: many new records validated by the field types, written with executemany.

The same rules as ``Engine.create`` (every op through its field type, field defaults,
required and unique checks, history row and outbox event per record) at a fraction of the cost, for
loading data sets and demo data. Links are not checked here: imports may load both
ends of a link in any order, and no automation rule runs. The history rows and events are
the engine's (``engine/events.py``), equal to those of ``Engine.create`` for the same data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from cardfile.engine.apply import apply_ops, diff
from cardfile.engine.commands import Context, ops_from_json
from cardfile.engine.defaults import default_ops
from cardfile.engine.events import change_events, write_events
from cardfile.engine.uniques import bounded, composite_key
from cardfile.engine.update import Engine
from cardfile.errors import Duplicate, FieldError, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.store import tables
from cardfile.store.clock import now_us

__all__ = ["import_records"]


def import_records(
    engine: Engine, type_name: str, bodies: Iterable[Mapping[str, Any]], ctx: Context, *, chunk: int = 2000
) -> int:
    """Insert all or nothing; returns how many records were created."""
    total = 0
    with engine.db.write() as conn:
        rt = engine.catalog.record_type(conn, type_name)
        multi = frozenset(f.name for f in rt if registry.get(f.type).multi or f.type == "sub_records")
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            at = now_us()
            rows = [
                {"type": type_name, "version": 1, "data": d, "created_at": at, "created_by": ctx.actor,
                 "modified_at": at, "modified_by": ctx.actor}
                for d in batch
            ]  # fmt: skip
            ids = (
                conn.execute(
                    insert(tables.records).returning(tables.records.c.id, sort_by_parameter_order=True), rows
                )
                .scalars()
                .all()
            )
            uniques = []
            for rid, data in zip(ids, batch, strict=True):
                for fd in rt:
                    if fd.unique and fd.name in data:
                        key = registry.get(fd.type).unique_key(data[fd.name], fd)
                        if key is not None:
                            uniques.append({"record_type": type_name, "field": fd.name, "value": bounded(key),
                                            "record_id": rid})  # fmt: skip
                for group in rt.unique_together:
                    ckey = composite_key(rt, group, data)
                    if ckey is not None:
                        uniques.append({"record_type": type_name, "field": "+".join(group),
                                        "value": bounded(ckey), "record_id": rid})  # fmt: skip
            if uniques:
                seen = {(u["field"], u["value"]) for u in uniques}
                if len(seen) != len(uniques):
                    raise Duplicate("the import repeats a unique value")
                try:
                    with conn.begin_nested():
                        conn.execute(insert(tables.unique_values), uniques)
                except IntegrityError:
                    raise Duplicate("the import holds a unique value that another record has") from None
            # the same history rows and events as Engine.create writes for the same data
            names = [f.name for f in rt]
            items = [
                (rid, 1, diff(rt, {}, d, [n for n in names if n in d]))
                for rid, d in zip(ids, batch, strict=True)
            ]
            write_events(conn, change_events(type_name, items, "create", ctx, at))
            batch.clear()

        for i, body in enumerate(bodies):
            try:
                ops = ops_from_json(body, multi_fields=multi)
                filled = default_ops(conn, engine.catalog, rt, ops, ctx)
                applied = apply_ops(rt, {}, ops, creating=True, defaults=filled)
            except ValidationFailed as exc:
                raise ValidationFailed(
                    [FieldError(f"[{i}].{e.field}", e.code, e.message) for e in exc.errors]
                ) from None
            batch.append(applied.data)
            total += 1
            if len(batch) >= chunk:
                flush()
        if batch:
            flush()
    return total
