"""The Tracker REST API v1 dialect: a sub-application mounted at ``/tracker``.

Paths match case-insensitively (``/api/v1/client/search`` is ``/api/v1/Client/Search``).
Every call but the OAuth2 ones needs ``Authorization: Bearer <JWT>`` (the scheme may be
left out); any cardfile access token or API key is accepted as well. Requests count in the
rate-limit group ``tracker`` (``100/minute`` per token unless ``CARDFILE_RATE_LIMITS``
says otherwise). JSON bodies may be labelled ``application/json-patch+json``,
``application/json`` or any ``+json`` type; other types get 415.

Tracker's conventions: create answers 201 ``{id, success, message}``; an id that names no
record answers 204 with no body (GET, PATCH, DELETE), and so does a search without
results; errors are RFC 9457 problem details (``errors.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response
from starlette.types import ASGIApp

from cardfile.api.dialects.tracker_v1 import documents, lists, oauth, resume, skill_routes, webhooks
from cardfile.api.dialects.tracker_v1.errors import SHAPE, duplicate_as_conflict
from cardfile.api.dialects.tracker_v1.parse import (
    body_ops,
    custom_field_id,
    custom_field_name,
    is_id,
    parse_id,
    tracker_path,
)
from cardfile.api.dialects.tracker_v1.plumbing import (
    GROUP,
    Caller,
    MethodNotAllowed,
    answer,
    api_limited,
    caller,
    find,
    no_content,
    not_found,
    read_body,
    write,
)
from cardfile.api.dialects.tracker_v1.render import Names, display_name, render_record, render_row, result
from cardfile.api.dialects.tracker_v1.search import Search, parse_search
from cardfile.api.dialects.tracker_v1.spec import RESOURCES, Resource
from cardfile.api.kit.credentials import Credentials
from cardfile.api.kit.mount import api_app
from cardfile.api.kit.patch import json_patch_object
from cardfile.api.kit.paths import case_insensitive
from cardfile.api.kit.ratelimit import limited
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_read_session
from cardfile.engine.commands import CreateCommand, DeleteCommand, FieldOp, UpdateCommand
from cardfile.engine.query import Condition, Query
from cardfile.engine.session import Session
from cardfile.errors import BadRequest, FieldError, NotFound, ValidationFailed
from cardfile.files import open_store
from cardfile.schema.model import Schema
from cardfile.services import Services
from cardfile.tracker import RECORD_TYPES

__all__ = ["GROUP", "create_app"]

DEFAULT_LIMIT = "100/minute"
SHORTLIST = "opportunity_resource"

# What each resource answers (the seed's endpoints); anything else on a known resource is 405.
OPS: dict[str, frozenset[str]] = {
    "client": frozenset({"create", "search", "get", "update", "delete"}),
    "contact": frozenset({"create", "search", "get", "update", "delete"}),
    "lead": frozenset({"create", "search", "get", "update", "delete"}),
    "opportunity": frozenset({"create", "search", "get", "update", "delete"}),
    "opportunityresource": frozenset({"search", "get", "update", "delete"}),
    "partnerrecord": frozenset({"create", "search", "update", "delete"}),
    "project": frozenset({"create", "search", "get", "update", "delete"}),
    "projectactivity": frozenset({"create", "get", "update", "delete"}),
    "projectactivityresource": frozenset({"create", "get", "update", "delete"}),
    "resource": frozenset({"create", "search", "get", "update", "delete"}),
    "timesheetentries": frozenset({"create", "search", "get", "update"}),
    "invoice": frozenset({"create", "search", "get", "update", "delete"}),
    "user": frozenset({"search", "get"}),
}
LETTERS = {type_name: letter for letter, type_name in RECORD_TYPES.items()}  # for MetaData/recordTypes


# -- plumbing ------------------------------------------------------------------------------


def resource_of(name: str, op: str) -> Resource:
    key = name.lower()
    res = RESOURCES.get(key)
    if res is None:
        raise NotFound(f"no Tracker resource {name[:60]!r}")
    if op not in OPS.get(key, frozenset()):
        raise MethodNotAllowed(f"{res.name} has no {op} endpoint")
    return res


@contextmanager
def tracker_fields(res: Resource) -> Iterator[None]:
    """Field errors of the engine named by their Tracker keys (``contactDetails.fax``)."""
    try:
        yield
    except ValidationFailed as exc:
        errors = [FieldError(tracker_path(res, e.field), e.code, e.message) for e in exc.errors]
        raise ValidationFailed(errors, exc.detail, **exc.extra) from None


def _search(session: Session, res: Resource, q: Search) -> list[dict[str, Any]]:
    """One page of records; none when the query cannot match (an unknown state name)."""
    if q.status_names is None:
        return session.query(q.query(res.type)).items
    named = Query("setting", (Condition("name", "ieq", q.status_names),), page=1, page_size=500)
    ids = [r["id"] for r in session.acting_as(None).query(named).items]
    return session.query(q.query(res.type, Condition("status", "in", ids))).items if ids else []


def _linked(session: Session, type_name: str, field: str, rid: int, size: int = 500) -> list[dict[str, Any]]:
    """The first ``size`` records of ``type_name`` whose ``field`` is ``rid``, by id."""
    return session.query(Query(type_name, (Condition(field, "eq", rid),), page=1, page_size=size)).items


# -- the app ---------------------------------------------------------------------------------


def create_app(svc: Services) -> ASGIApp:
    """The dialect as an application of its own, for ``app.mount("/tracker", ...)``."""
    open_store(svc.settings)  # a file store that cannot be used fails here, not on the first upload
    app = api_app(
        svc,
        SHAPE,
        [router],
        rate_groups={GROUP: DEFAULT_LIMIT},
        title="cardfile: Tracker REST API v1",
        description="Tracker's REST API v1 over cardfile's records (see docs/dialects/tracker-v1.md).",
        openapi_url="/swagger/v1/swagger.json",
        docs_url="/swagger/index.html",
        redoc_url=None,
    )
    return case_insensitive(app, router)


router = APIRouter()
auth_limited = [Depends(limited("auth"))]


# -- auth ----------------------------------------------------------------------------------

router.add_api_route("/oAuth2/Authorize", oauth.authorize_page, methods=["GET"], tags=["OAuth2"],
                     summary="Start the OAuth2 flow: sign in, then a code for redirect_uri")  # fmt: skip
router.add_api_route("/oAuth2/Authorize", oauth.authorize_decision, methods=["POST"], tags=["OAuth2"],
                     summary="The sign-in form's answer", dependencies=auth_limited)  # fmt: skip
router.add_api_route("/oAuth2/Token", oauth.token_endpoint, methods=["POST"], tags=["OAuth2"],
                     summary="Exchange a code (or refresh token) for a Token", dependencies=auth_limited)  # fmt: skip
router.add_api_route("/api/Auth/ExchangeToken", oauth.exchange_token, methods=["POST"], tags=["Auth"],
                     summary="Exchange a Tracker OAuth2 token for an API JWT token", dependencies=auth_limited)  # fmt: skip


# -- specific endpoints (before the generic ones) ---------------------------------------------


@router.get("/api/v1/MetaData", tags=["MetaData"], dependencies=api_limited, summary="Gets full metadata")
async def metadata(request: Request, creds: Caller) -> Response:
    def work(session: Session) -> dict[str, Any]:
        p, schema = caller(session), session.schema
        settings = session.query(Query("setting", sort="id", page=1, page_size=500)).items
        lists: dict[str, list[dict[str, Any]]] = {}
        for s in settings:
            lists.setdefault(s.get("list") or "", []).append(
                {
                    "id": s["id"],
                    "name": s.get("name"),
                    "order": s.get("order"),
                    "recordType": s.get("record_type"),
                }
            )
        return {
            "user": {"id": p.user_id, "name": p.name, "role": p.role},
            "access": {"scopes": sorted(p.scopes)},
            "recordTypes": _record_types(schema),
            "settings": lists,
            "customFields": _custom_field_list(schema),
        }

    return await answer(request, creds, work)


def _record_types(schema: Schema) -> list[dict[str, Any]]:
    out = []
    for res in RESOURCES.values():
        rt = schema.get(res.type)
        if rt is not None:
            out.append({"recordType": LETTERS.get(res.type), "resource": res.name, "name": (rt.label or rt.name).split(" (")[0],
                        "type": res.type})  # fmt: skip
    if schema.get("ticket") is not None:
        out.append({"recordType": "T", "resource": None, "name": "Tickets", "type": "ticket"})
    return out


def _custom_field_list(schema: Schema) -> list[dict[str, Any]]:
    out = []
    for res in RESOURCES.values():
        for fd in schema.get(res.type) or ():
            if (fid := custom_field_id(fd.name)) is not None:
                out.append(
                    {"id": fid, "name": fd.label or fd.name, "recordType": res.name, "fieldType": fd.type}
                )
    return out


@router.get("/api/v1/MetaData/recordTypes", tags=["MetaData"], dependencies=api_limited,
            summary="Gets recordtype metadata")  # fmt: skip
async def record_types(request: Request, creds: Caller) -> Response:
    return json_response(
        await run_read_session(services_of(request), creds, lambda s: _record_types(s.schema))
    )


@router.get("/api/v1/CustomFields/{Id}", tags=["CustomFields"], dependencies=api_limited,
            summary="Gets list values of a custom field list given a field list id")  # fmt: skip
async def custom_field_values(Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    fid = parse_id(Id)

    def work(session: Session) -> list[dict[str, Any]]:
        schema = session.schema
        for res in RESOURCES.values():
            rt = schema.get(res.type)
            fd = rt.get(custom_field_name(fid)) if rt else None
            if fd is not None:
                return [{"id": i, "value": o.key, "name": o.label} for i, o in enumerate(fd.options, 1)]
        return []

    return await answer(request, creds, work)


@router.post("/api/v1/{resource}/Search/CustomField", tags=["Search"], dependencies=api_limited,
             summary="Searches custom fields (Contact, Resource)")  # fmt: skip
async def search_custom_field(resource: str, request: Request, creds: Caller) -> Response:
    if resource.lower() not in ("contact", "resource"):
        raise NotFound(f"no custom field search for {resource[:60]!r}")
    return await _do_search(resource, request, creds, custom_field=True)


@router.post("/api/v1/TimesheetEntries/bulk", tags=["TimesheetEntries"], dependencies=api_limited,
             summary="Bulk add new records (all or none)")  # fmt: skip
async def timesheet_bulk(request: Request, creds: Caller) -> Response:
    res = RESOURCES["timesheetentries"]
    body = await read_body(request)
    if not isinstance(body, list):
        raise BadRequest("the body must be a JSON array of timesheet entries")
    services_of(request).engine.check_batch_size(len(body))

    def work(session: Session) -> Response:
        rt = session.record_type(res.type)
        cmds = [CreateCommand(res.type, tuple(body_ops(res, rt, item))) for item in body]
        results = session.batch(cmds, lambda s, cmd: s.create(cmd), all_or_none=True)
        ids = [r.id for r in results if not isinstance(r, Exception)]
        return json_response(result(ids[0] if ids else None, f"{len(ids)} records created"), 201)

    return await write(request, creds, body, work)


@router.get("/api/v1/PartnerRecord/{PartnerRecordId}/Partner/{PartnerId}", tags=["PartnerRecord"],
            dependencies=api_limited, summary="Gets a list of existing records from the partners external id")  # fmt: skip
async def partner_records(PartnerRecordId: str, PartnerId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    partner = parse_id(PartnerId, "PartnerId")
    res = RESOURCES["partnerrecord"]

    def work(session: Session) -> list[dict[str, Any]]:
        conds = (
            Condition("partner_record_id", "eq", PartnerRecordId),
            Condition("partner_id", "eq", partner),
        )
        recs = session.query(Query(res.type, conds, page=1, page_size=500)).items
        return [{"id": r["id"], "partnerId": r.get("partner_id"), "partnerRecordId": r.get("partner_record_id"),
                 "recordType": r.get("record_type"), "recordId": r.get("record_id")} for r in recs]  # fmt: skip

    return await answer(request, creds, work)


@router.post("/api/v1/Project/Opportunity/{Id}", tags=["Project"], dependencies=api_limited,
             summary="Creates a new project record from an existing opportunity")  # fmt: skip
async def project_from_opportunity(Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    opp_id = parse_id(Id)
    copied = ("client", "contact", "territory", "department", "source", "telephone", "mobile_phone", "fax",
              "email", "owner", "owners", "tag_text")  # fmt: skip

    def work(session: Session) -> Response:
        opp = find(session, "opportunity", opp_id)
        if opp is None:
            raise BadRequest(f"no opportunity with id {opp_id}", field="Id")
        rt = session.record_type("project")
        ops = [
            FieldOp("name", "set", opp.get("name") or f"Opportunity {opp_id}"),
            FieldOp("opportunity", "set", opp_id),
        ]
        for f in copied:
            v = opp.get(f)
            if v not in (None, [], "") and rt.get(f) is not None:
                if f == "owners":
                    v = [{k: x for k, x in row.items() if k != "id"} for row in v]
                ops.append(FieldOp(f, "set", v))
        created = session.create(CreateCommand("project", tuple(ops)))
        return json_response(result(created.id, "Project created successfully"), 201)

    return await write(request, creds, None, work)


@router.get("/api/v1/Project/{Id}/Activities", tags=["Project"], dependencies=api_limited,
            summary="Gets associated project activities/tasks for this project")  # fmt: skip
async def project_activities(Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    pid = parse_id(Id)
    return await answer(
        request, creds, lambda s: [r["id"] for r in _linked(s, "project_activity", "project", pid)]
    )


@router.get("/api/v1/ProjectActivity/{Id}/Resources", tags=["ProjectActivity"], dependencies=api_limited,
            summary="Gets project activity resources")  # fmt: skip
async def activity_resources(Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    aid = parse_id(Id)

    def work(session: Session) -> list[dict[str, Any]]:
        recs = _linked(session, "project_activity_resource", "project_activity", aid)
        return [{"projectActivityResourceId": r["id"], "projectActivityId": r.get("project_activity"),
                 "resourceId": r.get("resource"), "payRate": r.get("pay_rate"), "startDate": r.get("start_date"),
                 "endDate": r.get("end_date"), "chargeRate": r.get("charge_rate")} for r in recs]  # fmt: skip

    return await answer(request, creds, work)


@router.post("/api/v1/OpportunityResource", tags=["OpportunityResource"], dependencies=api_limited,
             summary="Adds a resource to an opportunity's shortlist")  # fmt: skip
async def shortlist_add(request: Request, creds: Caller) -> Response:
    body = await read_body(request)
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object")
    resource_id, opp_ids = body.get("resourceId"), body.get("opportunityIds")
    if not is_id(resource_id) or resource_id <= 0:
        raise BadRequest("resourceId must be a resource id", field="resourceId")
    if not isinstance(opp_ids, list) or not opp_ids or not all(is_id(i) and i > 0 for i in opp_ids):
        raise BadRequest("opportunityIds must be a list of opportunity ids", field="opportunityIds")
    status = body.get("statusId")
    if status is not None and (not is_id(status) or status < 0):
        raise BadRequest("statusId must be an integer", field="statusId")
    unknown = sorted(set(body) - {"resourceId", "opportunityIds", "statusId", "note", "placementSource"})
    if unknown:
        raise BadRequest(f"unknown member(s): {', '.join(unknown)[:200]}")

    def work(session: Session) -> Response:
        names = Names(session.names())
        candidate, opportunities = lists.candidates(names, resource_id, opp_ids, "opportunityIds")
        entries: list[tuple[int, dict[str, Any]]] = []
        for opp_id, opp in opportunities:
            ops = [FieldOp("resource", "set", resource_id), FieldOp("opportunity", "set", opp_id),
                   FieldOp("active_record", "set", True)]  # fmt: skip
            if status:
                ops.append(FieldOp("status", "set", status))
            for key, f in (("note", "note"), ("placementSource", "placement_source")):
                if body.get(key) is not None:
                    ops.append(FieldOp(f, "set", body[key]))
            # one entry per opportunity and resource: the pack's unique_together
            with duplicate_as_conflict(
                f"resource {resource_id} is on the shortlist of opportunity {opp_id} already"
            ):
                entries.append((session.create(CreateCommand(SHORTLIST, tuple(ops))).id, opp))
        entry_id, opp_data = entries[0]
        return json_response(
            {
                "success": True,
                "namedAccount": names.name(opp_data.get("client")),
                "namedResource": display_name("resource", candidate),
                "namedOpportunity": opp_data.get("name"),
                "reason": "",
                "opportunityResourceId": entry_id,
                "placementSource": body.get("placementSource"),
            },
            201,
        )

    return await write(request, creds, body, work)


@router.get("/api/v1/OpportunityResource/Shortlist/{opportunityId}", tags=["OpportunityResource"],
            dependencies=api_limited, summary="Gets a opportunity short list")  # fmt: skip
async def shortlist(opportunityId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    opp_id = parse_id(opportunityId, "opportunityId")

    def work(session: Session) -> list[dict[str, Any]]:
        recs = _linked(session, SHORTLIST, "opportunity", opp_id)
        names = Names(session.names())
        names.fetch([r["resource"] for r in recs if is_id(r.get("resource"))])
        rows = []
        for r in recs:
            cand = names.data(r.get("resource"))
            rows.append({
                "opportunityResourceId": r["id"], "resourceId": r.get("resource"),
                "displayAs": names.name(r.get("resource")), "resourceStatusId": cand.get("status"),
                "opportunityResourceStatusId": r.get("status"),
                "contractStartDate": cand.get("contract_start_date"), "contractEndDate": cand.get("contract_end_date"),
                "tagText": cand.get("tag_text"), "isCompliant": None, "complianceInfo": None,
            })  # fmt: skip
        return rows

    return await answer(request, creds, work)


@router.delete("/api/v1/Opportunity/{OpportunityId}/shortlist/resource/{ResourceId}", tags=["Opportunity"],
               dependencies=api_limited, summary="Removes a resource from an opportunity's shortlist")  # fmt: skip
async def shortlist_remove(OpportunityId: str, ResourceId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    opp_id, res_id = parse_id(OpportunityId, "OpportunityId"), parse_id(ResourceId, "ResourceId")
    removed = "Resource removed from the shortlist"
    return await write(
        request, creds, None, lambda s: lists.remove_entries(s, SHORTLIST, opp_id, res_id, removed)
    )


@router.get(
    "/api/v1/User/{userId}", tags=["User"], dependencies=api_limited, summary="Gets an existing user record"
)
async def user_get(userId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    uid = parse_id(userId, "userId")

    def work(session: Session) -> dict[str, Any] | None:
        found_names = session.names()
        user = next(iter(found_names.people([uid], ())), None)
        found = _linked(session, "user_profile", "user", uid, 1)
        if not found:  # a profile the caller may not list: reading it says why (a system user's: 403)
            hidden = _linked(session.acting_as(None), "user_profile", "user", uid, 1)
            found = [session.get("user_profile", hidden[0]["id"])] if hidden else []
        prof = found[0] if found else None
        if user is None and prof is None:
            return None
        prof = prof or {}
        names = Names(found_names)
        refs = [prof.get(k) for k in ("user_group", "department", "territory", "user_team", "timezone")]
        names.fetch(v for v in refs if is_id(v))

        def ref(k: str) -> dict[str, Any] | None:
            v = prof.get(k)
            return {"id": v, "name": names.name(v)} if is_id(v) else None

        return {
            "id": uid,
            "username": prof.get("username") or (user.email if user else None),
            "fullname": prof.get("full_name") or (user.name if user else None),
            "email": prof.get("email") or (user.email if user else None),
            "userGroup": ref("user_group"),
            "department": ref("department"),
            "territory": ref("territory"),
            "userTeam": ref("user_team"),
            "timezone": ref("timezone"),
            "timezoneOffset": prof.get("timezone_offset"),
            "lastLogon": prof.get("last_logon"),
        }

    return await answer(request, creds, work)


# part 2 (issue #10): documents, résumés, skills, the long list, webhooks
# (their routes are appended as they are: no prefix, and before the generic routes below)
for _part in (documents.router, resume.router, skill_routes.router, lists.router, webhooks.router):
    router.routes.extend(_part.routes)


# -- the generic record endpoints -------------------------------------------------------------


async def _do_search(
    resource: str, request: Request, creds: Credentials, *, custom_field: bool = False
) -> Response:
    res = resource_of(resource, "search")
    body = await read_body(request, required=False)

    def work(session: Session) -> list[dict[str, Any]]:
        rt = session.record_type(res.type)
        q = parse_search(res, rt, body, caller(session), custom_field=custom_field)
        recs = _search(session, res, q)
        if not recs:
            return []
        names = Names(session.names())
        names.load(recs, rt)
        return [render_row(res, rt, r, names, include_custom=q.include_custom) for r in recs]

    return await answer(request, creds, work)


@router.post("/api/v1/{resource}/Search", tags=["Search"], dependencies=api_limited,
             summary="Searches records of a resource using the supplied parameters")  # fmt: skip
async def search(resource: str, request: Request, creds: Caller) -> Response:
    return await _do_search(resource, request, creds)


@router.post("/api/v1/{resource}", tags=["Records"], dependencies=api_limited, summary="Creates a new record")
async def create(resource: str, request: Request, creds: Caller) -> Response:
    res = resource_of(resource, "create")
    body = await read_body(request)

    def work(session: Session) -> Response:
        rt = session.record_type(res.type)
        ops = tuple(body_ops(res, rt, body))
        with tracker_fields(res):
            created = session.create(CreateCommand(res.type, ops))
        return json_response(result(created.id, "Record created successfully"), 201)

    return await write(request, creds, body, work)


@router.get(
    "/api/v1/{resource}/{Id}", tags=["Records"], dependencies=api_limited, summary="Gets an existing record"
)
async def get(resource: str, Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    res = resource_of(resource, "get")
    rid = parse_id(Id)

    def work(session: Session) -> dict[str, Any] | None:
        rec = find(session, res.type, rid)
        if rec is None:
            return None
        rt = session.record_type(res.type)
        names = Names(session.names())
        names.load([rec], rt)
        out = render_record(res, rt, rec, names)
        if res.name == "Resource":
            partners = _linked(session, "partner_record", "record_id", rid, 100)
            out["partnerRecords"] = [
                {"partnerId": x.get("partner_id"), "partnerRecordId": x.get("partner_record_id"), "recordId": rid,
                 "recordType": x.get("record_type"), "partnerName": x.get("partner_name")}
                for x in partners if (x.get("record_type") or "R").lower() in ("r", "resource")
            ]  # fmt: skip
        return out

    return await answer(request, creds, work)


@router.patch("/api/v1/{resource}/{Id}", tags=["Records"], dependencies=api_limited,
              summary="Updates an existing record (a partial object)")  # fmt: skip
async def update(resource: str, Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    res = resource_of(resource, "update")
    rid = parse_id(Id)
    body = await read_body(request)
    if isinstance(body, list):  # RFC 6902 operations: the partial object they stand for
        body = json_patch_object(body)

    def work(session: Session) -> Response:
        rt = session.record_type(res.type)
        ops = body_ops(res, rt, body)
        try:
            with tracker_fields(res):
                session.update(UpdateCommand(res.type, rid, tuple(ops)))
        except NotFound as exc:
            if not_found(exc):
                return no_content()
            raise
        return json_response(result(rid, "Record updated"))

    return await write(request, creds, body, work)


@router.delete(
    "/api/v1/{resource}/{Id}", tags=["Records"], dependencies=api_limited, summary="Deletes a record"
)
async def delete(resource: str, Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    res = resource_of(resource, "delete")
    rid = parse_id(Id)

    def work(session: Session) -> Response:
        try:
            session.delete(DeleteCommand(res.type, rid))
        except NotFound as exc:
            if not_found(exc):
                return no_content()
            raise
        return json_response(result(rid, "Record deleted"))

    return await write(request, creds, None, work)
