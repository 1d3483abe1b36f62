"""The engine bound to one unit of work and its caller: what a dialect gets instead of a
database handle.

A ``Session`` holds the transaction's connection privately and exposes the engine's reads,
writes and catalog changes, each a thin call of the engine with that connection and, by
default, the bound caller. A dialect thus never sees a ``Connection``, so it cannot read or
write around the engine's rules; whatever else it needs is added here as an engine call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from cardfile.auth.principal import Principal
from cardfile.engine.commands import Context, CreateCommand, DeleteCommand, UpdateCommand
from cardfile.engine.names import Names
from cardfile.engine.query import Page, Query, all_records
from cardfile.engine.results import WriteResult
from cardfile.engine.update import Engine
from cardfile.engine.upsert import UpsertCommand, UpsertOutcome
from cardfile.errors import CardfileError
from cardfile.schema.model import FieldDef, RecordType, Schema

__all__ = ["Session"]

T = TypeVar("T")


class Session:
    """The engine in one transaction, acting for one caller through one channel.

    Args:
        engine: The engine every call goes to.
        conn: The unit of work's connection; private, never handed out.
        principal: The caller; None is the system itself (every check lets it through).
        channel: Written to history and events by the default ``context``.
    """

    __slots__ = ("_conn", "_engine", "channel", "principal")

    def __init__(
        self, engine: Engine, conn: Connection, principal: Principal | None, *, channel: str = "api"
    ) -> None:
        self._engine = engine
        self._conn = conn
        self.principal = principal
        self.channel = channel

    def __repr__(self) -> str:
        who = self.principal.name if self.principal else "system"
        return f"<Session {self.channel} as {who}>"

    # -- who acts -------------------------------------------------------------------
    def acting_as(self, principal: Principal | None) -> Session:
        """The same unit of work for another caller: a dialect's caller with its vendor
        scopes mapped onto cardfile's, or None for the system (a dialect's own lookups,
        such as its id mappings, which are not the caller's reads)."""
        return Session(self._engine, self._conn, principal, channel=self.channel)

    def context(self, reason: str | None = None) -> Context:
        """The write context of the bound caller and channel, with an optional reason."""
        actor = self.principal.name if self.principal else "system"
        return Context(actor, self.channel, reason, principal=self.principal)

    # -- the schema -----------------------------------------------------------------
    @property
    def schema(self) -> Schema:
        """The schema as of this transaction."""
        return self._engine.catalog.current(self._conn)

    def record_type(self, name: str) -> RecordType:
        """The record type ``name``; UnknownRecordType when there is none."""
        return self._engine.catalog.record_type(self._conn, name)

    def add_type(self, rt: RecordType) -> RecordType:
        """Create a record type at runtime (see ``Catalog.add_type``)."""
        return self._engine.catalog.add_type(rt, self._conn)

    def add_field(self, type_name: str, definition: Mapping[str, Any]) -> FieldDef:
        """Add a custom field to a type (see ``Catalog.add_field``)."""
        return self._engine.catalog.add_field(type_name, definition, self._conn)

    # -- reads ----------------------------------------------------------------------
    def get(self, type_name: str, record_id: int) -> dict[str, Any]:
        """One record as the caller may see it; NotFound or PermissionDenied otherwise."""
        return self._engine.get(type_name, record_id, self._conn, self.principal)

    def query(self, q: Query) -> Page:
        """One page of the records ``q`` matches that the caller may see."""
        return self._engine.query(q, self._conn, self.principal)

    def all_records(self, q: Query) -> Iterator[dict[str, Any]]:
        """Every record ``q`` matches, a page at a time (see ``engine.query.all_records``)."""
        return all_records(self._conn, self._engine.catalog, q, self.principal)

    def find_unique(self, type_name: str, values: dict[str, Any]) -> int | None:
        """The record holding these unique values (see ``uniques.find_unique``)."""
        return self._engine.find_unique(self._conn, type_name, values)

    def names(self) -> Names:
        """Names of linked records and users, as the caller may see them."""
        return Names(self._conn, self._engine.catalog, self.principal)

    # -- writes (ctx defaults to ``context()``) -------------------------------------------
    def create(self, cmd: CreateCommand, ctx: Context | None = None) -> WriteResult:
        return self._engine.create(cmd, ctx or self.context(), self._conn)

    def update(self, cmd: UpdateCommand, ctx: Context | None = None) -> WriteResult:
        return self._engine.update(cmd, ctx or self.context(), self._conn)

    def update_many(
        self, cmds: Sequence[UpdateCommand], ctx: Context | None = None, *, all_or_none: bool
    ) -> list[WriteResult | CardfileError]:
        return self._engine.update_many(cmds, ctx or self.context(), all_or_none=all_or_none, conn=self._conn)

    def delete(self, cmd: DeleteCommand, ctx: Context | None = None) -> WriteResult:
        return self._engine.delete(cmd, ctx or self.context(), self._conn)

    def upsert(self, cmd: UpsertCommand, ctx: Context | None = None) -> list[UpsertOutcome]:
        return self._engine.upsert(cmd, ctx or self.context(), self._conn)

    def batch(
        self,
        items: Sequence[T],
        fn: Callable[[Session, T], WriteResult],
        *,
        all_or_none: bool,
        key: Callable[[T], object] = lambda _: None,
    ) -> list[WriteResult | CardfileError]:
        """``fn(session, item)`` for each item, each in its own savepoint: a failing item
        rolls back only itself (all-or-none then raises BatchFailed; see ``batches.run``).
        ``fn`` gets a session of the same caller on the savepoint's connection."""

        def one(conn: Connection, item: T) -> WriteResult:
            return fn(Session(self._engine, conn, self.principal, channel=self.channel), item)

        return self._engine.run_batch(items, one, all_or_none=all_or_none, key=key, conn=self._conn)
