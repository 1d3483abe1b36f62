"""The MDM record request model, parsed into canonical ops and relationship changes.

Attribute values travel as strings (``"Rating": "10.10"``, ``"CompanyRating": "9"``);
they are turned into the JSON value each field type takes (an integer field gets ``9``).
A value ``""`` or ``null`` clears; ``multivalues`` replaces a multi-value field; items may
be strings or ``{"value": ...}`` objects. Every problem of the request is collected, per
attribute, so one response lists all of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cardfile.api.dialects.tibco_mdm.repository import (
    DELETED,
    STATE,
    Relationship,
    Repository,
    mdm_name,
)
from cardfile.engine.commands import MISSING, FieldOp
from cardfile.errors import BadRequest
from cardfile.fieldtypes import registry
from cardfile.schema.model import FieldDef

__all__ = [
    "AttrChange",
    "Problem",
    "RecordRef",
    "RelChange",
    "RecordRequest",
    "column_ops",
    "parse_attributes",
    "parse_request",
]

_INT = re.compile(r"^\s*[+-]?[0-9]+\s*$")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_NUMBERS = frozenset({"integer", "decimal", "money"})
_IDS = frozenset({"lookup", "multi_lookup", "user", "multi_user"})


@dataclass(frozen=True)
class Problem:
    """One failing attribute (or, without ``attribute``, the record as a whole)."""

    code: str
    message: str
    attribute: str = ""
    display: str = ""
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttrChange:
    given: str  # the name as the client wrote it
    field: FieldDef
    op: FieldOp
    values: tuple[str, ...]


@dataclass(frozen=True)
class RecordRef:
    repository: str | None = None
    product_id: Any = None
    product_id_ext: Any = None
    product_key_id: Any = None


@dataclass
class RelChange:
    index: int
    name: str  # as given
    rel: Relationship | None
    target: RecordRef
    columns: list[AttrChange] = field(default_factory=list)
    target_attributes: list[Any] = field(default_factory=list)
    deleted: bool = False
    problems: list[Problem] = field(default_factory=list)


@dataclass
class RecordRequest:
    ref: RecordRef
    changes: list[AttrChange]
    problems: list[Problem]
    relationships: list[RelChange]
    state: Any = MISSING
    deleted: bool | None = None
    process: bool = True
    validate_flag: bool | None = None  # as sent: None when the client left it out
    work_item_id: str | None = None
    perspective: str | None = None

    @property
    def dry_run(self) -> bool:
        return self.validate_flag is True

    def extra_ops(self, repo: Repository) -> list[FieldOp]:
        ops = []
        if self.state is not MISSING and repo.has(STATE):
            ops.append(FieldOp(STATE, "clear" if self.state in (None, "") else "set", self.state))
        if self.deleted is not None and repo.has(DELETED):
            ops.append(FieldOp(DELETED, "set", self.deleted))
        return ops


def _flag(body: Mapping[str, Any], name: str) -> bool | None:
    v = body.get(name)
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    raise BadRequest(f"{name!r} must be true or false", field=name)


def _one(query: str | None, body: Any, name: str) -> str | None:
    """A parameter sent in the query, the body or both (then they must agree)."""
    if body is not None and not isinstance(body, str | int):
        raise BadRequest(f"{name!r} must be a string", field=name)
    b = None if body is None or body == "" else str(body)
    q = query or None
    if q is not None and b is not None and q != b:
        raise BadRequest(f"{name!r} is {q!r} in the query but {b!r} in the body; send one", field=name)
    value = q if q is not None else b
    if value is not None and len(value) > 255:
        raise BadRequest(f"{name!r} is longer than 255 characters", field=name)
    return value


def parse_request(
    repo: Repository,
    body: Any,
    *,
    path_repository: str,
    perspective: str | None,
    work_item_id: str | None,
    schema_repo: Any,
) -> RecordRequest:
    """The request ``{process, validate, workItemId, perspectiveName, record}``.

    ``schema_repo(name)`` finds another repository (the target of a relationship).
    """
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object with a 'record'")
    record = body.get("record")
    if not isinstance(record, Mapping):
        raise BadRequest("the body needs 'record': the record to change", field="record")
    named = record.get("repositoryName")
    named_repo = schema_repo(named) if isinstance(named, str) and named else None
    if named not in (None, "") and (named_repo is None or named_repo.type != repo.type):
        raise BadRequest(
            f"record.repositoryName {named!r} is not the repository of the path {path_repository!r}",
            field="record.repositoryName",
        )
    req = RecordRequest(ref=_ref(record), changes=[], problems=[], relationships=[])
    req.process = _flag(body, "process") is not False
    req.validate_flag = _flag(body, "validate")
    req.work_item_id = _one(work_item_id, body.get("workItemId"), "workItemId")
    req.perspective = _one(perspective, body.get("perspectiveName"), "perspectiveName")
    allowed: frozenset[str] | None = None
    if req.perspective is not None:
        found = repo.perspective(req.perspective)
        if found is None:
            known = ", ".join(sorted(n for n, _ in repo.perspectives.values())) or "none"
            raise BadRequest(
                f"{repo.name} has no perspective {req.perspective!r}; perspectives: {known}",
                field="perspectiveName",
            )
        allowed = found[1]
    if "state" in record:
        state = record["state"]
        if state is not None and not isinstance(state, str):
            req.problems.append(Problem("NOT_A_STRING", "the state is a string", "State", "State"))
        else:
            req.state = state
    if "deleted" in record and record["deleted"] is not None:
        d = record["deleted"]
        if not isinstance(d, bool):
            req.problems.append(Problem("NOT_A_BOOLEAN", "'deleted' is true or false", "Deleted", "Deleted"))
        elif d or repo.has(DELETED):
            req.deleted = d
    attrs = record.get("attributes")
    if attrs is not None and not isinstance(attrs, list):
        req.problems.append(Problem("NOT_A_LIST", "'attributes' must be a list of attributes"))
        attrs = None
    changes, problems = parse_attributes(attrs or [], repo.attribute, repo.display_name, allowed)
    req.changes.extend(changes)
    req.problems.extend(problems)
    req.relationships = _relationships(repo, record.get("relationships"), allowed, schema_repo, req.problems)
    return req


def _ref(record: Mapping[str, Any]) -> RecordRef:
    return RecordRef(
        repository=record.get("repositoryName") if isinstance(record.get("repositoryName"), str) else None,
        product_id=record.get("productId"),
        product_id_ext=record.get("productIdExt"),
        product_key_id=record.get("productKeyId"),
    )


def parse_attributes(
    entries: list[Any],
    lookup: Any,
    display: Any,
    allowed: frozenset[str] | None,
) -> tuple[list[AttrChange], list[Problem]]:
    """``[{name, value | multivalues, multivalue, ...}]`` -> one op per attribute."""
    changes: list[AttrChange] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str) or not entry["name"]:
            problems.append(
                Problem("INVALID_ATTRIBUTE", f"attribute {i} needs a 'name'", f"attributes[{i}]", f"[{i}]")
            )
            continue
        given = entry["name"]
        values = _shown(entry)
        fd: FieldDef | None = lookup(given)
        if fd is None:
            problems.append(
                Problem("UNKNOWN_ATTRIBUTE", f"there is no attribute {given[:80]!r}", given, given, values)
            )
            continue
        shown = display(fd)
        if allowed is not None and fd.name not in allowed:
            problems.append(
                Problem(
                    "NOT_IN_PERSPECTIVE",
                    f"{given!r} cannot be changed through this perspective",
                    given,
                    shown,
                    values,
                )
            )
            continue
        if fd.name in seen:
            problems.append(
                Problem("DUPLICATE_ATTRIBUTE", f"{given!r} is given more than once", given, shown, values)
            )
            continue
        seen.add(fd.name)
        try:
            op = _op(fd, entry)
        except _Bad as exc:
            problems.append(Problem(exc.code, exc.message, given, shown, values))
            continue
        changes.append(AttrChange(given, fd, op, values))
    return changes, problems


class _Bad(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _shown(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """The values as the client sent them, for the response."""
    mv = entry.get("multivalues")
    if isinstance(mv, list) and (entry.get("multivalue") or "value" not in entry):
        return tuple(_text(_item(x)) for x in mv)
    v = entry.get("value")
    return () if v is None else (_text(v),)


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else str(v)


def _item(x: Any) -> Any:
    return x.get("value") if isinstance(x, Mapping) and "value" in x else x


def _op(fd: FieldDef, entry: Mapping[str, Any]) -> FieldOp:
    multi = registry.get(fd.type).multi
    mv = entry.get("multivalues")
    use_multi = mv is not None and (bool(entry.get("multivalue")) or "value" not in entry)
    if use_multi:
        if not isinstance(mv, list):
            raise _Bad("NOT_A_LIST", "'multivalues' must be a list")
        if any(isinstance(x, Mapping) and "value" not in x for x in mv):
            raise _Bad("INVALID_VALUE", "an item of 'multivalues' is a value or an object with a 'value'")
        items = [coerce(fd, _item(x)) for x in mv]
        if multi:
            return FieldOp(fd.name, "replace", items) if items else FieldOp(fd.name, "clear")
        if len(items) > 1:
            raise _Bad("NOT_MULTIVALUE", f"{mdm_name(fd.name)!r} holds one value, not {len(items)}")
        raw: Any = items[0] if items else None
    else:
        raw = entry.get("value")
        if raw is not None and raw != "":
            raw = coerce(fd, raw)
        if multi:
            if raw is None or raw == "":
                return FieldOp(fd.name, "clear")
            return FieldOp(fd.name, "replace", [raw])
    if raw is None or raw == "":
        return FieldOp(fd.name, "clear")
    return FieldOp(fd.name, "set", raw)


def coerce(fd: FieldDef, raw: Any) -> Any:
    """A value as the vendor sends it (mostly a string) -> the JSON the field type takes."""
    t = fd.type
    if isinstance(raw, str):
        s = raw.strip()
        if t == "integer" and _INT.match(s):
            return int(s)
        if t in _IDS and s.isdigit():
            return int(s)
        if t == "boolean" and s.lower() in _TRUE | _FALSE:
            return s.lower() in _TRUE
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool) and t not in _NUMBERS | _IDS:
        return str(raw)  # a number for a text attribute: the vendor's values are strings
    return raw


# -- relationships -----------------------------------------------------------------


def _relationships(
    repo: Repository,
    raw: Any,
    allowed: frozenset[str] | None,
    schema_repo: Any,
    problems: list[Problem],
) -> list[RelChange]:
    """Three spellings: ``{name: [entry, ...]}`` (or ``{name: entry}``), a list of entries
    with ``relationshipName``, and the model's single ``{relationshipAttributes, targetRecord}``."""
    if raw is None or raw == {} or raw == []:
        return []
    entries: list[tuple[str | None, Any]] = []
    if isinstance(raw, Mapping) and ("targetRecord" in raw or "relationshipAttributes" in raw):
        entries.append((raw.get("relationshipName"), raw))
    elif isinstance(raw, Mapping):
        for name, value in raw.items():
            for e in value if isinstance(value, list) else [value]:
                entries.append((str(name), e))
    elif isinstance(raw, list):
        entries.extend((e.get("relationshipName") if isinstance(e, Mapping) else None, e) for e in raw)
    else:
        problems.append(Problem("INVALID_RELATIONSHIPS", "'relationships' must be an object or a list"))
        return []
    out: list[RelChange] = []
    for index, (name, entry) in enumerate(entries):
        out.append(_relationship(repo, index, name, entry, allowed, schema_repo))
    return out


def _relationship(
    repo: Repository,
    index: int,
    name: str | None,
    entry: Any,
    allowed: frozenset[str] | None,
    schema_repo: Any,
) -> RelChange:
    if not isinstance(entry, Mapping):
        rc = RelChange(index, name or "", None, RecordRef())
        rc.problems.append(
            Problem("INVALID_RELATIONSHIP", "a relationship is an object with a 'targetRecord'")
        )
        return rc
    target = entry.get("targetRecord")
    ref = _ref(target) if isinstance(target, Mapping) else RecordRef()
    rel = repo.relationship(name) if isinstance(name, str) else None
    if name is None:  # the single spelling without a name: the one relationship to that repository
        target_repo = schema_repo(ref.repository) if ref.repository else None
        candidates = [
            r
            for r in repo.relationships.values()
            if target_repo is not None and r.target_type == target_repo.type
        ]
        if len(repo.relationships) == 1 and ref.repository is None:
            candidates = list(repo.relationships.values())
        rel = candidates[0] if len(candidates) == 1 else None
    rc = RelChange(index, str(name or (rel.name if rel else "")), rel, ref)
    if rel is None:
        known = ", ".join(r.name for r in repo.relationships.values()) or "none"
        what = repr(name) if name else "the relationship (send 'relationshipName')"
        rc.problems.append(
            Problem("UNKNOWN_RELATIONSHIP", f"{repo.name} has no relationship {what}; relationships: {known}")
        )
        return rc
    if allowed is not None and rel.field not in allowed:
        rc.problems.append(
            Problem("NOT_IN_PERSPECTIVE", f"{rel.name!r} cannot be changed through this perspective")
        )
        return rc
    if not isinstance(target, Mapping):
        rc.problems.append(Problem("INVALID_RELATIONSHIP", "the relationship needs a 'targetRecord'"))
        return rc
    rc.deleted = bool(entry.get("deleted")) or bool(target.get("deleted"))
    attrs = entry.get("relationshipAttributes")
    if attrs is not None and not isinstance(attrs, list):
        rc.problems.append(Problem("NOT_A_LIST", "'relationshipAttributes' must be a list"))
        attrs = None
    columns, problems = parse_attributes(
        attrs or [], rel.attribute, lambda c: c.label or mdm_name(c.name), None
    )
    rc.columns = columns
    rc.problems.extend(problems)  # after a NOT_A_LIST above, not in its place
    tattrs = target.get("attributes")
    if isinstance(tattrs, list):
        rc.target_attributes = tattrs
    return rc


def column_ops(changes: list[AttrChange]) -> dict[str, Any]:
    """Relationship attribute changes as the column values of a sub-record row."""
    row: dict[str, Any] = {}
    for c in changes:
        row[c.field.name] = None if c.op.kind == "clear" else c.op.value
    return row
