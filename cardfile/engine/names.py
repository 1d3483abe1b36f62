"""Names of what a response links to: linked records and users, for dialects that render
``{name, id}`` links. Read in one query per kind, inside the request's unit of work, and
only what the caller may see: a linked record it may not read keeps its id but no name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cardfile.auth.principal import Principal
from cardfile.engine import permissions as perm
from cardfile.engine.catalog import Catalog
from cardfile.errors import CardfileError
from cardfile.schema.model import Schema
from cardfile.store import records as store

__all__ = ["Names", "Person"]


@dataclass(frozen=True)
class Person:
    id: int
    name: str | None
    email: str | None


class Names:
    """Bound to one unit of work and its caller; what a renderer asks for names."""

    def __init__(self, conn: Connection, catalog: Catalog, principal: Principal | None) -> None:
        self._conn = conn
        self._principal = principal
        self.schema: Schema = catalog.current(conn)

    def record_values(self, type_name: str, ids: Iterable[int], field: str) -> dict[int, Any]:
        """``field`` of each record of ``ids`` the caller may read (others are left out)."""
        rt = self.schema.get(type_name)
        wanted = sorted({i for i in ids if isinstance(i, int)})
        if rt is None or not wanted:
            return {}
        try:
            perm.require(self._principal, rt, "READ")
        except CardfileError:
            return {}
        out: dict[int, Any] = {}
        for row in store.get_records(self._conn, type_name, wanted):
            data = row.data or {}
            try:
                perm.require_visible(self._principal, rt, int(row.id), data)
            except CardfileError:
                continue
            out[int(row.id)] = data.get(field)
        return out

    def people(self, ids: Iterable[int], emails: Iterable[str]) -> list[Person]:
        """Users by id or by email (an actor is written to history by email)."""
        return [
            Person(int(r.id), r.display_name or r.username, r.email)
            for r in store.people(self._conn, ids, emails)
        ]
