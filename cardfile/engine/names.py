"""Names of what a response links to: linked records and users, for dialects that render
``{name, id}`` links. Read in one query per kind, inside the request's unit of work, and
only what the caller may see: a linked record it may not read keeps its id but no name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from cardfile.auth.principal import Principal
from cardfile.engine import permissions as perm
from cardfile.engine.catalog import Catalog
from cardfile.errors import CardfileError
from cardfile.schema.model import FieldDef, RecordType, Schema
from cardfile.store import records as store
from cardfile.store import search as search_store

__all__ = ["Links", "Names", "Person", "links_of"]


@dataclass(frozen=True)
class Person:
    id: int
    name: str | None
    email: str | None


@dataclass
class Links:
    """What some records link to: record ids by target type, user ids, and the actors
    (emails) written as their ``created_by`` / ``modified_by``."""

    records: dict[str, set[int]] = field(default_factory=dict)
    users: set[int] = field(default_factory=set)
    actors: set[str] = field(default_factory=set)


def links_of(rt: RecordType, records: Iterable[dict[str, Any]]) -> Links:
    """Every link of these records of ``rt``, sub-record rows included: what a renderer
    reads the names of, in one query per kind."""
    out = Links()
    for record in records:
        out.actors.update(
            a for a in (record.get("created_by"), record.get("modified_by")) if isinstance(a, str)
        )
        for fd in rt:
            _collect(fd, record.get(fd.name), out)
    return out


def _collect(fd: FieldDef, value: Any, out: Links) -> None:
    values = value if isinstance(value, list) else [value]
    if fd.type in ("lookup", "multi_lookup"):
        out.records.setdefault(fd.target or "", set()).update(v for v in values if isinstance(v, int))
    elif fd.type in ("user", "multi_user"):
        out.users.update(v for v in values if isinstance(v, int))
    elif fd.type == "sub_records":
        for row in values:
            if isinstance(row, dict):
                for col in fd.fields:
                    _collect(col, row.get(col.name), out)


class Names:
    """Bound to one unit of work and its caller; what a renderer asks for names. ``record``,
    ``person`` and ``actor`` keep what they read for the rest of the response."""

    def __init__(self, conn: Connection, catalog: Catalog, principal: Principal | None) -> None:
        self._conn = conn
        self._principal = principal
        self.schema: Schema = catalog.current(conn)
        self._records: dict[int, tuple[str, dict[str, Any]] | None] = {}
        self._people: dict[int, Person | None] = {}
        self._actors: dict[str, Person | None] = {}

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

    # -- records by id alone (links that name no type: Tracker v1), kept per response ------
    def records(self, ids: Iterable[int]) -> dict[int, tuple[str, dict[str, Any]]]:
        """``{id: (type, fields)}`` of the records of any type with these ids that the caller
        may read and see (for a dialect whose links name records by id alone)."""
        out: dict[int, tuple[str, dict[str, Any]]] = {}
        readable: dict[str, bool] = {}
        for row in search_store.rows_by_id(self._conn, sorted(set(ids))):
            rt = self.schema.get(row.type)
            if rt is None:
                continue
            if row.type not in readable:
                try:
                    perm.require(self._principal, rt, "READ")
                    readable[row.type] = True
                except CardfileError:
                    readable[row.type] = False
            if not readable[row.type]:
                continue
            try:
                perm.require_visible(self._principal, rt, int(row.id), row.data)
            except CardfileError:
                continue  # a record this user may not see (not owned or followed)
            out[int(row.id)] = (row.type, dict(row.data))
        return out

    def load(self, rt: RecordType, records: Iterable[dict[str, Any]]) -> None:
        """Read every record and user these records of ``rt`` link to, one query per kind."""
        links = links_of(rt, records)
        self.fetch(set().union(*links.records.values()))
        self._read_people(links.users, links.actors)

    def fetch(self, ids: Iterable[int]) -> None:
        """Read the records of ``ids`` not read yet (as ``records`` does)."""
        missing = {i for i in ids if i not in self._records}
        if missing:
            found = self.records(missing)
            self._records.update({i: found.get(i) for i in missing})

    def record(self, rid: int) -> tuple[str, dict[str, Any]] | None:
        """``(type, fields)`` of the record ``rid`` if the caller may see it."""
        self.fetch([rid])
        return self._records[rid]

    def person(self, uid: int) -> Person | None:
        """The user ``uid``, active or not."""
        self._read_people([uid], ())
        return self._people[uid]

    def actor(self, email: str) -> Person | None:
        """The user an actor of history (an email) is."""
        self._read_people((), [email])
        return self._actors[email]

    def _read_people(self, ids: Iterable[int], emails: Iterable[str]) -> None:
        ids = {i for i in ids if i not in self._people}
        emails = {e for e in emails if e not in self._actors}
        if not ids and not emails:
            return
        self._people.update(dict.fromkeys(ids))
        self._actors.update(dict.fromkeys(emails))
        for p in self.people(ids, emails):
            self._people[p.id] = p
            if p.email:
                self._actors[p.email] = p
