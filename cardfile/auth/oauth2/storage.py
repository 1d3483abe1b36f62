"""What the authorization server keeps: authorization codes, refresh tokens, the form secret.

Codes and refresh tokens are random strings given to the client once; only their SHA-256
is stored, so a copy of the database hands out nothing usable. A code is claimed (marked
used) with one conditional ``UPDATE``, so of two concurrent redemptions exactly one wins,
on SQLite and on PostgreSQL alike. Every refresh token of one grant shares a
``family_id`` (the hash of the code the grant started from): a rotated token presented
again revokes the whole family.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cardfile.store import tables
from cardfile.store.clock import now_us
from cardfile.store.database import Database

__all__ = [
    "CODE_TTL_S",
    "REFRESH_TTL_S",
    "AuthCode",
    "RefreshToken",
    "claim_code",
    "claim_refresh",
    "digest",
    "find_code",
    "find_refresh",
    "form_secret",
    "revoke_family",
    "save_code",
    "save_refresh",
]

CODE_TTL_S = 600  # RFC 6749 §4.1.2: at most ten minutes
REFRESH_TTL_S = 30 * 24 * 3600  # each rotation starts a new 30-day lifetime
KEEP_USED_CODES_S = 24 * 3600  # used codes are kept this long past expiry to detect replays
FORM_SECRET_KEY = "oauth2.form_secret"

A = tables.auth_codes
R = tables.refresh_tokens
_US = 1_000_000


def digest(secret: str) -> str:
    """The stored form of a code or refresh token."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class AuthCode:
    code_hash: str
    client_id: str
    user_id: int
    redirect_uri: str  # "" when the authorization request named none
    scope: str
    code_challenge: str
    code_challenge_method: str
    expires_at: int
    used: bool

    @classmethod
    def of(cls, row: Any) -> AuthCode:
        return cls(
            code_hash=row.code_hash,
            client_id=row.client_id,
            user_id=int(row.user_id),
            redirect_uri=row.redirect_uri,
            scope=row.scope,
            code_challenge=row.code_challenge,
            code_challenge_method=row.code_challenge_method,
            expires_at=int(row.expires_at),
            used=row.used_at is not None,
        )

    # what Authlib's AuthorizationCodeMixin and CodeChallenge read
    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri or None

    def get_scope(self) -> str:
        return self.scope

    def __repr__(self) -> str:
        return f"<AuthCode client={self.client_id} user={self.user_id}>"


@dataclass(frozen=True)
class RefreshToken:
    token_hash: str
    family_id: str
    client_id: str
    user_id: int | None
    scope: str  # the grant's scope; every rotation keeps it
    expires_at: int
    used: bool
    revoked: bool

    @classmethod
    def of(cls, row: Any) -> RefreshToken:
        return cls(
            token_hash=row.token_hash,
            family_id=row.family_id,
            client_id=row.client_id,
            user_id=int(row.user_id) if row.user_id is not None else None,
            scope=row.scope,
            expires_at=int(row.expires_at),
            used=row.used_at is not None,
            revoked=row.revoked_at is not None,
        )

    @property
    def expired(self) -> bool:
        return self.expires_at <= now_us()

    # what Authlib's TokenMixin is asked by the refresh grant and the revocation endpoint
    def check_client(self, client: Any) -> bool:
        return bool(self.client_id == client.get_client_id())

    def get_scope(self) -> str:
        return self.scope

    def __repr__(self) -> str:
        return f"<RefreshToken client={self.client_id} user={self.user_id}>"


def save_code(
    conn: Connection,
    code: str,
    *,
    client_id: str,
    user_id: int,
    redirect_uri: str,
    scope: str,
    code_challenge: str,
    code_challenge_method: str,
) -> None:
    at = now_us()
    conn.execute(delete(A).where(A.c.expires_at < at - KEEP_USED_CODES_S * _US))
    conn.execute(
        A.insert().values(
            code_hash=digest(code),
            client_id=client_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scope=scope,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            created_at=at,
            expires_at=at + CODE_TTL_S * _US,
        )
    )


def find_code(conn: Connection, code: str) -> AuthCode | None:
    row = conn.execute(select(A).where(A.c.code_hash == digest(code))).first()
    return AuthCode.of(row) if row is not None else None


def claim_code(conn: Connection, code_hash: str) -> bool:
    """Mark an unexpired code used; False when it was used (or expired) already."""
    at = now_us()
    result = conn.execute(
        update(A)
        .where(A.c.code_hash == code_hash, A.c.used_at.is_(None), A.c.expires_at > at)
        .values(used_at=at)
    )
    return result.rowcount == 1


def save_refresh(
    conn: Connection,
    token: str,
    *,
    family_id: str,
    client_id: str,
    user_id: int | None,
    scope: str,
) -> None:
    at = now_us()
    conn.execute(delete(R).where(R.c.expires_at < at))
    conn.execute(
        R.insert().values(
            token_hash=digest(token),
            family_id=family_id,
            client_id=client_id,
            user_id=user_id,
            scope=scope,
            created_at=at,
            expires_at=at + REFRESH_TTL_S * _US,
        )
    )


def find_refresh(conn: Connection, token: str) -> RefreshToken | None:
    row = conn.execute(select(R).where(R.c.token_hash == digest(token))).first()
    return RefreshToken.of(row) if row is not None else None


def claim_refresh(conn: Connection, token_hash: str) -> bool:
    """Mark a live refresh token used (rotated); False when someone used it first."""
    at = now_us()
    result = conn.execute(
        update(R)
        .where(R.c.token_hash == token_hash, R.c.used_at.is_(None), R.c.revoked_at.is_(None))
        .values(used_at=at)
    )
    return result.rowcount == 1


def revoke_family(conn: Connection, family_id: str) -> int:
    """Revoke every refresh token of one grant; how many were still live."""
    result = conn.execute(
        update(R).where(R.c.family_id == family_id, R.c.revoked_at.is_(None)).values(revoked_at=now_us())
    )
    return int(result.rowcount)


def form_secret(db: Database) -> bytes:
    """The key of the login form's CSRF tokens: random, kept in ``meta`` so that every
    process of a deployment (and a restarted one) accepts the forms of the others."""
    with db.read() as conn:
        value = db.get_meta(conn, FORM_SECRET_KEY)
    if value is None:
        try:
            with db.write() as conn:
                value = db.get_meta(conn, FORM_SECRET_KEY)
                if value is None:
                    value = secrets.token_hex(32)
                    conn.execute(tables.meta.insert().values(key=FORM_SECRET_KEY, value=value))
        except IntegrityError:  # another process created it first
            with db.read() as conn:
                value = db.get_meta(conn, FORM_SECRET_KEY)
    if value is None:
        raise RuntimeError("the OAuth2 form secret could not be stored")
    return bytes.fromhex(value)
