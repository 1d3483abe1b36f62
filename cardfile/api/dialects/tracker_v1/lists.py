"""An opportunity's long list and its applicants.

The long list holds the candidates considered for an opportunity before the shortlist
(``opportunity_resource``): one ``opportunity_longlist`` record per opportunity and
resource (a second add is 409). An entry marked ``applicant`` is a candidate who applied
(``CreateFromResume`` with an ``opportunityId``, or ``"isApplicant": true`` here);
``Opportunity/{Id}/Applicants`` lists those.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from cardfile.api.dialects.tracker_v1.errors import duplicate_as_conflict
from cardfile.api.dialects.tracker_v1.parse import is_id, parse_id
from cardfile.api.dialects.tracker_v1.plumbing import (
    Caller,
    answer,
    api_limited,
    find,
    no_content,
    read_body,
    write,
)
from cardfile.api.dialects.tracker_v1.render import Names, result, tracker_time
from cardfile.api.kit.responses import json_response
from cardfile.engine.commands import CreateCommand, DeleteCommand, FieldOp
from cardfile.engine.query import Condition, Query
from cardfile.engine.session import Session
from cardfile.errors import BadRequest

__all__ = ["candidates", "longlist_entry", "remove_entries", "router"]

router = APIRouter()
LONGLIST = "opportunity_longlist"
_KEYS = {"resourceId", "opportunityId", "opportunityIds", "note", "source", "isApplicant"}


def longlist_entry(
    session: Session, opp_id: int, resource_id: int,
    *, note: str | None = None, source: str | None = None, applicant: bool = False,
) -> int:  # fmt: skip
    """A long-list entry; ``Conflict`` when the resource is on that long list already
    (the pack's ``unique_together``, enforced by the engine)."""
    ops = [FieldOp("opportunity", "set", opp_id), FieldOp("resource", "set", resource_id),
           FieldOp("applicant", "set", applicant)]  # fmt: skip
    if note:
        ops.append(FieldOp("note", "set", note))
    if source:
        ops.append(FieldOp("source", "set", source))
    with duplicate_as_conflict(f"resource {resource_id} is on the long list of opportunity {opp_id} already"):
        return session.create(CreateCommand(LONGLIST, tuple(ops))).id


def candidates(
    names: Names, resource_id: int, opp_ids: Sequence[int], field: str
) -> tuple[dict[str, Any], Iterator[tuple[int, dict[str, Any]]]]:
    """The resource a list entry is for, and each of its opportunities once, as the caller
    may see them; one that is not there is a 400 (``field`` names the opportunities)."""
    names.fetch([resource_id, *opp_ids])
    found = names.record(resource_id)
    if found is None or found[0] != "resource":
        raise BadRequest(f"no resource with id {resource_id}", field="resourceId")

    def opportunities() -> Iterator[tuple[int, dict[str, Any]]]:
        for opp_id in dict.fromkeys(opp_ids):
            opp = names.record(opp_id)
            if opp is None or opp[0] != "opportunity":
                raise BadRequest(f"no opportunity with id {opp_id}", field=field)
            yield opp_id, opp[1]

    return found[1], opportunities()


def remove_entries(session: Session, type_name: str, opp_id: int, res_id: int, message: str) -> Response:
    """Delete the entries of ``res_id`` on ``opp_id``'s list; none is 204."""
    conds = (Condition("opportunity", "eq", opp_id), Condition("resource", "eq", res_id))
    recs = session.query(Query(type_name, conds, page=1, page_size=10)).items
    if not recs:
        return no_content()
    for r in recs:
        session.delete(DeleteCommand(type_name, r["id"]))
    return json_response(result(recs[0]["id"], message))


@router.post("/api/v1/Opportunity/Longlist", tags=["Opportunity"], dependencies=api_limited,
             summary="Adds a resource to an opportunity's longlist")  # fmt: skip
async def longlist_add(request: Request, creds: Caller) -> Response:
    """Body: ``{"resourceId": 7, "opportunityId": 3}`` (or ``"opportunityIds": [3, 4]``,
    as ``POST /OpportunityResource`` takes them), optional ``note``, ``source``,
    ``isApplicant``. 201 ``{id: the (first) new entry, success, message}``."""
    body = await read_body(request)
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise BadRequest(f"unknown member(s): {', '.join(unknown)[:200]}")
    resource_id = body.get("resourceId")
    if not is_id(resource_id) or resource_id <= 0:
        raise BadRequest("resourceId must be a resource id", field="resourceId")
    opp_ids = body.get("opportunityIds")
    if opp_ids is None and body.get("opportunityId") is not None:
        opp_ids = [body["opportunityId"]]
    if not isinstance(opp_ids, list) or not opp_ids or not all(is_id(i) and i > 0 for i in opp_ids):
        raise BadRequest("opportunityId must be an opportunity id", field="opportunityId")
    for key in ("note", "source"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise BadRequest(f"{key} must be text", field=key)
    applicant = body.get("isApplicant")
    if applicant is not None and not isinstance(applicant, bool):
        raise BadRequest("isApplicant must be true or false", field="isApplicant")

    def work(session: Session) -> Response:
        names = Names(session.names())
        _, opportunities = candidates(names, resource_id, opp_ids, "opportunityId")
        first = None
        for opp_id, _opp in opportunities:
            new = longlist_entry(session, opp_id, resource_id, note=body.get("note"), source=body.get("source"),
                                 applicant=bool(applicant))  # fmt: skip
            first = first or new
        return json_response(result(first, "Resource added to the long list"), 201)

    return await write(request, creds, body, work)


def _entries(session: Session, opp_id: int, *, applicants: bool) -> list[dict[str, Any]]:
    if find(session, "opportunity", opp_id) is None:
        return []
    conds = [Condition("opportunity", "eq", opp_id)]
    if applicants:
        conds.append(Condition("applicant", "eq", True))
    recs = session.query(Query(LONGLIST, tuple(conds), sort="id", page=1, page_size=500)).items
    names = Names(session.names())
    names.fetch([r["resource"] for r in recs if is_id(r.get("resource"))])
    rows = []
    for r in recs:
        rid = r.get("resource")
        if names.record(rid) is None:  # a candidate the caller may not see
            continue
        cand = names.data(rid)
        rows.append({
            "longlistId": r["id"], "opportunityId": opp_id, "resourceId": rid, "displayAs": names.name(rid),
            "firstName": cand.get("first_name"), "surname": cand.get("surname"), "jobTitle": cand.get("job_title"),
            "email": cand.get("email"), "resourceStatusId": cand.get("status"), "note": r.get("note"),
            "source": r.get("source"), "isApplicant": bool(r.get("applicant")),
            "dateAdded": tracker_time(r.get("created_at")), "addedByUserId": r.get("added_by"),
        })  # fmt: skip
    return rows


@router.get("/api/v1/Opportunity/{Id}/Longlist", tags=["Opportunity"], dependencies=api_limited,
            summary="Gets the list of candidates on the long list")  # fmt: skip
async def longlist(Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    opp_id = parse_id(Id)
    return await answer(request, creds, lambda s: _entries(s, opp_id, applicants=False))


@router.get("/api/v1/Opportunity/{Id}/Applicants", tags=["Opportunity"], dependencies=api_limited,
            summary="Lists all applicants for a job only matched resources will be returned")  # fmt: skip
async def applicants(Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    opp_id = parse_id(Id)
    return await answer(request, creds, lambda s: _entries(s, opp_id, applicants=True))


@router.delete("/api/v1/Opportunity/{OpportunityId}/longlist/resource/{ResourceId}", tags=["Opportunity"],
               dependencies=api_limited, summary="Removes a resource from an opportunity's longlist")  # fmt: skip
async def longlist_remove(OpportunityId: str, ResourceId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    opp_id, res_id = parse_id(OpportunityId, "OpportunityId"), parse_id(ResourceId, "ResourceId")
    removed = "Resource removed from the long list"
    return await write(request, creds, None, lambda s: remove_entries(s, LONGLIST, opp_id, res_id, removed))
