"""Zoho CRM v7's records API: update (bulk and one), insert, upsert, get, list, delete, and
the fields metadata API; paths as Zoho's under ``/zoho`` (``/zoho/crm/v7/Deals``).

A write goes: count it in the ``zoho`` rate limit → read the body (bounded) → in one write
unit of work (the kit's, handing a ``Session``): authenticate, find the module, check the
scope and role for the whole request (``OAUTH_SCOPE_MISMATCH`` / ``NO_PERMISSION``),
translate each record (``parse.py``), run the engine per record (each record commits or
fails alone), render each result in place (``render.py``; errors through ``errors.py``).
HTTP status: 200 (201 for an insert) when every record succeeded, the error's status when
every record failed the same way, else 207 (multi-status).
"""

from __future__ import annotations

import dataclasses
import email.utils
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from cardfile.api.dialects.zoho_crm import metadata
from cardfile.api.dialects.zoho_crm.auth import token_of
from cardfile.api.dialects.zoho_crm.errors import (
    SHAPE,
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
from cardfile.api.kit.credentials import Credentials
from cardfile.api.kit.guard import guarded
from cardfile.api.kit.ratelimit import count_request
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import in_write_session, run_read_session
from cardfile.engine import permissions as perm
from cardfile.engine.commands import CreateCommand, DeleteCommand, FieldOp, UpdateCommand
from cardfile.engine.query import Condition, Query
from cardfile.engine.results import WriteResult
from cardfile.engine.session import Session
from cardfile.engine.upsert import OpsFor, UpsertCommand, UpsertItem
from cardfile.errors import BadRequest, CardfileError, LimitExceeded, NotFound
from cardfile.schema.model import RecordType

__all__ = ["CHANNEL", "RATE_GROUP", "router"]

CHANNEL = "zoho"
RATE_GROUP = "zoho"
VERSIONS = ("v7",)
MAX_RECORDS = 100
Outcome = WriteResult | CardfileError

router = APIRouter(tags=["zoho crm"])
log = SHAPE.log  # "cardfile.api.zoho_crm"


# -- plumbing ----------------------------------------------------------------------------------
def _caller(request: Request, version: str) -> Credentials:
    """Count the request in the ``zoho`` rate limit, check the API version and read the
    caller's token, in that order (the token is checked in the request's unit of work)."""
    # Zoho's ``Zoho-oauthtoken <token>`` (or any scheme): the token is the caller's identity
    _scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    count_request(request, value.strip() or None, RATE_GROUP)
    if version not in VERSIONS:
        raise InvalidUrl(f"this server speaks {', '.join(VERSIONS)} of the records API")
    return Credentials(token_of(request), services_of(request).auth)


async def _body(request: Request) -> Any:
    return await read_json(request, accept=ANY_MEDIA_TYPE)  # Zoho takes a body of any media type


async def _write(request: Request, creds: Credentials, fn: Callable[[Session], Response]) -> Response:
    """``fn`` in a write unit of work as the caller (Zoho has no ``Idempotency-Key``)."""
    return await in_write_session(services_of(request), creds, fn, channel=CHANNEL)


async def _read(request: Request, creds: Credentials, fn: Callable[[Session], Response]) -> Response:
    return await run_read_session(services_of(request), creds, fn, channel=CHANNEL)


async def _guard(action: str, work: Callable[[], Any]) -> Response:
    return await guarded(
        work,
        lambda exc: error_response(exc, action),
        internal_error,
        log=log,
        what="the Zoho CRM dialect",
    )


def _module(session: Session, name: str, *actions: str) -> RecordType:
    """The module's record type, once the caller may do each of ``actions`` on it: such a
    refusal is the whole request's, as Zoho's scope errors are."""
    rt = module_of(session.schema, name)
    for action in actions:
        perm.require(session.principal, rt, action)
    return rt


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


def _status(outcomes: Sequence[Outcome], failed: Sequence[ZohoError], ok: int) -> int:
    if not failed:
        return ok
    if len(failed) == len(outcomes):
        statuses = {e.status for e in failed}
        return statuses.pop() if len(statuses) == 1 else 400
    return 207


def _answer(
    rt: RecordType,
    outcomes: Sequence[Outcome],
    details: Callable[[WriteResult], dict[str, Any]],
    message: Callable[[WriteResult], str],
    *,
    ok: int = 200,
    action: str = "update",
    extra: Callable[[int, WriteResult], dict[str, Any]] | None = None,
    ids: Sequence[str] | None = None,
) -> Response:
    """``{"data": [...]}``: a success element for each record written (``extra(i, result)``
    ahead of it), Zoho's error element for each one refused (naming its id among ``ids``
    when it names none)."""
    name = namer(rt)
    entries: list[dict[str, Any]] = []
    failed: list[ZohoError] = []
    for i, o in enumerate(outcomes):
        if isinstance(o, WriteResult):
            entry = {"code": "SUCCESS", "details": details(o), "message": message(o), "status": "success"}
            entries.append(entry if extra is None else {**extra(i, o), **entry})
        else:
            err = error_of(o, namer=name, index=i, action=action)
            if ids is not None:
                err.details.setdefault("id", ids[i][:40])
            entries.append(err.element())
            failed.append(err)
    return json_response({"data": entries}, _status(outcomes, failed, ok))


def _details(
    session: Session, rt: RecordType, outcomes: Sequence[Outcome]
) -> Callable[[WriteResult], dict[str, Any]]:
    """The ``details`` of each record written, with the names of their actors read at once."""
    renderer = Renderer(session.names())
    written = [o for o in outcomes if isinstance(o, WriteResult)]
    renderer.load([(rt, o.record) for o in written], links=False, actors=[o.actor for o in written])
    return renderer.details


def _not_found_as_invalid(o: Outcome, raw_id: Any) -> Outcome:
    if isinstance(o, NotFound):
        return InvalidId(o.detail, id=str(raw_id))
    return o


def _record(rec: Any) -> Mapping[str, Any]:
    """An item of ``data``: a record, as a JSON object."""
    if not isinstance(rec, Mapping):
        raise BadRequest("each item of 'data' is a record: a JSON object")
    return rec


def _id(raw: Any) -> int:
    """A record id the caller gave; INVALID_DATA naming it when it is malformed."""
    rid = parse_id(raw)
    if rid is None:
        raise InvalidId(f"{str(raw)[:40]!r} is not a record id", id=str(raw)[:40])
    return rid


def _record_id(rec: Any) -> int:
    raw = _record(rec).get("id")
    if raw is None:
        raise MandatoryMissing("each record to update needs its 'id'")
    return _id(raw)


# -- update --------------------------------------------------------------------------------------
async def _update(request: Request, version: str, module: str, path_id: str | None) -> Response:
    creds = _caller(request, version)
    body = await _body(request)
    data = data_of(body, MAX_RECORDS)
    skip = skip_features(body)
    since = _unmodified_since(request)
    pid = None if path_id is None else _id(path_id)
    if pid is not None and len(data) != 1:
        raise BadRequest("this URL updates one record: send one item in 'data'", api_name="data")

    def write(session: Session) -> Response:
        rt = _module(session, module, "UPDATE")
        if skip:  # a request-level refusal, as Zoho's scope errors are
            perm.require_automation_skip(session.principal)
        outcomes: list[Outcome | None] = [None] * len(data)
        cmds: list[UpdateCommand] = []
        places: list[int] = []
        for i, rec in enumerate(data):
            try:
                if path_id is not None and isinstance(rec, Mapping) and rec.get("id") is None:
                    rec = {**rec, "id": path_id}
                rid = _record_id(rec)
                if path_id is not None and rid != pid:
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
            ctx = dataclasses.replace(session.context(), skip=skip)
            done = session.update_many(cmds, ctx, all_or_none=False)
            for place, out, cmd in zip(places, done, cmds, strict=True):
                outcomes[place] = _not_found_as_invalid(out, cmd.id)
        final = [o for o in outcomes if o is not None]
        return _answer(rt, final, _details(session, rt, final), lambda _o: "record updated")

    return await _write(request, creds, write)


@router.put("/crm/{version}/{module}", summary="Update records (at most 100, each with its id)")
async def update_records(request: Request, version: str, module: str) -> Response:
    return await _guard("update", lambda: _update(request, version, module, None))


@router.put("/crm/{version}/{module}/{record_id}", summary="Update one record")
async def update_record(request: Request, version: str, module: str, record_id: str) -> Response:
    return await _guard("update", lambda: _update(request, version, module, record_id))


# -- insert and upsert ---------------------------------------------------------------------------
async def _insert(request: Request, version: str, module: str) -> Response:
    creds = _caller(request, version)
    data = data_of(await _body(request), MAX_RECORDS)

    def write(session: Session) -> Response:
        rt = _module(session, module, "CREATE")

        def one(s: Session, rec: Any) -> WriteResult:
            ops = record_ops(rt, _record(rec))  # the owner's default (the caller) is the pack's
            return s.create(CreateCommand(rt.name, ops, layout=layout_of(rt, rec)))

        outcomes = session.batch(data, one, all_or_none=False)
        details = _details(session, rt, outcomes)
        return _answer(rt, outcomes, details, lambda _o: "record added", ok=201, action="create")

    return await _write(request, creds, write)


@router.post("/crm/{version}/{module}", summary="Insert records (at most 100)")
async def insert_records(request: Request, version: str, module: str) -> Response:
    return await _guard("create", lambda: _insert(request, version, module))


def _refuse(exc: CardfileError) -> OpsFor:
    """The ops of an item whose body is refused before the engine may match it."""

    def ops_for(_holder: int | None) -> Sequence[FieldOp]:
        raise exc

    return ops_for


async def _upsert(request: Request, version: str, module: str) -> Response:
    creds = _caller(request, version)
    body = await _body(request)
    data = data_of(body, MAX_RECORDS)
    skip = skip_features(body)
    wanted = body.get("duplicate_check_fields")
    if wanted is not None and (not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted)):
        raise BadRequest(
            "duplicate_check_fields is a list of field API names", api_name="duplicate_check_fields"
        )

    def write(session: Session) -> Response:
        rt = _module(session, module, "CREATE", "UPDATE")
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
        api_names = {fd.name: n for n, fd in checks}

        def item(rec: Any) -> UpsertItem:
            # the engine finds the record (by its id, else by the first check field it holds);
            # this only parses the body, in the item's savepoint once the engine matched it
            try:
                rec = _record(rec)
                rid = _record_id(rec) if rec.get("id") is not None else None
            except CardfileError as exc:
                return UpsertItem(ops_for=_refuse(exc))
            layout: str | None = None
            problem: CardfileError | None = None  # a bad layout, reported after the fields
            try:
                layout = layout_of(rt, rec)
            except CardfileError as exc:
                problem = exc

            def ops_for(_holder: int | None) -> Sequence[FieldOp]:
                ops = record_ops(rt, rec)
                if problem is not None:
                    raise problem
                return ops

            match = {fd.name: rec[n] for n, fd in checks if rec.get(n) is not None}
            return UpsertItem(match=match, id=rid, ops_for=ops_for, layout=layout)

        cmd = UpsertCommand(rt.name, tuple(api_names), tuple(item(rec) for rec in data), all_or_none=False,
                            require_match=False)  # fmt: skip
        done = session.upsert(cmd, dataclasses.replace(session.context(), skip=skip))
        outcomes = [_not_found_as_invalid(o.result, it.id) if it.id is not None else o.result
                    for it, o in zip(cmd.items, done, strict=True)]  # fmt: skip

        def extra(i: int, _o: WriteResult) -> dict[str, Any]:
            o = done[i]
            if o.action == "updated":
                return {"duplicate_field": api_names.get(o.matched or ""), "action": "update"}
            return {"duplicate_field": None, "action": "insert"}

        def message(o: WriteResult) -> str:
            return "record added" if o.created else "record updated"

        return _answer(rt, outcomes, _details(session, rt, outcomes), message, extra=extra)

    return await _write(request, creds, write)


@router.post(
    "/crm/{version}/{module}/upsert", summary="Insert or update records, matched on duplicate_check_fields"
)
async def upsert_records(request: Request, version: str, module: str) -> Response:
    return await _guard("update", lambda: _upsert(request, version, module))


# -- delete --------------------------------------------------------------------------------------
def _deleted(o: WriteResult) -> dict[str, Any]:
    return {"id": str(o.id)}


async def _delete(request: Request, version: str, module: str, ids_text: str | None) -> Response:
    creds = _caller(request, version)
    if ids_text is None:
        raise MandatoryMissing("send the ids to delete: ?ids=1,2,3", api_name="ids")
    raw_ids = [s.strip() for s in ids_text.split(",") if s.strip()]
    if not raw_ids:
        raise MandatoryMissing("send the ids to delete: ?ids=1,2,3", api_name="ids")
    if len(raw_ids) > MAX_RECORDS:
        raise LimitExceeded(f"at most {MAX_RECORDS} records can be deleted in one call", limit=MAX_RECORDS)

    def write(session: Session) -> Response:
        rt = _module(session, module, "DELETE")

        def one(s: Session, raw: str) -> WriteResult:
            rid = _id(raw)
            try:
                return s.delete(DeleteCommand(rt.name, rid))
            except NotFound as exc:
                raise InvalidId(exc.detail, id=raw[:40]) from None

        outcomes = session.batch(raw_ids, one, all_or_none=False)
        return _answer(rt, outcomes, _deleted, lambda _o: "record deleted", action="delete", ids=raw_ids)

    return await _write(request, creds, write)


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
    creds = _caller(request, version)
    rid = _id(record_id)
    fields = _fields_param(request)

    def read(session: Session) -> Response:
        rt = _module(session, module, "READ")
        try:
            record = session.get(rt.name, rid)
        except NotFound:
            return Response(status_code=204)
        renderer = Renderer(session.names())
        renderer.load([(rt, record)])
        return json_response({"data": [renderer.record(rt, record, fields)]})

    return await _read(request, creds, read)


async def _module_metadata(
    request: Request, version: str, key: str, describe: Callable[[RecordType], Any]
) -> Response:
    """``{key: describe(module)}`` for ``?module=``, to a caller who may read metadata."""

    async def work() -> Response:
        creds = _caller(request, version)
        module = request.query_params.get("module")
        if not module:
            raise MandatoryMissing("send ?module=<module API name>", api_name="module")

        def read(session: Session) -> Response:
            perm.require_metadata(session.principal, "READ")
            return json_response({key: describe(_module(session, module))})

        return await _read(request, creds, read)

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
    creds = _caller(request, version)
    fields = _fields_param(request)
    page = _int_param(request, "page", 1, 1, 10_000)
    per_page = _int_param(request, "per_page", 200, 1, 200)
    order = request.query_params.get("sort_order", "asc")
    if order not in ("asc", "desc"):
        raise BadRequest("sort_order is asc or desc", api_name="sort_order")
    ids_text = request.query_params.get("ids")

    def read(session: Session) -> Response:
        rt = _module(session, module)
        conds: list[Condition] = []
        if ids_text:
            ids = [parse_id(s.strip()) for s in ids_text.split(",") if s.strip()]
            if any(i is None for i in ids) or len(ids) > MAX_RECORDS:
                raise InvalidId("ids must be record ids, at most 100", id=ids_text[:40])
            conds.append(Condition("id", "in", ids))
        q = Query(rt.name, tuple(conds), descending=order == "desc", page=page, page_size=per_page)
        got = session.query(q)
        items, more = got.items, got.more
        if not items:
            return Response(status_code=204)
        renderer = Renderer(session.names())
        renderer.load([(rt, r) for r in items])
        info = {"per_page": per_page, "count": len(items), "page": page, "sort_by": "id", "sort_order": order,
                "more_records": more}  # fmt: skip
        return json_response({"data": [renderer.record(rt, r, fields) for r in items], "info": info})

    return await _read(request, creds, read)


@router.get("/crm/{version}/{module}", summary="List records (page, per_page, fields, ids, sort_order)")
async def list_module(request: Request, version: str, module: str) -> Response:
    return await _guard("read", lambda: _list(request, version, module))
