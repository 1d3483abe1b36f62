"""The fields metadata API's view of a record type (``GET /crm/v7/settings/fields?module=``)."""

from __future__ import annotations

from typing import Any

from cardfile.api.dialects.zoho_crm.modules import (
    api_name,
    column_api_name,
    field_id,
    field_kind,
    layout_id,
)
from cardfile.schema.model import FieldDef, RecordType

__all__ = ["data_type", "fields", "layouts"]

_TYPES = {
    "text": ("text", "string"),
    "long_text": ("textarea", "string"),
    "email": ("email", "string"),
    "url": ("website", "string"),
    "phone": ("phone", "string"),
    "integer": ("integer", "integer"),
    "decimal": ("double", "double"),
    "money": ("currency", "double"),
    "boolean": ("boolean", "boolean"),
    "date": ("date", "string"),
    "datetime": ("datetime", "string"),
    "single_select": ("picklist", "string"),
    "radio": ("picklist", "string"),
    "multi_select": ("multiselectpicklist", "jsonarray"),
    "checkbox": ("multiselectpicklist", "jsonarray"),
    "lookup": ("lookup", "jsonobject"),
    "user": ("ownerlookup", "jsonobject"),
    "multi_lookup": ("multiselectlookup", "jsonarray"),
    "multi_user": ("multiuserlookup", "jsonarray"),
}


def data_type(fd: FieldDef) -> tuple[str, str]:
    if fd.type == "sub_records":
        return field_kind(fd), "jsonarray"
    return _TYPES.get(fd.type, (fd.type, "string"))


def _field(
    rt: RecordType, fd: FieldDef, targets: dict[str, str], parent: FieldDef | None = None
) -> dict[str, Any]:
    dtype, jtype = data_type(fd)
    out: dict[str, Any] = {
        "api_name": column_api_name(parent, fd) if parent is not None else api_name(fd),
        "field_label": fd.label or api_name(fd),
        "display_label": fd.label or api_name(fd),
        "data_type": dtype,
        "json_type": jtype,
        "id": field_id(rt, fd),
        "system_mandatory": fd.required,
        "read_only": fd.read_only,
        "custom_field": fd.custom,
        "length": fd.max_length,
        "unique": {"casesensitive": False} if fd.unique else {},
    }
    if fd.options:
        out["pick_list_values"] = [
            {"display_value": o.label, "actual_value": o.key, "id": str(i + 1)}
            for i, o in enumerate(fd.options)
        ]
    if fd.type == "lookup" and fd.target:
        out["lookup"] = {"module": {"api_name": targets.get(fd.target, fd.target)}}
    if fd.max_items is not None:
        out["max_items"] = fd.max_items
    if fd.type == "sub_records":
        out["subform"] = {"fields": [_field(rt, c, targets, fd) for c in fd.fields]}
    return out


def fields(rt: RecordType, targets: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every field of the module; ``targets`` names linked types by their module API names."""
    return [_field(rt, fd, targets or {}) for fd in rt]


def layouts(rt: RecordType) -> list[dict[str, Any]]:
    """The type's layouts, each with its fields and which of them it makes mandatory."""
    out = []
    for name, lay in rt.layouts.items():
        shown = [rt.fields[n] for n in lay.fields] if lay.fields else list(rt)
        required = set(lay.required)
        out.append({
            "id": layout_id(rt, name),
            "name": name.replace("_", " ").title(),
            "api_name": name,
            "status": "active",
            "sections": [{"api_name": "Layout_Fields", "fields": [
                {"api_name": api_name(f), "id": field_id(rt, f), "required": f.required or f.name in required}
                for f in shown
            ]}],
        })  # fmt: skip
    return out
