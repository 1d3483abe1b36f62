"""Native metadata routes: record types and their fields, extendable at runtime."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.engine import Connection
from starlette.responses import Response

from cardfile.api.kit.body import read_json
from cardfile.api.kit.credentials import Credentials, credentials_of
from cardfile.api.kit.ratelimit import limited
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.routes import PlainRoute
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_read, run_write
from cardfile.auth.principal import Principal
from cardfile.engine.permissions import require_metadata
from cardfile.errors import BadRequest, UnknownRecordType
from cardfile.fieldtypes import registry

__all__ = ["router"]

router = APIRouter(
    prefix="/types", tags=["metadata"], dependencies=[Depends(limited("metadata"))], route_class=PlainRoute
)
Caller = Annotated[Credentials, Depends(credentials_of)]


@router.get("", summary="All record types")
async def list_types(request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def read(conn: Connection, principal: Principal) -> list[dict[str, object]]:
        require_metadata(principal, "READ")
        return [rt.to_json() for rt in svc.catalog.current(conn).types.values()]

    return json_response({"items": await run_read(svc, creds, read), "field_types": list(registry)})


@router.get("/{type_name}", summary="One record type with its fields")
async def get_type(type_name: str, request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def read(conn: Connection, principal: Principal) -> dict[str, object]:
        require_metadata(principal, "READ")
        rt = svc.catalog.current(conn).get(type_name)
        if rt is None:
            raise UnknownRecordType(f"no record type {type_name!r}")
        return rt.to_json()

    return json_response(await run_read(svc, creds, read))


@router.post(
    "/{type_name}/fields",
    status_code=201,
    summary="Add a custom field to a type",
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def add_field(type_name: str, request: Request, creds: Caller) -> Response:
    """Body: a field definition, e.g. ``{"name": "nickname", "type": "text", "max_length": 50}``.
    Usable on the next request in every process, and kept across restarts."""
    svc = services_of(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a field definition object")

    def write(conn: Connection, principal: Principal) -> Response:
        require_metadata(principal, "WRITE")
        fd = svc.catalog.add_field(type_name, body, conn)
        return json_response(fd.to_json(), 201, {"Location": f"/api/types/{type_name}"})

    return await run_write(request, svc, creds, body, write)
