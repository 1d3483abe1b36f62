"""The OAuth2 endpoints under ``/oauth2/`` and the RFC 8414 metadata document.

``GET /oauth2/authorize`` checks the authorization request and shows the login and
consent page; ``POST /oauth2/authorize`` (the page's form, posted to the same query)
checks the CSRF token and the password and redirects back to the client with a code, or
with ``error=access_denied``. ``POST /oauth2/token`` serves the authorization code, client
credentials and refresh token grants; ``POST /oauth2/revoke`` is RFC 7009;
``GET /oauth2/jwks`` publishes the keys that verify access tokens.

Errors are OAuth's: ``{"error", "error_description"}`` JSON (``Cache-Control: no-store``),
or a redirect to the client when its redirect URI is known to be registered. Nothing here
logs or echoes a secret, code, token or password.

The password is checked (Argon2, tens of milliseconds) in a read transaction, so SQLite's
write lock is not held meanwhile; the code is then stored in its own short write
transaction. Every other endpoint is one transaction.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import InvalidRequestError
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from cardfile.api.kit.body import read_bounded
from cardfile.api.kit.ratelimit import limited
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.oauth2 import page
from cardfile.api.oauth2.vendor import login
from cardfile.auth.oauth2 import storage
from cardfile.auth.oauth2.server import (
    Consent,
    FormRequest,
    authorize,
    consent,
    error_response,
    metadata,
    revoke,
    token,
)
from cardfile.services import Services

__all__ = ["router"]

router = APIRouter(tags=["oauth2"])
# The endpoints that check a password or a client secret count in the "auth" group, per
# client IP (they carry no bearer token): password guessing is slowed down, not just logged.
_GUESSES = [Depends(limited("auth"))]

FORM_LIMIT = 16 * 1024  # an OAuth form is a few hundred bytes
MAX_FIELDS = 40
_FORM_TYPE = "application/x-www-form-urlencoded"
# RFC 6749 appendix A: response_type is NQCHAR words; anything else is refused up front
# (Authlib would put it in an error description it then refuses to build).
_RESPONSE_TYPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e ]*$")
_PUBLIC = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}

FORM_EXPIRED = "This form expired or was not sent from this page; please sign in again."


def _invalid(description: str) -> Response:
    return error_response(InvalidRequestError(description))


async def _read_form(request: Request) -> tuple[tuple[str, str], ...] | Response:
    """The urlencoded body: bounded, UTF-8, at most ``MAX_FIELDS`` fields."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != _FORM_TYPE:
        return _invalid(f"send the parameters as {_FORM_TYPE}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > FORM_LIMIT:
        return _invalid("the request body is too large")
    raw = await read_bounded(request, FORM_LIMIT)
    if raw is None:
        return _invalid("the request body is too large")
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return _invalid("the request body is not valid urlencoded UTF-8")
    return tuple(pairs)


def _repeated(pairs: tuple[tuple[str, str], ...]) -> str | None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    return None


def _request(
    request: Request, params: tuple[tuple[str, str], ...], form: tuple[tuple[str, str], ...] = ()
) -> FormRequest:
    return FormRequest(request.method, str(request.url), request.headers, params, form)


def _query(request: Request) -> tuple[tuple[str, str], ...] | Response:
    params = tuple(request.query_params.multi_items())
    response_type = request.query_params.get("response_type", "")
    if not _RESPONSE_TYPE.match(response_type):
        return _invalid("response_type is malformed")
    return params


async def _form_secret(request: Request, svc: Services) -> bytes:
    secret: bytes | None = getattr(request.app.state, "oauth2_form_secret", None)
    if secret is None:
        secret = await run_in_threadpool(storage.form_secret, svc.db)
        request.app.state.oauth2_form_secret = secret
    return secret


def _page(
    request: Request,
    found: Consent,
    secret: bytes,
    params: tuple[tuple[str, str], ...],
    *,
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return page.respond(
        request,
        client_name=found.client_name,
        scopes=found.scopes,
        secret=secret,
        params=params,
        email=email,
        error=error,
        status=status,
    )


@router.get(
    "/oauth2/authorize",
    response_class=HTMLResponse,
    summary="Sign in and consent (authorization code with PKCE)",
)
async def authorize_page(request: Request) -> Response:
    svc = services_of(request)
    params = _query(request)
    if isinstance(params, Response):
        return params
    found = await run_in_threadpool(consent, svc, _request(request, params))
    if isinstance(found, Response):
        return found
    return _page(request, found, await _form_secret(request, svc), params)


@router.post(
    "/oauth2/authorize",
    response_class=HTMLResponse,
    summary="The login and consent form's answer",
    dependencies=_GUESSES,
)
async def authorize_decision(request: Request) -> Response:
    svc = services_of(request)
    params = _query(request)
    if isinstance(params, Response):
        return params
    body = await _read_form(request)
    if isinstance(body, Response):
        return body
    fields = {key: value for key, value in reversed(body)}
    oauth = _request(request, params)
    found = await run_in_threadpool(consent, svc, oauth)
    if isinstance(found, Response):
        return found
    secret = await _form_secret(request, svc)
    email = fields.get("email", "")[:320]
    if not page.check_csrf(secret, fields.get("csrf_token"), request.cookies.get(page.CSRF_COOKIE), params):
        return _page(request, found, secret, params, email=email, error=FORM_EXPIRED, status=400)
    action = fields.get("action")
    if action == "deny":
        return await run_in_threadpool(authorize, svc, oauth, None)
    if action != "allow":
        return _page(request, found, secret, params, email=email, error="Choose Allow or Deny.", status=400)
    user = await run_in_threadpool(login, svc, email, fields.get("password", ""))
    if isinstance(user, str):
        return _page(request, found, secret, params, email=email, error=user)
    return await run_in_threadpool(authorize, svc, oauth, user)


async def _token_form(request: Request) -> FormRequest | Response:
    body = await _read_form(request)
    if isinstance(body, Response):
        return body
    repeated = _repeated(body)
    if repeated is not None:
        return _invalid(f"the parameter {repeated[:40]!r} is repeated")
    return _request(request, body, body)


@router.post(
    "/oauth2/token",
    summary="Token endpoint: authorization_code, client_credentials, refresh_token",
    dependencies=_GUESSES,
)
async def token_endpoint(request: Request) -> Response:
    form = await _token_form(request)
    if isinstance(form, Response):
        return form
    return await run_in_threadpool(token, services_of(request), form)


@router.post(
    "/oauth2/revoke", summary="Revoke a refresh token and its whole grant (RFC 7009)", dependencies=_GUESSES
)
async def revoke_endpoint(request: Request) -> Response:
    form = await _token_form(request)
    if isinstance(form, Response):
        return form
    return await run_in_threadpool(revoke, services_of(request), form)


@router.get("/oauth2/jwks", summary="The public keys that verify access tokens")
async def jwks(request: Request) -> Response:
    svc = services_of(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as conn:
            return svc.auth.tokens.keys.jwks(conn)

    return json_response(await run_in_threadpool(work), headers=_PUBLIC)


@router.get("/.well-known/oauth-authorization-server", summary="Authorization server metadata (RFC 8414)")
async def server_metadata(request: Request) -> Response:
    svc = services_of(request)
    base = str(request.base_url)

    def work() -> dict[str, Any]:
        with svc.db.read() as conn:
            return metadata(svc, conn, base)

    return json_response(await run_in_threadpool(work), headers=_PUBLIC)
