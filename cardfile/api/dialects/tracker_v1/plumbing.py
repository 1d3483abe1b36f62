"""Request plumbing of the Tracker v1 routes: credentials, JSON bodies, the write context."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request
from sqlalchemy.engine import Connection
from starlette.responses import Response

from cardfile.api.native.http import Credentials, limited, run_read, services_of
from cardfile.auth.principal import Principal
from cardfile.engine.commands import Context
from cardfile.errors import (
    BadRequest,
    MalformedBody,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    UnknownRecordType,
    UnsupportedMediaType,
)
from cardfile.services import Services

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
T = TypeVar("T")
JSON_TYPE = re.compile(r"^(application|text)/([a-z0-9.+-]*\+)?json$|^application/json-patch\+json$")
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
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and not JSON_TYPE.match(ctype):
        raise UnsupportedMediaType(
            f"send application/json-patch+json or application/json, not {ctype[:60]!r}"
        )
    if limit is None:
        limit = services_of(request).settings.max_body_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body may be at most {limit} bytes", limit=limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        if required:
            raise MalformedBody("the request needs a JSON body")
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"the body is not valid JSON: {exc}") from None


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


async def read(svc: Services, creds: Credentials, fn: Callable[[Connection, Principal], T]) -> T:
    return await run_read(svc, creds, fn)
