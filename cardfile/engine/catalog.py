"""The live schema: packs installed into the database, plus custom fields added at runtime.

Every process keeps an immutable ``Schema`` snapshot and compares its version with the
database's on each request (one indexed read), so a field added through any process is
usable on the next request everywhere, and survives restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection

from cardfile.engine import uniques
from cardfile.engine.defaults import check_derived
from cardfile.errors import Conflict, FieldError, UnknownRecordType, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.fieldtypes.registry import UnknownFieldType
from cardfile.schema.conditions import Condition, ConditionError
from cardfile.schema.model import (
    SYSTEM_FIELDS,
    Check,
    FieldDef,
    RecordType,
    Schema,
    SchemaError,
    is_valid_name,
)
from cardfile.schema.packs import (
    Pack,
    parse_checks,
    parse_frozen_states,
    parse_layouts,
    parse_one_primary,
    parse_soft_delete,
)
from cardfile.store import schema_store
from cardfile.store.database import Database

__all__ = ["Catalog", "check_field"]

log = logging.getLogger("cardfile.catalog")

# Record types that links may point at besides the schema's own.
BUILTIN_TARGETS = frozenset({"users"})


def check_field(fd: FieldDef, types: Iterable[str], *, nested: bool = False) -> None:
    """Raise SchemaError unless the definition is usable."""
    if fd.name in SYSTEM_FIELDS:
        raise SchemaError(f"{fd.name!r} is a system field")
    try:
        registry.get(fd.type)
    except UnknownFieldType:
        raise SchemaError(
            f"field {fd.name!r}: unknown type {fd.type!r}; known: {', '.join(registry)}"
        ) from None
    if fd.type in ("lookup", "multi_lookup"):
        if not fd.target or (fd.target not in types and fd.target not in BUILTIN_TARGETS):
            raise SchemaError(f"field {fd.name!r}: 'target' must name a record type")
    if fd.type in ("single_select", "radio", "multi_select", "checkbox", "keyed_text") and not fd.options:
        raise SchemaError(f"field {fd.name!r}: a {fd.type} field needs options")
    if fd.type == "sub_records":
        if nested:
            raise SchemaError(f"field {fd.name!r}: sub-records cannot nest")
        if not fd.fields:
            raise SchemaError(f"field {fd.name!r}: sub_records needs 'fields' (its columns)")
        for col in fd.fields:
            if col.name == "id":
                raise SchemaError(f"field {fd.name!r}: 'id' is the row id, not a column")
            check_field(col, types, nested=True)
        if fd.upsert_by is not None and fd.column(fd.upsert_by) is None:
            raise SchemaError(f"field {fd.name!r}: upsert_by must name one of its columns")
    elif fd.upsert_by is not None:
        raise SchemaError(f"field {fd.name!r}: only sub_records fields take upsert_by")
    if fd.unique and registry.get(fd.type).multi:
        raise SchemaError(f"field {fd.name!r}: only single-value fields can be unique")
    if fd.max_items is not None and not registry.get(fd.type).multi:
        raise SchemaError(f"field {fd.name!r}: only multi-value fields take max_items")
    if fd.refuse_locked and (nested or fd.type not in ("lookup", "multi_lookup", "sub_records")):
        raise SchemaError(
            f"field {fd.name!r}: refuse_locked is for link fields (on a sub_records field, not its columns)"
        )


def type_to_definition(rt: RecordType) -> dict[str, Any]:
    out: dict[str, Any] = {
        "label": rt.label,
        "fields": [f.to_json() for f in rt.fields.values()],
        "owner_field": rt.owner_field,
        "follower_field": rt.follower_field,
        "restrict_to_owners": rt.restrict_to_owners,
    }
    out.update(rt.rules_json())
    return out


def type_from_definition(name: str, d: Mapping[str, Any], pack: str | None) -> RecordType:
    fields = {}
    for fj in d.get("fields", ()):
        fd = FieldDef.from_json(fj)
        fields[fd.name] = fd
    return RecordType(
        name=name,
        label=str(d.get("label") or ""),
        fields=fields,
        pack=pack,
        owner_field=d.get("owner_field"),
        follower_field=d.get("follower_field"),
        restrict_to_owners=bool(d.get("restrict_to_owners", False)),
        unique_together=tuple(tuple(g) for g in d.get("unique_together") or ()),
        layouts=parse_layouts(d.get("layouts"), fields, name),
        checks=parse_checks(d.get("checks"), fields, name),
        frozen_states=parse_frozen_states(d.get("frozen_states"), fields, name),
        soft_delete=parse_soft_delete(d.get("soft_delete"), fields, name),
        one_primary=parse_one_primary(d.get("one_primary"), fields, name),
        system_flag=d.get("system_flag"),
    )


def check_conditions(type_name: str, check: Check) -> None:
    """A check's conditions are automation conditions; raise SchemaError unless valid."""
    try:
        for c in (*check.when, *check.require):
            Condition.from_json(c)
    except ConditionError as exc:
        raise SchemaError(f"{type_name}: check {check.name!r}: {exc}") from None


class Catalog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._schema = Schema(version=-1)
        self._lock = threading.Lock()

    def current(self, conn: Connection) -> Schema:
        """The schema as of this transaction; reloads only when its version moved."""
        version = schema_store.read_schema_version(conn)
        snap = self._schema
        if snap.version == version:
            return snap
        types = {n: type_from_definition(n, d, p) for n, d, p in schema_store.load_type_rows(conn)}
        snap = Schema(types=types, version=version)
        with self._lock:
            if self._schema.version < snap.version:
                self._schema = snap
        return snap

    def record_type(self, conn: Connection, name: str) -> RecordType:
        rt = self.current(conn).get(name)
        if rt is None:
            raise UnknownRecordType(f"no record type {name!r}")
        return rt

    def install(self, packs: Iterable[Pack]) -> None:
        """Install or refresh pack types; custom fields added at runtime are kept."""
        packs = list(packs)
        with self.db.write() as conn:
            existing = self.current(conn)
            names = set(existing.types) | {t.name for p in packs for t in p.types}
            for pack in packs:
                for rt in pack.types:
                    for fd in rt:
                        check_field(fd, names)
                    for group in rt.unique_together:
                        if any(registry.get(rt.fields[n].type).multi for n in group):
                            raise SchemaError(f"{rt.name}: unique_together takes single-value fields only")
                    for check in rt.checks:
                        check_conditions(rt.name, check)
                    check_derived(rt, {**existing.types, **{t.name: t for p in packs for t in p.types}})
                    old = existing.get(rt.name)
                    custom = [f for f in old if f.custom and f.name not in rt.fields] if old else []
                    merged = replace(rt, fields={**rt.fields, **{f.name: f for f in custom}}, pack=pack.name)
                    if old is None or type_to_definition(old) != type_to_definition(merged):
                        schema_store.save_type(conn, rt.name, type_to_definition(merged), pack.name)
                    if old is not None:  # a group new to a type: claims for the records stored before it
                        for group in (g for g in rt.unique_together if g not in old.unique_together):
                            dup = uniques.backfill_group(conn, merged, group)
                            if dup:
                                log.warning("%s: records %s repeat values of %s", rt.name, dup[:20], group)
            schema_store.bump_schema_version(conn)
            self.current(conn)

    def add_field(self, type_name: str, data: Mapping[str, Any], conn: Connection | None = None) -> FieldDef:
        """Add a custom field to a type; usable on the next request, in every process."""
        with self.db.using(conn, write=True) as conn:
            rt = self.record_type(conn, type_name)
            try:
                fd = FieldDef.from_json({**data, "custom": True}, custom=True)
                check_field(fd, self.current(conn).types)
            except SchemaError as exc:
                raise ValidationFailed(
                    [FieldError(str(data.get("name", "")), "INVALID_FIELD", str(exc))]
                ) from exc
            if fd.name in rt.fields:
                raise Conflict(f"{type_name} already has a field {fd.name!r}")
            try:
                check_derived(rt.with_field(fd), self.current(conn).types)
            except SchemaError as exc:
                raise ValidationFailed([FieldError(fd.name, "INVALID_FIELD", str(exc))]) from exc
            if fd.required:
                # existing records have no value, so a new field cannot start out required
                raise ValidationFailed(
                    [FieldError(fd.name, "INVALID_FIELD", "a field added at runtime cannot be required")]
                )
            new = rt.with_field(fd)
            schema_store.save_type(conn, type_name, type_to_definition(new), rt.pack)
            schema_store.bump_schema_version(conn)
        return fd

    def add_type(self, rt: RecordType, conn: Connection | None = None) -> RecordType:
        """Create a record type at runtime (e.g. a custom object); its fields are custom."""
        with self.db.using(conn, write=True) as conn:
            types = self.current(conn).types
            if not is_valid_name(rt.name):
                raise ValidationFailed(
                    [FieldError("name", "INVALID_NAME", f"{rt.name!r} must be lower_snake (a-z, 0-9, _)")]
                )
            if rt.name in types:
                raise Conflict(f"a record type {rt.name!r} exists")
            fields = {n: replace(f, custom=True) for n, f in rt.fields.items()}
            rt = replace(rt, fields=fields)
            errors = []
            for fd in rt:
                try:
                    check_field(fd, {*types, rt.name})
                except SchemaError as exc:
                    errors.append(FieldError(fd.name, "INVALID_FIELD", str(exc)))
            try:
                if not errors:
                    check_derived(rt, {**types, rt.name: rt})
            except SchemaError as exc:
                errors.append(FieldError("fields", "INVALID_FIELD", str(exc)))
            if errors:
                raise ValidationFailed(errors)
            schema_store.save_type(conn, rt.name, type_to_definition(rt), rt.pack)
            schema_store.bump_schema_version(conn)
        return rt
