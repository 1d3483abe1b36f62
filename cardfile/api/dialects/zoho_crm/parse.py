"""Zoho request bodies as canonical commands.

``{"data": [record, ...], "skip_feature_execution": [{"name": "cadences"}], ...}``; each
record is field API names to values. Per field type:

- a lookup or user is ``{"id": "..."}`` (``name`` is ignored) or the id itself;
- a multi-select picklist is a list that replaces the values, or is added to them when
  the record's ``$append_values`` names the field with ``true``;
- a sub-records field (subform, multi-select lookup, multi-user lookup, image upload) is
  a list of rows: a row with ``"_delete": null`` and an ``id`` removes that row, a row with
  an ``id`` updates the columns it names, a row without one is added. A subform lists its
  rows in full, as in Zoho: an existing row it does not name is removed (a ``sync``, which
  the engine applies to the rows it read under its lock);
- ``null`` clears a field; keys starting with ``$`` and the read-only system fields
  (``Created_Time`` ...) are ignored, so a record as read can be sent back.

A problem becomes a ``ValidationFailed`` naming the field by its cardfile name (the error
renderer turns it back into the API name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cardfile.api.dialects.zoho_crm.errors import MandatoryMissing
from cardfile.api.dialects.zoho_crm.modules import (
    api_name,
    column_by_api_name,
    field_by_api_name,
    field_kind,
    layout_id,
    parse_id,
)
from cardfile.engine.commands import FieldOp
from cardfile.errors import BadRequest, FieldError, LimitExceeded, ValidationFailed
from cardfile.schema.model import FieldDef, RecordType

__all__ = [
    "SKIPPABLE_FEATURES",
    "SYSTEM_KEYS",
    "data_of",
    "layout_of",
    "namer",
    "record_ops",
    "skip_features",
]

SYSTEM_KEYS = frozenset({"id", "Created_Time", "Modified_Time", "Created_By", "Modified_By", "Layout"})
SKIPPABLE_FEATURES = ("cadences",)


def data_of(body: Any, limit: int) -> list[Any]:
    """The ``data`` array: present, a list, 1..limit items (LIMIT_EXCEEDED above)."""
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object with a 'data' array", api_name="data")
    data = body.get("data")
    if data is None:
        raise MandatoryMissing("'data' is required", api_name="data")
    if not isinstance(data, list) or not data:
        raise BadRequest("'data' must be a non-empty array of records", api_name="data")
    if len(data) > limit:
        raise LimitExceeded(f"at most {limit} records can be sent in one call; got {len(data)}", limit=limit)
    return data


def skip_features(body: Mapping[str, Any]) -> frozenset[str]:
    raw = body.get("skip_feature_execution")
    if raw is None:
        return frozenset()
    names: set[str] = set()
    if isinstance(raw, list):
        for item in raw:
            name = item.get("name") if isinstance(item, Mapping) else None
            if name not in SKIPPABLE_FEATURES:
                break
            names.add(name)
        else:
            return frozenset(names)
    raise BadRequest(
        'skip_feature_execution is a list like [{"name": "cadences"}]; the supported name is "cadences"',
        api_name="skip_feature_execution",
    )


def namer(rt: RecordType) -> Callable[[str], str]:
    """A cardfile error path (``listings[0].interested_listings``) as the field's API name."""

    def name(path: str) -> str:
        base = path.split("[", 1)[0].split(".", 1)[0]
        if base == "layout" and rt.get("layout") is None:
            return "Layout"
        fd = rt.get(base)
        return api_name(fd) if fd is not None else base

    return name


def _link_id(raw: Any) -> int | None:
    if isinstance(raw, Mapping):
        raw = raw.get("id")
    return parse_id(raw)


def _value(fd: FieldDef, raw: Any, path: str, errors: list[FieldError]) -> Any:
    """A Zoho value as the canonical input of the field's type."""
    if raw is None:
        return None
    if fd.type in ("lookup", "user"):
        rid = _link_id(raw)
        if rid is None:
            errors.append(FieldError(path, "NOT_A_RECORD_ID", f'{api_name(fd)!r} takes {{"id": "<id>"}}'))
        return rid
    if fd.type in ("multi_lookup", "multi_user"):
        if not isinstance(raw, list):
            errors.append(FieldError(path, "NOT_A_LIST", f"{api_name(fd)!r} takes a list"))
            return []
        ids = [_link_id(x) for x in raw]
        if any(i is None for i in ids):
            errors.append(FieldError(path, "NOT_A_RECORD_ID", f"{api_name(fd)!r} takes ids"))
        return [i for i in ids if i is not None]
    return raw


def _row(fd: FieldDef, raw: Mapping[str, Any], path: str, errors: list[FieldError]) -> dict[str, Any]:
    cols = column_by_api_name(fd)
    out: dict[str, Any] = {}
    for key, v in raw.items():
        if key in ("id", "_delete") or key.startswith("$"):
            continue
        col = cols.get(key)
        if col is None:
            errors.append(
                FieldError(f"{path}.{key}", "UNKNOWN_FIELD", f"{api_name(fd)!r} has no column {key!r}")
            )
            continue
        out[col.name] = _value(col, v, f"{path}.{col.name}", errors)
    return out


def _rows(fd: FieldDef, raw: Any, errors: list[FieldError]) -> list[FieldOp]:
    if not isinstance(raw, list):
        errors.append(FieldError(fd.name, "NOT_A_LIST", f"{api_name(fd)!r} takes a list of rows"))
        return []
    add: list[dict[str, Any]] = []
    update: list[dict[str, Any]] = []
    listed: list[dict[str, Any]] = []  # a subform's rows in full (sync), in the order given
    remove: list[int] = []
    for i, entry in enumerate(raw):
        path = f"{fd.name}[{i}]"
        if not isinstance(entry, Mapping):
            errors.append(FieldError(path, "INVALID_ROW", "a row is an object"))
            continue
        has_id = entry.get("id") is not None
        row_id = parse_id(entry.get("id")) if has_id else None
        if has_id and row_id is None:
            errors.append(FieldError(f"{path}.id", "NOT_A_ROW_ID", "the id given seems to be invalid"))
            continue
        if "_delete" in entry:
            if row_id is None:
                errors.append(FieldError(f"{path}.id", "NOT_A_ROW_ID", "a row to delete needs its 'id'"))
                continue
            remove.append(row_id)
            continue
        cols = _row(fd, entry, path, errors)
        row = cols if row_id is None else {"id": row_id, **cols}
        listed.append(row)
        (add if row_id is None else update).append(row)
    ops: list[FieldOp] = []
    if remove:
        ops.append(FieldOp(fd.name, "remove", remove))
    if field_kind(fd) == "subform":  # the rows not listed go, in the engine, under its lock
        ops.append(FieldOp(fd.name, "sync", listed))
        return ops
    if update:
        ops.append(FieldOp(fd.name, "update", update))
    if add:
        ops.append(FieldOp(fd.name, "add", add))
    return ops


def record_ops(rt: RecordType, record: Mapping[str, Any]) -> tuple[FieldOp, ...]:
    """The ops of one record of ``data``; ValidationFailed lists every bad field."""
    errors: list[FieldError] = []
    append = record.get("$append_values")
    if append is None:
        append = {}
    if not isinstance(append, Mapping) or not all(isinstance(v, bool) for v in append.values()):
        raise ValidationFailed(
            [
                FieldError(
                    "$append_values",
                    "INVALID_VALUE",
                    "$append_values maps multi-select API names to true or false",
                )
            ]
        )
    by_api = field_by_api_name(rt)
    ops: list[FieldOp] = []
    for key, raw in record.items():
        if key in SYSTEM_KEYS or key.startswith("$"):
            continue
        fd = by_api.get(key)
        if fd is None:
            errors.append(
                FieldError(key, "UNKNOWN_FIELD", f"{key[:80]!r} is not a field API name of this module")
            )
            continue
        if raw is None:
            ops.append(FieldOp(fd.name, "clear"))
        elif fd.type == "sub_records":
            ops.extend(_rows(fd, raw, errors))
        elif fd.type in ("multi_select", "checkbox"):
            ops.append(FieldOp(fd.name, "add" if append.get(key) is True else "replace", raw))
        elif fd.type in ("multi_lookup", "multi_user"):
            ops.append(FieldOp(fd.name, "replace", _value(fd, raw, fd.name, errors)))
        else:
            ops.append(FieldOp(fd.name, "set", _value(fd, raw, fd.name, errors)))
    for key in append:
        fd = by_api.get(key)
        if fd is None or fd.type not in ("multi_select", "checkbox"):
            errors.append(
                FieldError(
                    key, "INVALID_VALUE", f"$append_values: {key[:80]!r} is not a multi-select picklist"
                )
            )
    if errors:
        raise ValidationFailed(errors)
    return tuple(ops)


def layout_of(rt: RecordType, record: Any) -> str | None:
    """The layout a record's ``"Layout": {"id": ...}`` names (None when it names none)."""
    if not isinstance(record, Mapping) or record.get("Layout") is None:
        return None
    raw = record["Layout"]
    lid = raw.get("id") if isinstance(raw, Mapping) else raw
    for name in rt.layouts:
        if layout_id(rt, name) == str(lid):
            return name
    raise ValidationFailed(
        [FieldError("layout", "UNKNOWN_LAYOUT", f"{str(lid)[:40]!r} is not a layout of this module")]
    )
