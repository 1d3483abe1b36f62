"""Zoho CRM v7's records API: update (bulk and one), insert, upsert, get, list, delete, and
the fields metadata API; paths as Zoho's under ``/zoho`` (``/zoho/crm/v7/Deals``).

A write goes: read the body (bounded) → count it in the ``zoho`` rate limit → in one
write transaction: authenticate, find the module, check the scope and role for the whole
request (``OAUTH_SCOPE_MISMATCH`` / ``NO_PERMISSION``), translate each record (``parse.py``),
run the engine per record (each record commits or fails alone), render each result in
place (``render.py``; errors through ``errors.py``). HTTP status: 200 (201 for an insert)
when every record succeeded, the error's status when every record failed the same way,
else 207 (multi-status).
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.engine import Connection
from starlette.responses import Response

from cardfile.api.dialects.zoho_crm import metadata
from cardfile.api.dialects.zoho_crm.auth import token_of
from cardfile.api.dialects.zoho_crm.errors import (
    InvalidId,
    InvalidUrl,
    MandatoryMissing,
    ZohoError,
    error_of,
    error_response,
    internal_error,
)
from cardfile.api.dialects.zoho_crm.modules import field_by_api_name, module_of, parse_id
from cardfile.api.dialects.zoho_crm.parse import data_of, layout_of, namer, record_ops, skip_features
from cardfile.api.dialects.zoho_crm.render import Renderer
from cardfile.api.kit.body import ANY_MEDIA_TYPE, read_json
from cardfile.api.kit.guard import guarded
from cardfile.api.kit.ratelimit import count_request
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import in_read_transaction, in_write_transaction
from cardfile.auth.principal import Principal
from cardfile.engine import permissions as perm
from cardfile.engine.commands import Context, CreateCommand, DeleteCommand, FieldOp, UpdateCommand
from cardfile.engine.names import Names
from cardfile.engine.query import Condition, Query
from cardfile.engine.results import WriteResult
from cardfile.engine.upsert import OpsFor, UpsertCommand, UpsertItem
from cardfile.errors import (
    BadRequest,
    CardfileError,
    LimitExceeded,
    NotFound,
)
from cardfile.schema.model import RecordType
from cardfile.services import Services

__all__ = ["CHANNEL", "RATE_GROUP", "router"]

log = logging.getLogger("cardfile.api.zoho_crm")

CHANNEL = "zoho"
RATE_GROUP = "zoho"
VERSIONS = ("v7",)
MAX_RECORDS = 100
Outcome = WriteResult | CardfileError

router = APIRouter(tags=["zoho crm"])


# -- plumbing ----------------------------------------------------------------------------------
def _count(request: Request, svc: Services) -> None:
    # Zoho's ``Zoho-oauthtoken <token>`` (or any scheme): the token is the caller's identity
    _scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    count_request(request, value.strip() or None, RATE_GROUP)


async def _body(request: Request, svc: Services) -> Any:
    return await read_json(request, accept=ANY_MEDIA_TYPE)  # Zoho takes a body of any media type


_write = in_write_transaction
_read = in_read_transaction


async def _guard(action: str, work: Callable[[], Any]) -> Response:
    return await guarded(
        work, lambda exc: error_response(exc, action), internal_error, log=log, what="the Zoho CRM dialect"
    )


def _version(version: str) -> None:
    if version not in VERSIONS:
        raise InvalidUrl(f"this server speaks {', '.join(VERSIONS)} of the records API")


def _module(svc: Services, conn: Connection, name: str) -> RecordType:
    return module_of(svc.catalog.current(conn), name)


def _unmodified_since(request: Request) -> datetime | None:
    value = request.headers.get("if-unmodified-since")
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            dt = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            raise BadRequest(
                "If-Unmodified-Since is not a date-time", api_name="If-Unmodified-Since"
            ) from None
    if dt.tzinfo is None:
        raise BadRequest("If-Unmodified-Since needs an offset", api_name="If-Unmodified-Since")
    return dt.replace(microsecond=0)  # compared at the precision the header carries: seconds


def _status(outcomes: Sequence[Outcome], errors: Sequence[ZohoError | None], ok: int) -> int:
    failed = [e for e in errors if e is not None]
    if not failed:
        return ok
    if len(failed) == len(outcomes):
        statuses = {e.status for e in failed}
        return statuses.pop() if len(statuses) == 1 else 400
    return 207


def _render(
    names: Names,
    rt: RecordType,
    outcomes: Sequence[Outcome],
    message: Callable[[WriteResult], str],
    *,
    ok: int = 200,
    action: str = "update",
    extra: Callable[[int, WriteResult], dict[str, Any]] | None = None,
) -> Response:
    renderer = Renderer(names)
    written = [o for o in outcomes if isinstance(o, WriteResult)]
    renderer.load([(rt, o.record) for o in written], links=False, actors=[o.actor for o in written])
    name = namer(rt)
    entries: list[dict[str, Any]] = []
    errors: list[ZohoError | None] = []
    for i, o in enumerate(outcomes):
        if isinstance(o, WriteResult):
            entry = {
                "code": "SUCCESS",
                "details": renderer.details(o),
                "message": message(o),
                "status": "success",
            }
            if extra is not None:
                entry = {**extra(i, o), **entry}
            entries.append(entry)
            errors.append(None)
        else:
            err = error_of(o, namer=name, index=i, action=action)
            entries.append(err.element())
            errors.append(err)
    return json_response({"data": entries}, _status(outcomes, errors, ok))


def _not_found_as_invalid(o: Outcome, raw_id: Any) -> Outcome:
    if isinstance(o, NotFound):
        return InvalidId(o.detail, id=str(raw_id))
    return o


def _record_id(rec: Any) -> int:
    if not isinstance(rec, Mapping):
        raise BadRequest("each item of 'data' is a record: a JSON object")
    raw = rec.get("id")
    if raw is None:
        raise MandatoryMissing("each record to update needs its 'id'")
    rid = parse_id(raw)
    if rid is None:
        raise InvalidId(f"{str(raw)[:40]!r} is not a record id", id=str(raw)[:40])
    return rid


def _context(principal: Principal, skip: frozenset[str] = frozenset()) -> Context:
    return Context(actor=principal.name, channel=CHANNEL, principal=principal, skip=skip)


# -- update --------------------------------------------------------------------------------------
async def _update(request: Request, version: str, module: str, path_id: str | None) -> Response:
    svc = services_of(request)
    _count(request, svc)
    _version(version)
    token = token_of(request)
    body = await _body(request, svc)
    data = data_of(body, MAX_RECORDS)
    skip = skip_features(body)
    since = _unmodified_since(request)
    if path_id is not None:
        pid = parse_id(path_id)
        if pid is None:
            raise InvalidId(f"{path_id[:40]!r} is not a record id", id=path_id[:40])
        if len(data) != 1:
            raise BadRequest("this URL updates one record: send one item in 'data'", api_name="data")

    def write(conn: Connection) -> Response:
        principal = svc.auth.authenticate(conn, token)
        rt = _module(svc, conn, module)
        perm.require(principal, rt, "UPDATE")
        if skip:  # a request-level refusal, as Zoho's scope errors are
            perm.require_automation_skip(principal)
        ctx = _context(principal, skip)
        outcomes: list[Outcome | None] = [None] * len(data)
        cmds: list[UpdateCommand] = []
        places: list[int] = []
        for i, rec in enumerate(data):
            try:
                if path_id is not None and isinstance(rec, Mapping) and rec.get("id") is None:
                    rec = {**rec, "id": path_id}
                rid = _record_id(rec)
                if path_id is not None and rid != parse_id(path_id):
                    raise InvalidId("the id in the body is not the id in the URL", id=str(rec.get("id"))[:40])

                ops = record_ops(rt, rec)
                cmds.append(
                    UpdateCommand(rt.name, rid, ops, unmodified_since=since, unmodified_since_precision="second",
                                  layout=layout_of(rt, rec))
                )  # fmt: skip
                places.append(i)
            except CardfileError as exc:
                outcomes[i] = _not_found_as_invalid(exc, rec.get("id") if isinstance(rec, Mapping) else None)
        if cmds:
            for place, out, cmd in zip(
                places, svc.engine.update_many(cmds, ctx, all_or_none=False, conn=conn), cmds, strict=True
            ):
                outcomes[place] = _not_found_as_invalid(out, cmd.id)
        final = [o for o in outcomes if o is not None]
        return _render(Names(conn, svc.catalog, principal), rt, final, lambda _o: "record updated")

    return await _write(svc, write)


@router.put("/crm/{version}/{module}", summary="Update records (at most 100, each with its id)")
async def update_records(request: Request, version: str, module: str) -> Response:
    return await _guard("update", lambda: _update(request, version, module, None))


@router.put("/crm/{version}/{module}/{record_id}", summary="Update one record")
async def update_record(request: Request, version: str, module: str, record_id: str) -> Response:
    return await _guard("update", lambda: _update(request, version, module, record_id))


# -- insert and upsert ---------------------------------------------------------------------------
def _create_ops(rt: RecordType, rec: Any) -> tuple[FieldOp, ...]:
    if not isinstance(rec, Mapping):
        raise BadRequest("each item of 'data' is a record: a JSON object")
    return record_ops(rt, rec)  # the owner's default (the caller) is the pack's


async def _insert(request: Request, version: str, module: str) -> Response:
    svc = services_of(request)
    _count(request, svc)
    _version(version)
    token = token_of(request)
    body = await _body(request, svc)
    data = data_of(body, MAX_RECORDS)

    def write(conn: Connection) -> Response:
        principal = svc.auth.authenticate(conn, token)
        rt = _module(svc, conn, module)
        perm.require(principal, rt, "CREATE")
        ctx = _context(principal)

        def one(c: Connection, rec: Any) -> WriteResult:
            ops = _create_ops(rt, rec)
            return svc.engine.create(CreateCommand(rt.name, ops, layout=layout_of(rt, rec)), ctx, c)

        outcomes = svc.engine.run_batch(data, one, all_or_none=False, conn=conn)
        return _render(
            Names(conn, svc.catalog, principal),
            rt,
            outcomes,
            lambda _o: "record added",
            ok=201,
            action="create",
        )

    return await _write(svc, write)


@router.post("/crm/{version}/{module}", summary="Insert records (at most 100)")
async def insert_records(request: Request, version: str, module: str) -> Response:
    return await _guard("create", lambda: _insert(request, version, module))


def _refuse(exc: CardfileError) -> OpsFor:
    """The ops of an item whose body is refused before the engine may match it."""

    def ops_for(_conn: Connection, _holder: int | None) -> Sequence[FieldOp]:
        raise exc

    return ops_for


async def _upsert(request: Request, version: str, module: str) -> Response:
    svc = services_of(request)
    _count(request, svc)
    _version(version)
    token = token_of(request)
    body = await _body(request, svc)
    data = data_of(body, MAX_RECORDS)
    skip = skip_features(body)
    wanted = body.get("duplicate_check_fields")
    if wanted is not None and (not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted)):
        raise BadRequest(
            "duplicate_check_fields is a list of field API names", api_name="duplicate_check_fields"
        )

    def write(conn: Connection) -> Response:
        principal = svc.auth.authenticate(conn, token)
        rt = _module(svc, conn, module)
        perm.require(principal, rt, "CREATE")
        perm.require(principal, rt, "UPDATE")
        by_api = field_by_api_name(rt)
        if wanted is None:
            checks = [(n, f) for n, f in by_api.items() if f.unique]
        else:
            checks = []
            for n in wanted:
                fd = by_api.get(n)
                if fd is None or not fd.unique:
                    raise BadRequest(f"{n[:60]!r} is not a unique field of this module", api_name=n[:60])
                checks.append((n, fd))
        ctx = _context(principal, skip)
        api_names = {fd.name: n for n, fd in checks}

        def item(rec: Any) -> UpsertItem:
            # the engine finds the record (by its id, else by the first check field it holds);
            # this only parses the body, whose ops depend on whether a record was found
            try:
                if not isinstance(rec, Mapping):
                    raise BadRequest("each item of 'data' is a record: a JSON object")
                rid = _record_id(rec) if rec.get("id") is not None else None
            except CardfileError as exc:
                return UpsertItem(ops_for=_refuse(exc))
            layout: str | None = None
            problem: CardfileError | None = None  # a bad layout, reported after the fields
            try:
                layout = layout_of(rt, rec)
            except CardfileError as exc:
                problem = exc

            def ops_for(c: Connection, holder: int | None) -> Sequence[FieldOp]:
                ops = _create_ops(rt, rec) if holder is None else record_ops(rt, rec)
                if problem is not None:
                    raise problem
                return ops

            match = {fd.name: rec[n] for n, fd in checks if rec.get(n) is not None}
            return UpsertItem(match=match, id=rid, ops_for=ops_for, layout=layout)

        cmd = UpsertCommand(rt.name, tuple(api_names), tuple(item(rec) for rec in data), all_or_none=False,
                            require_match=False)  # fmt: skip
        done = svc.engine.upsert(cmd, ctx, conn)
        outcomes = [_not_found_as_invalid(o.result, it.id) if it.id is not None else o.result
                    for it, o in zip(cmd.items, done, strict=True)]  # fmt: skip

        def extra(i: int, _o: WriteResult) -> dict[str, Any]:
            o = done[i]
            if o.action == "updated":
                return {"duplicate_field": api_names.get(o.matched or ""), "action": "update"}
            return {"duplicate_field": None, "action": "insert"}

        def message(o: WriteResult) -> str:
            return "record added" if o.created else "record updated"

        return _render(
            Names(conn, svc.catalog, principal), rt, outcomes, message, ok=200, action="update", extra=extra
        )

    return await _write(svc, write)


@router.post(
    "/crm/{version}/{module}/upsert", summary="Insert or update records, matched on duplicate_check_fields"
)
async def upsert_records(request: Request, version: str, module: str) -> Response:
    return await _guard("update", lambda: _upsert(request, version, module))


# -- delete --------------------------------------------------------------------------------------
async def _delete(request: Request, version: str, module: str, ids_text: str | None) -> Response:
    svc = services_of(request)
    _count(request, svc)
    _version(version)
    token = token_of(request)
    if ids_text is None:
        raise MandatoryMissing("send the ids to delete: ?ids=1,2,3", api_name="ids")
    raw_ids = [s.strip() for s in ids_text.split(",") if s.strip()]
    if not raw_ids:
        raise MandatoryMissing("send the ids to delete: ?ids=1,2,3", api_name="ids")
    if len(raw_ids) > MAX_RECORDS:
        raise LimitExceeded(f"at most {MAX_RECORDS} records can be deleted in one call", limit=MAX_RECORDS)

    def write(conn: Connection) -> Response:
        principal = svc.auth.authenticate(conn, token)
        rt = _module(svc, conn, module)
        perm.require(principal, rt, "DELETE")
        ctx = _context(principal)

        def one(c: Connection, raw: str) -> WriteResult:
            rid = parse_id(raw)
            if rid is None:
                raise InvalidId(f"{raw[:40]!r} is not a record id", id=raw[:40])
            try:
                return svc.engine.delete(DeleteCommand(rt.name, rid), ctx, c)
            except NotFound as exc:
                raise InvalidId(exc.detail, id=raw[:40]) from None

        outcomes = svc.engine.run_batch(raw_ids, one, all_or_none=False, conn=conn)
        entries: list[dict[str, Any]] = []
        errors: list[ZohoError | None] = []
        name = namer(rt)
        for i, o in enumerate(outcomes):
            if isinstance(o, WriteResult):
                entries.append({"code": "SUCCESS", "details": {"id": str(o.id)}, "message": "record deleted",
                                "status": "success"})  # fmt: skip
                errors.append(None)
            else:
                err = error_of(o, namer=name, index=i, action="delete")
                err.details.setdefault("id", raw_ids[i][:40])
                entries.append(err.element())
                errors.append(err)
        return json_response({"data": entries}, _status(outcomes, errors, 200))

    return await _write(svc, write)


@router.delete("/crm/{version}/{module}", summary="Delete records: ?ids=1,2,3 (at most 100)")
async def delete_records(request: Request, version: str, module: str) -> Response:
    return await _guard("delete", lambda: _delete(request, version, module, request.query_params.get("ids")))


@router.delete("/crm/{version}/{module}/{record_id}", summary="Delete one record")
async def delete_record(request: Request, version: str, module: str, record_id: str) -> Response:
    return await _guard("delete", lambda: _delete(request, version, module, record_id))


# -- reads ---------------------------------------------------------------------------------------
def _fields_param(request: Request) -> set[str] | None:
    text = request.query_params.get("fields")
    if not text:
        return None
    return {f.strip() for f in text.split(",") if f.strip()}


async def _get(request: Request, version: str, module: str, record_id: str) -> Response:
    svc = services_of(request)
    _count(request, svc)
    _version(version)
    token = token_of(request)
    rid = parse_id(record_id)
    if rid is None:
        raise InvalidId(f"{record_id[:40]!r} is not a record id", id=record_id[:40])
    fields = _fields_param(request)

    def read(conn: Connection) -> Response:
        principal = svc.auth.authenticate(conn, token)
        rt = _module(svc, conn, module)
        perm.require(principal, rt, "READ")
        try:
            record = svc.engine.get(rt.name, rid, conn, principal)
        except NotFound:
            return Response(status_code=204)
        renderer = Renderer(Names(conn, svc.catalog, principal))
        renderer.load([(rt, record)])
        return json_response({"data": [renderer.record(rt, record, fields)]})

    return await _read(svc, read)


async def _module_metadata(
    request: Request, version: str, key: str, describe: Callable[[RecordType], Any]
) -> Response:
    """``{key: describe(module)}`` for ``?module=``, to a caller who may read metadata."""

    async def work() -> Response:
        svc = services_of(request)
        _count(request, svc)
        _version(version)
        token = token_of(request)
        module = request.query_params.get("module")
        if not module:
            raise MandatoryMissing("send ?module=<module API name>", api_name="module")

        def read(conn: Connection) -> Response:
            principal = svc.auth.authenticate(conn, token)
            perm.require_metadata(principal, "READ")
            return json_response({key: describe(_module(svc, conn, module))})

        return await _read(svc, read)

    return await _guard("read", work)


@router.get("/crm/{version}/settings/fields", summary="Fields metadata of a module: ?module=Deals")
async def fields_metadata(request: Request, version: str) -> Response:
    return await _module_metadata(request, version, "fields", metadata.fields)


@router.get("/crm/{version}/settings/layouts", summary="Layouts of a module: ?module=Deals")
async def layouts_metadata(request: Request, version: str) -> Response:
    return await _module_metadata(request, version, "layouts", metadata.layouts)


@router.get("/crm/{version}/{module}/{record_id}", summary="Get one record")
async def get_record(request: Request, version: str, module: str, record_id: str) -> Response:
    return await _guard("read", lambda: _get(request, version, module, record_id))


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}", api_name=name)
    return int(raw)


async def _list(request: Request, version: str, module: str) -> Response:
    svc = services_of(request)
    _count(request, svc)
    _version(version)
    token = token_of(request)
    fields = _fields_param(request)
    page = _int_param(request, "page", 1, 1, 10_000)
    per_page = _int_param(request, "per_page", 200, 1, 200)
    order = request.query_params.get("sort_order", "asc")
    if order not in ("asc", "desc"):
        raise BadRequest("sort_order is asc or desc", api_name="sort_order")
    ids_text = request.query_params.get("ids")

    def read(conn: Connection) -> Response:
        principal = svc.auth.authenticate(conn, token)
        rt = _module(svc, conn, module)
        conds: list[Condition] = []
        if ids_text:
            ids = [parse_id(s.strip()) for s in ids_text.split(",") if s.strip()]
            if any(i is None for i in ids) or len(ids) > MAX_RECORDS:
                raise InvalidId("ids must be record ids, at most 100", id=ids_text[:40])
            conds.append(Condition("id", "in", ids))
        q = Query(rt.name, tuple(conds), descending=order == "desc", page=page, page_size=per_page)
        got = svc.engine.query(q, conn, principal)
        items, more = got.items, got.more
        if not items:
            return Response(status_code=204)
        renderer = Renderer(Names(conn, svc.catalog, principal))
        renderer.load([(rt, r) for r in items])
        info = {"per_page": per_page, "count": len(items), "page": page, "sort_by": "id", "sort_order": order,
                "more_records": more}  # fmt: skip
        return json_response({"data": [renderer.record(rt, r, fields) for r in items], "info": info})

    return await _read(svc, read)


@router.get("/crm/{version}/{module}", summary="List records (page, per_page, fields, ids, sort_order)")
async def list_module(request: Request, version: str, module: str) -> Response:
    return await _guard("read", lambda: _list(request, version, module))
