"""Access tokens: signed JWTs, checked strictly.

Checked, in order: size, compact form, the header's ``alg`` against the allow-list
(ES256 only: ``none``, HS256 and the rest are refused before any key is touched), a known
``kid``, the signature, then ``iss``, ``aud``, ``exp`` and ``iat`` with at most 60 s of
clock skew. Every failure is the same ``Unauthenticated`` to the client; the reason is
kept only in the exception's ``reason`` (never the token itself).
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

import orjson
from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy.engine import Connection

from cardfile.auth.keys import ALGORITHM, SigningKeys
from cardfile.errors import Unauthenticated

__all__ = ["MAX_TOKEN_BYTES", "TokenService"]

MAX_TOKEN_BYTES = 8192
LEEWAY_S = 60


class InvalidToken(Unauthenticated):
    def __init__(self, reason: str) -> None:
        super().__init__("invalid or expired access token")
        self.reason = reason


class TokenService:
    def __init__(self, keys: SigningKeys, *, issuer: str, audience: str, ttl_s: int) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl_s = ttl_s

    def issue(
        self,
        conn: Connection,
        *,
        subject: str,
        scopes: str,
        client_id: str | None = None,
        ttl_s: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[str, int]:
        """A signed access token and its lifetime in seconds."""
        key = self.keys.signing_key(conn)
        now = int(time.time())
        ttl = ttl_s or self.ttl_s
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_hex(12),
            "scope": scopes,
            **(extra or {}),
        }
        if client_id:
            claims["client_id"] = client_id
        return jwt.encode({"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}, claims, key), ttl

    def verify(self, conn: Connection, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("oversize")
        header = _header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("no key id")
        key = self.keys.verification_key(conn, kid)
        if key is None:
            raise InvalidToken("unknown key id")
        try:
            decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_S,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise InvalidToken(type(exc).__name__) from None
        claims = dict(decoded.claims)
        if int(claims["iat"]) > time.time() + LEEWAY_S:
            raise InvalidToken("issued in the future")
        return claims


def _header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a compact JWS")
    try:
        header = orjson.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise InvalidToken("bad header") from None
    if not isinstance(header, dict):
        raise InvalidToken("bad header")
    return header
