"""Running a read or a write in its unit of work, with ``Idempotency-Key`` replay when asked.

The caller is authenticated inside the unit's own transaction. On SQLite a write goes
to the group-commit writer (``store/writer.py``), or runs inline when it is alone (see
``in_write_transaction``); on PostgreSQL it runs in a worker thread with its own
transaction. A read runs in a worker thread with a read transaction. The stored response
of an idempotent request is written in the same transaction as the change, so a retried
request either finds the first response or applies the change for the first time: never
twice. Only successful responses are stored; an error rolls everything back.

``run_read_session`` and ``run_write_session`` are the same units of work handing the
caller's ``Session`` (the engine bound to the transaction, ``engine/session.py``) instead
of a connection: the dialects converted to it never hold a database handle. ``in_write_session``
is a write's session without the replay, for a vendor API that has none; ``authenticated``
checks a caller ahead of a write, when the check is too costly to run under the write lock.
``read_schema`` is the schema in a read transaction of its own, for an endpoint without a
caller.
``run_read_with`` and ``run_write_with`` hand a facade of another layer bound the same way
(``webhooks.access.WebhookAdmin``: what is not records is not the engine's).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Callable
from typing import TypeVar

import orjson
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from cardfile.api.kit.credentials import Authenticated, Authenticates
from cardfile.auth.principal import Principal
from cardfile.engine.session import Session
from cardfile.errors import BadRequest, IdempotencyKeyReused
from cardfile.schema.model import Schema
from cardfile.services import Services
from cardfile.store import idempotency
from cardfile.store.clock import now_us

__all__ = [
    "authenticated",
    "in_read_transaction",
    "in_write_session",
    "in_write_transaction",
    "read_schema",
    "run_read",
    "run_read_session",
    "run_read_with",
    "run_write",
    "run_write_session",
    "run_write_with",
]

T = TypeVar("T")
F = TypeVar("F")
WriteFn = Callable[[Connection, Principal], Response]
Bind = Callable[[Connection, Principal], F]  # a facade bound to the unit of work and the caller
_REPLAYED_HEADERS = ("content-type", "etag", "last-modified", "location")


async def run_read(svc: Services, creds: Authenticates, fn: Callable[[Connection, Principal], T]) -> T:
    """Authenticate and read in one worker-thread call and one transaction."""

    def work(conn: Connection) -> T:
        return fn(conn, creds.principal(conn))

    return await in_read_transaction(svc, work)


async def run_read_session(
    svc: Services, creds: Authenticates, fn: Callable[[Session], T], *, channel: str = "api"
) -> T:
    """``run_read`` handing ``fn`` the caller's session, for reads only."""
    return await run_read_with(svc, creds, functools.partial(Session, svc.engine, channel=channel), fn)


async def run_read_with(svc: Services, creds: Authenticates, bind: Bind[F], fn: Callable[[F], T]) -> T:
    """``run_read`` handing ``fn`` the facade ``bind`` makes of the connection and the caller."""
    return await run_read(svc, creds, lambda conn, p: fn(bind(conn, p)))


async def in_read_transaction(svc: Services, fn: Callable[[Connection], T]) -> T:
    """``fn(conn)`` in one read transaction, in a worker thread."""

    def work() -> T:
        with svc.db.read() as conn:
            return fn(conn)

    return await run_in_threadpool(work)


async def read_schema(svc: Services) -> Schema:
    """The current schema, read in its own transaction in a worker thread: for an endpoint
    that has no caller (a vendor's OAuth path translating its scope names)."""
    return await in_read_transaction(svc, svc.catalog.current)


async def run_write(
    request: Request, svc: Services, creds: Authenticates, body: object, fn: WriteFn
) -> Response:
    """Authenticate and write in one unit of work; an ``Idempotency-Key`` replays the first
    response of the same request (``body`` is part of its fingerprint)."""
    key = request.headers.get("idempotency-key")
    if key is not None:
        if not 1 <= len(key) <= 255:
            raise BadRequest("Idempotency-Key must be 1 to 255 characters", field="Idempotency-Key")
        fingerprint = hashlib.sha256(
            orjson.dumps(
                [request.method, request.url.path, str(request.url.query), body], option=orjson.OPT_SORT_KEYS
            )
        ).hexdigest()
        fn = functools.partial(_idempotent, svc, key, fingerprint, fn)
    return await in_write_transaction(svc, functools.partial(_authenticated, creds, fn))


async def run_write_session(
    request: Request,
    svc: Services,
    creds: Authenticates,
    body: object,
    fn: Callable[[Session], Response],
    *,
    channel: str = "api",
) -> Response:
    """``run_write`` (same ``Idempotency-Key`` replay, same group commit) handing ``fn`` the
    caller's session."""
    bind = functools.partial(Session, svc.engine, channel=channel)
    return await run_write_with(request, svc, creds, body, bind, fn)


async def run_write_with(
    request: Request,
    svc: Services,
    creds: Authenticates,
    body: object,
    bind: Bind[F],
    fn: Callable[[F], Response],
) -> Response:
    """``run_write`` handing ``fn`` the facade ``bind`` makes of the connection and the caller."""
    return await run_write(request, svc, creds, body, lambda conn, p: fn(bind(conn, p)))


async def in_write_transaction(svc: Services, fn: Callable[[Connection], T]) -> T:
    """``fn(conn)`` in one write transaction, for every channel.

    SQLite: on the group-commit writer's thread, or, when no other write waits (counted
    after one turn of the event loop, so the requests that arrived with this one count),
    inline in this thread: that saves two thread hand-offs (~250 µs of a lone write), and
    the loop then blocks only while nobody else waits for a write. PostgreSQL: a worker
    thread with its own transaction (concurrent transactions are fine there)."""
    writer = svc.db.writer
    if writer is None:
        return await run_in_threadpool(_in_transaction, svc, fn)
    with writer.pending():
        await asyncio.sleep(0)
        if writer.alone() and (done := writer.run_inline(fn)) is not None:
            return done.result()
        return await asyncio.wrap_future(writer.submit(fn))


async def in_write_session(
    svc: Services, creds: Authenticates, fn: Callable[[Session], T], *, channel: str = "api"
) -> T:
    """``fn`` with the caller's session in one write unit of work (``in_write_transaction``),
    without ``run_write``'s ``Idempotency-Key`` replay: for a vendor API that has none."""

    def work(conn: Connection) -> T:
        return fn(Session(svc.engine, conn, creds.principal(conn), channel=channel))

    return await in_write_transaction(svc, work)


async def authenticated(svc: Services, creds: Authenticates) -> Authenticated:
    """The caller checked now, in a read unit of work of its own, for a write to come: a
    costly check (a password's Argon2) then holds neither the write lock nor the event loop
    (a lone SQLite write runs inline in it)."""
    return Authenticated(await in_read_transaction(svc, creds.principal))


def _authenticated(creds: Authenticates, fn: WriteFn, conn: Connection) -> Response:
    return fn(conn, creds.principal(conn))


def _in_transaction(svc: Services, fn: Callable[[Connection], T]) -> T:
    with svc.db.write() as conn:
        return fn(conn)


def _idempotent(
    svc: Services, key: str, fingerprint: str, fn: WriteFn, conn: Connection, principal: Principal
) -> Response:
    now = now_us()
    ttl_us = svc.settings.idempotency_ttl_s * 1_000_000
    first = idempotency.find(conn, principal.key, key, not_before=now - ttl_us)
    if first is not None:
        if first.request_hash != fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
        headers = {**first.headers, "Idempotent-Replayed": "true"}
        return Response(first.body, status_code=first.status_code, headers=headers, media_type=None)
    resp = fn(conn, principal)
    idempotency.save(
        conn,
        principal=principal.key,
        key=key,
        request_hash=fingerprint,
        status_code=resp.status_code,
        headers={k: v for k, v in resp.headers.items() if k.lower() in _REPLAYED_HEADERS},
        body=bytes(resp.body).decode(),
        at=now,
    )
    return resp
