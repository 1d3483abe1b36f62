"""Tracker's auth flow on cardfile's OAuth2 server (``cardfile.auth.oauth2``).

1. ``GET /oAuth2/Authorize?client_id&response_type=code&scope=read,write&redirect_uri&state``
   shows cardfile's sign-in page; its form (``POST`` to the same URL) redirects to
   ``redirect_uri?code=…&state=…``. A non-browser client may instead send the user's
   email and password as HTTP Basic on the GET and gets the seed's ``{"code", "state"}``.
2. ``POST /oAuth2/Token`` (form: ``client_id, client_secret, redirect_uri, grant_type, code,
   refresh_token``) with ``authorization_code`` or ``refresh_token`` answers
   ``{"Token": …}``: the grant's refresh token, a long-lived opaque token (plus the
   standard members ``access_token``, ``refresh_token``, ``expires_in``, ``token_type``).
   A refresh rotates it: the old Token stops working.
3. ``POST /api/Auth/ExchangeToken`` exchanges that Token (JSON body, form or bearer header)
   for a JWT access token of ``token_ttl_s``; an expired JWT gets 401 and the client
   exchanges again. A cardfile access token (``cardfile token create``) is accepted too
   (``cardfile/auth/oauth2/exchange.py``, whose ``token_principal`` turns a Token into its
   caller for other channels).

The grants are the identity issue's, run by the flow the vendor paths share
(``cardfile/api/oauth2/vendor.py`` for the sign-in page, ``cardfile/auth/oauth2/vendor.py``
for the grant and its rules), with two differences from ``/oauth2/*``: PKCE is optional
for a confidential client (Tracker's clients authenticate with their secret; a code
issued without PKCE is redeemed only with that secret, while a public client must use
S256 and a code issued with a challenge always needs its verifier), and ``client_id``
may be the *name* of a registered client, so integrations that send Tracker's fixed
``EvoApi_1.0`` work once a client of that name is added (``cardfile client add --name
EvoApi_1.0 …``). Tracker's scopes ``read`` and ``write`` become ``records.<type>.READ``
(every type of the tracker pack) plus ``metadata.READ``, and ``records.ALL``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from cardfile.api.kit.body import read_bounded
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.oauth2 import vendor
from cardfile.api.oauth2.vendor import VendorPath
from cardfile.auth.oauth2 import exchange
from cardfile.auth.oauth2 import server as oauth_server
from cardfile.auth.oauth2.vendor import VendorAuthorizationServer
from cardfile.auth.users import User
from cardfile.errors import BadRequest, Unauthenticated, UserInactive
from cardfile.services import Services

__all__ = [
    "TRACKER_SERVER",
    "authorize_decision",
    "authorize_page",
    "exchange_token",
    "token_endpoint",
    "tracker_scopes",
]

TRACKER_TYPES = (
    "client", "contact", "lead", "opportunity", "opportunity_resource", "partner_record", "project",
    "project_activity", "project_activity_resource", "resource", "timesheet_entry", "invoice",
    "user_profile", "ticket", "setting", "skill", "skill_area", "document", "document_folder",
    "opportunity_longlist",
)  # fmt: skip
FORM_LIMIT = 16 * 1024
_FORM = "application/x-www-form-urlencoded"
_TOKEN_KEYS = ("token", "oauthtoken", "oauth_token", "accesstoken", "access_token", "refreshtoken")


def tracker_scopes(scope: str) -> str:
    """Tracker's ``read,write`` as cardfile scopes; cardfile scope names pass through."""
    out: list[str] = []
    for word in re.split(r"[\s,]+", scope.strip()):
        low = word.lower()
        if low == "read":
            out += [f"records.{t}.READ" for t in TRACKER_TYPES] + ["metadata.READ"]
        elif low == "write":
            out += ["records.ALL", "metadata.READ"]
        elif word:
            out.append(word)
    return " ".join(dict.fromkeys(out))


# The vendor paths' server (PKCE optional for confidential clients); client_id may be a client's name.
TRACKER_SERVER = partial(VendorAuthorizationServer, client_names=True)


def _params(request: Request) -> tuple[tuple[str, str], ...]:
    return tuple(
        (k, tracker_scopes(v) if k == "scope" else v)
        for k, v in request.query_params.multi_items()
        if v != ""
    )


async def _path_params(request: Request) -> tuple[tuple[str, str], ...]:
    return _params(request)


TRACKER_PATH = VendorPath(server=TRACKER_SERVER, params=_path_params)


def _basic_user(svc: Services, header: str) -> User:
    try:
        raw = base64.b64decode(header.split(" ", 1)[1].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, IndexError):
        raise Unauthenticated("malformed Basic credentials") from None
    email, _, password = raw.partition(":")
    try:
        return oauth_server.sign_in(svc, email, password)
    except UserInactive:
        raise Unauthenticated("this user is disabled") from None
    except Unauthenticated:
        raise Unauthenticated("wrong email or password") from None


async def authorize_page(request: Request) -> Response:
    """The sign-in page (``vendor.authorize_page``), or with HTTP Basic the seed's
    ``{"code", "state"}`` straight away."""
    svc = services_of(request)
    auth = request.headers.get("authorization", "")
    if auth[:6].lower() != "basic ":
        return await vendor.authorize_page(request, svc, TRACKER_PATH)
    user = await run_in_threadpool(_basic_user, svc, auth)
    oauth = vendor.oauth_request(request, _params(request))
    answer = await run_in_threadpool(oauth_server.authorize, svc, oauth, user, server=TRACKER_SERVER)
    location = answer.headers.get("location")
    if answer.status_code != 302 or not location:
        return answer
    got = dict(parse_qsl(urlsplit(location).query))
    if "code" not in got:
        return answer  # the client's error redirect, as is
    return json_response({"code": got["code"], "state": got.get("state", "")})


async def authorize_decision(request: Request) -> Response:
    """The sign-in form's answer: a redirect to the client with a code (or access_denied)."""
    return await vendor.authorize_decision(request, services_of(request), TRACKER_PATH)


async def token_endpoint(request: Request) -> Response:
    fields = await vendor.read_form(request)
    pairs = tuple((k, v) for k, v in fields.items() if v != "")  # Tracker clients send every field
    oauth = vendor.oauth_request(request, pairs, pairs)
    response = await run_in_threadpool(oauth_server.token, services_of(request), oauth, server=TRACKER_SERVER)
    if response.status_code != 200:
        return response
    body = orjson.loads(bytes(response.body))
    token = body.get("refresh_token") or body.get("access_token")
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    return json_response({"Token": token, **body}, headers=headers)


def _token_of(body: Any) -> str | None:
    if isinstance(body, str):
        return body.strip() or None
    if isinstance(body, Mapping):
        for k, v in body.items():
            if isinstance(k, str) and k.lower() in _TOKEN_KEYS and isinstance(v, str) and v.strip():
                return v.strip()
    return None


async def _presented_token(request: Request) -> str | None:
    raw = await read_bounded(request, FORM_LIMIT)
    if raw is None:
        raise BadRequest("the request body is too large")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    token: str | None = None
    if raw.strip():
        if ctype == _FORM:
            token = _token_of(dict(parse_qsl(raw.decode("utf-8", "replace"))))
        else:
            try:
                token = _token_of(orjson.loads(raw))
            except orjson.JSONDecodeError:
                token = raw.decode("utf-8", "replace").strip().strip('"') or None
    if token is None:
        auth = request.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            token = value.strip()
    return token


async def exchange_token(request: Request) -> Response:
    svc = services_of(request)
    token = await _presented_token(request)
    if token is None:
        raise Unauthenticated("send the OAuth2 Token from /oAuth2/Token in the body")
    jwt, ttl = await run_in_threadpool(exchange.exchange, svc, token)
    return json_response(
        {"token": jwt, "tokenType": "Bearer", "expiresIn": ttl},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
