"""OAuth2 clients: confidential (with a secret) or public (PKCE only), exact redirect URIs."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cardfile.auth import scopes as scope_rules
from cardfile.errors import Conflict, NotFound
from cardfile.store import tables
from cardfile.store.clock import now_us

__all__ = ["Client", "add_client", "get_client", "verify_secret"]

C = tables.oauth_clients


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    scopes: frozenset[str]
    secret_hash: str | None
    disabled: bool

    @property
    def public(self) -> bool:
        return self.secret_hash is None

    @classmethod
    def of(cls, row: Any) -> Client:
        return cls(
            client_id=row.client_id,
            name=row.name,
            redirect_uris=tuple(row.redirect_uris),
            scopes=scope_rules.parse(row.scopes),
            secret_hash=row.secret_hash,
            disabled=row.disabled_at is not None,
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_client(
    conn: Connection, name: str, *, redirect_uris: list[str], scopes: str, public: bool = False
) -> tuple[str, str | None]:
    """Register a client; returns (client_id, client_secret). The secret is shown once."""
    wanted = scope_rules.parse(scopes)
    bad = sorted(s for s in wanted if not scope_rules.valid_scope(s))
    if bad:
        raise ValueError(f"unknown scope(s): {', '.join(bad)}")
    for uri in redirect_uris:
        if not uri.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
            raise ValueError(f"redirect URI {uri!r} must be https (or http on loopback)")
    client_id = "cl_" + secrets.token_hex(12)
    secret = None if public else secrets.token_urlsafe(32)
    try:
        with conn.begin_nested():
            conn.execute(
                C.insert().values(
                    client_id=client_id,
                    name=name,
                    secret_hash=_digest(secret) if secret else None,
                    redirect_uris=list(redirect_uris),
                    scopes=scope_rules.normalize(wanted),
                    created_at=now_us(),
                )
            )
    except IntegrityError:
        raise Conflict(f"a client named {name!r} exists") from None
    return client_id, secret


def get_client(conn: Connection, *, client_id: str | None = None, name: str | None = None) -> Client:
    q = (
        select(C).where(C.c.client_id == client_id)
        if client_id is not None
        else select(C).where(C.c.name == name)
    )
    row = conn.execute(q).first()
    if row is None:
        raise NotFound("no such client")
    return Client.of(row)


def verify_secret(client: Client, secret: str | None) -> bool:
    """Constant-time; a public client has no secret to check."""
    if client.secret_hash is None or secret is None:
        return False
    return hmac.compare_digest(client.secret_hash, _digest(secret))
