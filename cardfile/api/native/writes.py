"""Running a write in one transaction, with ``Idempotency-Key`` replay when asked.

The stored response is written in the same transaction as the change, so a retried
request either finds the first response or applies the change for the first time:
never twice. Only successful responses are stored; an error rolls everything back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import orjson
from fastapi import Request
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from cardfile.auth.principal import Principal
from cardfile.errors import BadRequest, IdempotencyKeyReused
from cardfile.services import Services
from cardfile.store import idempotency
from cardfile.store.clock import now_us

__all__ = ["run_write"]

WriteFn = Callable[[Connection], Response]


async def run_write(
    request: Request, svc: Services, principal: Principal, body: object, fn: WriteFn
) -> Response:
    key = request.headers.get("idempotency-key")
    if key is None:
        return await run_in_threadpool(_plain, svc, fn)
    if not 1 <= len(key) <= 255:
        raise BadRequest("Idempotency-Key must be 1 to 255 characters", field="Idempotency-Key")
    fingerprint = hashlib.sha256(
        orjson.dumps(
            [request.method, request.url.path, str(request.url.query), body], option=orjson.OPT_SORT_KEYS
        )
    ).hexdigest()
    return await run_in_threadpool(_idempotent, svc, principal, key, fingerprint, fn)


def _plain(svc: Services, fn: WriteFn) -> Response:
    with svc.db.write() as conn:
        return fn(conn)


def _idempotent(svc: Services, principal: Principal, key: str, fingerprint: str, fn: WriteFn) -> Response:
    now = now_us()
    with svc.db.write() as conn:
        first = idempotency.find(
            conn, principal.key, key, not_before=now - svc.settings.idempotency_ttl_s * 1_000_000
        )
        if first is not None:
            if first.request_hash != fingerprint:
                raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
            headers = dict(first.headers)
            headers["Idempotent-Replayed"] = "true"
            return Response(first.body, status_code=first.status_code, headers=headers, media_type=None)
        resp = fn(conn)
        kept = {
            k: v
            for k, v in resp.headers.items()
            if k.lower() in ("content-type", "etag", "last-modified", "location")
        }
        idempotency.save(
            conn,
            principal=principal.key,
            key=key,
            request_hash=fingerprint,
            status_code=resp.status_code,
            headers=kept,
            body=bytes(resp.body).decode(),
            at=now,
        )
        return resp
