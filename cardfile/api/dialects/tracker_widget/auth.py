"""Credentials in the body: an ``oauthtoken`` or a ``username`` + ``password``.

Either one authenticates (the seed's sample carries all three, so none is required on
its own). The token is any bearer credential cardfile accepts (an access token from
``cardfile token create`` or the OAuth2 endpoints, or an API key); the password is
checked with Argon2 through the users module. A token that fails falls back to the
password, so the seed's sample, whose token is a placeholder, works with a valid password.

Outcomes: nothing valid is outcome 1 "user not found" (a wrong password answers the same
as an unknown user); a disabled user behind any valid credential is outcome 2.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from cardfile.api.dialects.tracker_widget.parse import Credentials
from cardfile.auth import scopes as scope_rules
from cardfile.auth.authenticator import Authenticator
from cardfile.auth.principal import Principal
from cardfile.auth.users import authenticate_password
from cardfile.errors import Unauthenticated, UserInactive

__all__ = ["authenticate"]


def authenticate(conn: Connection, authenticator: Authenticator, creds: Credentials) -> Principal:
    """The caller, or Unauthenticated (1) / UserInactive (2)."""
    if creds.oauthtoken is not None:
        try:
            return authenticator.authenticate(conn, creds.oauthtoken)
        except UserInactive:
            raise
        except Unauthenticated:
            if creds.username is None or creds.password is None:
                raise
    if creds.username is None or creds.password is None:
        raise Unauthenticated("send credentials: an oauthtoken, or a username and password")
    user = authenticate_password(conn, creds.username, creds.password)
    # a password login may do all that the user's role allows, as a token issued without scopes
    return Principal(
        kind="user",
        id=user.id,
        name=user.email,
        scopes=scope_rules.default_for_role(user.role),
        role=user.role,
        user_id=user.id,
    )
