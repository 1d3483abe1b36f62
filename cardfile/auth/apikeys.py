"""API keys: ``cf_<prefix>_<secret>``, 256 bits of randomness, stored as a SHA-256 digest.

A fast digest is right here (unlike passwords): the key is random, not guessable, so a
slow KDF would only slow every request. Lookup is by digest; the raw key is never stored
or logged.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from cardfile.errors import Unauthenticated
from cardfile.store import tables
from cardfile.store.clock import now_us
from cardfile.store.database import Database
from cardfile.store.dbapi import Prepared

__all__ = ["ApiKey", "authenticate_key", "create_key", "is_api_key", "revoke_key"]

_PREFIX = "cf_"
_T = tables.api_keys
# every request with a key runs it: on the driver (store/dbapi.py)
_LOOKUP = Prepared(select(_T.c.id, _T.c.name, _T.c.revoked_at).where(_T.c.key_hash == bindparam("key_hash")))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(db: Database, name: str) -> str:
    """Create a key and return it; it is shown once and never again."""
    if not name.strip():
        raise ValueError("an API key needs a name")
    prefix = secrets.token_hex(4)
    key = f"{_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with db.write() as conn:
        conn.execute(
            tables.api_keys.insert().values(
                name=name.strip(), prefix=prefix, key_hash=_digest(key), created_at=now_us()
            )
        )
    return key


def revoke_key(db: Database, prefix: str) -> bool:
    with db.write() as conn:
        res = conn.execute(
            update(tables.api_keys)
            .where(tables.api_keys.c.prefix == prefix, tables.api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now_us())
        )
        return res.rowcount > 0


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str


def is_api_key(credential: str) -> bool:
    return credential.startswith(_PREFIX)


def authenticate_key(conn: Connection, key: str) -> ApiKey:
    """Resolve a key inside the caller's unit of work (no extra connection or thread hop)."""
    if not is_api_key(key):
        raise Unauthenticated("invalid API key")
    row = _LOOKUP.first(conn, {"key_hash": _digest(key)})
    if row is None or row[2] is not None:  # (id, name, revoked_at)
        raise Unauthenticated("invalid or revoked API key")
    return ApiKey(id=int(row[0]), name=row[1])
