"""Authlib's grants, completed for cardfile's storage and rules.

* ``CodeGrant``: authorization code; PKCE with S256 is required of every client
  (``S256CodeChallenge``: no ``plain``, no request without a challenge, and no code
  issued without one is redeemed here); the code is claimed when it is looked up, so a
  replay finds it used, is refused and revokes the refresh tokens issued from it. The
  vendor paths register the same grant with ``vendor.OptionalS256CodeChallenge``.
* ``MachineGrant``: client credentials, confidential clients only; subject
  ``client:<client_id>``.
* ``RotatingRefreshGrant``: every refresh returns a new refresh token and retires the
  presented one; presenting a retired one revokes its whole family and answers
  ``invalid_grant``.
* ``Revocation`` (RFC 7009): revoking a refresh token revokes its family. Access tokens
  are self-contained JWTs that live ``token_ttl_s``; they cannot be revoked one by one
  and are answered ``unsupported_token_type``.
"""

from __future__ import annotations

import secrets
from typing import Any, Protocol

from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from sqlalchemy.engine import Connection

from cardfile.auth import scopes as scope_rules
from cardfile.auth.oauth2 import storage
from cardfile.auth.oauth2.models import CONFIDENTIAL_AUTH_METHODS, OAuthClient, grantable
from cardfile.auth.users import User, get_user
from cardfile.errors import NotFound
from cardfile.store.clock import now_us

__all__ = ["CodeGrant", "MachineGrant", "Revocation", "RotatingRefreshGrant", "S256CodeChallenge"]

ALL_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]


class UnsupportedTokenType(OAuth2Error):  # type: ignore[misc]
    """RFC 7009 §2.2.1, as a 400 (Authlib's own class answers 401)."""

    error = "unsupported_token_type"
    status_code = 400


class GrantServer(Protocol):
    """What a grant uses of its server (``server.CardfileAuthorizationServer``): the
    request's connection. A protocol, so grants and the server do not import each other."""

    conn: Connection


def _server(grant: Any) -> GrantServer:
    server: GrantServer = grant.server
    return server


def _active_user(server: GrantServer, user_id: int | None) -> User:
    if user_id is None:
        raise InvalidGrantError("this grant has no user")
    try:
        user = get_user(server.conn, user_id=user_id)
    except NotFound:
        raise InvalidGrantError("the user of this grant no longer exists") from None
    if not user.active:
        raise InvalidGrantError("the user of this grant is disabled")
    return user


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE, required of every client, with S256 only (RFC 9700 §2.1.1)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": compare_s256_code_challenge}

    def validate_code_challenge(self, grant: Any, redirect_uri: Any) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge and code_challenge_method=S256")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.authorization_code.code_challenge:
            # issued on a vendor path without PKCE: redeemed only there, with the client secret
            raise InvalidGrantError("this code was issued without PKCE; it is not redeemed here")
        super().validate_code_verifier(grant, result)


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: OAuthClient) -> str:
        """Exact match against the registered URIs; the URI is never echoed back."""
        uri = request.payload.redirect_uri
        if uri:
            if not client.check_redirect_uri(uri):
                raise InvalidRequestError("redirect_uri is not registered for this client")
            return str(uri)
        default = client.get_default_redirect_uri()
        if not default:
            raise InvalidRequestError("redirect_uri is required: this client registered several")
        return default

    def generate_authorization_code(self) -> str:
        return secrets.token_urlsafe(32)

    def create_authorization_response(self, redirect_uri: str, grant_user: User | None) -> Any:
        if grant_user is not None:
            client: OAuthClient = self.request.client
            asked = scope_rules.parse(self.request.scope)
            granted = grantable(asked, client=client.client, role=grant_user.role)
            if not granted:
                raise InvalidScopeError(
                    "your role allows none of the requested scopes", redirect_uri=redirect_uri
                )
            self.request.scope = scope_rules.normalize(granted)
        return super().create_authorization_response(redirect_uri, grant_user)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        """The code, hashed, with the request's PKCE challenge: S256 (the extension checked
        it), or none at all (``""``, a vendor path's confidential client)."""
        challenge = request.payload.data.get("code_challenge") or ""
        storage.save_code(
            _server(self).conn,
            code,
            client_id=request.client.get_client_id(),
            user_id=request.user.id,
            redirect_uri=request.payload.redirect_uri or "",
            scope=request.scope,
            code_challenge=challenge,
            code_challenge_method="S256" if challenge else "",
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> storage.AuthCode | None:
        conn = _server(self).conn
        found = storage.find_code(conn, code)
        if found is None or found.client_id != client.get_client_id():
            return None
        if found.used:
            # a replay: refuse it and revoke what the first redemption was given
            storage.revoke_family(conn, found.code_hash)
            raise InvalidGrantError("this code was used already")
        if found.expires_at <= now_us():
            raise InvalidGrantError("this code has expired")
        if not storage.claim_code(conn, found.code_hash):  # a concurrent redemption won
            storage.revoke_family(conn, found.code_hash)
            raise InvalidGrantError("this code was used already")
        return found

    def delete_authorization_code(self, authorization_code: storage.AuthCode) -> None:
        """Nothing to do: the code was claimed when it was looked up."""

    def authenticate_user(self, authorization_code: storage.AuthCode) -> User:
        return _active_user(_server(self), authorization_code.user_id)


class MachineGrant(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(CONFIDENTIAL_AUTH_METHODS)

    def validate_token_request(self) -> None:
        super().validate_token_request()
        client: OAuthClient = self.request.client
        scope = client.get_allowed_scope(self.request.payload.scope)
        if scope is None:
            raise InvalidScopeError()
        self.request.scope = scope

    def create_token_response(self) -> tuple[int, Any, Any]:
        token = self.generate_token(scope=self.request.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class RotatingRefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> storage.RefreshToken | None:
        conn = _server(self).conn
        found = storage.find_refresh(conn, refresh_token)
        if found is None or found.client_id != self.request.client.get_client_id():
            return None
        if found.revoked:
            raise InvalidGrantError("this refresh token was revoked")
        if found.used:
            storage.revoke_family(conn, found.family_id)
            raise InvalidGrantError("this refresh token was used already; its grant is revoked")
        if found.expired:
            raise InvalidGrantError("this refresh token has expired")
        return found

    def _validate_token_scope(self, token: storage.RefreshToken) -> None:
        wanted = scope_rules.parse(self.request.payload.scope)
        if wanted and scope_rules.covers(scope_rules.parse(token.scope), wanted):
            raise InvalidScopeError("the scope may only narrow what was granted")

    def authenticate_user(self, refresh_token: storage.RefreshToken) -> User:
        return _active_user(_server(self), refresh_token.user_id)

    def issue_token(self, user: User, refresh_token: storage.RefreshToken) -> Any:
        client: OAuthClient = self.request.client
        asked = scope_rules.parse(self.request.payload.scope) or scope_rules.parse(refresh_token.scope)
        granted = grantable(asked, client=client.client, role=user.role)
        if not granted:
            raise InvalidScopeError("the user's role no longer allows any of this grant's scopes")
        return self.generate_token(
            user=user, scope=scope_rules.normalize(granted), include_refresh_token=True
        )

    def revoke_old_credential(self, refresh_token: storage.RefreshToken) -> None:
        conn = _server(self).conn
        if not storage.claim_refresh(conn, refresh_token.token_hash):
            # a concurrent refresh with the same token won: this one is a replay
            storage.revoke_family(conn, refresh_token.family_id)
            raise InvalidGrantError("this refresh token was used already; its grant is revoked")


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ALL_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> storage.RefreshToken | None:
        if token_type_hint == "access_token" or token_string.count(".") == 2:
            raise UnsupportedTokenType(
                "access tokens are short-lived JWTs and cannot be revoked; revoke the refresh token"
            )
        return storage.find_refresh(_server(self).conn, token_string)

    def revoke_token(self, token: storage.RefreshToken, request: OAuth2Request) -> None:
        storage.revoke_family(_server(self).conn, token.family_id)
