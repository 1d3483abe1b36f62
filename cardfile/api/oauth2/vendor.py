"""A vendor dialect's authorization page: Tracker's ``/tracker/oAuth2/Authorize`` and
Zoho's ``/zoho/oauth/v2/auth`` both run this flow, on their own path.

``GET`` checks the authorization request (the dialect's parameters, translated to
cardfile's by ``VendorPath.params``) with the dialect's authorization server and shows
the login and consent page (``page.respond``: its CSRF token is bound to those
parameters and to a nonce cookie scoped to the path). ``POST`` to the same URL is the
page's form: CSRF token, then the password, then a redirect to the client with a code
(or ``error=access_denied``). The server is usually a
``cardfile.auth.oauth2.vendor.VendorAuthorizationServer``: PKCE is optional for a
confidential client there and required of a public one.

A malformed form raises ``BadRequest``, which each dialect answers in its own error
shape; the OAuth errors are OAuth's (a redirect to a registered URI, else JSON). The
dialect mounts ``POST`` with the ``auth`` rate-limit group (password guessing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from cardfile.api.kit.body import read_bounded
from cardfile.api.oauth2 import page
from cardfile.auth.oauth2 import storage
from cardfile.auth.oauth2.server import Consent, FormRequest, ServerFactory, authorize, consent, sign_in
from cardfile.auth.users import User
from cardfile.errors import BadRequest, Unauthenticated, UserInactive
from cardfile.services import Services

__all__ = ["VendorPath", "authorize_decision", "authorize_page", "login", "oauth_request", "read_form"]

FORM_LIMIT = 16 * 1024
MAX_FIELDS = 40
_FORM = "application/x-www-form-urlencoded"

WRONG_PASSWORD = "Wrong email or password."
USER_DISABLED = "This user is disabled; ask an administrator."
FORM_EXPIRED = "This form expired; please sign in again."

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class VendorPath:
    """One dialect's authorization path: the server it grants with, and its request's
    OAuth parameters in cardfile's terms (scopes translated, vendor-only ones dropped)."""

    server: ServerFactory
    params: Callable[[Request], Awaitable[Params]]


def oauth_request(request: Request, params: Params, form: Params = ()) -> FormRequest:
    return FormRequest(request.method, str(request.url), request.headers, params, form)


def login(svc: Services, email: str, password: str) -> User | str:
    """The user, or the page's message (the same for an unknown email and a wrong password)."""
    try:
        return sign_in(svc, email, password)
    except UserInactive:
        return USER_DISABLED
    except Unauthenticated:
        return WRONG_PASSWORD


async def read_form(request: Request) -> dict[str, str]:
    """A bounded urlencoded UTF-8 body; ``BadRequest`` otherwise."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != _FORM:
        raise BadRequest(f"send the parameters as {_FORM}")
    raw = await read_bounded(request, FORM_LIMIT)
    if raw is None:
        raise BadRequest("the request body is too large")
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict"
        )
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the request body is not valid urlencoded UTF-8") from None
    return {k: v for k, v in reversed(pairs)}  # the first of a repeated field wins


async def _page(
    request: Request,
    svc: Services,
    found: Consent,
    params: Params,
    *,
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    secret = await run_in_threadpool(storage.form_secret, svc.db)
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


async def authorize_page(request: Request, svc: Services, path: VendorPath) -> Response:
    """``GET``: the login and consent page, or the request's OAuth error."""
    params = await path.params(request)
    found = await run_in_threadpool(consent, svc, oauth_request(request, params), server=path.server)
    if isinstance(found, Response):
        return found
    return await _page(request, svc, found, params)


async def authorize_decision(request: Request, svc: Services, path: VendorPath) -> Response:
    """``POST``: the page's answer; a redirect to the client with a code or access_denied."""
    params = await path.params(request)
    oauth = oauth_request(request, params)
    fields = await read_form(request)
    found = await run_in_threadpool(consent, svc, oauth, server=path.server)
    if isinstance(found, Response):
        return found
    secret = await run_in_threadpool(storage.form_secret, svc.db)
    email = fields.get("email", "")[:320]
    if not page.check_csrf(secret, fields.get("csrf_token"), request.cookies.get(page.CSRF_COOKIE), params):
        return await _page(request, svc, found, params, email=email, error=FORM_EXPIRED, status=400)
    action = fields.get("action")
    if action == "deny":
        return await run_in_threadpool(authorize, svc, oauth, None, server=path.server)
    if action != "allow":
        return await _page(
            request, svc, found, params, email=email, error="Choose Allow or Deny.", status=400
        )
    user = await run_in_threadpool(login, svc, email, fields.get("password", ""))
    if isinstance(user, str):
        return await _page(request, svc, found, params, email=email, error=user)
    return await run_in_threadpool(authorize, svc, oauth, user, server=path.server)
