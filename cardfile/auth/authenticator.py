"""Turn a bearer credential into a Principal: an API key or a signed access token."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from cardfile.auth import scopes as scope_rules
from cardfile.auth.apikeys import authenticate_key, is_api_key
from cardfile.auth.principal import Principal
from cardfile.auth.tokens import TokenService
from cardfile.errors import Unauthenticated, UserInactive
from cardfile.store import tables

__all__ = ["Authenticator"]


class Authenticator:
    def __init__(self, tokens: TokenService) -> None:
        self.tokens = tokens

    def authenticate(self, conn: Connection, credential: str) -> Principal:
        if is_api_key(credential):
            key = authenticate_key(conn, credential)
            return Principal(kind="apikey", id=key.id, name=key.name, scopes=scope_rules.ALL_SCOPES_API_KEY)
        claims = self.tokens.verify(conn, credential)
        granted = scope_rules.parse(claims.get("scope"))
        client_id = claims.get("client_id")
        kind, _, ident = str(claims["sub"]).partition(":")
        if kind == "user" and ident.isdigit():
            u = tables.users
            row = conn.execute(
                select(u.c.id, u.c.email, u.c.role, u.c.active).where(u.c.id == int(ident))
            ).first()
            if row is None:
                raise Unauthenticated("invalid or expired access token")
            if not row.active:
                raise UserInactive("this user is disabled; ask an administrator")
            return Principal(
                kind="user", id=int(row.id), name=row.email, scopes=granted, role=row.role,
                user_id=int(row.id), client_id=client_id,
            )  # fmt: skip
        if kind == "client" and ident:
            c = tables.oauth_clients
            client = conn.execute(select(c.c.name, c.c.disabled_at).where(c.c.client_id == ident)).first()
            if client is None or client.disabled_at is not None:
                raise Unauthenticated("invalid or expired access token")
            # a machine client acts for itself: its scopes limit it, no user ownership applies
            return Principal(
                kind="client", id=ident, name=client.name, scopes=granted, role="standard", client_id=ident
            )
        raise Unauthenticated("invalid or expired access token")
