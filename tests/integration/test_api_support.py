"""Helpers shared by the native API tests: stored state straight from the tables, and
problem+json checks. No tests live here; the module is named so it sits with them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select

from cardfile.services import Services
from cardfile.store import tables
from cardfile.store.clock import now_us

__all__ = [
    "Cases",
    "Stored",
    "add_user",
    "assert_problem",
    "count_records",
    "error_pairs",
    "history_rows",
    "outbox_rows",
    "stored",
    "total_rows",
]


@dataclass(frozen=True)
class Stored:
    """A record as the database holds it, with its history and outbox row counts."""

    exists: bool
    version: int | None
    data: dict[str, Any] | None
    modified_at: int | None
    history: int
    outbox: int


def stored(svc: Services, type_name: str, record_id: int) -> Stored:
    r, h, o = tables.records, tables.history, tables.outbox
    with svc.db.read() as conn:
        row = conn.execute(select(r).where(r.c.id == record_id, r.c.type == type_name)).first()
        nh = conn.execute(
            select(func.count()).where(h.c.record_type == type_name, h.c.record_id == record_id)
        ).scalar_one()
        no = conn.execute(
            select(func.count()).where(o.c.record_type == type_name, o.c.record_id == record_id)
        ).scalar_one()
    return Stored(
        exists=row is not None,
        version=None if row is None else int(row.version),
        data=None if row is None else dict(row.data),
        modified_at=None if row is None else int(row.modified_at),
        history=int(nh),
        outbox=int(no),
    )


def history_rows(svc: Services, type_name: str, record_id: int) -> list[Any]:
    h = tables.history
    with svc.db.read() as conn:
        q = select(h).where(h.c.record_type == type_name, h.c.record_id == record_id).order_by(h.c.id)
        return list(conn.execute(q).all())


def outbox_rows(svc: Services, type_name: str, record_id: int) -> list[Any]:
    o = tables.outbox
    with svc.db.read() as conn:
        q = select(o).where(o.c.record_type == type_name, o.c.record_id == record_id).order_by(o.c.id)
        return list(conn.execute(q).all())


def count_records(svc: Services, type_name: str) -> int:
    r = tables.records
    with svc.db.read() as conn:
        return int(conn.execute(select(func.count()).where(r.c.type == type_name)).scalar_one())


def total_rows(svc: Services) -> tuple[int, int, int]:
    """Records, history rows and outbox rows across all types."""
    with svc.db.read() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (tables.records, tables.history, tables.outbox)
        )


def add_user(svc: Services, username: str, *, active: bool = True) -> int:
    with svc.db.write() as conn:
        res = conn.execute(
            tables.users.insert()
            .values(username=username, display_name=username.title(), active=active, created_at=now_us())
            .returning(tables.users.c.id)
        )
        return int(res.scalar_one())


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A problem+json response with this status and stable code; returns the body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["type"] == "urn:cardfile:problem:" + code.lower().replace("_", "-")
    return body


def error_pairs(body: dict[str, Any]) -> set[tuple[str, str]]:
    """The (field, code) pairs of a problem's field errors."""
    return {(e["field"], e["code"]) for e in body.get("errors", [])}


@dataclass
class Cases:
    """Soft assertions for a table of cases run against one server: every failing case is
    reported, not just the first. (A fresh database and server per case would cost more
    than the cases themselves.)"""

    failures: list[str] = field(default_factory=list)

    @contextmanager
    def case(self, name: object) -> Iterator[None]:
        try:
            yield
        except AssertionError as exc:
            self.failures.append(f"{name}: {exc}")

    def check(self) -> None:
        if self.failures:
            raise AssertionError(f"{len(self.failures)} case(s) failed:\n" + "\n".join(self.failures))
