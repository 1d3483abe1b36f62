"""The caller's credential: read from the request, checked inside its unit of work.

A unit of work (``units.py``) takes anything ``Authenticates``: a bearer ``Credentials``, a
``TokenOrPassword`` from a request body, or a caller already checked (``Authenticated``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.engine import Connection
from starlette.requests import Request

from cardfile.api.kit.plain import plain_form
from cardfile.api.kit.services import services_of
from cardfile.auth.authenticator import Authenticator
from cardfile.auth.principal import Principal
from cardfile.errors import Unauthenticated

__all__ = [
    "Authenticated",
    "Authenticates",
    "Credentials",
    "TokenOrPassword",
    "bearer",
    "bearer_token",
    "credentials_of",
    "require_credentials",
    "scheme_token",
]


bearer = HTTPBearer(
    auto_error=False, description="An API key or an access token: `Authorization: Bearer <...>`"
)


@dataclass(frozen=True)
class Credentials:
    """What the caller presented; checked inside the request's unit of work."""

    token: str
    authenticator: Authenticator

    def principal(self, conn: Connection) -> Principal:
        return self.authenticator.authenticate(conn, self.token)


class Authenticates(Protocol):
    """What a unit of work checks, inside its transaction, to know its caller."""

    def principal(self, conn: Connection) -> Principal: ...


@dataclass(frozen=True)
class TokenOrPassword:
    """A token, or an email and password, carried in a request body (the Tracker widget's):
    the token first, the password when the token fails (``Authenticator.authenticate_either``)."""

    token: str | None
    email: str | None
    password: str | None
    authenticator: Authenticator

    def principal(self, conn: Connection) -> Principal:
        return self.authenticator.authenticate_either(conn, self.token, self.email, self.password)


@dataclass(frozen=True)
class Authenticated:
    """A caller checked already, in a unit of work of its own (``units.authenticated``)."""

    known: Principal

    def principal(self, _conn: Connection) -> Principal:
        return self.known


def scheme_token(auth: HTTPAuthorizationCredentials | None) -> str | None:
    """The credential of a parsed ``Authorization`` header when its scheme is ``Bearer``."""
    if auth is None or auth.scheme.lower() != "bearer":
        return None
    return auth.credentials.strip() or None


def bearer_token(request: Request) -> str | None:
    """The credential of ``Authorization: Bearer <...>``, read as the ``bearer`` dependency
    reads it, for code that does without FastAPI's dependencies."""
    scheme, credentials = get_authorization_scheme_param(request.headers.get("authorization"))
    if not (scheme and credentials) or scheme.lower() != "bearer":
        return None
    return credentials.strip() or None  # as scheme_token, without building the pydantic model


def require_credentials(request: Request, token: str | None) -> Credentials:
    """``token`` as the request's credentials; none is ``Unauthenticated`` (401)."""
    if token is None:
        raise Unauthenticated("send 'Authorization: Bearer <API key or access token>'")
    return Credentials(token, services_of(request).auth)


async def credentials_of(
    request: Request,
    auth: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Credentials:
    """The dependency: the bearer credential, required."""
    return require_credentials(request, scheme_token(auth))


# How a plain route (routes.py) solves this dependency without FastAPI.
plain_form(credentials_of, lambda request: require_credentials(request, bearer_token(request)))
