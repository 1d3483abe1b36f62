"""Counting a request in its route group, and the ``RateLimit`` headers of its response.

Every API counts here: a route group (``records.write``, ``zoho``, ``tracker.widget``...)
is registered once with its limit (``ensure_group``: the settings' limit, else the API's
default), and a request counts against its caller's budget in it: the digest of its token,
or its client IP when it sent none (before authentication, so floods without credentials
are limited too). Over the budget ``RateLimited`` (429) is raised; no thread hop, no DB.
The API only says which token the request carries (its header spelling).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cardfile.api.kit.credentials import bearer, bearer_token, scheme_token
from cardfile.api.kit.plain import plain_form
from cardfile.api.kit.services import services_of
from cardfile.ratelimit import client_identity, token_identity
from cardfile.services import Services

__all__ = ["RATE_STATE", "RateLimitHeaders", "count_request", "ensure_group", "limited"]

RATE_STATE = "rate_limit"  # request.state key of the RateState that RateLimitHeaders sends
_READS = ("GET", "HEAD")


def ensure_group(svc: Services, group: str, default: str) -> None:
    """Register ``group`` with its limit from the settings, else ``default``, unless it is
    registered already (the settings' groups are registered at start)."""
    limiter = svc.rate_limiter
    if group not in limiter.groups:
        limiter.register_group(group, svc.settings.rate_limits.get(group, default))


def count_request(request: Request, token: str | None, group: str, *, headers: bool = True) -> None:
    """Count the request in ``group`` against the budget of ``token`` (its client address
    without one). ``headers``: send the ``RateLimit`` headers on the response."""
    if token:
        identity = token_identity(token)
    else:
        identity = client_identity(request.client.host if request.client else None)
    state = services_of(request).rate_limiter.hit(group, identity)
    if state is not None and headers:
        setattr(request.state, RATE_STATE, state)


def limited(group: str, *, reads: str | None = None) -> Callable[..., Awaitable[None]]:
    """A dependency that counts the request in ``group`` (in ``reads`` for GET and HEAD,
    when given), with the caller's bearer token as its identity."""

    def group_of(request: Request) -> str:
        return reads if reads is not None and request.method in _READS else group

    async def count(
        request: Request, auth: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> None:
        count_request(request, scheme_token(auth), group_of(request))

    return plain_form(count, lambda request: count_request(request, bearer_token(request), group_of(request)))


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
                state = scope.get("state", {}).get(RATE_STATE)
                headers = message.get("headers", ())
                if state is not None and not any(k == b"ratelimit-policy" for k, _v in headers):
                    extra = [(k.lower().encode(), v.encode()) for k, v in state.headers().items()]
                    message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
