"""Tracker ``…/Search`` bodies → the engine's ``Query``.

Every member is optional; ``null`` is the same as absent. ``maxResults`` (default 10, at
most 500) and ``pageNumber`` (default 1) page the result; ``sortBy`` names a key of the
search row or of the resource (case-insensitive; "" sorts by id) and ``sortDirection``
is ASC or DESC in any case. ``searchTerm`` is full text over the name-like fields
(``store.search.SEARCH_KEYS``). ``state``: ``open``/``active`` are records not closed,
``closed``/``inactive`` closed ones; any other value is the name of a status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cardfile.api.dialects.tracker_v1.parse import custom_field_name, custom_value, is_id
from cardfile.api.dialects.tracker_v1.render import ROWS
from cardfile.api.dialects.tracker_v1.spec import Resource, snake
from cardfile.auth.principal import Principal
from cardfile.engine.query import Condition, Query
from cardfile.errors import BadRequest
from cardfile.fieldtypes import registry
from cardfile.schema.model import RecordType

__all__ = ["Search", "parse_search"]

MAX_RESULTS = 500
_SYSTEM_SORTS = {"@id": "id", "@created": "created_at", "@updated": "modified_at"}
_NAME_SORTS = {"contact": "surname", "resource": "surname", "user_profile": "full_name"}


@dataclass
class Search:
    term: str | None = None
    page: int = 1
    size: int = 10
    sort: str | None = None
    desc: bool = False
    include_custom: bool = False
    conditions: list[Condition] = field(default_factory=list)
    status_names: str | None = None  # state: resolve status ids by this name

    def query(self, type_name: str, *more: Condition) -> Query:
        """The engine's query of this search over ``type_name``, with ``more`` conditions."""
        return Query(
            type_name, (*self.conditions, *more), sort=self.sort, descending=self.desc, page=self.page,
            page_size=self.size, term=self.term,
        )  # fmt: skip


def _get(body: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    v = body.get(name)
    if v is None:
        return None
    if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
        if isinstance(v, str) and v.strip().lstrip("-").isdigit():
            return int(v)
        raise BadRequest(f"{name} must be an integer", field=name)
    if kind is bool and not isinstance(v, bool):
        raise BadRequest(f"{name} must be true or false", field=name)
    if kind is str and not isinstance(v, str):
        if isinstance(v, int | float) and not isinstance(v, bool):
            return str(v)
        raise BadRequest(f"{name} must be a string", field=name)
    return v


def _time(body: Mapping[str, Any], name: str) -> datetime | None:
    v = _get(body, name, str)
    if not v:
        return None
    try:
        dt = datetime.fromisoformat(v.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 date-time", field=name) from None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _date(body: Mapping[str, Any], name: str) -> str | None:
    v = _get(body, name, str)
    if not v:
        return None
    try:
        return datetime.fromisoformat(v.strip()[:10]).date().isoformat()
    except ValueError:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD)", field=name) from None


def _sortable(rt: RecordType, name: str) -> bool:
    """A field holding one value (a set, such as a Contact's ``contact_type``, has no order)."""
    fd = rt.get(name)
    return fd is not None and registry.get(fd.type).sql_kind in ("text", "number", "bool")


def _sort_field(res: Resource, rt: RecordType, sort_by: str) -> str:
    want = sort_by.strip().lower()
    for key, getter in ROWS.get(res.name, ()):
        if key.lower() != want or not isinstance(getter, str) or not getter:
            continue
        if getter in _SYSTEM_SORTS:
            return _SYSTEM_SORTS[getter]
        kind, _, fname = getter.partition(":")
        if kind in ("f", "t", "b", "n", "u") and _sortable(rt, fname):
            return fname
    for k in res.keys:
        for f in k.fields():
            if f.key.lower() == want and f.kind in ("scalar", "ref", "idref"):
                return f.field
    if want == "name" and rt.get("name") is None and rt.name in _NAME_SORTS:
        return _NAME_SORTS[rt.name]
    if want in ("fullname", "full_name") and rt.get("full_name") is not None:
        return "full_name"
    if want in ("id", res.id_key.lower()):
        return "id"
    if want in ("created", "creationdate"):
        return "created_at"
    if want in ("updated", "lastupdateddatetime"):
        return "modified_at"
    name = snake(sort_by.strip())
    if _sortable(rt, name):
        return name
    raise BadRequest(f"cannot sort {res.name} by {sort_by[:60]!r}", field="sortBy")


def parse_search(
    res: Resource, rt: RecordType, body: Any, principal: Principal, *, custom_field: bool = False
) -> Search:
    """The query of one search body; malformed members are a 400."""
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise BadRequest("the search body must be a JSON object")
    q = Search()
    size = _get(body, "maxResults", int)
    if size is not None:
        if not 1 <= size <= MAX_RESULTS:
            raise BadRequest(f"maxResults must be 1 to {MAX_RESULTS}", field="maxResults")
        q.size = size
    page = _get(body, "pageNumber", int)
    if page is not None:
        if page < 1:
            raise BadRequest("pageNumber starts at 1", field="pageNumber")
        q.page = page
    direction = (_get(body, "sortDirection", str) or "ASC").strip().upper()
    if direction not in ("ASC", "DESC", ""):
        raise BadRequest("sortDirection must be ASC or DESC", field="sortDirection")
    q.desc = direction == "DESC"
    sort_by = _get(body, "sortBy", str)
    if sort_by and sort_by.strip():
        q.sort = _sort_field(res, rt, sort_by)
    q.include_custom = bool(_get(body, "includeCustomFields", bool))
    cond = q.conditions
    if custom_field:
        fid = _get(body, "customFieldId", int)
        value = _get(body, "customFieldValue", str)
        if value is None:
            value = _get(body, "searchTerm", str)
        fd = rt.get(custom_field_name(fid)) if is_id(fid) and fid > 0 else None
        if fd is None:
            raise BadRequest(f"{res.name} has no custom field {fid!r}", field="customFieldId")
        if value is not None:
            v = custom_value(fd.type, value)
            cond.append(Condition(fd.name, "ieq" if isinstance(v, str) else "eq", v))
        else:
            cond.append(Condition(fd.name, "isnull", False))
        q.include_custom = True
        return q
    term = _get(body, "searchTerm", str)
    q.term = term.strip() if term and term.strip() else None
    status_id = _get(body, "statusId", int)
    if status_id and rt.get("status") is not None:
        cond.append(Condition("status", "eq", status_id))
    state = _get(body, "state", str)
    if state and state.strip() and rt.get("closed") is not None:
        s = state.strip().lower()
        if s in ("open", "active", "current", "live"):
            cond.append(Condition("closed", "isnull", True))
        elif s in ("closed", "inactive"):
            cond.append(Condition("closed", "isnull", False))
        elif s != "all":
            q.status_names = state.strip()
    for name, op in (("updatedBefore", "lt"), ("updatedAfter", "gt")):
        t = _time(body, name)
        if t is not None:
            cond.append(Condition("modified_at", op, t))
    if _get(body, "onlyMyRecords", bool):
        if principal.user_id is None or rt.get("owner") is None:
            cond.append(Condition("id", "lt", 0))  # a caller that is no user owns nothing
        else:
            cond.append(Condition("owner", "eq", principal.user_id))
    _extra(res, body, cond)
    return q


def _extra(res: Resource, body: Mapping[str, Any], cond: list[Condition]) -> None:
    """The members only some resources' searches take."""
    if res.name in ("Contact", "Resource"):
        phone = _get(body, "telephone", str)
        if phone and phone.strip():
            cond.append(Condition("telephone", "contains", phone.strip()))
        email = _get(body, "email", str)
        if email and email.strip():
            cond.append(Condition("email", "ieq", email.strip()))
    elif res.name == "OpportunityResource":
        for name, fname in (("opportunityId", "opportunity"), ("resourceId", "resource")):
            v = _get(body, name, int)
            if v:
                cond.append(Condition(fname, "eq", v))
        if _get(body, "onlyActive", bool):
            cond.append(Condition("active_record", "ne", False))
        for name, op in (("confirmedBefore", "lt"), ("confirmedAfter", "gt")):
            d = _date(body, name)
            if d is not None:
                cond.append(Condition("date_confirmed", op, d))
    elif res.name == "TimesheetEntries":
        status = _get(body, "status", str)
        if status and status.strip() and status.strip().lower() not in ("all", "open", "any"):
            cond.append(Condition("approval_status", "ieq", status.strip()))
        for name, op in (("dateFrom", "gte"), ("dateTo", "lte")):
            d = _date(body, name)
            if d is not None:
                cond.append(Condition("entry_date", op, d))
        for name, fname in (("resourceId", "resource"), ("clientId", "client"), ("projectId", "project")):
            v = _get(body, name, int)
            if v:
                cond.append(Condition(fname, "eq", v))
        paid = _get(body, "isPaid", bool)
        if paid is not None:
            cond.append(Condition("paid", "eq", paid) if paid else Condition("paid", "ne", True))
        rate = _get(body, "rateToUse", str)
        if rate and rate.strip():
            cond.append(Condition("rate_to_use", "ieq", rate.strip()))
    elif res.name == "PartnerRecord":
        for name, fname in (("partnerId", "partner_id"), ("recordId", "record_id")):
            v = _get(body, name, int)
            if v:
                cond.append(Condition(fname, "eq", v))
        for name, fname in (("partnerTypeId", "partner_type_id"), ("recordType", "record_type")):
            v = _get(body, name, str)
            if v and v.strip():
                cond.append(Condition(fname, "ieq", v.strip()))
