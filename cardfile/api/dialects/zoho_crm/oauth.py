"""Zoho's OAuth paths on cardfile's OAuth2 server (``cardfile/auth/oauth2``), not a second one.

- ``GET /zoho/oauth/v2/auth`` (``scope``, ``client_id``, ``response_type=code``,
  ``redirect_uri``, ``state``, ``access_type``, ``prompt``): the vendor paths' login and
  consent page (``cardfile/api/oauth2/vendor.py``), its form posted back to the same URL.
  A confidential client (a Zoho server-side integration) needs no PKCE here: it redeems
  the code with its secret. A public client must send ``code_challenge`` (S256). A
  request that carries ``code_challenge`` is redirected to ``/oauth2/authorize`` instead,
  which requires PKCE of everyone. Zoho scope names are translated (``auth.py``);
  ``access_type`` and ``prompt`` are dropped: refresh tokens are always issued.
- ``POST /zoho/oauth/v2/token``: grant types ``authorization_code``, ``refresh_token`` and
  ``client_credentials``, parameters in the urlencoded body or, as Zoho's examples send
  them, in the query string, on ``VendorAuthorizationServer``: a code issued without PKCE
  is redeemed only with the client secret, one issued with PKCE only with its verifier
  (see ``cardfile/auth/oauth2/vendor.py``). A success carries ``api_domain``, the base URL
  a Zoho client sends its API calls to (``…/zoho``).
"""

from __future__ import annotations

from functools import partial
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cardfile.api.dialects.zoho_crm.auth import split_scopes, to_cardfile_scopes
from cardfile.api.kit.body import read_bounded
from cardfile.api.kit.ratelimit import limited
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import read_schema
from cardfile.api.oauth2 import vendor
from cardfile.auth import scopes as scope_rules
from cardfile.auth.oauth2.server import FormRequest, token
from cardfile.auth.oauth2.vendor import VendorAuthorizationServer
from cardfile.services import Services

__all__ = ["router"]

router = APIRouter(tags=["zoho crm oauth"])
FORM_LIMIT = 16 * 1024
_DROPPED = ("access_type", "prompt")
_GUESSES = [Depends(limited("auth"))]
ZOHO_SERVER = partial(VendorAuthorizationServer, client_credentials=True)


async def _scoped(svc: Services, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if not any(k == "scope" for k, _ in pairs):
        return pairs
    schema = await read_schema(svc)
    granted: set[str] = set()
    for k, v in pairs:
        if k == "scope":
            granted |= to_cardfile_scopes(split_scopes(v), schema)
    rest = [(k, v) for k, v in pairs if k != "scope"]
    return [*rest, ("scope", scope_rules.normalize(granted))]


async def _auth_params(request: Request) -> tuple[tuple[str, str], ...]:
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in _DROPPED]
    return tuple(await _scoped(services_of(request), pairs))


ZOHO_PATH = vendor.VendorPath(server=ZOHO_SERVER, params=_auth_params)


@router.post("/oauth/v2/token", summary="Zoho's token endpoint path", dependencies=_GUESSES)
async def token_endpoint(request: Request) -> Response:
    svc = services_of(request)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await read_bounded(request, FORM_LIMIT)
    if body is None:
        return json_response({"error": "invalid_request"}, 400)
    form: list[tuple[str, str]] = []
    if body and ctype == "application/x-www-form-urlencoded":
        try:
            form = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=40, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return json_response({"error": "invalid_request"}, 400)
    given = {k for k, _ in form}
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in given]
    pairs = await _scoped(svc, [*form, *query])
    seen: set[str] = set()
    for k, _ in pairs:
        if k in seen:
            return json_response(
                {"error": "invalid_request", "error_description": f"{k[:40]!r} is repeated"}, 400
            )
        seen.add(k)
    url = str(request.url.replace(query=""))
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
    headers["content-type"] = "application/x-www-form-urlencoded"
    params = tuple(pairs)
    oauth = FormRequest("POST", url, headers, params, params)
    response = await run_in_threadpool(token, svc, oauth, server=ZOHO_SERVER)
    if response.status_code == 200:
        payload = orjson.loads(bytes(response.body))
        base = str(request.base_url).rstrip("/")
        payload["api_domain"] = base + request.scope.get("root_path", "")
        return Response(
            orjson.dumps(payload),
            status_code=200,
            headers={k: v for k, v in response.headers.items() if k.lower() not in ("content-length",)},
        )
    return response


@router.get(
    "/oauth/v2/auth",
    response_class=HTMLResponse,
    summary="Zoho's authorization path: sign in and consent (PKCE optional for confidential clients)",
)
async def authorize_page(request: Request) -> Response:
    if "code_challenge" in request.query_params:
        # PKCE: the generic endpoint, which requires it of every client, serves the request
        params = await _auth_params(request)
        return RedirectResponse("/oauth2/authorize?" + urlencode(params), status_code=302)
    return await vendor.authorize_page(request, services_of(request), ZOHO_PATH)


@router.post(
    "/oauth/v2/auth",
    response_class=HTMLResponse,
    summary="The sign-in and consent form's answer",
    dependencies=_GUESSES,
)
async def authorize_decision(request: Request) -> Response:
    return await vendor.authorize_decision(request, services_of(request), ZOHO_PATH)
