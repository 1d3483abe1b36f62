"""``POST /tracker/api/widget/updateRecord`` and ``POST /tracker/api/widget/getSettings``.

A request goes: read the body (bounded) → count it against the ``tracker.widget`` rate
limit → parse the envelope (``parse.py``) → authenticate the body's credentials (a token,
else a username and password: the kit's ``TokenOrPassword``, in a read transaction, so an
Argon2 check never holds the write lock) → in one write transaction, on the caller's
session: find the record (outcome 3), translate columns, custom fields and skills into
canonical ops (``translate.py``: outcome 4 or 99) and run the engine's update. Every
outcome is rendered in the widget's body (``render.py``); nothing is written unless
everything succeeds.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from cardfile.api.dialects.tracker_widget import lists, translate
from cardfile.api.dialects.tracker_widget.errors import UnknownMethod
from cardfile.api.dialects.tracker_widget.parse import (
    Credentials,
    parse_body,
    parse_settings,
    parse_update_record,
)
from cardfile.api.dialects.tracker_widget.render import (
    SHAPE,
    error_response,
    internal_response,
    success_response,
)
from cardfile.api.kit.body import read_raw
from cardfile.api.kit.credentials import TokenOrPassword
from cardfile.api.kit.guard import guarded
from cardfile.api.kit.mount import api_app
from cardfile.api.kit.ratelimit import count_request
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import authenticated, in_write_session, run_read_session
from cardfile.engine.commands import UpdateCommand
from cardfile.engine.session import Session
from cardfile.errors import CardfileError, Unauthenticated, ValidationFailed
from cardfile.services import Services

__all__ = ["CHANNEL", "PREFIX", "RATE_GROUP", "RATE_LIMIT", "create_app", "router"]

log = logging.getLogger("cardfile.api.tracker_widget")

CHANNEL = "tracker-widget"  # the channel written to history and events
# The widget's own rate-limit group. The seed states no limit; the Tracker family's is
# about 100 a minute (seed 003). ``CARDFILE_RATE_LIMITS="tracker.widget=..."`` changes it.
RATE_GROUP = "tracker.widget"
RATE_LIMIT = "100/minute"
PREFIX = "/tracker/api/widget"

router = APIRouter(tags=["tracker widget"])  # mounted at PREFIX

_BODY_DOC = {
    "requestBody": {
        "content": {"application/json": {"schema": {"type": "object", "required": ["trackerrms"]}}},
        "required": True,
    }
}


def _count(request: Request, body: Any) -> None:
    """One hit in the caller's budget: its token's digest, else its client address (so
    password guessing is limited per address)."""
    token = None
    try:
        creds = body["trackerrms"]
        creds = next(iter(creds.values()))["credentials"]
        token = creds.get("oauthtoken") if isinstance(creds.get("oauthtoken"), str) else None
    except (KeyError, TypeError, AttributeError, StopIteration):
        pass
    count_request(request, token, RATE_GROUP, headers=False)  # the widget never sent RateLimit headers


async def _body(request: Request, svc: Services) -> Any:
    raw = await read_raw(request)  # any media type (widget clients vary)
    try:
        body = parse_body(raw)
    except CardfileError:
        _count(request, None)
        raise
    _count(request, body)
    return body


def _caller(svc: Services, creds: Credentials) -> TokenOrPassword:
    """The body's credentials, checked in the unit of work: either one authenticates (the
    seed's sample carries all three); none at all is outcome 1."""
    if creds.empty:
        raise Unauthenticated("send credentials: an oauthtoken, or a username and password")
    return TokenOrPassword(creds.oauthtoken, creds.username, creds.password, svc.auth)


@router.post("/updateRecord", summary="Update one record (TrackerRMS widget API)", openapi_extra=_BODY_DOC)
async def update_record(request: Request) -> Response:
    """Body: ``{"trackerrms": {"updateRecord": {"credentials", "instructions", "updates",
    "customfields", "skills"}}}``. Answers ``{"status", "message", "count"}`` with HTTP 200:
    0 success, 1 user not found, 2 user not active, 3 record not found, 4 column not
    found, 99 invalid request."""
    svc = services_of(request)

    async def work() -> Response:
        req = parse_update_record(await _body(request, svc))
        caller = await authenticated(svc, _caller(svc, req.credentials))
        type_name = translate.record_type_of(req.recordtype)

        def write(session: Session) -> None:
            # the record first (3), then its columns (4) and values (99)
            session.get(type_name, req.recordid)
            tr = translate.translate(session, session.record_type(type_name), req)
            if tr.errors:
                raise ValidationFailed(tr.errors)
            session.update(UpdateCommand(type_name, req.recordid, tuple(tr.ops)))

        await in_write_session(svc, caller, write, channel=CHANNEL)
        return success_response()

    return await guarded(work, error_response, internal_response, log=log, what="updateRecord")


@router.post("/getSettings", summary="Settings lists with their integer ids (TrackerRMS widget API)",
             openapi_extra=_BODY_DOC)  # fmt: skip
async def get_settings(request: Request) -> Response:
    """Body: ``{"trackerrms": {"getSettings": {"credentials": {...}}}}``. Answers the
    lists whose integer ids the "id" columns of updateRecord take."""
    svc = services_of(request)

    async def work() -> Response:
        req = parse_settings(await _body(request, svc))
        items = await run_read_session(svc, _caller(svc, req.credentials), lists.settings, channel=CHANNEL)
        return success_response(len(items), settings=items)

    return await guarded(work, error_response, internal_response, log=log, what="getSettings")


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


def create_app(services: Services) -> FastAPI:
    """The widget API as an application of its own, for ``app.mount(PREFIX, ...)``."""
    return api_app(
        services,
        SHAPE,
        [router],
        rate_groups={RATE_GROUP: RATE_LIMIT},
        title="cardfile: TrackerRMS widget API",
        description="The TrackerRMS widget's updateRecord and getSettings on cardfile's engine.",
        docs_url=None,
        redoc_url=None,
    )
