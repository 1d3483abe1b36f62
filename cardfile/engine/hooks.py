"""How automation plugs into the engine, so that the engine never imports it.

The engine calls hooks at fixed points of a write, in the write's transaction; what they
do (rules, locks, events) is theirs. ``cardfile/services.py`` wires automation's hooks
into the engine, so imports point one way: automation -> engine.

- ``before_write``: on the record as the request's ops leave it (nothing written yet),
  may add ops to the same change (one version, one history row) and a reason for it.
- ``after_write``: once the change is written, may make further changes (each its own
  version) through the ``Writer`` it is given; returns the last one, or None.
- ``optional_features``: the automation features of a type any caller may decline
  (``Context.skip``) without the scope ``automation.SKIP``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from cardfile.engine.commands import Context, FieldOp, UpdateCommand
from cardfile.engine.results import WriteResult
from cardfile.schema.model import RecordType

__all__ = ["AfterWrite", "Amendment", "BeforeWrite", "Hooks", "OptionalFeatures", "Writer"]


class Writer(Protocol):
    """What an after-write hook may do with the engine: update, within a chain's depth."""

    rule_depth: int

    def update(self, cmd: UpdateCommand, ctx: Context, conn: Connection | None = None) -> WriteResult: ...


@dataclass(frozen=True)
class Amendment:
    """Ops a before-write hook adds to the change, and why (appended to its reason)."""

    ops: tuple[FieldOp, ...]
    reason: str | None = None


class BeforeWrite(Protocol):
    def __call__(
        self,
        conn: Connection,
        rt: RecordType,
        trigger: str,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        touched: Sequence[str],
        ctx: Context,
    ) -> Amendment | None:
        """``old`` and ``new`` are the record's data in storage form; ``touched`` the fields the
        request's ops touched."""
        ...


class AfterWrite(Protocol):
    def __call__(
        self,
        engine: Writer,
        conn: Connection,
        rt: RecordType,
        result: WriteResult,
        trigger: str,
        ctx: Context,
    ) -> WriteResult | None: ...


class OptionalFeatures(Protocol):
    def __call__(self, conn: Connection, rt: RecordType) -> frozenset[str]: ...


@dataclass(frozen=True)
class Hooks:
    """Everything plugged into one engine; empty by default (an engine without automation)."""

    before_write: Sequence[BeforeWrite] = ()
    after_write: Sequence[AfterWrite] = ()
    optional_features: OptionalFeatures | None = None
