"""Turn a bearer credential into a Principal: an API key or a signed access token; or an
email and password (a Tracker widget body carries either)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from cardfile.auth import scopes as scope_rules
from cardfile.auth.apikeys import authenticate_key, is_api_key
from cardfile.auth.principal import Principal
from cardfile.auth.tokens import TokenService
from cardfile.auth.users import authenticate_password
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

    def authenticate_password(self, conn: Connection, email: str, password: str) -> Principal:
        """The user of this email and password (Argon2; ``users.authenticate_password``):
        Unauthenticated for a wrong one or an unknown user alike, UserInactive when disabled.
        A password login may do all that the user's role allows, as a token issued without
        scopes."""
        user = authenticate_password(conn, email, password)
        scopes = scope_rules.default_for_role(user.role)
        return Principal(
            kind="user", id=user.id, name=user.email, scopes=scopes, role=user.role, user_id=user.id
        )

    def authenticate_either(
        self, conn: Connection, token: str | None, email: str | None, password: str | None
    ) -> Principal:
        """A bearer credential or an email and password, whichever is valid: a token that
        fails falls back to the password when there is one (a stale token next to a good
        password works). Unauthenticated when neither is valid; UserInactive as soon as a
        valid credential belongs to a disabled user."""
        if token is not None:
            try:
                return self.authenticate(conn, token)
            except UserInactive:
                raise
            except Unauthenticated:
                if email is None or password is None:
                    raise
        if email is None or password is None:
            raise Unauthenticated("no credentials: a token, or an email and password")
        return self.authenticate_password(conn, email, password)
