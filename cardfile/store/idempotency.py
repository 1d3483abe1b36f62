"""Stored first responses of writes sent with an ``Idempotency-Key``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Row

from cardfile.store import tables

__all__ = ["find", "save"]

T = tables.idempotency_keys


def find(conn: Connection, principal: str, key: str, *, not_before: int) -> Row[Any] | None:
    row = conn.execute(select(T).where(T.c.principal == principal, T.c.key == key)).first()
    if row is not None and row.created_at < not_before:  # expired: forget it
        conn.execute(delete(T).where(T.c.principal == principal, T.c.key == key))
        return None
    return row


def save(
    conn: Connection,
    *,
    principal: str,
    key: str,
    request_hash: str,
    status_code: int,
    headers: dict[str, str],
    body: str,
    at: int,
) -> None:
    conn.execute(
        T.insert().values(
            principal=principal,
            key=key,
            request_hash=request_hash,
            status_code=status_code,
            headers=headers,
            body=body,
            created_at=at,
        )
    )
