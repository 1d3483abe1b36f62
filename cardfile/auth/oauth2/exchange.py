"""A vendor's long-lived Token as short-lived access tokens: Tracker's
``POST /api/Auth/ExchangeToken``.

Tracker's token endpoint answers ``{"Token": …}``, the grant's refresh token. The client
keeps it and exchanges it for an access token (an ES256 JWT of ``token_ttl_s``) each time
the last one expired. An exchange does not rotate the Token: only a refresh does, and a
rotated, revoked or expired Token exchanges nothing. A cardfile access token exchanges
too (for a fresh one of the same subject, scopes and client).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from cardfile.auth import scopes as scope_rules
from cardfile.auth.oauth2 import storage
from cardfile.auth.oauth2.server import AuthServices
from cardfile.auth.principal import Principal
from cardfile.auth.users import User, get_user
from cardfile.errors import NotFound, Unauthenticated, UserInactive

__all__ = ["exchange", "token_grant", "token_principal"]


def _grant_user(conn: Connection, found: storage.RefreshToken) -> User:
    """The user a live refresh token was granted by, still active."""
    if found.revoked or found.used or found.expired or found.user_id is None:
        raise Unauthenticated("this token was revoked, replaced by a refresh, or has expired")
    try:
        user = get_user(conn, user_id=found.user_id)
    except NotFound:
        raise Unauthenticated("the user of this token no longer exists") from None
    if not user.active:
        raise UserInactive("this user is disabled; ask an administrator")
    return user


def token_grant(svc: AuthServices, conn: Connection, token: str) -> tuple[str, str, str | None]:
    """(subject, scopes, client id) of a Token (a live refresh token) or of a cardfile
    access token; ``Unauthenticated`` when it is neither."""
    found = storage.find_refresh(conn, token)
    if found is not None:
        return f"user:{_grant_user(conn, found).id}", found.scope, found.client_id
    if token.count(".") == 2:
        claims = svc.auth.tokens.verify(conn, token)
        svc.auth.authenticate(conn, token)  # the user or client is still active
        return str(claims["sub"]), str(claims.get("scope") or ""), claims.get("client_id")
    raise Unauthenticated("not a Tracker OAuth2 token or an access token")


def token_principal(svc: AuthServices, conn: Connection, token: str) -> Principal:
    """The caller a Token (or any cardfile credential) stands for, so that another channel
    (the widget's ``oauthtoken``) may accept it; ``Unauthenticated`` otherwise."""
    found = storage.find_refresh(conn, token)
    if found is None:
        return svc.auth.authenticate(conn, token)
    user = _grant_user(conn, found)
    return Principal(
        kind="user", id=user.id, name=user.email, scopes=scope_rules.parse(found.scope), role=user.role,
        user_id=user.id, client_id=found.client_id,
    )  # fmt: skip


def exchange(svc: AuthServices, token: str) -> tuple[str, int]:
    """A new access token for ``token`` (see ``token_grant``) and its lifetime in seconds,
    in one write transaction of its own."""
    with svc.db.write() as conn:
        subject, scopes, client_id = token_grant(svc, conn, token)
        return svc.auth.tokens.issue(conn, subject=subject, scopes=scopes, client_id=client_id)
