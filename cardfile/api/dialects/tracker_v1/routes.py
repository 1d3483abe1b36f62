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

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.engine import Connection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from cardfile.api.dialects.tracker_v1 import documents, lists, oauth, resume, skill_routes, webhooks
from cardfile.api.dialects.tracker_v1.errors import SHAPE, duplicate_as_conflict
from cardfile.api.dialects.tracker_v1.parse import (
    CUSTOM_PREFIX,
    body_ops,
    is_id,
    json_patch_object,
    parse_id,
    tracker_path,
)
from cardfile.api.dialects.tracker_v1.plumbing import (
    GROUP,
    Caller,
    MethodNotAllowed,
    api_limited,
    ctx,
    no_content,
    not_found,
    read,
    read_body,
)
from cardfile.api.dialects.tracker_v1.render import Names, display_name, render_record, render_row, result
from cardfile.api.dialects.tracker_v1.search import Query, parse_search
from cardfile.api.dialects.tracker_v1.spec import RESOURCES, Resource
from cardfile.api.kit.credentials import Credentials
from cardfile.api.kit.mount import api_app
from cardfile.api.kit.ratelimit import limited
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_write
from cardfile.auth.principal import Principal
from cardfile.auth.users import get_user
from cardfile.engine.commands import CreateCommand, DeleteCommand, FieldOp, UpdateCommand
from cardfile.engine.search import Condition, search_records
from cardfile.errors import (
    BadRequest,
    FieldError,
    NotFound,
    ValidationFailed,
)
from cardfile.files import open_store
from cardfile.services import Services

__all__ = ["GROUP", "create_app"]

DEFAULT_LIMIT = "100/minute"
T = TypeVar("T")

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
# the widget letters of the record types, for MetaData/recordTypes and PartnerRecord
LETTERS = {"client": "C", "contact": "N", "lead": "L", "opportunity": "O", "project": "P", "ticket": "T",
           "resource": "R", "opportunity_resource": "X"}  # fmt: skip


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


def _search(
    svc: Services, conn: Connection, principal: Principal, res: Resource, q: Query
) -> list[dict[str, Any]] | None:
    """One page of records, or None when the query cannot match (an unknown state name)."""
    conds = list(q.conditions)
    if q.status_names is not None:
        ids = [
            r["id"]
            for r in search_records(
                conn, svc.catalog, "setting", [Condition("name", "ieq", q.status_names)], page_size=500
            )
        ]
        if not ids:
            return None
        conds.append(Condition("status", "in", ids))
    return search_records(
        conn,
        svc.catalog,
        res.type,
        conds,
        term=q.term,
        sort=q.sort,
        descending=q.desc,
        page=q.page,
        page_size=q.size,
        principal=principal,
    )


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
    routes = [(r.path, frozenset(r.methods or ())) for r in router.routes if isinstance(r, APIRoute)]
    return CaseInsensitivePaths(app, routes)


class CaseInsensitivePaths:
    """ASGI wrapper: a path that matches a route template whatever its case is rewritten
    to the template's spelling (path parameters keep theirs), then routed as usual. The
    first template of the request's method wins (``POST /api/v1/user/search`` is the
    search, not ``GET /User/{userId}``); without one, the first of any method (so the
    answer is 405)."""

    def __init__(self, app: ASGIApp, routes: list[tuple[str, frozenset[str]]]) -> None:
        self.app = app
        self.templates: list[tuple[re.Pattern[str], list[str | None], frozenset[str]]] = []
        for path, methods in routes:
            parts: list[str | None] = [None if p.startswith("{") else p for p in path.strip("/").split("/")]
            pattern = "/".join("([^/]+)" if p is None else re.escape(p) for p in parts)
            self.templates.append((re.compile(f"^/{pattern}/?$", re.IGNORECASE), parts, methods))

    def canonical(self, method: str, path: str) -> str:
        fallback: str | None = None
        for pattern, parts, methods in self.templates:
            m = pattern.match(path)
            if m is None:
                continue
            values = iter(m.groups())
            fixed = "/" + "/".join(next(values) if p is None else p for p in parts)
            if method in methods:
                return fixed
            if fallback is None:
                fallback = fixed
        return fallback or path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            root = scope.get("root_path", "")
            path = scope["path"]
            inner = path[len(root) :] if root and path.startswith(root) else path
            fixed = self.canonical(scope.get("method", "GET"), inner)
            if fixed != inner:
                scope = dict(scope)
                scope["path"] = (root if path.startswith(root) else "") + fixed
                scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


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
    svc = services_of(request)

    def work(conn: Connection, p: Principal) -> dict[str, Any]:
        settings = search_records(conn, svc.catalog, "setting", sort="id", page_size=500, principal=p)
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
            "recordTypes": _record_types(svc, conn),
            "settings": lists,
            "customFields": _custom_field_list(svc, conn),
        }

    return json_response(await read(svc, creds, work))


def _record_types(svc: Services, conn: Connection) -> list[dict[str, Any]]:
    schema = svc.catalog.current(conn)
    out = []
    for res in RESOURCES.values():
        rt = schema.get(res.type)
        if rt is not None:
            out.append({"recordType": LETTERS.get(res.type), "resource": res.name, "name": (rt.label or rt.name).split(" (")[0],
                        "type": res.type})  # fmt: skip
    if schema.get("ticket") is not None:
        out.append({"recordType": "T", "resource": None, "name": "Tickets", "type": "ticket"})
    return out


def _custom_field_list(svc: Services, conn: Connection) -> list[dict[str, Any]]:
    schema = svc.catalog.current(conn)
    out = []
    for res in RESOURCES.values():
        rt = schema.get(res.type)
        for fd in rt or ():
            if fd.name.startswith(CUSTOM_PREFIX) and fd.name[len(CUSTOM_PREFIX) :].isdigit():
                out.append({"id": int(fd.name[len(CUSTOM_PREFIX) :]), "name": fd.label or fd.name,
                            "recordType": res.name, "fieldType": fd.type})  # fmt: skip
    return out


@router.get("/api/v1/MetaData/recordTypes", tags=["MetaData"], dependencies=api_limited,
            summary="Gets recordtype metadata")  # fmt: skip
async def record_types(request: Request, creds: Caller) -> Response:
    svc = services_of(request)
    return json_response(await read(svc, creds, lambda conn, p: _record_types(svc, conn)))


@router.get("/api/v1/CustomFields/{Id}", tags=["CustomFields"], dependencies=api_limited,
            summary="Gets list values of a custom field list given a field list id")  # fmt: skip
async def custom_field_values(Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    fid = parse_id(Id)

    def work(conn: Connection, p: Principal) -> list[dict[str, Any]]:
        schema = svc.catalog.current(conn)
        for res in RESOURCES.values():
            rt = schema.get(res.type)
            fd = rt.get(f"{CUSTOM_PREFIX}{fid}") if rt else None
            if fd is not None:
                return [{"id": i, "value": o.key, "name": o.label} for i, o in enumerate(fd.options, 1)]
        return []

    values = await read(svc, creds, work)
    return json_response(values) if values else no_content()


@router.post("/api/v1/{resource}/Search/CustomField", tags=["Search"], dependencies=api_limited,
             summary="Searches custom fields (Contact, Resource)")  # fmt: skip
async def search_custom_field(resource: str, request: Request, creds: Caller) -> Response:
    if resource.lower() not in ("contact", "resource"):
        raise NotFound(f"no custom field search for {resource[:60]!r}")
    return await _do_search(resource, request, creds, custom_field=True)


@router.post("/api/v1/TimesheetEntries/bulk", tags=["TimesheetEntries"], dependencies=api_limited,
             summary="Bulk add new records (all or none)")  # fmt: skip
async def timesheet_bulk(request: Request, creds: Caller) -> Response:
    svc = services_of(request)
    res = RESOURCES["timesheetentries"]
    body = await read_body(request)
    if not isinstance(body, list):
        raise BadRequest("the body must be a JSON array of timesheet entries")
    svc.engine.check_batch_size(len(body))

    def write(conn: Connection, principal: Principal) -> Response:
        rt = svc.catalog.record_type(conn, res.type)
        cmds = [CreateCommand(res.type, tuple(body_ops(res, rt, item))) for item in body]
        results = svc.engine.run_batch(
            cmds, lambda c, cmd: svc.engine.create(cmd, ctx(principal), c), all_or_none=True, conn=conn
        )
        ids = [r.id for r in results if not isinstance(r, Exception)]
        return json_response(result(ids[0] if ids else None, f"{len(ids)} records created"), 201)

    return await run_write(request, svc, creds, body, write)


@router.get("/api/v1/PartnerRecord/{PartnerRecordId}/Partner/{PartnerId}", tags=["PartnerRecord"],
            dependencies=api_limited, summary="Gets a list of existing records from the partners external id")  # fmt: skip
async def partner_records(PartnerRecordId: str, PartnerId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    partner = parse_id(PartnerId, "PartnerId")
    res = RESOURCES["partnerrecord"]

    def work(conn: Connection, p: Principal) -> list[dict[str, Any]]:
        conds = [
            Condition("partner_record_id", "eq", PartnerRecordId),
            Condition("partner_id", "eq", partner),
        ]
        recs = search_records(conn, svc.catalog, res.type, conds, page_size=500, principal=p)
        return [{"id": r["id"], "partnerId": r.get("partner_id"), "partnerRecordId": r.get("partner_record_id"),
                 "recordType": r.get("record_type"), "recordId": r.get("record_id")} for r in recs]  # fmt: skip

    rows = await read(svc, creds, work)
    return json_response(rows) if rows else no_content()


@router.post("/api/v1/Project/Opportunity/{Id}", tags=["Project"], dependencies=api_limited,
             summary="Creates a new project record from an existing opportunity")  # fmt: skip
async def project_from_opportunity(Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    opp_id = parse_id(Id)
    copied = ("client", "contact", "territory", "department", "source", "telephone", "mobile_phone", "fax",
              "email", "owner", "owners", "tag_text")  # fmt: skip

    def write(conn: Connection, principal: Principal) -> Response:
        try:
            opp = svc.engine.get("opportunity", opp_id, conn, principal)
        except NotFound as exc:
            if not not_found(exc):
                raise
            raise BadRequest(f"no opportunity with id {opp_id}", field="Id") from None
        rt = svc.catalog.record_type(conn, "project")
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
        created = svc.engine.create(CreateCommand("project", tuple(ops)), ctx(principal), conn)
        return json_response(result(created.id, "Project created successfully"), 201)

    return await run_write(request, svc, creds, None, write)


async def _ids_of(
    request: Request, creds: Caller, type_name: str, field: str, rid: int
) -> list[dict[str, Any]]:
    svc = services_of(request)
    return await read(
        svc,
        creds,
        lambda conn, p: search_records(
            conn, svc.catalog, type_name, [Condition(field, "eq", rid)], page_size=500, principal=p
        ),
    )


@router.get("/api/v1/Project/{Id}/Activities", tags=["Project"], dependencies=api_limited,
            summary="Gets associated project activities/tasks for this project")  # fmt: skip
async def project_activities(Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    recs = await _ids_of(request, creds, "project_activity", "project", parse_id(Id))
    return json_response([r["id"] for r in recs]) if recs else no_content()


@router.get("/api/v1/ProjectActivity/{Id}/Resources", tags=["ProjectActivity"], dependencies=api_limited,
            summary="Gets project activity resources")  # fmt: skip
async def activity_resources(Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    recs = await _ids_of(request, creds, "project_activity_resource", "project_activity", parse_id(Id))
    rows = [{"projectActivityResourceId": r["id"], "projectActivityId": r.get("project_activity"),
             "resourceId": r.get("resource"), "payRate": r.get("pay_rate"), "startDate": r.get("start_date"),
             "endDate": r.get("end_date"), "chargeRate": r.get("charge_rate")} for r in recs]  # fmt: skip
    return json_response(rows) if rows else no_content()


@router.post("/api/v1/OpportunityResource", tags=["OpportunityResource"], dependencies=api_limited,
             summary="Adds a resource to an opportunity's shortlist")  # fmt: skip
async def shortlist_add(request: Request, creds: Caller) -> Response:
    svc = services_of(request)
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

    def write(conn: Connection, principal: Principal) -> Response:
        names = Names(conn, svc.catalog, principal)
        names.fetch([resource_id, *opp_ids])
        res_rec = names.record(resource_id)
        if res_rec is None or res_rec[0] != "resource":
            raise BadRequest(f"no resource with id {resource_id}", field="resourceId")
        first: tuple[int, dict[str, Any]] | None = None
        for opp_id in dict.fromkeys(opp_ids):
            opp = names.record(opp_id)
            if opp is None or opp[0] != "opportunity":
                raise BadRequest(f"no opportunity with id {opp_id}", field="opportunityIds")
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
                created = svc.engine.create(
                    CreateCommand("opportunity_resource", tuple(ops)), ctx(principal), conn
                )
            if first is None:
                first = (created.id, opp[1])
        assert first is not None
        opp_data = first[1]
        return json_response(
            {
                "success": True,
                "namedAccount": names.name(opp_data.get("client")),
                "namedResource": display_name("resource", res_rec[1]),
                "namedOpportunity": opp_data.get("name"),
                "reason": "",
                "opportunityResourceId": first[0],
                "placementSource": body.get("placementSource"),
            },
            201,
        )

    return await run_write(request, svc, creds, body, write)


@router.get("/api/v1/OpportunityResource/Shortlist/{opportunityId}", tags=["OpportunityResource"],
            dependencies=api_limited, summary="Gets a opportunity short list")  # fmt: skip
async def shortlist(opportunityId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    opp_id = parse_id(opportunityId, "opportunityId")

    def work(conn: Connection, p: Principal) -> list[dict[str, Any]]:
        recs = search_records(conn, svc.catalog, "opportunity_resource", [Condition("opportunity", "eq", opp_id)],
                              page_size=500, principal=p)  # fmt: skip
        names = Names(conn, svc.catalog, p)
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

    rows = await read(svc, creds, work)
    return json_response(rows) if rows else no_content()


@router.delete("/api/v1/Opportunity/{OpportunityId}/shortlist/resource/{ResourceId}", tags=["Opportunity"],
               dependencies=api_limited, summary="Removes a resource from an opportunity's shortlist")  # fmt: skip
async def shortlist_remove(OpportunityId: str, ResourceId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    opp_id, res_id = parse_id(OpportunityId, "OpportunityId"), parse_id(ResourceId, "ResourceId")

    def write(conn: Connection, principal: Principal) -> Response:
        recs = search_records(conn, svc.catalog, "opportunity_resource",
                              [Condition("opportunity", "eq", opp_id), Condition("resource", "eq", res_id)],
                              principal=principal)  # fmt: skip
        if not recs:
            return no_content()
        for r in recs:
            svc.engine.delete(DeleteCommand("opportunity_resource", r["id"]), ctx(principal), conn)
        return json_response(result(recs[0]["id"], "Resource removed from the shortlist"))

    return await run_write(request, svc, creds, None, write)


@router.get(
    "/api/v1/User/{userId}", tags=["User"], dependencies=api_limited, summary="Gets an existing user record"
)
async def user_get(userId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    uid = parse_id(userId, "userId")

    def work(conn: Connection, p: Principal) -> dict[str, Any] | None:
        try:
            user = get_user(conn, user_id=uid)
        except NotFound:
            user = None
        mine = [Condition("user", "eq", uid)]
        found = search_records(conn, svc.catalog, "user_profile", mine, principal=p)
        if not found:  # a profile the caller may not list: reading it says why (a system user's: 403)
            hidden = search_records(conn, svc.catalog, "user_profile", mine, page_size=1)
            found = [svc.engine.get("user_profile", hidden[0]["id"], conn, p)] if hidden else []
        prof = found[0] if found else None
        if user is None and prof is None:
            return None
        prof = prof or {}
        names = Names(conn, svc.catalog, p)
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

    body = await read(svc, creds, work)
    return json_response(body) if body is not None else no_content()


# part 2 (issue #10): documents, résumés, skills, the long list, webhooks
# (their routes are appended as they are: no prefix, and before the generic routes below)
for _part in (documents.router, resume.router, skill_routes.router, lists.router, webhooks.router):
    router.routes.extend(_part.routes)


# -- the generic record endpoints -------------------------------------------------------------


async def _do_search(
    resource: str, request: Request, creds: Credentials, *, custom_field: bool = False
) -> Response:
    svc = services_of(request)
    res = resource_of(resource, "search")
    body = await read_body(request, required=False)

    def work(conn: Connection, p: Principal) -> list[dict[str, Any]]:
        rt = svc.catalog.record_type(conn, res.type)
        q = parse_search(res, rt, body, p, custom_field=custom_field)
        recs = _search(svc, conn, p, res, q)
        if not recs:
            return []
        names = Names(conn, svc.catalog, p)
        names.load(recs, rt)
        return [render_row(res, rt, r, names, include_custom=q.include_custom) for r in recs]

    rows = await read(svc, creds, work)
    return json_response(rows) if rows else no_content()


@router.post("/api/v1/{resource}/Search", tags=["Search"], dependencies=api_limited,
             summary="Searches records of a resource using the supplied parameters")  # fmt: skip
async def search(resource: str, request: Request, creds: Caller) -> Response:
    return await _do_search(resource, request, creds)


@router.post("/api/v1/{resource}", tags=["Records"], dependencies=api_limited, summary="Creates a new record")
async def create(resource: str, request: Request, creds: Caller) -> Response:
    svc = services_of(request)
    res = resource_of(resource, "create")
    body = await read_body(request)

    def write(conn: Connection, principal: Principal) -> Response:
        rt = svc.catalog.record_type(conn, res.type)
        ops = tuple(body_ops(res, rt, body))
        with tracker_fields(res):
            created = svc.engine.create(CreateCommand(res.type, ops), ctx(principal), conn)
        return json_response(result(created.id, "Record created successfully"), 201)

    return await run_write(request, svc, creds, body, write)


@router.get(
    "/api/v1/{resource}/{Id}", tags=["Records"], dependencies=api_limited, summary="Gets an existing record"
)
async def get(resource: str, Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    res = resource_of(resource, "get")
    rid = parse_id(Id)

    def work(conn: Connection, p: Principal) -> dict[str, Any] | None:
        try:
            rec = svc.engine.get(res.type, rid, conn, p)
        except NotFound as exc:
            if not_found(exc):
                return None
            raise
        rt = svc.catalog.record_type(conn, res.type)
        names = Names(conn, svc.catalog, p)
        names.load([rec], rt)
        out = render_record(res, rt, rec, names)
        if res.name == "Resource":
            partners = search_records(conn, svc.catalog, "partner_record", [Condition("record_id", "eq", rid)],
                                      page_size=100, principal=p)  # fmt: skip
            out["partnerRecords"] = [
                {"partnerId": x.get("partner_id"), "partnerRecordId": x.get("partner_record_id"), "recordId": rid,
                 "recordType": x.get("record_type"), "partnerName": x.get("partner_name")}
                for x in partners if (x.get("record_type") or "R").lower() in ("r", "resource")
            ]  # fmt: skip
        return out

    body = await read(svc, creds, work)
    return json_response(body) if body is not None else no_content()


@router.patch("/api/v1/{resource}/{Id}", tags=["Records"], dependencies=api_limited,
              summary="Updates an existing record (a partial object)")  # fmt: skip
async def update(resource: str, Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    res = resource_of(resource, "update")
    rid = parse_id(Id)
    body = await read_body(request)
    if isinstance(body, list):  # RFC 6902 operations: the partial object they stand for
        body = json_patch_object(body)

    def write(conn: Connection, principal: Principal) -> Response:
        rt = svc.catalog.record_type(conn, res.type)
        ops = body_ops(res, rt, body)
        try:
            with tracker_fields(res):
                svc.engine.update(UpdateCommand(res.type, rid, tuple(ops)), ctx(principal), conn)
        except NotFound as exc:
            if not_found(exc):
                return no_content()
            raise
        return json_response(result(rid, "Record updated"))

    return await run_write(request, svc, creds, body, write)


@router.delete(
    "/api/v1/{resource}/{Id}", tags=["Records"], dependencies=api_limited, summary="Deletes a record"
)
async def delete(resource: str, Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    res = resource_of(resource, "delete")
    rid = parse_id(Id)

    def write(conn: Connection, principal: Principal) -> Response:
        try:
            svc.engine.delete(DeleteCommand(res.type, rid), ctx(principal), conn)
        except NotFound as exc:
            if not_found(exc):
                return no_content()
            raise
        return json_response(result(rid, "Record deleted"))

    return await run_write(request, svc, creds, None, write)
