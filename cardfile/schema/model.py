"""Record types and field definitions: the data model every other part reads.

Pure data: no HTTP, no SQL. A ``FieldDef`` names its field type by string; the type's
behaviour lives in ``cardfile.fieldtypes`` and is looked up through the registry.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from cardfile.schema.defaults import FieldDefault, parse_mirror

__all__ = [
    "SYSTEM_FIELDS",
    "Check",
    "FieldDef",
    "FrozenState",
    "Layout",
    "OnePrimary",
    "Option",
    "RecordType",
    "Schema",
    "SchemaError",
    "SoftDelete",
    "is_valid_name",
]

# Read-only everywhere; stored as columns, never inside the record document.
SYSTEM_FIELDS: tuple[str, ...] = (
    "id",
    "version",
    "created_at",
    "created_by",
    "modified_at",
    "modified_by",
)

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def is_valid_name(name: str) -> bool:
    """Type and field names are API: lower_snake, starting with a letter."""
    return bool(_NAME.match(name))


class SchemaError(ValueError):
    """A pack or a runtime field definition is inconsistent."""


@dataclass(frozen=True)
class Option:
    key: str
    label: str


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    label: str = ""
    required: bool = False
    unique: bool = False
    read_only: bool = False
    max_length: int | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    options: tuple[Option, ...] = ()
    target: str | None = None  # lookup / multi_lookup: the record type linked to
    fields: tuple[FieldDef, ...] = ()  # sub_records: the columns of each row
    default_currency: str | None = None  # money
    custom: bool = False  # added at runtime through the metadata API
    admin_only: bool = False  # only admins may write it
    max_items: int | None = None  # multi-value fields: the most items the field may hold
    default: FieldDefault | None = None  # what a record created without the field holds
    mirror: str | None = None  # "<field>[.<column>]": holds the first item of that field
    refuse_locked: bool = False  # link fields: a write may not add a link to a locked record
    upsert_by: str | None = None  # sub_records: the column rows are matched on (one row per value)
    # lookup / multi_lookup: the targets a link may name, as (target field, value) pairs
    # every linked record must match (``target_where: {list: territory}``); the engine checks
    target_where: tuple[tuple[str, Any], ...] = ()

    @property
    def option_keys(self) -> frozenset[str]:
        return frozenset(o.key for o in self.options)

    def option_by_label(self, label: str) -> Option | None:
        low = label.strip().lower()
        return next((o for o in self.options if o.label.lower() == low), None)

    def column(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "label": self.label or self.name}
        for flag in ("required", "unique", "read_only", "custom", "admin_only", "refuse_locked"):
            if getattr(self, flag):
                out[flag] = True
        if self.max_length is not None:
            out["max_length"] = self.max_length
        if self.min is not None:
            out["min"] = _num(self.min)
        if self.max is not None:
            out["max"] = _num(self.max)
        if self.options:
            out["options"] = [{"key": o.key, "label": o.label} for o in self.options]
        if self.target:
            out["target"] = self.target
        if self.fields:
            out["fields"] = [f.to_json() for f in self.fields]
        if self.default_currency:
            out["default_currency"] = self.default_currency
        if self.max_items is not None:
            out["max_items"] = self.max_items
        if self.default is not None:
            out["default"] = self.default.to_json()
        if self.mirror is not None:
            out["mirror"] = self.mirror
        if self.upsert_by:
            out["upsert_by"] = self.upsert_by
        if self.target_where:
            out["target_where"] = dict(self.target_where)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, custom: bool = False) -> FieldDef:
        """Build from a pack entry or a metadata API body; raises SchemaError."""
        if not isinstance(data, Mapping):
            raise SchemaError("a field definition must be an object")
        known = {
            "name", "type", "label", "required", "unique", "read_only", "max_length",
            "min", "max", "options", "target", "fields", "default_currency", "custom", "admin_only",
            "max_items", "refuse_locked", "upsert_by", "target_where",
        }  # fmt: skip
        known |= {"default", "mirror"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SchemaError(f"unknown field attribute(s): {', '.join(unknown)}")
        name = data.get("name")
        ftype = data.get("type")
        if not isinstance(name, str) or not is_valid_name(name):
            raise SchemaError(f"field name {name!r} must be lower_snake (a-z, 0-9, _)")
        if not isinstance(ftype, str):
            raise SchemaError(f"field {name!r}: 'type' is required")
        opts: list[Option] = []
        for o in data.get("options") or ():
            if isinstance(o, str):
                opts.append(Option(o, o.replace("_", " ").replace("-", " ").title()))
            elif isinstance(o, Mapping) and isinstance(o.get("key"), str):
                opts.append(Option(o["key"], str(o.get("label") or o["key"])))
            else:
                raise SchemaError(f"field {name!r}: an option is a key or {{key, label}}")
        if len({o.key for o in opts}) != len(opts):
            raise SchemaError(f"field {name!r}: option keys must be unique")
        sub = tuple(FieldDef.from_json(f, custom=custom) for f in data.get("fields") or ())
        try:
            fd = cls(
                name=name,
                type=ftype,
                label=str(data.get("label") or ""),
                required=bool(data.get("required", False)),
                unique=bool(data.get("unique", False)),
                read_only=bool(data.get("read_only", False)),
                max_length=_opt_int(data.get("max_length")),
                min=_opt_dec(data.get("min")),
                max=_opt_dec(data.get("max")),
                options=tuple(opts),
                target=data.get("target"),
                fields=sub,
                default_currency=data.get("default_currency"),
                custom=custom or bool(data.get("custom", False)),
                admin_only=bool(data.get("admin_only", False)),
                max_items=_opt_int(data.get("max_items"), "max_items"),
                default=FieldDefault.from_json(data.get("default")),
                mirror=parse_mirror(data.get("mirror")),
                refuse_locked=bool(data.get("refuse_locked", False)),
                upsert_by=data.get("upsert_by"),
                target_where=_target_where(data.get("target_where"), ftype),
            )
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise SchemaError(f"field {name!r}: {exc}") from exc
        return fd


def _opt_int(v: Any, what: str = "max_length") -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{what} must be a positive integer")
    return v


def _target_where(raw: Any, ftype: str) -> tuple[tuple[str, Any], ...]:
    """``{field: value}``: each linked record's ``field`` must equal ``value``."""
    if raw is None:
        return ()
    if ftype not in ("lookup", "multi_lookup"):
        raise ValueError("target_where applies to lookup and multi_lookup fields")
    ok = (
        isinstance(raw, Mapping)
        and raw
        and all(
            isinstance(k, str) and is_valid_name(k) and isinstance(v, str | int | bool)
            for k, v in raw.items()
        )
    )
    if not ok:
        raise ValueError("target_where maps target field names to a text, number or boolean value")
    return tuple(sorted(raw.items()))


def _opt_dec(v: Any) -> Decimal | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ValueError("min/max must be numbers")
    return Decimal(str(v))


def _num(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


@dataclass(frozen=True)
class Layout:
    """A layout of a record type: the fields it holds (empty: all) and those it makes
    mandatory. A write that names the layout ignores fields outside it and must leave every
    mandatory one with a value (Zoho's layouts with layout-specific mandatory fields)."""

    name: str
    fields: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"fields": list(self.fields), "required": list(self.required)}

    @classmethod
    def from_json(cls, name: str, data: Any, fields: Mapping[str, FieldDef]) -> Layout:
        if not is_valid_name(name) or not isinstance(data, Mapping):
            raise SchemaError(f"layout {name!r}: a lower_snake name with {{fields, required}}")
        names = {k: data.get(k) or [] for k in ("fields", "required")}
        for key, value in names.items():
            if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                raise SchemaError(f"layout {name!r}: {key} is a list of field names")
            unknown = [n for n in value if n not in fields]
            if unknown:
                raise SchemaError(f"layout {name!r}: unknown field(s) {', '.join(unknown)}")
        if names["fields"] and not set(names["required"]) <= set(names["fields"]):
            raise SchemaError(f"layout {name!r}: a required field must be one of its fields")
        return cls(name, tuple(names["fields"]), tuple(names["required"]))


@dataclass(frozen=True)
class Check:
    """A rule between fields, checked on every write that touches one of them: when every
    ``when`` condition holds, every ``require`` condition must hold too, else the write
    fails with ``code`` on ``field``. Conditions are written as automation rules' are
    (``{field: call_type, in: [Inbound, Outbound]}``) and are checked by the engine."""

    name: str
    field: str
    when: tuple[Mapping[str, Any], ...]
    require: tuple[Mapping[str, Any], ...]
    code: str = "CHECK_FAILED"
    message: str = ""

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(str(c.get("field")) for c in (*self.when, *self.require)) | {self.field}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "field": self.field, "when": [dict(c) for c in self.when],
                               "require": [dict(c) for c in self.require], "code": self.code}  # fmt: skip
        if self.message:
            out["message"] = self.message
        return out

    @classmethod
    def from_json(cls, data: Any, fields: Mapping[str, FieldDef]) -> Check:
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
            raise SchemaError("a check is an object with name, field, when, require")
        name = data["name"]
        when, require = data.get("when") or [], data.get("require")
        if not isinstance(when, list) or not isinstance(require, list) or not require:
            raise SchemaError(f"check {name!r}: when and require are lists of conditions")
        if not all(isinstance(c, Mapping) for c in (*when, *require)):
            raise SchemaError(f"check {name!r}: a condition is an object like {{field: x, equals: y}}")
        code = data.get("code", "CHECK_FAILED")
        if not isinstance(code, str) or not code.replace("_", "").isalnum() or not code.isupper():
            raise SchemaError(f"check {name!r}: code is UPPER_SNAKE")
        check = cls(name, str(data.get("field") or ""), tuple(when), tuple(require), code,
                    str(data.get("message") or ""))  # fmt: skip
        unknown = sorted(n for n in check.fields if n not in fields)
        if unknown:
            raise SchemaError(f"check {name!r}: unknown field(s) {', '.join(unknown)}")
        return check


@dataclass(frozen=True)
class FrozenState:
    """A state of a record that refuses changes: while the record's ``field`` holds one of
    ``values``, an update that touches a field outside ``allow`` is refused (without
    ``allow``, every update is), and so is a delete when ``refuse`` names it. With
    ``allow_on_exit`` an update that takes the record out of the state (sets ``field`` to
    a value not in ``values``) may change anything along with it: a restore. Checked by
    the engine (``engine/states.py``) on the locked current row, for every channel."""

    name: str
    field: str
    values: tuple[Any, ...]
    allow: tuple[str, ...] = ()
    allow_on_exit: bool = False
    refuse: tuple[str, ...] = ("update",)
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "field": self.field, "in": list(self.values),
                               "refuse": list(self.refuse)}  # fmt: skip
        if self.allow:
            out["allow"] = list(self.allow)
        if self.allow_on_exit:
            out["allow_on_exit"] = True
        if self.message:
            out["message"] = self.message
        return out

    @classmethod
    def from_json(cls, data: Any, fields: Mapping[str, FieldDef]) -> FrozenState:
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
            raise SchemaError("a frozen state is an object with name, field, in")
        name = data["name"]
        unknown_keys = sorted(
            set(data) - {"name", "field", "in", "allow", "allow_on_exit", "refuse", "message"}
        )
        if unknown_keys:
            raise SchemaError(f"frozen state {name!r}: unknown key(s) {', '.join(unknown_keys)}")
        if not is_valid_name(name):
            raise SchemaError(f"frozen state {name!r}: the name is lower_snake")
        fname = data.get("field")
        if not isinstance(fname, str) or fname not in fields:
            raise SchemaError(f"frozen state {name!r}: field must name a field of the type")
        values = data.get("in")
        if not isinstance(values, list) or not values or any(isinstance(v, list | dict) for v in values):
            raise SchemaError(f"frozen state {name!r}: 'in' is a list of values")
        keys = fields[fname].option_keys
        if keys and not set(values) <= keys:
            raise SchemaError(f"frozen state {name!r}: 'in' names options of {fname!r}")
        allow, refuse = data.get("allow") or [], data.get("refuse") or ["update"]
        if not isinstance(allow, list) or any(a not in fields for a in allow):
            raise SchemaError(f"frozen state {name!r}: allow lists fields of the type")
        if not isinstance(refuse, list) or not set(refuse) <= {"update", "delete"}:
            raise SchemaError(f"frozen state {name!r}: refuse lists update and/or delete")
        return cls(name, fname, tuple(values), tuple(allow), bool(data.get("allow_on_exit", False)),
                   tuple(refuse), str(data.get("message") or ""))  # fmt: skip


@dataclass(frozen=True)
class SoftDelete:
    """A type whose delete marks the record deleted (sets the boolean ``field``) instead of
    erasing it; a delete asked to cascade deletes, too, the records that the link fields
    in ``cascade`` point at (soft or hard, as their own type says; one level deep)."""

    field: str
    cascade: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "cascade": list(self.cascade)}

    @classmethod
    def from_json(cls, data: Any, fields: Mapping[str, FieldDef]) -> SoftDelete:
        if not isinstance(data, Mapping) or set(data) - {"field", "cascade"}:
            raise SchemaError("soft_delete is {field, cascade}")
        fd = fields.get(str(data.get("field")))
        if fd is None or fd.type != "boolean":
            raise SchemaError("soft_delete: field must name a boolean field of the type")
        cascade = data.get("cascade") or []
        links = {"lookup", "multi_lookup", "sub_records"}
        if not isinstance(cascade, list) or any(
            c not in fields or fields[c].type not in links for c in cascade
        ):
            raise SchemaError("soft_delete: cascade lists link fields (lookup, multi_lookup, sub_records)")
        return cls(fd.name, tuple(cascade))


@dataclass(frozen=True)
class OnePrimary:
    """At most one record of a group is primary: when a write leaves ``flag`` true on a
    record, the engine sets it false on every other record with the same values of the
    ``per`` fields, in the same transaction (a Tracker record's primary document)."""

    flag: str
    per: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"flag": self.flag, "per": list(self.per)}

    @classmethod
    def from_json(cls, data: Any, fields: Mapping[str, FieldDef]) -> OnePrimary:
        if not isinstance(data, Mapping) or set(data) != {"flag", "per"}:
            raise SchemaError("one_primary is {flag: <boolean field>, per: [<field>, ...]}")
        flag, per = data["flag"], data["per"]
        per = [per] if isinstance(per, str) else per
        if not isinstance(flag, str) or flag not in fields or fields[flag].type != "boolean":
            raise SchemaError(f"one_primary: flag {flag!r} must name a boolean field")
        if not isinstance(per, list) or not per or not all(isinstance(n, str) and n in fields for n in per):
            raise SchemaError("one_primary: per names one or more fields of the type")
        if flag in per:
            raise SchemaError("one_primary: the flag cannot be one of the per fields")
        return cls(flag, tuple(per))


@dataclass(frozen=True)
class RecordType:
    name: str
    label: str = ""
    fields: Mapping[str, FieldDef] = field(default_factory=dict)
    pack: str | None = None
    # Ownership: a user field naming the owner, a multi-user field naming followers, and
    # whether standard users see and change only the records they own or follow.
    owner_field: str | None = None
    follower_field: str | None = None
    restrict_to_owners: bool = False
    # Groups of fields whose values together are unique (each group a tuple of field names).
    unique_together: tuple[tuple[str, ...], ...] = ()
    # Layouts by name, and rules between fields (see Layout and Check).
    layouts: Mapping[str, Layout] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    # States that refuse changes, and soft delete (see FrozenState and SoftDelete).
    frozen_states: tuple[FrozenState, ...] = ()
    soft_delete: SoftDelete | None = None
    # At most one primary record per group (see OnePrimary).
    one_primary: OnePrimary | None = None
    # A boolean field marking the system's own records (Tracker's system users): no
    # caller reads, lists, changes or deletes one; only the system itself does.
    system_flag: str | None = None

    def __iter__(self) -> Iterator[FieldDef]:
        return iter(self.fields.values())

    def get(self, name: str) -> FieldDef | None:
        return self.fields.get(name)

    def with_field(self, fd: FieldDef) -> RecordType:
        return replace(self, fields={**self.fields, fd.name: fd})

    @functools.cached_property
    def mirrors(self) -> tuple[FieldDef, ...]:
        """The fields that mirror another (``mirror``), looked at on every write."""
        return tuple(fd for fd in self.fields.values() if fd.mirror is not None)

    def rules_json(self) -> dict[str, Any]:
        """The optional rule attributes that are set, as a pack declares them: only those, so
        a stored definition from before an attribute existed still compares equal."""
        out: dict[str, Any] = {}
        if self.unique_together:
            out["unique_together"] = [list(g) for g in self.unique_together]
        if self.layouts:
            out["layouts"] = {n: lay.to_json() for n, lay in self.layouts.items()}
        if self.checks:
            out["checks"] = [c.to_json() for c in self.checks]
        if self.frozen_states:
            out["frozen_states"] = [s.to_json() for s in self.frozen_states]
        if self.soft_delete is not None:
            out["soft_delete"] = self.soft_delete.to_json()
        if self.one_primary:
            out["one_primary"] = self.one_primary.to_json()
        if self.system_flag:
            out["system_flag"] = self.system_flag
        return out

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.label or self.name,
            "pack": self.pack,
            "owner_field": self.owner_field,
            "follower_field": self.follower_field,
            "restrict_to_owners": self.restrict_to_owners,
            "system_fields": list(SYSTEM_FIELDS),
            "fields": [f.to_json() for f in self.fields.values()],
        }
        out.update(self.rules_json())
        return out


@dataclass(frozen=True)
class Schema:
    """An immutable snapshot of all record types; replaced whole when it changes."""

    types: Mapping[str, RecordType] = field(default_factory=dict)
    version: int = 0

    def get(self, name: str) -> RecordType | None:
        return self.types.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.types
