"""Repositories defined at runtime, and a repository's definition as MDM names it.

``POST /mdm/repositories`` (an extension: MDM defines repositories in its own tools)
compiles ``{name, displayName, attributes, relationships}`` into a record type with the
repository conventions (identity, ``state``, ``deleted``, relationships as sub-records)
and creates it through the catalog, usable on the next request by every process.
Attribute types are cardfile field types (``text``, ``integer``, ``decimal``, ``date``,
``url``, ``multi_text``, ``single_select`` with ``options``...). Attributes can be added
to any repository later through ``POST /api/types/{type}/fields``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cardfile.api.dialects.tibco_mdm.repository import DELETED, ID, ID_EXT, STATE, Repository, mdm_name
from cardfile.errors import FieldError, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.schema.model import FieldDef, FrozenState, RecordType, SchemaError, SoftDelete, is_valid_name

__all__ = ["definition_json", "new_repository", "snake"]

STATES = ["DRAFT", "UNCONFIRMED", "CONFIRMED", "REJECTED"]
NEW_STATE = "UNCONFIRMED"  # the state's default: a record added without one, before processing
# as the mdm pack declares it: a record marked deleted refuses updates until one restores it
MARKED_DELETED = FrozenState("deleted", DELETED, (True,), allow_on_exit=True,
                             message="the record is marked deleted; send deleted false to restore it")  # fmt: skip
_ATTR_KEYS = {"name", "displayName", "type", "required", "maxLength", "min", "max", "options", "multivalue"}


def snake(name: str) -> str:
    """``CustomerRating`` -> ``customer_rating``, ``RCustomerType`` -> ``r_customer_type``."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name.strip())
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return re.sub(r"[^a-z0-9_]+", "_", s.lower()).strip("_")


def _identity() -> list[FieldDef]:
    return [
        FieldDef(ID, "text", label="Product ID", required=True, max_length=255),
        FieldDef(ID_EXT, "text", label="Product ID extension", max_length=255),
        FieldDef.from_json({"name": STATE, "type": "single_select", "options": STATES, "default": NEW_STATE}),
        FieldDef(DELETED, "boolean"),
    ]


def _attribute(raw: Any, where: str, errors: list[FieldError]) -> FieldDef | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        errors.append(FieldError(where, "INVALID_ATTRIBUTE", "an attribute is {name, type, ...}"))
        return None
    unknown = sorted(set(raw) - _ATTR_KEYS)
    if unknown:
        errors.append(FieldError(where, "INVALID_ATTRIBUTE", f"unknown key(s) {', '.join(unknown)}"))
        return None
    ftype = raw.get("type", "text")
    if raw.get("multivalue") and ftype == "text":
        ftype = "multi_text"
    data = {
        "name": snake(raw["name"]),
        "type": ftype,
        "label": raw.get("displayName") or raw["name"],
        "required": bool(raw.get("required", False)),
        "max_length": raw.get("maxLength"),
        "min": raw.get("min"),
        "max": raw.get("max"),
        "options": raw.get("options"),
    }
    try:
        fd = FieldDef.from_json({k: v for k, v in data.items() if v is not None})
    except SchemaError as exc:
        errors.append(FieldError(where, "INVALID_ATTRIBUTE", str(exc)))
        return None
    if fd.type not in registry:
        errors.append(
            FieldError(where, "INVALID_ATTRIBUTE", f"unknown type {fd.type!r}; types: {', '.join(registry)}")
        )
        return None
    if fd.name in (ID, ID_EXT, STATE, DELETED):
        errors.append(FieldError(where, "RESERVED_ATTRIBUTE", f"{raw['name']!r} is part of every repository"))
        return None
    return fd


def new_repository(body: Any, existing: Mapping[str, RecordType]) -> RecordType:
    """The record type of a repository definition; ValidationFailed lists every problem."""
    errors: list[FieldError] = []
    if not isinstance(body, Mapping):
        raise ValidationFailed(
            [FieldError("", "INVALID_REPOSITORY", "send {name, attributes, relationships}")]
        )
    raw_name = body.get("name")
    name = snake(raw_name) if isinstance(raw_name, str) else ""
    if not is_valid_name(name):
        errors.append(
            FieldError("name", "INVALID_NAME", "a repository name is letters and digits, e.g. Supplier")
        )
    fields = {fd.name: fd for fd in _identity()}
    for i, raw in enumerate(body.get("attributes") or ()):
        fd = _attribute(raw, f"attributes[{i}]", errors)
        if fd is not None and fd.name in fields:
            errors.append(
                FieldError(f"attributes[{i}]", "DUPLICATE_ATTRIBUTE", f"{raw['name']!r} is defined twice")
            )
        elif fd is not None:
            fields[fd.name] = fd
    for i, raw in enumerate(body.get("relationships") or ()):
        where = f"relationships[{i}]"
        target = raw.get("targetRepository") if isinstance(raw, Mapping) else None
        if (
            not isinstance(raw, Mapping)
            or not isinstance(raw.get("name"), str)
            or not isinstance(target, str)
        ):
            errors.append(
                FieldError(
                    where, "INVALID_RELATIONSHIP", "a relationship is {name, targetRepository, attributes}"
                )
            )
            continue
        target_type = snake(target)
        if target_type not in existing and target_type != name:
            errors.append(FieldError(where, "UNKNOWN_REPOSITORY", f"no repository {target!r}"))
            continue
        columns = [
            FieldDef("target", "lookup", label=mdm_name(target_type), required=True, target=target_type)
        ]
        for j, attr in enumerate(raw.get("attributes") or ()):
            fd = _attribute(attr, f"{where}.attributes[{j}]", errors)
            if fd is not None:
                columns.append(fd)
        rname = snake(raw["name"])
        if rname in fields:
            errors.append(FieldError(where, "DUPLICATE_ATTRIBUTE", f"{raw['name']!r} is defined twice"))
            continue
        fields[rname] = FieldDef(
            rname, "sub_records", label=raw.get("displayName") or raw["name"], fields=tuple(columns)
        )
    if errors:
        raise ValidationFailed(errors)
    rels = tuple(n for n, fd in fields.items() if fd.type == "sub_records")
    return RecordType(
        name=name,
        label=str(body.get("displayName") or raw_name),
        fields=fields,
        unique_together=((ID, ID_EXT),),
        frozen_states=(MARKED_DELETED,),
        soft_delete=SoftDelete(DELETED, cascade=rels),  # DELETE marks it; deleteRelRecords cascades
    )


def definition_json(repo: Repository) -> dict[str, Any]:
    def attr(fd: FieldDef) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": mdm_name(fd.name),
            "displayName": fd.label or mdm_name(fd.name),
            "type": fd.type,
            "multivalue": registry.get(fd.type).multi,
            "required": fd.required,
        }
        if fd.options:
            out["options"] = [o.key for o in fd.options]
        return out

    return {
        "name": repo.name,
        "displayName": repo.rt.label or repo.name,
        "attributes": [attr(fd) for fd in repo.data_attributes()],
        "relationships": [
            {
                "name": rel.name,
                "targetRepository": mdm_name(rel.target_type),
                "attributes": [attr(c) for c in rel.attributes],
            }
            for rel in repo.relationships.values()
        ],
        "perspectives": [
            {"name": n, "attributes": sorted(mdm_name(f) for f in fs)} for n, fs in repo.perspectives.values()
        ],
    }
