"""Native record routes: list, get, create, update (single and bulk), upsert, delete, history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.engine import Connection
from starlette.responses import Response

from cardfile.api.kit.body import JSON_BODY_DOC, read_json
from cardfile.api.kit.conditions import Conditions, record_headers
from cardfile.api.kit.credentials import Credentials, credentials_of
from cardfile.api.kit.filters import check_limit, list_query
from cardfile.api.kit.problems import problem_json
from cardfile.api.kit.ratelimit import limited
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.routes import PlainRoute
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_read, run_write
from cardfile.auth.principal import Principal
from cardfile.engine import history as history_ops
from cardfile.engine import permissions as perm
from cardfile.engine.commands import (
    Context,
    CreateCommand,
    DeleteCommand,
    FieldOp,
    UpdateCommand,
    ops_from_json,
)
from cardfile.engine.results import WriteResult
from cardfile.errors import BadRequest, CardfileError, FieldError, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.schema.model import RecordType

__all__ = ["router"]

# GETs count as "records.read", every other method as "records.write". The kit's route
# class serves the plain routes (the single-record PATCH, the hot path) without FastAPI's
# dependency solving: same steps, in the same order.
router = APIRouter(
    prefix="/records",
    tags=["records"],
    dependencies=[Depends(limited("records.write", reads="records.read"))],
    route_class=PlainRoute,
)
Caller = Annotated[Credentials, Depends(credentials_of)]
CHANNEL = "api"

# Reserved keys of bulk and upsert items; field names never start with "_".
_IF_VERSION = "_if_version"


def _skip(request: Request) -> dict[str, Any]:
    """``X-Skip-Automation: all`` or a list of features (``workflows, cadences``): the
    automation rules this change does not run (needs the scope automation.SKIP)."""
    raw = request.headers.get("x-skip-automation")
    if raw is None:
        return {}
    names = frozenset(n.strip().lower() for n in raw.split(",") if n.strip())
    if not names:
        raise BadRequest("X-Skip-Automation names features (e.g. workflows, cadences) or is 'all'")
    return {"skip_automation": True} if "all" in names else {"skip": names}


def _reason(request: Request) -> str | None:
    reason = request.headers.get("x-change-reason")
    return reason[:500] if reason else None


def _object(body: Any, what: str = "the body") -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise BadRequest(f"{what} must be a JSON object")
    return body


def _ops(rt: RecordType, body: Mapping[str, Any]) -> tuple[FieldOp, ...]:
    multi = frozenset(f.name for f in rt if registry.get(f.type).multi or f.type == "sub_records")
    return tuple(ops_from_json(body, multi_fields=multi))


def _bool_param(value: str | None, name: str) -> bool:
    if value is None:
        return False
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise BadRequest(f"{name} must be true or false", field=name)


def _write_json(result: WriteResult, status: int = 200) -> Response:
    body = {**result.to_json(), "record": result.record}
    headers = record_headers(result.record) if not result.deleted else {}
    if result.created and result.committed:
        headers["Location"] = f"/api/records/{result.type}/{result.id}"
    return json_response(body, status, headers)


def _item_json(index: int, key: Any, r: WriteResult | CardfileError) -> dict[str, Any]:
    if isinstance(r, CardfileError):
        err = {k: v for k, v in problem_json(r).items() if k not in ("type", "title")}
        return {"index": index, "id": key, "ok": False, "error": err}
    return {"index": index, "ok": True, **r.to_json(), "record": r.record}


@router.get("/{type_name}", summary="List records with filters, sort and cursor pagination")
async def list_(
    type_name: str,
    request: Request,
    creds: Caller,
    sort: Annotated[str | None, Query(alias="_sort", description="field or -field (descending)")] = None,
    limit: Annotated[int, Query(alias="_limit")] = 50,
    cursor: Annotated[str | None, Query(alias="_cursor")] = None,
) -> Response:
    """Filters: ``field=value`` or ``field__op=value`` with op in eq, ne, lt, lte, gt, gte,
    contains, in (comma-separated), isnull (true/false)."""
    svc = services_of(request)
    params = [(k, v) for k, v in request.query_params.multi_items() if not k.startswith("_")]
    check_limit(limit)

    def read(conn: Connection, p: Principal) -> dict[str, Any]:
        rt = svc.catalog.record_type(conn, type_name)
        perm.require(p, rt, "READ")  # who may not read learns that before their filters are checked
        q = list_query(rt, params, sort=sort, limit=limit, cursor=cursor)
        return svc.engine.query(q, conn, p).to_json()

    return json_response(await run_read(svc, creds, read))


@router.post("/{type_name}", status_code=201, summary="Create a record", openapi_extra=JSON_BODY_DOC)
async def create(
    type_name: str,
    request: Request,
    creds: Caller,
    validate_only: Annotated[str | None, Query()] = None,
) -> Response:
    svc = services_of(request)
    body = _object(await read_json(request))
    dry = _bool_param(validate_only, "validate_only")
    reason = _reason(request)
    skip = _skip(request)

    def write(conn: Connection, principal: Principal) -> Response:
        ctx = Context(principal.name, CHANNEL, reason, principal=principal, **skip)
        rt = svc.catalog.record_type(conn, type_name)
        result = svc.engine.create(CreateCommand(type_name, _ops(rt, body), validate_only=dry), ctx, conn)
        return _write_json(result, 200 if dry else 201)

    return await run_write(request, svc, creds, body, write)


@router.patch("/{type_name}", summary="Update many records (bulk)", openapi_extra=JSON_BODY_DOC)
async def update_many(type_name: str, request: Request, creds: Caller) -> Response:
    """Body: ``{"records": [{"id": 1, field: value, ...}], "all_or_none": true}``.
    An item may carry ``_if_version`` (the version it expects)."""
    svc = services_of(request)
    body = _object(await read_json(request))
    items = body.get("records")
    if not isinstance(items, list):
        raise BadRequest("'records' must be a list of objects with an 'id'")
    all_or_none = body.get("all_or_none", True)
    if not isinstance(all_or_none, bool):
        raise BadRequest("'all_or_none' must be true or false")
    svc.engine.check_batch_size(len(items))
    reason = _reason(request)
    skip = _skip(request)

    def write(conn: Connection, principal: Principal) -> Response:
        ctx = Context(principal.name, CHANNEL, reason, principal=principal, **skip)
        rt = svc.catalog.record_type(conn, type_name)
        cmds = []
        errors: list[FieldError] = []
        for i, item in enumerate(items):
            if (
                not isinstance(item, Mapping)
                or not isinstance(item.get("id"), int)
                or isinstance(item["id"], bool)
            ):
                errors.append(FieldError(f"records[{i}].id", "REQUIRED", "each record needs an integer 'id'"))
                continue
            fields = {k: v for k, v in item.items() if k not in ("id", _IF_VERSION)}
            expected = item.get(_IF_VERSION)
            if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
                errors.append(
                    FieldError(f"records[{i}].{_IF_VERSION}", "NOT_AN_INTEGER", "a version is an integer")
                )
                continue
            cmds.append(UpdateCommand(type_name, item["id"], _ops(rt, fields), expected_version=expected))
        if errors:
            raise ValidationFailed(errors)
        results = svc.engine.update_many(cmds, ctx, all_or_none=all_or_none, conn=conn)
        return json_response(
            {"results": [_item_json(i, c.id, r) for i, (c, r) in enumerate(zip(cmds, results, strict=True))]}
        )

    return await run_write(request, svc, creds, body, write)


@router.post("/{type_name}/upsert", summary="Create or update records matched on a unique field",
             openapi_extra=JSON_BODY_DOC)  # fmt: skip
async def upsert(type_name: str, request: Request, creds: Caller) -> Response:
    """Body: ``{"match_on": "email", "records": [{...}], "all_or_none": true}``; the match is
    explicit, never guessed."""
    svc = services_of(request)
    body = _object(await read_json(request))
    match_on, items = body.get("match_on"), body.get("records")
    if not isinstance(match_on, str):
        raise BadRequest("'match_on' must name a unique field")
    if not isinstance(items, list):
        raise BadRequest("'records' must be a list of objects")
    all_or_none = body.get("all_or_none", True)
    if not isinstance(all_or_none, bool):
        raise BadRequest("'all_or_none' must be true or false")
    svc.engine.check_batch_size(len(items))
    reason = _reason(request)
    skip = _skip(request)

    def write(conn: Connection, principal: Principal) -> Response:
        ctx = Context(principal.name, CHANNEL, reason, principal=principal, **skip)
        rt = svc.catalog.record_type(conn, type_name)
        prepared = []
        for i, item in enumerate(items):
            item = _object(item, f"records[{i}]")
            if item.get(match_on) is None:
                raise ValidationFailed(
                    [FieldError(f"records[{i}].{match_on}", "REQUIRED", f"each record needs {match_on!r}")]
                )
            prepared.append((item[match_on], _ops(rt, item)))
        results = svc.engine.upsert_many(
            type_name, match_on, prepared, ctx, all_or_none=all_or_none, conn=conn
        )
        out = [
            {
                **_item_json(i, v, r),
                **({"action": "created" if r.created else "updated"} if isinstance(r, WriteResult) else {}),
            }
            for i, ((v, _ops_), r) in enumerate(zip(prepared, results, strict=True))
        ]
        return json_response({"results": out})

    return await run_write(request, svc, creds, body, write)


@router.get("/{type_name}/{record_id}", summary="Get a record")
async def get(type_name: str, record_id: int, request: Request, creds: Caller) -> Response:
    svc = services_of(request)
    record = await run_read(svc, creds, lambda conn, p: svc.engine.get(type_name, record_id, conn, p))
    headers = record_headers(record)
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return json_response(record, headers=headers)


@router.patch("/{type_name}/{record_id}", summary="Update a record (partial)", openapi_extra=JSON_BODY_DOC)
async def update(
    type_name: str,
    record_id: int,
    request: Request,
    creds: Caller,
    validate_only: Annotated[str | None, Query()] = None,
) -> Response:
    """Missing keys are untouched, null clears; a multi-value field takes a list (replace)
    or ``{"add": [...], "remove": [...]}``. ``If-Match`` / ``If-Unmodified-Since`` give 412 when stale."""
    return await _update(request, creds, type_name, record_id, validate_only)


async def _update(
    request: Request, creds: Credentials, type_name: str, record_id: int, validate_only: str | None
) -> Response:
    svc = services_of(request)
    cond = Conditions(request, required=svc.settings.require_preconditions)
    body = _object(await read_json(request))
    dry = _bool_param(validate_only, "validate_only")
    reason = _reason(request)
    skip = _skip(request)

    def write(conn: Connection, principal: Principal) -> Response:
        ctx = Context(principal.name, CHANNEL, reason, principal=principal, **skip)
        rt = svc.catalog.record_type(conn, type_name)
        cmd = UpdateCommand(
            type_name,
            record_id,
            _ops(rt, body),
            expected_version=cond.expected_version,
            unmodified_since=cond.unmodified_since,
            unmodified_since_precision=cond.precision,
            validate_only=dry,
        )
        return _write_json(svc.engine.update(cmd, ctx, conn))

    return await run_write(request, svc, creds, body, write)


@router.delete("/{type_name}/{record_id}", summary="Delete a record")
async def delete(
    type_name: str,
    record_id: int,
    request: Request,
    creds: Caller,
    cascade: Annotated[
        bool, Query(description="a soft delete also deletes the records its cascade links point at")
    ] = False,
) -> Response:
    svc = services_of(request)
    cond = Conditions(request, required=svc.settings.require_preconditions)
    reason = _reason(request)
    skip = _skip(request)

    def write(conn: Connection, principal: Principal) -> Response:
        ctx = Context(principal.name, CHANNEL, reason, principal=principal, **skip)
        cmd = DeleteCommand(
            type_name,
            record_id,
            expected_version=cond.expected_version,
            unmodified_since=cond.unmodified_since,
            unmodified_since_precision=cond.precision,
            cascade=cascade,
        )
        result = svc.engine.delete(cmd, ctx, conn)
        return json_response({"id": result.id, "deleted": True, "version": result.version, "at": result.at})

    return await run_write(request, svc, creds, None, write)


@router.get("/{type_name}/{record_id}/history", summary="A record's versions, newest first")
async def history(
    type_name: str,
    record_id: int,
    request: Request,
    creds: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(description="only versions below this one")] = None,
) -> Response:
    svc = services_of(request)
    entries = await run_read(
        svc,
        creds,
        lambda conn, p: history_ops.list_history(
            svc.engine, type_name, record_id, limit=limit, before=before, conn=conn, principal=p
        ),
    )
    return json_response({"items": entries})


@router.post("/{type_name}/{record_id}/revert", summary="Revert a record to an earlier version",
             openapi_extra=JSON_BODY_DOC)  # fmt: skip
async def revert(type_name: str, record_id: int, request: Request, creds: Caller) -> Response:
    """Body: ``{"version": n}``. The revert is an ordinary, audited update."""
    svc = services_of(request)
    cond = Conditions(request, required=False)
    body = _object(await read_json(request))
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BadRequest("'version' must be the integer version to revert to", field="version")
    reason = _reason(request)
    skip = _skip(request)

    def write(conn: Connection, principal: Principal) -> Response:
        ctx = Context(principal.name, CHANNEL, reason, principal=principal, **skip)
        result = history_ops.revert(
            svc.engine, type_name, record_id, version, ctx, expected_version=cond.expected_version, conn=conn
        )
        return _write_json(result)

    return await run_write(request, svc, creds, body, write)
