"""Request plumbing of the Tracker v1 routes: credentials, JSON bodies, the write context."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.responses import Response

from cardfile.api.kit.body import MediaTypes, read_json
from cardfile.api.kit.credentials import Credentials
from cardfile.api.kit.ratelimit import limited
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_read
from cardfile.auth.principal import Principal
from cardfile.engine.commands import Context
from cardfile.errors import BadRequest, NotFound, Unauthenticated, UnknownRecordType

__all__ = [
    "CHANNEL",
    "GROUP",
    "Caller",
    "MethodNotAllowed",
    "api_limited",
    "credentials",
    "ctx",
    "no_content",
    "not_found",
    "read",
    "read_body",
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


def ctx(principal: Principal) -> Context:
    return Context(principal.name, CHANNEL, principal=principal)


read = run_read
