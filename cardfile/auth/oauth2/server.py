"""Authlib's authorization server, adapted to Starlette and to cardfile's storage.

Authlib is synchronous, so a request is read in full on the event loop (``FormRequest``)
and handed to a worker thread, where a server is built around one database connection:
``CardfileAuthorizationServer(svc, conn)``. Building one costs a few small objects and
keeps every lookup and write of a request in the caller's transaction, with no shared
mutable state between threads.

Access tokens are the ES256 JWTs of ``svc.auth.tokens`` (subject ``user:<id>`` or, for
client credentials, ``client:<client_id>``); refresh tokens are opaque random strings
stored hashed. The functions at the bottom are the whole protocol surface the HTTP routes
and the dialects' own paths call: ``consent``, ``sign_in``, ``authorize``, ``token``,
``revoke`` and ``metadata``; the first three take the server to build (``ServerFactory``), so a vendor
path runs them on ``vendor.VendorAuthorizationServer``.

Authlib raises ``ValueError`` for a few malformed inputs (a Basic header that is not
UTF-8, an error description it refuses to echo); these become ``invalid_request``, never
a 500. Its debug logs print tokens and clients with ``%r``: both redact themselves here.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, urlsplit

import orjson
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidRequestError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from sqlalchemy.engine import Connection
from starlette.responses import Response

from cardfile.auth import scopes as scope_rules
from cardfile.auth.authenticator import Authenticator
from cardfile.auth.clients import get_client
from cardfile.auth.oauth2 import storage
from cardfile.auth.oauth2.grants import (
    CodeGrant,
    MachineGrant,
    Revocation,
    RotatingRefreshGrant,
    S256CodeChallenge,
)
from cardfile.auth.oauth2.models import CONFIDENTIAL_AUTH_METHODS, OAuthClient
from cardfile.auth.users import User, authenticate_password
from cardfile.errors import NotFound
from cardfile.schema.model import Schema
from cardfile.store.database import Database

__all__ = [
    "CardfileAuthorizationServer",
    "Consent",
    "FormRequest",
    "ServerFactory",
    "authorize",
    "consent",
    "error_response",
    "metadata",
    "revoke",
    "sign_in",
    "token",
]

T = TypeVar("T")


@dataclass(frozen=True)
class FormRequest:
    """An HTTP request read in full, for Authlib to work on off the event loop.

    ``params`` are the OAuth parameters: the query of an authorization request, the
    urlencoded body of a token or revocation request. ``form`` is what Authlib reads as
    the body (empty for the authorization endpoint: the login form's fields, the
    password among them, never reach Authlib).
    """

    method: str
    url: str
    headers: Mapping[str, str]
    params: tuple[tuple[str, str], ...]
    form: tuple[tuple[str, str], ...] = ()


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class CardfileRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(self, request: FormRequest) -> None:
        super().__init__(request.method, request.url, headers=request.headers)
        self.payload = _Payload(request.params)
        self._form = {key: value for key, value in reversed(request.form)}  # the first wins
        self._args = dict(parse_qsl(urlsplit(request.url).query))

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return self._args


class TokenResponse(dict[str, Any]):
    """A token response whose ``repr`` (which Authlib's debug logs print) shows no secret."""

    def __repr__(self) -> str:
        return f"<TokenResponse scope={self.get('scope')!r}>"


class _Catalog(Protocol):
    def current(self, conn: Connection) -> Schema: ...


class _Settings(Protocol):
    @property
    def issuer(self) -> str: ...


class AuthServices(Protocol):
    """What the OAuth2 server uses of ``cardfile.services.Services``: a protocol, so the auth
    package does not import the assembled services (which import auth)."""

    @property
    def settings(self) -> _Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def auth(self) -> Authenticator: ...

    @property
    def catalog(self) -> _Catalog: ...


class CardfileAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """One request's authorization server, bound to that request's connection."""

    def __init__(self, svc: AuthServices, conn: Connection) -> None:
        super().__init__(scopes_supported=None)
        self.svc = svc
        self.conn = conn
        self._clients: dict[str, OAuthClient | None] = {}
        self.register_token_generator("default", self.generate_bearer_token)
        self.register_grant(CodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(MachineGrant)
        self.register_grant(RotatingRefreshGrant)
        self.register_endpoint(Revocation)

    # -- what Authlib asks the framework integration for ---------------------------------

    def query_client(self, client_id: Any) -> OAuthClient | None:
        if not isinstance(client_id, str) or not client_id or len(client_id) > 64:
            return None
        if client_id not in self._clients:
            try:
                found = get_client(self.conn, client_id=client_id)
            except NotFound:
                found = None
            self._clients[client_id] = OAuthClient(found) if found and not found.disabled else None
        return self._clients[client_id]

    def generate_bearer_token(
        self,
        grant_type: str,
        client: OAuthClient,
        user: User | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> TokenResponse:
        granted = scope_rules.normalize(scope_rules.parse(scope))
        subject = f"user:{user.id}" if user is not None else f"client:{client.client_id}"
        access, ttl = self.svc.auth.tokens.issue(
            self.conn, subject=subject, scopes=granted, client_id=client.client_id, ttl_s=expires_in
        )
        out = TokenResponse(token_type="Bearer", access_token=access, expires_in=ttl, scope=granted)
        if include_refresh_token and user is not None:
            out["refresh_token"] = secrets.token_urlsafe(32)
        return out

    def save_token(self, token: Mapping[str, Any], request: OAuth2Request) -> None:
        """Store the refresh token (hashed) in the family of the grant it came from."""
        refresh = token.get("refresh_token")
        if not refresh:
            return  # an access token is a JWT: nothing to store
        if request.refresh_token is not None:
            family, scope = request.refresh_token.family_id, request.refresh_token.scope
        elif request.authorization_code is not None:
            family, scope = request.authorization_code.code_hash, request.authorization_code.scope
        else:
            raise RuntimeError("a refresh token outside an authorization code or refresh grant")
        storage.save_refresh(
            self.conn,
            refresh,
            family_id=family,
            client_id=request.client.get_client_id(),
            user_id=request.user.id,
            scope=scope,
        )

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        if isinstance(request, FormRequest):
            return CardfileRequest(request)
        raise TypeError(f"not a request: {type(request).__name__}")

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("no endpoint of this server takes JSON")

    def handle_response(self, status: int, body: Any, headers: Sequence[tuple[str, str]]) -> Response:
        return to_response(status, body, headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signals: nothing subscribes to them."""


def to_response(status: int, body: Any, headers: Sequence[tuple[str, str]]) -> Response:
    content = orjson.dumps(body) if isinstance(body, dict) else (body or b"")
    return Response(content, status_code=status, headers=dict(headers))


def error_response(error: OAuth2Error) -> Response:
    """The error as Authlib shapes it: a redirect to a checked redirect URI, else JSON."""
    status, body, headers = error()
    return to_response(status, body, headers)


def _malformed() -> Response:
    return error_response(InvalidRequestError("malformed request"))


def _guarded(work: Callable[[], T]) -> T | Response:
    """Run ``work`` (which opens its own transaction); an escaping error rolls it back."""
    try:
        return work()
    except OAuth2Error as exc:
        return error_response(exc)
    except ValueError:  # Authlib's answer to some malformed input (UnicodeError among them)
        return _malformed()


# -- the protocol surface -----------------------------------------------------------------


@dataclass(frozen=True)
class Consent:
    """A valid authorization request, for the login and consent page."""

    client_id: str
    client_name: str
    scopes: tuple[str, ...]


ServerFactory = Callable[[AuthServices, Connection], CardfileAuthorizationServer]


def consent(
    svc: AuthServices, request: FormRequest, *, server: ServerFactory = CardfileAuthorizationServer
) -> Consent | Response:
    """Check an authorization request; a ``Response`` when it is refused (a redirect
    with the error to a registered redirect URI, else a JSON error)."""
    make = server

    def work() -> Consent | Response:
        with svc.db.read() as conn:
            server = make(svc, conn)
            try:
                grant = server.get_consent_grant(request)
            except OAuth2Error as exc:
                return error_response(exc)
            client: OAuthClient = grant.request.client
            return Consent(
                client.client_id, client.name, tuple(sorted(scope_rules.parse(grant.request.scope)))
            )

    return _guarded(work)


def sign_in(svc: AuthServices, email: str, password: str) -> User:
    """The resource owner by email and password (``authenticate_password``), in a read
    transaction of its own: the hash takes tens of milliseconds, and SQLite's write lock
    is not held meanwhile."""
    with svc.db.read() as conn:
        return authenticate_password(conn, email, password)


def authorize(
    svc: AuthServices,
    request: FormRequest,
    user: User | None,
    *,
    server: ServerFactory = CardfileAuthorizationServer,
) -> Response:
    """The resource owner's decision: a redirect with a code when ``user`` granted the
    request, with ``error=access_denied`` when None; both carry ``state``."""
    make = server

    def work() -> Response:
        with svc.db.write() if user is not None else svc.db.read() as conn:
            server = make(svc, conn)
            try:
                grant = server.get_consent_grant(request, end_user=user)
            except OAuth2Error as exc:
                return error_response(exc)
            response: Response = server.create_authorization_response(
                grant.request, grant_user=user, grant=grant
            )
            return response

    return _guarded(work)


def token(
    svc: AuthServices, request: FormRequest, *, server: ServerFactory = CardfileAuthorizationServer
) -> Response:
    """The token endpoint: one write transaction per request."""

    def work() -> Response:
        with svc.db.write() as conn:
            response: Response = server(svc, conn).create_token_response(request)
            return response

    return _guarded(work)


def revoke(svc: AuthServices, request: FormRequest) -> Response:
    """RFC 7009 revocation."""

    def work() -> Response:
        with svc.db.write() as conn:
            server = CardfileAuthorizationServer(svc, conn)
            response: Response = server.create_endpoint_response(Revocation.ENDPOINT_NAME, request)
            return response

    return _guarded(work)


def metadata(
    svc: AuthServices, conn: Connection, base_url: str, *, prefix: str = "/oauth2"
) -> dict[str, Any]:
    """RFC 8414 authorization server metadata for endpoints under ``base_url + prefix``.

    ``issuer`` is the ``iss`` of the access tokens (``CARDFILE_ISSUER``); RFC 8414 wants
    it to be the server's https URL, so set ``CARDFILE_ISSUER`` to that in production.
    """
    root = base_url.rstrip("/") + prefix
    types = sorted(svc.catalog.current(conn).types)
    per_type = [f"records.{t}.{a}" for t in types for a in ("ALL", "READ", "WRITE", *scope_rules.ACTIONS[1:])]
    methods = [*CONFIDENTIAL_AUTH_METHODS, "none"]
    return {
        "issuer": svc.settings.issuer,
        "authorization_endpoint": f"{root}/authorize",
        "token_endpoint": f"{root}/token",
        "revocation_endpoint": f"{root}/revoke",
        "jwks_uri": f"{root}/jwks",
        "scopes_supported": [*scope_rules.GLOBAL, *per_type],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "code_challenge_methods_supported": ["S256"],
    }
