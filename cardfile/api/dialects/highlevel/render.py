"""cardfile records and record types -> HighLevel's JSON."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from cardfile.api.dialects.highlevel.ids import SYSTEM_PROPERTIES, encode_record_id, object_key
from cardfile.fieldtypes import registry
from cardfile.schema.model import FieldDef, RecordType

__all__ = [
    "DATA_TYPES",
    "FIELD_TYPES",
    "field_json",
    "object_json",
    "primary_property",
    "record_json",
    "timestamp",
    "user_ids",
]

# cardfile field type -> HighLevel dataType (HighLevel spells monetary "MONETORY").
DATA_TYPES = {
    "text": "TEXT",
    "long_text": "LARGE_TEXT",
    "keyed_text": "TEXTBOX_LIST",
    "decimal": "NUMERICAL",
    "integer": "NUMERICAL",
    "phone": "PHONE",
    "money": "MONETORY",
    "single_select": "SINGLE_OPTIONS",
    "multi_select": "MULTIPLE_OPTIONS",
    "radio": "RADIO",
    "checkbox": "CHECKBOX",
    "date": "DATE",
    "files": "FILE_UPLOAD",
}
# HighLevel dataType -> cardfile field type, for fields created through the dialect.
FIELD_TYPES = {
    **{v: k for k, v in DATA_TYPES.items() if k != "integer"},
    "MONETARY": "money",
}


def timestamp(iso: str) -> str:
    """cardfile's microsecond ISO time in HighLevel's millisecond form."""
    return iso[:23] + "Z" if len(iso) > 23 else iso


def _stable_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:24]


def _property(fd: FieldDef, value: Any) -> Any:
    if fd.type == "money" and isinstance(value, Mapping):
        currency = value.get("currency")
        return {
            "currency": "default" if currency == fd.default_currency else currency,
            "value": value.get("value"),
        }
    return value


def properties(rt: RecordType, record: Mapping[str, Any]) -> dict[str, Any]:
    """The record's properties that hold a value (empty ones are left out)."""
    out: dict[str, Any] = {}
    for fd in rt:
        if fd.name in SYSTEM_PROPERTIES:
            continue
        value = record.get(fd.name)
        if registry.get(fd.type).is_empty(value):
            continue
        out[fd.name] = _property(fd, value)
    return out


def user_ids(records: Iterable[Mapping[str, Any]]) -> set[int]:
    """Every user named as owner or follower by these records (engine JSON)."""
    return {u for r in records for name in SYSTEM_PROPERTIES for u in r.get(name) or () if isinstance(u, int)}


def record_json(rt: RecordType, record: Mapping[str, Any], names: Mapping[int, str]) -> dict[str, Any]:
    """One record (the engine's JSON) as HighLevel shows it; ``names`` are the users' HighLevel ids."""
    created, updated = timestamp(record["created_at"]), timestamp(record["modified_at"])
    return {
        "id": encode_record_id(int(record["id"])),
        "objectKey": object_key(rt),
        "owner": [names.get(u, str(u)) for u in record.get("owners") or ()],
        "followers": [names.get(u, str(u)) for u in record.get("followers") or ()],
        "properties": properties(rt, record),
        "createdAt": created,
        "updatedAt": updated,
        "dateAdded": created,
        "dateUpdated": updated,
    }


def primary_property(rt: RecordType) -> FieldDef | None:
    """The property shown as the record's name: the object's first property."""
    return next((f for f in rt if f.name not in SYSTEM_PROPERTIES), None)


def object_json(rt: RecordType) -> dict[str, Any]:
    label = rt.label or rt.name
    primary = primary_property(rt)
    return {
        "id": _stable_id("object", rt.name),
        "standard": False,
        "key": object_key(rt),
        "labels": {"singular": label, "plural": label},
        "primaryDisplayProperty": f"{object_key(rt)}.{primary.name}" if primary else None,
    }


def field_json(rt: RecordType, fd: FieldDef) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": _stable_id("field", rt.name, fd.name),
        "name": fd.label or fd.name,
        "fieldKey": f"{object_key(rt)}.{fd.name}",
        "objectKey": object_key(rt),
        "dataType": DATA_TYPES.get(fd.type, fd.type.upper()),
    }
    if fd.options:
        out["options"] = [{"key": o.key, "label": o.label} for o in fd.options]
    if fd.type == "money" and fd.default_currency:
        out["currency"] = fd.default_currency
    return out
