"""HighLevel request bodies -> canonical ops.

The vendor's spellings become the engine's ops here, and nothing else: values are checked
by the field types in the engine. Problems of *shape* (a multi-value property sent as a
plain value, an unknown top-level key, an owner id that names no user) are collected
with their HighLevel property path, so the route can report them together with the
engine's errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cardfile.api.dialects.highlevel.ids import SYSTEM_PROPERTIES, UserIds, valid_user_id
from cardfile.engine.commands import FieldOp, OpKind
from cardfile.errors import BadRequest, FieldError
from cardfile.fieldtypes import registry
from cardfile.schema.model import RecordType

__all__ = ["TOP_LEVEL_KEYS", "property_path", "record_ops"]

# "owner" is the seed's other spelling of "owners"; locationId is accepted and ignored
# (one cardfile server is one HighLevel location).
TOP_LEVEL_KEYS = ("owners", "owner", "followers", "properties", "locationId")
_LINKS = (("owners", "owners"), ("owner", "owners"), ("followers", "followers"))
_OPS: tuple[OpKind, ...] = ("add", "remove")
_ADD_REMOVE = '{"add": [...], "remove": [...]}'


def property_path(field: str) -> str:
    """The HighLevel path of an engine field error: owners/followers, else properties.<field>."""
    base = field.split(".")[0].split("[")[0]
    return field if base in SYSTEM_PROPERTIES else f"properties.{field}"


def record_ops(
    rt: RecordType, body: Any, users: UserIds, *, creating: bool
) -> tuple[list[FieldOp], list[FieldError]]:
    """The ops of a create (``creating``) or update body, and every shape error in it."""
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object with owners, followers and properties")
    ops: list[FieldOp] = []
    errors: list[FieldError] = []
    for key in body:
        if key not in TOP_LEVEL_KEYS:
            errors.append(
                FieldError(
                    str(key),
                    "UNKNOWN_KEY",
                    f"property {key} should not exist; use owners, followers, properties",
                )
            )
    if "owners" in body and "owner" in body:
        errors.append(FieldError("owner", "DUPLICATE_KEY", "send owners or owner (the same field), not both"))
    _links(body, users, creating, ops, errors)
    if "properties" in body:
        _properties(rt, body["properties"], creating, ops, errors)
    return ops, errors


def _links(body: Mapping[str, Any], users: UserIds, creating: bool, ops: list[FieldOp],
           errors: list[FieldError]) -> None:  # fmt: skip
    given = [(field, key, body[key]) for key, field in _LINKS if key in body]
    mentioned: list[str] = []
    for _field, _key, raw in given:
        if isinstance(raw, Mapping):
            for kind in _OPS:
                if isinstance(raw.get(kind), list):
                    mentioned.extend(u for u in raw[kind] if isinstance(u, str))
        elif isinstance(raw, list):
            mentioned.extend(u for u in raw if isinstance(u, str))
    known = users.to_cardfile(mentioned)
    for field, key, raw in given:
        if raw is None:
            ops.append(FieldOp(field, "clear"))
            continue
        if creating and isinstance(raw, list):
            raw = {"add": raw}
        if not isinstance(raw, Mapping) or not raw or not set(raw) <= set(_OPS):
            errors.append(FieldError(key, "ADD_REMOVE_REQUIRED", f"{key} takes {_ADD_REMOVE} with user ids"))
            continue
        for kind in _OPS:
            if kind not in raw:
                continue
            items = raw[kind]
            if not isinstance(items, list):
                errors.append(FieldError(f"{key}.{kind}", "NOT_A_LIST", "expected a list of user ids"))
                continue
            ids: list[int] = []
            for i, u in enumerate(items):
                if not valid_user_id(u):
                    errors.append(
                        FieldError(
                            f"{key}.{kind}[{i}]",
                            "INVALID_USER_ID",
                            "a user id is a string of letters and digits",
                        )
                    )
                elif u in known:
                    ids.append(known[u])
                elif kind == "add":
                    errors.append(
                        FieldError(f"{key}.{kind}[{i}]", "USER_NOT_FOUND", f"no user with id {u!r}")
                    )
                # removing a user the record does not name changes nothing
            ops.append(FieldOp(field, kind, ids))


def _properties(
    rt: RecordType, raw: Any, creating: bool, ops: list[FieldOp], errors: list[FieldError]
) -> None:
    if not isinstance(raw, Mapping):
        errors.append(FieldError("properties", "NOT_AN_OBJECT", "properties must be an object of field keys"))
        return
    for key, value in raw.items():
        base, dot, sub = str(key).partition(".")
        path = f"properties.{key}"
        if base in SYSTEM_PROPERTIES:
            errors.append(FieldError(path, "NOT_A_PROPERTY", f"{base} is set at the top level of the body"))
            continue
        if dot:  # textbox list: "{field_key}.{label_key}"
            ops.append(FieldOp(base, "clear" if value is None else "set", value, key=sub))
            continue
        if value is None:
            ops.append(FieldOp(base, "clear"))
            continue
        fd = rt.get(base)
        if fd is None:  # the engine reports it, with every other error
            ops.append(FieldOp(base, "set", value))
            continue
        if registry.get(fd.type).multi:
            if isinstance(value, Mapping) and value and set(value) <= set(_OPS):
                ops.extend(FieldOp(base, kind, value[kind]) for kind in _OPS if kind in value)
            elif creating and isinstance(value, list):
                ops.append(FieldOp(base, "replace", value))
            else:
                errors.append(
                    FieldError(path, "ADD_REMOVE_REQUIRED", f"a multi-value field takes {_ADD_REMOVE}")
                )
            continue
        if fd.type in ("decimal", "integer") and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            errors.append(FieldError(path, "NOT_A_NUMBER", "expected a number, e.g. 1424"))
            continue
        if fd.type == "money":
            if not isinstance(value, Mapping):
                errors.append(
                    FieldError(
                        path, "INVALID_MONEY", 'expected an object like {"currency": "default", "value": 100}'
                    )
                )
                continue
            if value.get("currency") == "default":
                value = {k: v for k, v in value.items() if k != "currency"}  # the field's own currency
        ops.append(FieldOp(base, "set", value))
