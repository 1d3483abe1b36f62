"""A stored row as the JSON every API starts from: system fields, then every field."""

from __future__ import annotations

from typing import Any

from cardfile.fieldtypes import registry
from cardfile.schema.model import RecordType
from cardfile.store.clock import to_iso

__all__ = ["record_json", "values_json"]


def values_json(rt: RecordType, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fd in rt:
        ft = registry.get(fd.type)
        stored = data.get(fd.name)
        out[fd.name] = ft.to_json(None if stored is None else ft.from_storage(stored, fd), fd)
    return out


def record_json(rt: RecordType, row: Any, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "version": int(row.version),
        "created_at": to_iso(int(row.created_at)),
        "created_by": row.created_by,
        "modified_at": to_iso(int(row.modified_at)),
        "modified_by": row.modified_by,
        **values_json(rt, row.data if data is None else data),
    }
