"""Signing keys for access tokens: ES256, a key id each, rotation with an overlap window.

The newest key signs. A retired key keeps verifying tokens for ``overlap_s`` seconds (at
least as long as a token lives), then stops. Keys live in the database, so every
process of a deployment signs and verifies with the same set.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from joserfc.jwk import ECKey
from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection

from cardfile.store import tables
from cardfile.store.clock import now_us

__all__ = ["ALGORITHM", "SigningKeys"]

ALGORITHM = "ES256"  # the one algorithm tokens are signed and verified with
K = tables.signing_keys


class SigningKeys:
    def __init__(self, *, overlap_s: int) -> None:
        self.overlap_us = overlap_s * 1_000_000
        self._lock = threading.Lock()
        self._private: dict[str, ECKey] = {}  # kid -> key; parsed once per process

    def _load(self, kid: str, pem: str) -> ECKey:
        key = self._private.get(kid)
        if key is None:
            key = ECKey.import_key(pem, parameters={"kid": kid})
            with self._lock:
                self._private[kid] = key
        return key

    def signing_key(self, conn: Connection) -> ECKey:
        row = conn.execute(
            select(K.c.kid, K.c.private_pem)
            .where(K.c.retired_at.is_(None))
            .order_by(K.c.created_at.desc())
            .limit(1)
        ).first()
        if row is None:
            return self.rotate(conn)
        return self._load(row.kid, row.private_pem)

    def verification_key(self, conn: Connection, kid: str) -> ECKey | None:
        """The key with this id, if it is current or retired within the overlap window."""
        horizon = now_us() - self.overlap_us
        row = conn.execute(
            select(K.c.kid, K.c.private_pem, K.c.alg).where(
                K.c.kid == kid, or_(K.c.retired_at.is_(None), K.c.retired_at > horizon)
            )
        ).first()
        if row is None or row.alg != ALGORITHM:
            return None
        return self._load(row.kid, row.private_pem)

    def rotate(self, conn: Connection) -> ECKey:
        """Make a new signing key; the old ones retire now and verify until the overlap ends."""
        kid = secrets.token_hex(8)
        key = ECKey.generate_key("P-256", parameters={"kid": kid})
        at = now_us()
        conn.execute(update(K).where(K.c.retired_at.is_(None)).values(retired_at=at))
        conn.execute(
            K.insert().values(
                kid=kid,
                alg=ALGORITHM,
                private_pem=key.as_pem(private=True).decode(),
                public_jwk=key.as_dict(private=False),
                created_at=at,
            )
        )
        return self._load(kid, key.as_pem(private=True).decode())

    def jwks(self, conn: Connection) -> dict[str, Any]:
        """The public keys that verify tokens now (for /oauth2/jwks)."""
        horizon = now_us() - self.overlap_us
        rows = conn.execute(
            select(K.c.public_jwk).where(or_(K.c.retired_at.is_(None), K.c.retired_at > horizon))
        )
        return {"keys": [{**r.public_jwk, "alg": ALGORITHM, "use": "sig"} for r in rows]}
