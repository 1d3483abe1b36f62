"""Canonical commands: what every dialect compiles a request into.

A dialect turns its vendor's body into ``FieldOp`` values (``set``, ``clear``, ``add``,
``remove``, ``replace``, ``update``; for sub-records also ``sync`` and ``upsert``) and
wraps them in a command; the engine applies them through the field types. ``MISSING``
tells an absent key from an explicit null.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cardfile.auth.principal import Principal

__all__ = [
    "MISSING",
    "Context",
    "CreateCommand",
    "DeleteCommand",
    "FieldOp",
    "OpKind",
    "UpdateCommand",
    "ops_from_json",
]

OpKind = Literal["set", "clear", "add", "remove", "replace", "update", "sync", "upsert"]
MULTI_OP_KEYS = ("add", "remove", "replace", "update", "sync", "upsert")


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing.MISSING


@dataclass(frozen=True)
class FieldOp:
    """One change to one field. ``key`` addresses a sub-value (keyed text ``field.key``)."""

    field: str
    kind: OpKind
    value: Any = None
    key: str | None = None

    @property
    def path(self) -> str:
        return f"{self.field}.{self.key}" if self.key else self.field


@dataclass(frozen=True)
class Context:
    """Who is acting, through which channel; written to history and events."""

    actor: str
    channel: str = "api"
    reason: str | None = None
    skip_automation: bool = False
    # None: the system itself (CLI, imports), which every check lets through
    principal: Principal | None = None
    # automation features (e.g. "cadences", "workflows", "process") this change skips;
    # skip_automation skips them all. Either needs the scope automation.SKIP.
    skip: frozenset[str] = frozenset()
    # the automation rules whose actions produced this change, outermost first
    rule_chain: tuple[str, ...] = ()

    @property
    def client_id(self) -> str | None:
        return self.principal.client_id if self.principal else None


@dataclass(frozen=True)
class UpdateCommand:
    type: str
    id: int
    ops: tuple[FieldOp, ...]
    expected_version: int | None = None
    unmodified_since: datetime | None = None
    # the precision the caller's timestamp carries ("second" for an HTTP-date)
    unmodified_since_precision: Literal["second", "microsecond"] = "second"
    validate_only: bool = False
    layout: str | None = None  # ops outside the layout are ignored; its mandatory fields are checked


@dataclass(frozen=True)
class CreateCommand:
    type: str
    ops: tuple[FieldOp, ...]
    validate_only: bool = False
    layout: str | None = None


@dataclass(frozen=True)
class DeleteCommand:
    type: str
    id: int
    expected_version: int | None = None
    unmodified_since: datetime | None = None
    unmodified_since_precision: Literal["second", "microsecond"] = "second"
    extra: Mapping[str, Any] = field(default_factory=dict)
    cascade: bool = False  # a soft delete also deletes what the type's cascade links point at


def ops_from_json(body: Mapping[str, Any], *, multi_fields: frozenset[str]) -> list[FieldOp]:
    """Compile the canonical JSON spelling into ops.

    - ``"f": value`` sets, ``"f": null`` clears;
    - for a multi-value field (``multi_fields``) a list replaces the set and an object
      with ``add`` / ``remove`` / ``replace`` / ``update`` / ``sync`` / ``upsert`` keys is
      one op per key;
    - ``"f.key": value`` sets one sub-value of a keyed field, and an object value for a
      keyed field merges key by key (RFC 7396: null inside clears that key).

    Which fields are keyed is the field type's business, so objects for non-multi fields
    are passed through as ``set`` and the type decides.
    """
    ops: list[FieldOp] = []
    for name, raw in body.items():
        base, dot, key = name.partition(".")
        if dot:
            ops.append(FieldOp(base, "clear" if raw is None else "set", raw, key=key))
        elif raw is None:
            ops.append(FieldOp(name, "clear"))
        elif name in multi_fields and isinstance(raw, Mapping) and raw and set(raw) <= set(MULTI_OP_KEYS):
            # replace first, then update, add, remove: the order a reader expects (sync is a
            # kind of replace, upsert a kind of update)
            for kind in ("replace", "sync", "update", "upsert", "add", "remove"):
                if kind in raw:
                    ops.append(FieldOp(name, kind, raw[kind]))
        elif name in multi_fields and isinstance(raw, list):
            ops.append(FieldOp(name, "replace", raw))
        else:
            ops.append(FieldOp(name, "set", raw))
    return ops
