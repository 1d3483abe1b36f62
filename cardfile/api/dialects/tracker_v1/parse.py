"""Tracker request bodies → canonical ops (``engine.commands.FieldOp``).

A body is a partial object (PATCH as well as POST): keys present are set, keys absent are
left alone, ``null`` clears. Nested objects merge key by key (each of their keys is a field
of its own); lists replace, except ``customFields``, whose entries each address one field
(``cf_<id>``), so the fields not listed are left alone. A reference whose id is 0 (the
default of Tracker's integer ids, which its own examples send) is no reference: on create
nothing is set, on update the field is left as it is (send ``null`` to clear it), and in a
list it is dropped. Keys of the GET shape that cannot
be written (``id``, ``typeName``, ``history``…) are ignored, as Tracker ignores them; any
other unknown key is a 400 (a malformed request; values the store refuses are 422).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from cardfile.api.dialects.tracker_v1.spec import Key, Resource
from cardfile.engine.commands import FieldOp
from cardfile.errors import BadRequest, FieldError
from cardfile.schema.model import RecordType

__all__ = [
    "CUSTOM_PREFIX",
    "body_ops",
    "custom_field_id",
    "custom_field_name",
    "custom_value",
    "is_id",
    "parse_id",
    "tracker_path",
]

CUSTOM_PREFIX = "cf_"
# keys of the GET shapes that a client may send back; they are not written
READ_ONLY = frozenset(
    {
        "id",
        "typeName",
        "history",
        "resourceId",
        "partnerRecords",
        "opportunityResourceId",
        "activityId",
        "projectActivityResourceId",
        "entryId",
    }
)


def custom_field_name(field_id: int) -> str:
    return f"{CUSTOM_PREFIX}{field_id}"


def custom_field_id(name: str) -> int | None:
    """The Tracker id of a custom field (``cf_7``: 7); None for any other field."""
    rest = name[len(CUSTOM_PREFIX) :]
    return int(rest) if name.startswith(CUSTOM_PREFIX) and rest.isdigit() else None


def is_id(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_id(raw: str, name: str = "Id") -> int:
    """A path id: a decimal integer, else 400."""
    s = raw.strip()
    if not s.isascii() or not s.lstrip("-").isdigit() or len(s) > 18:
        raise BadRequest(f"{name} must be an integer, got {raw[:40]!r}", field=name)
    return int(s)


def _scalar(key: Key, value: Any) -> Any:
    """Tracker's spellings of a scalar, as the field type takes it."""
    if isinstance(value, str):
        if key.type == "date" and len(value) > 10 and value[10] in "Tt ":
            return value[:10]  # a date-time where a date is stored: its date
        if key.type == "datetime" and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
            return value + "T00:00:00Z"  # a date where a date-time is stored: its midnight, UTC
        if key.type == "datetime" and len(value) >= 16 and value[-1] not in "Zz" and "+" not in value[10:]:
            if value[10:].count("-") == 0:
                return value + "Z"  # Tracker's local date-times: taken as UTC
    return value


SKIP = -1  # a reference with id 0: leave the field alone


def _ref_id(value: Any, path: str, errors: list[FieldError]) -> int | None:
    """The id of ``{id, name}``; None for null, ``SKIP`` for id 0 or no id."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors.append(FieldError(path, "NOT_AN_OBJECT", "expected an object {id, name}"))
        return None
    rid = value.get("id")
    if rid is None or rid == 0:
        return SKIP
    if not is_id(rid) or rid < 0:
        errors.append(FieldError(f"{path}.id", "NOT_A_RECORD_ID", "expected a positive integer id"))
        return SKIP
    return int(rid)


def _key_ops(key: Key, value: Any, path: str, errors: list[FieldError]) -> list[FieldOp]:
    if key.kind == "scalar":
        return (
            [FieldOp(key.field, "clear")]
            if value is None
            else [FieldOp(key.field, "set", _scalar(key, value))]
        )
    if key.kind in ("ref", "firstref"):
        rid = _ref_id(value, path, errors)
        if rid == SKIP:
            return []
        if rid is None:
            return [FieldOp(key.field, "clear")]
        # firstref: one {id, name} over a set (a Contact's type): the set becomes [id]
        return [
            FieldOp(key.field, "replace", [rid]) if key.kind == "firstref" else FieldOp(key.field, "set", rid)
        ]
    if key.kind == "idref":
        if value is None:
            return [FieldOp(key.field, "clear")]
        if value == 0:
            return []
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)  # an id sent as a string, e.g. "2"
        if not is_id(value) or value < 0:
            errors.append(FieldError(path, "NOT_A_RECORD_ID", "expected a positive integer id"))
            return []
        return [FieldOp(key.field, "set", value)]
    if key.kind == "refs":
        if value is None:
            return [FieldOp(key.field, "clear")]
        if not isinstance(value, list):
            errors.append(FieldError(path, "NOT_A_LIST", "expected a list of {id, name}"))
            return []
        ids: list[int] = []
        for i, item in enumerate(value):
            rid = _ref_id(item, f"{path}[{i}]", errors)
            if rid is not None and rid != SKIP:
                ids.append(rid)
        return [FieldOp(key.field, "replace", ids)]
    if key.kind == "obj":
        if value is None:
            return [FieldOp(c.field, "clear") for c in key.fields()]
        if not isinstance(value, Mapping):
            errors.append(FieldError(path, "NOT_AN_OBJECT", "expected an object"))
            return []
        ops: list[FieldOp] = []
        children = {c.key: c for c in key.children}
        for k, v in value.items():
            child = children.get(k)
            if child is None:
                errors.append(FieldError(f"{path}.{k}", "UNKNOWN_FIELD", f"{key.key} has no key {k!r}"))
                continue
            ops.extend(_key_ops(child, v, f"{path}.{k}", errors))
        return ops
    if key.kind == "rows":
        if value is None:
            return [FieldOp(key.field, "clear")]
        if not isinstance(value, list):
            errors.append(FieldError(path, "NOT_A_LIST", "expected a list of objects"))
            return []
        cols = {c.key: c for c in key.children}
        rows: list[dict[str, Any]] = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                errors.append(FieldError(f"{path}[{i}]", "NOT_AN_OBJECT", "expected an object"))
                continue
            row: dict[str, Any] = {}
            for k, v in item.items():
                col = cols.get(k)
                if col is None:
                    errors.append(FieldError(f"{path}[{i}].{k}", "UNKNOWN_FIELD", f"no key {k!r}"))
                elif v is not None:
                    row[col.field] = _scalar(col, v)
            rows.append(row)
        return [FieldOp(key.field, "replace", rows)]
    raise AssertionError(key.kind)


def custom_value(fd_type: str, value: Any) -> Any:
    """A custom field's value as Tracker sends it (a string) in the field type's form."""
    if not isinstance(value, str):
        return value
    s = value.strip()
    if fd_type == "integer" and s.lstrip("-").isdigit():
        return int(s)
    if fd_type == "boolean" and s.lower() in ("true", "false", "yes", "no", "1", "0"):
        return s.lower() in ("true", "yes", "1")
    if fd_type in ("multi_select", "checkbox"):
        return [p.strip() for p in s.split(",") if p.strip()]
    return value


def _custom_ops(rt: RecordType, value: Any, errors: list[FieldError]) -> list[FieldOp]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(FieldError("customFields", "NOT_A_LIST", "expected a list of {id, name, value}"))
        return []
    ops: list[FieldOp] = []
    for i, item in enumerate(value):
        path = f"customFields[{i}]"
        if not isinstance(item, Mapping):
            errors.append(FieldError(path, "NOT_AN_OBJECT", "expected {id, name, value}"))
            continue
        fid = item.get("id")
        if fid == 0:
            continue  # no custom field (Tracker's default id)
        if not is_id(fid) or fid < 0:
            errors.append(FieldError(f"{path}.id", "NOT_A_CUSTOM_FIELD_ID", "expected a custom field id"))
            continue
        fd = rt.get(custom_field_name(fid))
        if fd is None:
            errors.append(
                FieldError(f"{path}.id", "UNKNOWN_CUSTOM_FIELD", f"{rt.name} has no custom field {fid}")
            )
            continue
        raw = item.get("value")
        if raw is None or raw == "":
            ops.append(FieldOp(fd.name, "clear"))
        else:
            ops.append(FieldOp(fd.name, "set", custom_value(fd.type, raw)))
    return ops


def _owner_ops(value: Any, errors: list[FieldError]) -> list[FieldOp]:
    if value is None:
        return [FieldOp("owners", "clear")]  # owner mirrors owners (the pack's rule)
    if not isinstance(value, list):
        errors.append(FieldError("owners", "NOT_A_LIST", "expected a list of owners"))
        return []
    rows: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        path = f"owners[{i}]"
        if not isinstance(item, Mapping):
            errors.append(FieldError(path, "NOT_AN_OBJECT", "expected {ownerId, rank, percent, role}"))
            continue
        uid = item.get("ownerId")
        if uid is None or uid == 0:
            continue
        if not is_id(uid) or uid < 0:
            errors.append(FieldError(f"{path}.ownerId", "NOT_A_USER_ID", "expected a user id"))
            continue
        row: dict[str, Any] = {"user": uid}
        for k in ("rank", "percent", "role"):
            if item.get(k) is not None:
                row[k] = item[k]
        rows.append(row)

    def rank(row: dict[str, Any]) -> int:
        r = row.get("rank")
        return r if is_id(r) else 1 << 30

    return [FieldOp("owners", "replace", sorted(rows, key=rank))]


def body_ops(res: Resource, rt: RecordType, body: Any) -> list[FieldOp]:
    """Every op of one body; all problems are reported at once (ValidationFailed, 400)."""
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object")
    errors: list[FieldError] = []
    ops: list[FieldOp] = []
    keys = {k.key: k for k in res.keys}
    for name, value in body.items():
        key = keys.get(name)
        if key is not None:
            ops.extend(_key_ops(key, value, name, errors))
        elif name == "customFields" and res.custom_fields:
            ops.extend(_custom_ops(rt, value, errors))
        elif name == "owners" and res.owners:
            ops.extend(_owner_ops(value, errors))
        elif name in READ_ONLY or (name == "name" and res.base) or name == res.id_key:
            continue
        else:
            errors.append(FieldError(name, "UNKNOWN_FIELD", f"{res.name} has no field {name!r}"))
    if errors:
        raise BadRequest(
            f"the body has {len(errors)} problem{'s' if len(errors) != 1 else ''}",
            errors=[e.to_json() for e in errors],
        )
    return ops


def tracker_path(res: Resource, field: str) -> str:
    """The Tracker key path of a pack field named in an engine error (``date_applied`` →
    ``dateApplied``, ``fax`` → ``contactDetails.fax``, ``cf_7`` → ``customFields.7``)."""
    m = _FIELD_PATH.match(field)
    if m is None:
        return field
    base, rest = m.group(1), m.group(2)
    if custom_field_id(base) is not None:
        return f"customFields.{base[len(CUSTOM_PREFIX) :]}{rest}"
    if base in ("owner", "owners") and res.owners:
        return "owners" + (rest if base == "owners" else "")
    for key in res.keys:
        if key.kind == "obj":
            for c in key.children:
                if c.field == base:
                    return f"{key.key}.{c.key}{rest}"
        elif key.field == base:
            if key.kind == "rows" and rest:
                cm = _ROW_COLUMN.match(rest)
                if cm is not None:
                    col = next((c.key for c in key.children if c.field == cm.group(2)), cm.group(2))
                    return f"{key.key}{cm.group(1)}.{col}{cm.group(3)}"
            return key.key + rest
    return field


_FIELD_PATH = re.compile(r"^([a-z][a-z0-9_]*)(.*)$")
_ROW_COLUMN = re.compile(r"^(\[\d+\])\.([a-z][a-z0-9_]*)(.*)$")
