"""Packs: YAML files shipped in ``cardfile/schema/packs/`` that define record types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from cardfile.schema.model import (
    Check,
    FieldDef,
    FrozenState,
    Layout,
    OnePrimary,
    RecordType,
    SchemaError,
    SoftDelete,
    is_valid_name,
)

__all__ = [
    "Pack",
    "available_packs",
    "load_pack",
    "parse_checks",
    "parse_frozen_states",
    "parse_layouts",
    "parse_one_primary",
    "parse_soft_delete",
    "parse_unique_together",
]


@dataclass(frozen=True)
class Pack:
    name: str
    description: str
    types: tuple[RecordType, ...]


def available_packs() -> list[str]:
    root = resources.files("cardfile.schema") / "packs"
    return sorted(p.name.removesuffix(".yaml") for p in root.iterdir() if p.name.endswith(".yaml"))


def load_pack(name: str) -> Pack:
    if not is_valid_name(name) or name not in available_packs():
        raise SchemaError(f"unknown pack {name!r}; available: {', '.join(available_packs())}")
    text = (resources.files("cardfile.schema") / "packs" / f"{name}.yaml").read_text("utf-8")
    return parse_pack(name, yaml.safe_load(text))


def parse_pack(name: str, data: Any) -> Pack:
    if not isinstance(data, dict) or not isinstance(data.get("types"), dict):
        raise SchemaError(f"pack {name!r}: expected a mapping with 'types'")
    types = []
    for tname, tdef in data["types"].items():
        if not is_valid_name(str(tname)):
            raise SchemaError(f"pack {name!r}: type name {tname!r} must be lower_snake")
        fields: dict[str, FieldDef] = {}
        for fdata in (tdef or {}).get("fields") or ():
            fd = FieldDef.from_json(fdata)
            if fd.name in fields:
                raise SchemaError(f"pack {name!r}: {tname}.{fd.name} is defined twice")
            fields[fd.name] = fd
        rt = RecordType(
            name=tname,
            label=str(tdef.get("label") or ""),
            fields=fields,
            pack=name,
            owner_field=tdef.get("owner_field"),
            follower_field=tdef.get("follower_field"),
            restrict_to_owners=bool(tdef.get("restrict_to_owners", False)),
            unique_together=parse_unique_together(
                tdef.get("unique_together"), fields, f"pack {name!r}: {tname}"
            ),
            layouts=parse_layouts(tdef.get("layouts"), fields, f"pack {name!r}: {tname}"),
            checks=parse_checks(tdef.get("checks"), fields, f"pack {name!r}: {tname}"),
            frozen_states=parse_frozen_states(tdef.get("frozen_states"), fields, f"pack {name!r}: {tname}"),
            soft_delete=parse_soft_delete(tdef.get("soft_delete"), fields, f"pack {name!r}: {tname}"),
            one_primary=parse_one_primary(tdef.get("one_primary"), fields, f"pack {name!r}: {tname}"),
            system_flag=tdef.get("system_flag"),
        )
        for attr, ftype in (
            ("owner_field", "user"),
            ("follower_field", "multi_user"),
            ("system_flag", "boolean"),
        ):
            ref = getattr(rt, attr)
            if ref is not None and (ref not in fields or fields[ref].type != ftype):
                raise SchemaError(f"pack {name!r}: {tname}.{attr} must name a {ftype} field")
        types.append(rt)
    return Pack(name=name, description=str(data.get("description") or ""), types=tuple(types))


def parse_unique_together(
    raw: Any, fields: Mapping[str, FieldDef], where: str
) -> tuple[tuple[str, ...], ...]:
    """``[[a, b], ...]``: each group names two or more fields whose values together are unique."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SchemaError(f"{where}: unique_together must be a list of field-name lists")
    groups = []
    for g in raw:
        names_ok = isinstance(g, list) and all(isinstance(n, str) for n in g)
        if not names_ok or len(g) < 2 or len(set(g)) != len(g):
            raise SchemaError(f"{where}: each unique_together group lists two or more distinct field names")
        unknown = [n for n in g if n not in fields]
        if unknown:
            raise SchemaError(f"{where}: unique_together names unknown field(s) {', '.join(unknown)}")
        groups.append(tuple(g))
    return tuple(groups)


def parse_layouts(raw: Any, fields: Mapping[str, FieldDef], where: str) -> dict[str, Layout]:
    """``{name: {fields: [...], required: [...]}}``."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SchemaError(f"{where}: layouts map layout names to {{fields, required}}")
    try:
        return {str(n): Layout.from_json(str(n), d, fields) for n, d in raw.items()}
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc}") from None


def _named_list(
    raw: Any, fields: Mapping[str, FieldDef], where: str, cls: Any, key: str, noun: str
) -> tuple[Any, ...]:
    """The list ``key`` of ``cls.from_json`` entries, their ``name``s unique."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SchemaError(f"{where}: {key} is a list")
    try:
        items = tuple(cls.from_json(d, fields) for d in raw)
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc}") from None
    if len({i.name for i in items}) != len(items):
        raise SchemaError(f"{where}: {noun} names must be unique")
    return items


def _optional(raw: Any, fields: Mapping[str, FieldDef], where: str, cls: Any) -> Any:
    """``cls.from_json(raw)``, None when absent, errors prefixed with ``where``."""
    if raw is None:
        return None
    try:
        return cls.from_json(raw, fields)
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc}") from None


def parse_checks(raw: Any, fields: Mapping[str, FieldDef], where: str) -> tuple[Check, ...]:
    """``[{name, field, when: [...], require: [...], code, message}]``."""
    return _named_list(raw, fields, where, Check, "checks", "check")


def parse_frozen_states(raw: Any, fields: Mapping[str, FieldDef], where: str) -> tuple[FrozenState, ...]:
    """``[{name, field, in: [...], allow: [...], allow_on_exit, refuse: [update, delete], message}]``."""
    return _named_list(raw, fields, where, FrozenState, "frozen_states", "frozen state")


def parse_soft_delete(raw: Any, fields: Mapping[str, FieldDef], where: str) -> SoftDelete | None:
    """``{field: deleted, cascade: [link fields]}``."""
    return _optional(raw, fields, where, SoftDelete)  # type: ignore[no-any-return]


def parse_one_primary(raw: Any, fields: Mapping[str, FieldDef], where: str) -> OnePrimary | None:
    """``{flag: is_primary, per: [record_type, record_id]}``."""
    return _optional(raw, fields, where, OnePrimary)  # type: ignore[no-any-return]
