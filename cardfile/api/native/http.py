"""Request plumbing of the native API: auth, JSON bodies, conditional headers, responses."""

from __future__ import annotations

import email.utils
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import orjson
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cardfile.auth.authenticator import Authenticator
from cardfile.auth.principal import Principal
from cardfile.errors import (
    BadRequest,
    MalformedBody,
    PayloadTooLarge,
    PreconditionRequired,
    Unauthenticated,
    UnsupportedMediaType,
)
from cardfile.ratelimit import client_identity, token_identity
from cardfile.services import Services

__all__ = [
    "JSON_BODY_DOC",
    "authorized",
    "bearer_token",
    "Conditions",
    "count_request",
    "json_response",
    "Credentials",
    "credentials_of",
    "limited",
    "RateLimitHeaders",
    "run_read",
    "read_json",
    "record_headers",
    "services_of",
]

T = TypeVar("T")
JSON_TYPES = ("application/json", "application/merge-patch+json")


def services_of(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


_bearer = HTTPBearer(
    auto_error=False, description="An API key or an access token: `Authorization: Bearer <...>`"
)


@dataclass(frozen=True)
class Credentials:
    """What the caller presented; checked inside the request's unit of work."""

    token: str
    authenticator: Authenticator

    def principal(self, conn: Connection) -> Principal:
        return self.authenticator.authenticate(conn, self.token)


def _token(auth: HTTPAuthorizationCredentials | None) -> str | None:
    if auth is None or auth.scheme.lower() != "bearer":
        return None
    return auth.credentials.strip() or None


def bearer_token(request: Request) -> str | None:
    """The credential of ``Authorization: Bearer <...>``, read as the ``_bearer`` dependency
    reads it, for a route that does without FastAPI's dependencies."""
    scheme, credentials = get_authorization_scheme_param(request.headers.get("authorization"))
    if not (scheme and credentials):
        return None
    return _token(HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials))


def _credentials(request: Request, token: str | None) -> Credentials:
    if token is None:
        raise Unauthenticated("send 'Authorization: Bearer <API key or access token>'")
    return Credentials(token, services_of(request).auth)


async def credentials_of(
    request: Request,
    auth: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Credentials:
    return _credentials(request, _token(auth))


# ``openapi_extra`` of a route that reads its JSON body itself (read_json), so /docs shows one.
JSON_BODY_DOC = {
    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}
}

_RATE_STATE = "rate_limit"  # request.state key of the RateState that RateLimitHeaders sends


def limited(group: str, *, reads: str | None = None) -> Callable[..., Awaitable[None]]:
    """A dependency that counts the request in ``group`` (in ``reads`` for GET and HEAD,
    when given) against its caller's budget: the digest of its bearer token, or its client
    IP when it sent none (before authentication, so floods without credentials are
    limited too). Over the budget it raises ``RateLimited`` (429); no thread hop, no DB."""

    async def count(
        request: Request, auth: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> None:
        name = reads if reads is not None and request.method in ("GET", "HEAD") else group
        count_request(request, _token(auth), name)

    return count


def count_request(request: Request, token: str | None, group: str) -> None:
    """Count the request in ``group`` against its caller's budget (see ``limited``)."""
    if token is not None:
        identity = token_identity(token)
    else:
        identity = client_identity(request.client.host if request.client else None)
    state = services_of(request).rate_limiter.hit(group, identity)
    if state is not None:
        setattr(request.state, _RATE_STATE, state)


def authorized(request: Request, group: str) -> Credentials:
    """What the ``limited(group)`` and ``credentials_of`` dependencies do, in their order,
    for a route that does without FastAPI's dependencies: count the request, then require
    a bearer credential (checked later, inside the unit of work)."""
    token = bearer_token(request)
    count_request(request, token, group)
    return _credentials(request, token)


class RateLimitHeaders:
    """ASGI middleware: the ``RateLimit`` headers of a counted request on its response,
    whatever produced it (a handler or an error); a response that has them (a 429) keeps its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state", {}).get(_RATE_STATE)
                headers = message.get("headers", ())
                if state is not None and not any(k == b"ratelimit-policy" for k, _v in headers):
                    extra = [(k.lower().encode(), v.encode()) for k, v in state.headers().items()]
                    message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def run_read(svc: Services, creds: Credentials, fn: Callable[[Connection, Principal], T]) -> T:
    """Authenticate and read in one worker-thread call and one transaction."""

    def work() -> T:
        with svc.db.read() as conn:
            return fn(conn, creds.principal(conn))

    return await run_in_threadpool(work)


async def read_json(request: Request) -> Any:
    """The body as JSON: checked media type, bounded size, clear errors."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype not in JSON_TYPES:
        raise UnsupportedMediaType(f"send {' or '.join(JSON_TYPES)}, not {ctype!r}")
    limit = services_of(request).settings.max_body_bytes
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
    raw = b"".join(chunks)
    if not raw.strip():
        raise MalformedBody("the request needs a JSON body")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"the body is not valid JSON: {exc}") from None


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def etag(version: int) -> str:
    return f'"{version}"'


def record_headers(record: dict[str, Any]) -> dict[str, str]:
    return {
        "ETag": etag(int(record["version"])),
        "Last-Modified": email.utils.format_datetime(
            datetime.fromisoformat(record["modified_at"]), usegmt=True
        ),
    }


class Conditions:
    """If-Match and If-Unmodified-Since, parsed strictly."""

    def __init__(self, request: Request, *, required: bool) -> None:
        self.expected_version: int | None = None
        self.unmodified_since: datetime | None = None
        self.precision: Literal["second", "microsecond"] = "second"
        if_match = request.headers.get("if-match")
        ius = request.headers.get("if-unmodified-since")
        if required and if_match is None and ius is None:
            raise PreconditionRequired("send If-Match (the record's ETag) or If-Unmodified-Since")
        if if_match is not None and if_match.strip() != "*":
            tags = [t.strip() for t in if_match.split(",") if t.strip()]
            if len(tags) != 1:
                raise BadRequest("If-Match takes one ETag (or *)", field="If-Match")
            tag = tags[0].removeprefix("W/").strip('"')
            if not tag.isdigit():
                raise BadRequest(f"If-Match {tags[0]!r} is not an ETag of this server", field="If-Match")
            self.expected_version = int(tag)
        if ius is not None:
            self.unmodified_since, self.precision = _parse_time(ius)


def _parse_time(value: str) -> tuple[datetime, Literal["second", "microsecond"]]:
    """An HTTP-date (whole seconds) or, as an extension, ISO 8601 with fractions."""
    try:
        dt = email.utils.parsedate_to_datetime(value)
        if dt is not None and dt.tzinfo is not None:
            return dt, "second"
    except (TypeError, ValueError, IndexError):
        pass
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"If-Unmodified-Since {value!r} is not an HTTP-date", field="If-Unmodified-Since"
        ) from None
    if dt.tzinfo is None:
        raise BadRequest("If-Unmodified-Since needs a time zone", field="If-Unmodified-Since")
    return dt, ("microsecond" if dt.microsecond else "second")
