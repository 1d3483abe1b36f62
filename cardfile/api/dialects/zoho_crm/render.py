"""Records and write results in Zoho's JSON: API names, string ids, ``{name, id}`` links.

A ``Renderer`` serves one request: it collects every record and user a response links
to, reads their names in two queries (one per kind), then renders. Times are ISO 8601
with an offset and without fractions (``2021-05-02T11:17:33+00:00``), in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cardfile.api.dialects.zoho_crm.modules import api_name, column_api_name, field_kind, zoho_id
from cardfile.engine.names import Names
from cardfile.engine.results import WriteResult
from cardfile.schema.model import FieldDef, RecordType

__all__ = ["Renderer", "primary_field", "zoho_time"]


def zoho_time(iso: str | None) -> str | None:
    """cardfile's ``2024-05-01T12:30:00.000000Z`` as ``2024-05-01T12:30:00+00:00``."""
    if not iso:
        return None
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    return dt.replace(microsecond=0).isoformat()


def primary_field(rt: RecordType) -> FieldDef | None:
    """The field that names a record in links (``Deal_Name``, ``Account_Name``): the first
    required text field, else the first text field."""
    texts = [f for f in rt if f.type == "text"]
    return next((f for f in texts if f.required), texts[0] if texts else None)


class Renderer:
    def __init__(self, names: Names) -> None:
        self.names = names  # the engine's reads of linked records' and users' names
        self.schema = names.schema
        self._records: dict[int, str | None] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._actors: dict[str, dict[str, Any]] = {}

    # -- names ---------------------------------------------------------------------------
    def _collect(self, rt: RecordType, record: dict[str, Any], want: dict[str, set[Any]]) -> None:
        want["actor"].update({record.get("created_by"), record.get("modified_by")} - {None})
        for fd in rt:
            self._collect_value(fd, record.get(fd.name), want)

    def _collect_value(self, fd: FieldDef, value: Any, want: dict[str, set[Any]]) -> None:
        if value is None:
            return
        if fd.type in ("lookup", "multi_lookup") and fd.target:
            want.setdefault(fd.target, set()).update(value if isinstance(value, list) else [value])
        elif fd.type in ("user", "multi_user"):
            want["user"].update(value if isinstance(value, list) else [value])
        elif fd.type == "sub_records":
            for row in value:
                for col in fd.fields:
                    self._collect_value(col, row.get(col.name), want)

    def load(
        self,
        items: Iterable[tuple[RecordType, dict[str, Any]]],
        *,
        links: bool = True,
        actors: Iterable[str] = (),
    ) -> None:
        """Read the names of every user and (with ``links``) record these records link to."""
        want: dict[str, set[Any]] = {"actor": set(actors), "user": set()}
        for rt, record in items:
            if links:
                self._collect(rt, record, want)
            else:
                want["actor"].update({record.get("created_by"), record.get("modified_by")} - {None})
        users = want.pop("user")
        actors = want.pop("actor")
        for type_name, wanted in want.items():
            target = self.schema.get(type_name)
            prim = primary_field(target) if target else None
            todo = [i for i in wanted if i not in self._records]
            found = self.names.record_values(type_name, todo, prim.name) if prim else {}
            self._records.update({i: found.get(i) for i in todo})
        ids = [i for i in users if isinstance(i, int) and i not in self._users]
        emails = [a for a in actors if a not in self._actors]
        if ids or emails:
            for p in self.names.people(ids, emails):
                who = {"name": p.name, "id": str(p.id), "email": p.email}
                self._users[p.id] = who
                if p.email:
                    self._actors[p.email] = who
        for a in emails:
            self._actors.setdefault(a, {"name": a, "id": None})

    def user(self, uid: Any) -> dict[str, Any] | None:
        if uid is None:
            return None
        return self._users.get(uid, {"name": None, "id": str(uid)})

    def actor(self, actor: str | None) -> dict[str, Any] | None:
        if actor is None:
            return None
        who = self._actors.get(actor, {"name": actor, "id": None})
        return {"name": who["name"], "id": who["id"]}

    def link(self, rid: Any) -> dict[str, Any] | None:
        if rid is None:
            return None
        return {"name": self._records.get(rid), "id": zoho_id(rid)}

    # -- values --------------------------------------------------------------------------
    def value(self, fd: FieldDef, value: Any) -> Any:
        t = fd.type
        if t == "lookup":
            return self.link(value)
        if t == "multi_lookup":
            return [self.link(v) for v in value or []]
        if t == "user":
            return self.user(value)
        if t == "multi_user":
            return [self.user(v) for v in value or []]
        if t == "datetime":
            return zoho_time(value)
        if t == "sub_records":
            return [self.row(fd, r) for r in value or []]
        if t in ("multi_select", "checkbox") and value == []:
            return []
        return value

    def row(self, fd: FieldDef, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for col in fd.fields:
            v = row.get(col.name)
            if v is None and field_kind(fd) != "subform":
                continue
            out[column_api_name(fd, col)] = self.value(col, v)
        out["id"] = zoho_id(row["id"])
        return out

    def record(
        self, rt: RecordType, record: dict[str, Any], fields: set[str] | None = None
    ) -> dict[str, Any]:
        """A record as Zoho answers it; ``fields`` (API names) limits the fields shown."""
        out: dict[str, Any] = {}
        for fd in rt:
            name = api_name(fd)
            if fields is not None and name not in fields:
                continue
            out[name] = self.value(fd, record.get(fd.name))
        system = {
            "Created_Time": zoho_time(record.get("created_at")),
            "Modified_Time": zoho_time(record.get("modified_at")),
            "Created_By": self.actor(record.get("created_by")),
            "Modified_By": self.actor(record.get("modified_by")),
        }
        for name, v in system.items():
            if fields is None or name in fields:
                out[name] = v
        out["id"] = zoho_id(record["id"])
        return out

    def details(self, result: WriteResult) -> dict[str, Any]:
        """The ``details`` of a write's success element: modified by the caller, at the time
        of its change (automation may have changed the record after it, as another actor)."""
        r = result.record
        return {
            "Modified_Time": zoho_time(result.at or r.get("modified_at")),
            "Modified_By": self.actor(result.actor or r.get("modified_by")),
            "Created_Time": zoho_time(r.get("created_at")),
            "id": zoho_id(result.id),
            "Created_By": self.actor(r.get("created_by")),
        }
