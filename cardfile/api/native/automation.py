"""Native automation routes: a type's rules (admins add and remove them) and record locks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.engine import Connection
from starlette.responses import Response

from cardfile.api.kit.body import JSON_BODY_DOC, read_json
from cardfile.api.kit.credentials import Credentials, credentials_of
from cardfile.api.kit.ratelimit import limited
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.routes import PlainRoute
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_read, run_write
from cardfile.auth.principal import Principal
from cardfile.automation import locks, rulebook
from cardfile.engine import permissions as perm
from cardfile.engine.events import ChangeEvent, write_events
from cardfile.errors import NotFound, PermissionDenied
from cardfile.store import records as store
from cardfile.store.clock import now_us, to_iso

__all__ = ["router"]

router = APIRouter(
    prefix="/automation",
    tags=["automation"],
    dependencies=[Depends(limited("metadata"))],
    route_class=PlainRoute,
)
Caller = Annotated[Credentials, Depends(credentials_of)]


@router.get("/rules/{type_name}", summary="A record type's automation rules, in the order they run")
async def list_rules(type_name: str, request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def read(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
        perm.require_metadata(principal, "READ")
        svc.catalog.record_type(conn, type_name)
        return [r.to_json() for r in rulebook.list_rules(conn, type_name)]

    return json_response({"items": await run_read(svc, creds, read)})


@router.post("/rules/{type_name}", status_code=201, summary="Add a rule (runs after the existing ones)",
             openapi_extra=JSON_BODY_DOC)  # fmt: skip
async def add_rule(type_name: str, request: Request, creds: Caller) -> Response:
    """Body: a rule, e.g. ``{"name": "deal_won", "feature": "workflows", "on": ["update"],
    "when": [{"field": "stage", "equals": "won"}], "then": [{"set": {"won": true}}, {"lock": true}]}``."""
    svc = services_of(request)
    body = await read_json(request)

    def write(conn: Connection, principal: Principal) -> Response:
        perm.require_metadata(principal, "WRITE")
        rt = svc.catalog.record_type(conn, type_name)
        rule = rulebook.add_rule(conn, rt, body)
        return json_response(rule.to_json(), 201)

    return await run_write(request, svc, creds, body, write)


@router.delete("/rules/{type_name}/{rule_name}", status_code=204, summary="Remove a rule")
async def remove_rule(type_name: str, rule_name: str, request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def write(conn: Connection, principal: Principal) -> Response:
        perm.require_metadata(principal, "WRITE")
        svc.catalog.record_type(conn, type_name)
        rulebook.remove_rule(conn, type_name, rule_name)
        return Response(status_code=204)

    return await run_write(request, svc, creds, None, write)


def _lock_json(lock: dict[str, Any] | None) -> dict[str, Any]:
    if lock is None:
        return {"locked": False}
    return {
        "locked": True,
        "locked_at": to_iso(int(lock["locked_at"])),
        "locked_by": lock["locked_by"],
        "reason": lock["reason"],
    }


@router.get("/locks/{type_name}/{record_id}", summary="Is the record locked, by which rule, since when")
async def get_lock(type_name: str, record_id: int, request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def read(conn: Connection, principal: Principal) -> dict[str, Any]:
        svc.engine.get(type_name, record_id, conn, principal)  # the same checks as reading the record
        return _lock_json(locks.get_lock(conn, record_id))

    return json_response(await run_read(svc, creds, read))


@router.delete("/locks/{type_name}/{record_id}", summary="Unlock a record (admins)")
async def unlock(type_name: str, record_id: int, request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def write(conn: Connection, principal: Principal) -> Response:
        rt = svc.catalog.record_type(conn, type_name)
        perm.require(principal, rt, "UPDATE")
        if principal.role != "admin":
            raise PermissionDenied("only admins unlock records")
        row = store.get_record(conn, type_name, record_id, lock=True)
        if row is None:
            raise NotFound(f"no {type_name} record with id {record_id}")
        if locks.unlock(conn, record_id):
            write_events(
                conn,
                [ChangeEvent("record.unlocked", type_name, record_id, int(row.version), principal.name, "api",
                             principal.client_id, now_us())],
            )  # fmt: skip
        return json_response({"locked": False})

    return await run_write(request, svc, creds, None, write)
