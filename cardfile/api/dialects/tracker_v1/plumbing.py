"""Request plumbing of the Tracker v1 routes: credentials, JSON bodies, units of work."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.responses import Response

from cardfile.api.kit.body import MediaTypes, read_json
from cardfile.api.kit.credentials import Credentials
from cardfile.api.kit.ratelimit import limited
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_read_session, run_write_session
from cardfile.auth.principal import Principal
from cardfile.engine.session import Session
from cardfile.errors import BadRequest, NotFound, Unauthenticated, UnknownRecordType

__all__ = [
    "CHANNEL",
    "GROUP",
    "Caller",
    "MethodNotAllowed",
    "answer",
    "api_limited",
    "caller",
    "credentials",
    "find",
    "no_content",
    "not_found",
    "read_body",
    "write",
]

GROUP = "tracker"
CHANNEL = "tracker_v1"
MEDIA_TYPES = MediaTypes(
    pattern=re.compile(r"^(application|text)/([a-z0-9.+-]*\+)?json$|^application/json-patch\+json$"),
    hint="application/json-patch+json or application/json",
    shown=60,
)
api_limited = [Depends(limited(GROUP))]


async def credentials(request: Request) -> Credentials:
    """The JWT (or any cardfile credential) of ``Authorization``; ``Bearer`` may be left out."""
    auth = request.headers.get("authorization", "").strip()
    scheme, _, value = auth.partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else (auth if auth and " " not in auth else "")
    if not token:
        raise Unauthenticated("send 'Authorization: Bearer <JWT>' (POST /api/Auth/ExchangeToken gives one)")
    return Credentials(token, services_of(request).auth)


Caller = Annotated[Credentials, Depends(credentials)]


async def read_body(request: Request, *, required: bool = True, limit: int | None = None) -> Any:
    """The JSON body (None when empty and not required); at most ``limit`` bytes (the
    server's body limit unless given), else 413."""
    return await read_json(request, accept=MEDIA_TYPES, required=required, limit=limit)


class MethodNotAllowed(BadRequest):
    code = "METHOD_NOT_ALLOWED"
    status = 405
    title = "Method not allowed"


def not_found(exc: NotFound) -> bool:
    """A record that is not there (Tracker: 204), as opposed to an unknown type."""
    return not isinstance(exc, UnknownRecordType)


def no_content() -> Response:
    return Response(status_code=204)


async def answer(request: Request, creds: Credentials, work: Callable[[Session], Any]) -> Response:
    """``work`` in a read session, its result as JSON; None or an empty list is 204 with
    no body (Tracker's answer for an id that names no record and a search without results)."""
    body = await run_read_session(services_of(request), creds, work, channel=CHANNEL)
    return no_content() if body is None or body == [] else json_response(body)


async def write(
    request: Request, creds: Credentials, body: Any, work: Callable[[Session], Response]
) -> Response:
    """``work`` in a write session (an ``Idempotency-Key`` replays the first response of
    the same request, ``body`` included)."""
    return await run_write_session(request, services_of(request), creds, body, work, channel=CHANNEL)


def caller(session: Session) -> Principal:
    """The authenticated caller (a unit of work always binds one)."""
    assert session.principal is not None
    return session.principal


def find(session: Session, type_name: str, record_id: int) -> dict[str, Any] | None:
    """The record as the caller may see it, or None when there is none (an unknown type
    and a refused read still raise)."""
    try:
        return session.get(type_name, record_id)
    except NotFound as exc:
        if not_found(exc):
            return None
        raise
