"""``POST /tracker/api/widget/updateRecord`` and ``POST /tracker/api/widget/getSettings``.

A request goes: read the body (bounded) → count it against the ``tracker.widget`` rate
limit → parse the envelope (``parse.py``) → authenticate the body's credentials
(``auth.py``, in a read transaction, so an Argon2 check never holds the write lock) →
in one write transaction: find the record (outcome 3), translate columns, custom fields
and skills into canonical ops (``translate.py``: outcome 4 or 99) and run the engine's
update. Every outcome is rendered in the widget's body (``render.py``); nothing is
written unless everything succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from cardfile.api.dialects.tracker_widget import lists, translate
from cardfile.api.dialects.tracker_widget.auth import authenticate
from cardfile.api.dialects.tracker_widget.errors import InternalError, UnknownMethod
from cardfile.api.dialects.tracker_widget.parse import (
    Credentials,
    parse_body,
    parse_settings,
    parse_update_record,
)
from cardfile.api.dialects.tracker_widget.render import error_response, success_response
from cardfile.api.native.writes import in_write_transaction
from cardfile.auth.principal import Principal
from cardfile.engine.commands import Context, UpdateCommand
from cardfile.errors import CardfileError, PayloadTooLarge, ValidationFailed
from cardfile.ratelimit import client_identity, token_identity
from cardfile.services import Services

__all__ = ["CHANNEL", "RATE_GROUP", "RATE_LIMIT", "router"]

log = logging.getLogger("cardfile.api.tracker_widget")
T = TypeVar("T")

CHANNEL = "tracker-widget"  # the channel written to history and events
# The widget's own rate-limit group. The seed states no limit; the Tracker family's is
# about 100 a minute (seed 003). ``CARDFILE_RATE_LIMITS="tracker.widget=..."`` changes it.
RATE_GROUP = "tracker.widget"
RATE_LIMIT = "100/minute"

router = APIRouter(prefix="/api/widget", tags=["tracker widget"])

_BODY_DOC = {
    "requestBody": {
        "content": {"application/json": {"schema": {"type": "object", "required": ["trackerrms"]}}},
        "required": True,
    }
}


def _services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def _read(request: Request, svc: Services) -> bytes:
    """The body, at most ``max_body_bytes``; any media type (widget clients vary)."""
    limit = svc.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body may be at most {limit} bytes", limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body may be at most {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _count(request: Request, svc: Services, body: Any) -> None:
    """One hit in the caller's budget: its token's digest, else its client address (so
    password guessing is limited per address)."""
    token = None
    try:
        creds = body["trackerrms"]
        creds = next(iter(creds.values()))["credentials"]
        token = creds.get("oauthtoken") if isinstance(creds.get("oauthtoken"), str) else None
    except (KeyError, TypeError, AttributeError, StopIteration):
        pass
    if token:
        identity = token_identity(token)
    else:
        identity = client_identity(request.client.host if request.client else None)
    limiter = svc.rate_limiter
    if limiter.enabled and RATE_GROUP not in limiter.groups:
        limiter.register_group(RATE_GROUP, svc.settings.rate_limits.get(RATE_GROUP, RATE_LIMIT))
    limiter.hit(RATE_GROUP, identity)


async def _body(request: Request, svc: Services) -> Any:
    raw = await _read(request, svc)
    try:
        body = parse_body(raw)
    except CardfileError:
        _count(request, svc, None)
        raise
    _count(request, svc, body)
    return body


async def _principal(svc: Services, creds: Credentials) -> Principal:
    def work() -> Principal:
        with svc.db.read() as conn:
            return authenticate(conn, svc.auth, creds)

    return await run_in_threadpool(work)


async def _write(svc: Services, fn: Callable[[Connection], T]) -> T:
    return await in_write_transaction(svc, fn)


@router.post("/updateRecord", summary="Update one record (TrackerRMS widget API)", openapi_extra=_BODY_DOC)
async def update_record(request: Request) -> Response:
    """Body: ``{"trackerrms": {"updateRecord": {"credentials", "instructions", "updates",
    "customfields", "skills"}}}``. Answers ``{"status", "message", "count"}`` with HTTP 200:
    0 success, 1 user not found, 2 user not active, 3 record not found, 4 column not
    found, 99 invalid request."""
    svc = _services(request)
    try:
        req = parse_update_record(await _body(request, svc))
        principal = await _principal(svc, req.credentials)
        type_name = translate.record_type_of(req.recordtype)

        def write(conn: Connection) -> None:
            # the record first (3), then its columns (4) and values (99)
            svc.engine.get(type_name, req.recordid, conn, principal)
            rt = svc.catalog.record_type(conn, type_name)
            tr = translate.translate(conn, svc, rt, req)
            if tr.errors:
                raise ValidationFailed(tr.errors)
            cmd = UpdateCommand(type_name, req.recordid, tuple(tr.ops))
            ctx = Context(principal.name, CHANNEL, principal=principal)
            svc.engine.update(cmd, ctx, conn)

        await _write(svc, write)
    except CardfileError as exc:
        return error_response(exc)
    except Exception:
        log.exception("unexpected error in updateRecord")
        return error_response(InternalError("an unexpected error occurred; it has been logged"))
    return success_response()


@router.post("/getSettings", summary="Settings lists with their integer ids (TrackerRMS widget API)",
             openapi_extra=_BODY_DOC)  # fmt: skip
async def get_settings(request: Request) -> Response:
    """Body: ``{"trackerrms": {"getSettings": {"credentials": {...}}}}``. Answers the
    lists whose integer ids the "id" columns of updateRecord take."""
    svc = _services(request)
    try:
        req = parse_settings(await _body(request, svc))
        principal = await _principal(svc, req.credentials)

        def read() -> list[dict[str, Any]]:
            with svc.db.read() as conn:
                return lists.settings(conn, svc, principal)

        items = await run_in_threadpool(read)
    except CardfileError as exc:
        return error_response(exc)
    except Exception:
        log.exception("unexpected error in getSettings")
        return error_response(InternalError("an unexpected error occurred; it has been logged"))
    return success_response(len(items), settings=items)


_METHODS = {"updaterecord": update_record, "getsettings": get_settings}


@router.post("/{method}", include_in_schema=False)
async def any_case(method: str, request: Request) -> Response:
    """The method names in any case (the vendor's routing ignores case); any other
    method of the widget API is not served here: 404 with a widget body."""
    handler = _METHODS.get(method.lower())
    if handler is None:
        return error_response(
            UnknownMethod(f"no widget method {method[:60]!r} here; updateRecord and getSettings are")
        )
    return await handler(request)
