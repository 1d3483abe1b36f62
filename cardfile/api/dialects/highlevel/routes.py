"""HighLevel's custom-object endpoints, served under ``/highlevel``.

| endpoint | what it does |
|---|---|
| ``GET /objects/`` | the custom objects |
| ``POST /objects/`` | create a custom object |
| ``GET /objects/{key}`` | an object's schema, with its fields |
| ``POST /custom-fields/`` | add a field to an object |
| ``POST /objects/{key}/records`` | create a record |
| ``GET /objects/{key}/records/{id}`` | get a record |
| ``PUT /objects/{key}/records/{id}`` | update a record (the seed's endpoint) |
| ``DELETE /objects/{key}/records/{id}`` | delete a record |
| ``POST /objects/{key}/records/search`` | search an object's records, a page at a time |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from cardfile.api.dialects.highlevel import parse, render
from cardfile.api.dialects.highlevel.errors import engine_paths
from cardfile.api.dialects.highlevel.ids import (
    PACK,
    PREFIX,
    STANDARD_OBJECTS,
    SYSTEM_PROPERTIES,
    USER_MAP_TYPE,
    UserIds,
    decode_record_id,
    encode_record_id,
    is_object,
    object_type,
)
from cardfile.api.dialects.highlevel.scopes import expand
from cardfile.api.kit.body import read_json
from cardfile.api.kit.credentials import Credentials, credentials_of
from cardfile.api.kit.filters import parse_filters
from cardfile.api.kit.ratelimit import limited
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_read_session, run_write_session
from cardfile.auth.principal import Principal
from cardfile.engine.commands import CreateCommand, DeleteCommand, UpdateCommand
from cardfile.engine.permissions import require_metadata
from cardfile.engine.query import Condition, Query
from cardfile.engine.results import WriteResult
from cardfile.engine.session import Session
from cardfile.errors import BadRequest, FieldError, NotFound, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.schema.model import FieldDef, RecordType, is_valid_name

__all__ = ["RATE_GROUP", "router"]

RATE_GROUP = "highlevel"
CHANNEL = "highlevel"
MAX_PAGE_LIMIT = 100

router = APIRouter(dependencies=[Depends(limited(RATE_GROUP))])
Caller = Annotated[Credentials, Depends(credentials_of)]


# -- helpers --------------------------------------------------------------------------
def _object(body: Any, what: str = "the body") -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise BadRequest(f"{what} must be a JSON object")
    return body


def _caller(session: Session) -> Principal:
    """The authenticated caller (a unit of work always binds one)."""
    assert session.principal is not None
    return session.principal


def _on_object(session: Session, key: str) -> tuple[RecordType, Session]:
    """The object's record type, and the session acting with the caller's HighLevel scopes
    expanded for it."""
    rt = object_type(session.schema, key)
    return rt, session.acting_as(expand(_caller(session), rt.name))


def _record_response(session: Session, rt: RecordType, record: dict[str, Any], status: int = 200) -> Response:
    names = UserIds(session).to_highlevel(render.user_ids([record]))
    return json_response({"record": render.record_json(rt, record, names)}, status)


def _write(shape_errors: list[FieldError], run: Callable[[bool], WriteResult]) -> WriteResult:
    """Run the engine; with shape errors, as a dry run so its own errors are reported too."""
    try:
        with engine_paths():
            result = run(bool(shape_errors))
    except ValidationFailed as exc:
        if shape_errors:
            raise ValidationFailed(shape_errors + exc.errors) from None
        raise
    if shape_errors:
        raise ValidationFailed(shape_errors)
    return result


# -- records ------------------------------------------------------------------------
@router.post("/objects/{key}/records/search", summary="Search an object's records")
async def search_records(key: str, request: Request, creds: Caller) -> Response:
    """Body: ``{"page": 1, "pageLimit": 10, "query": "ticket_name:login"}``; ``query`` is
    ``property:text`` (records whose property contains the text) or plain text (matched
    against the object's primary display property)."""
    svc = services_of(request)
    body = _object(await read_json(request))
    page, limit = body.get("page", 1), body.get("pageLimit", 10)
    errors = []
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        errors.append(FieldError("page", "INVALID_PAGE", "page is a whole number from 1"))
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_LIMIT:
        errors.append(
            FieldError(
                "pageLimit", "INVALID_PAGE_LIMIT", f"pageLimit is a whole number from 1 to {MAX_PAGE_LIMIT}"
            )
        )
    query = body.get("query") or ""
    if not isinstance(query, str):
        errors.append(FieldError("query", "NOT_A_STRING", "query is a string such as 'ticket_name:login'"))
    if errors:
        raise ValidationFailed(errors)

    def read(session: Session) -> dict[str, Any]:
        rt, s = _on_object(session, key)
        q = Query(rt.name, tuple(_query_conditions(rt, query)), page=page, page_size=limit, with_total=True)
        got = s.query(q)
        items, total = got.items, got.total
        names = UserIds(s).to_highlevel(render.user_ids(items))
        return {"records": [render.record_json(rt, r, names) for r in items], "total": total}

    return json_response(await run_read_session(svc, creds, read, channel=CHANNEL))


def _query_conditions(rt: RecordType, query: str) -> list[Condition]:
    query = query.strip()
    if not query:
        return []
    name, colon, text = query.partition(":")
    if not colon:
        fd = render.primary_property(rt)
        if fd is None:
            return []
        name, text = fd.name, query
    name = name.strip().removeprefix(f"{PREFIX}{rt.name}.")
    fd = rt.get(name)
    if fd is None or fd.name in SYSTEM_PROPERTIES:
        raise ValidationFailed(
            [FieldError("query", "UNKNOWN_PROPERTY", f"{rt.name} has no property {name!r}")]
        )
    kind = registry.get(fd.type).sql_kind
    if kind in ("text", "list"):
        return [Condition(fd.name, "contains", text.strip())]
    if kind in ("number", "bool"):
        return parse_filters(rt, [(fd.name, text.strip())])  # the text read as a number or true/false
    raise ValidationFailed([FieldError("query", "NOT_SEARCHABLE", f"{name!r} cannot be searched")])


@router.post("/objects/{key}/records", status_code=201, summary="Create a record")
async def create_record(key: str, request: Request, creds: Caller) -> Response:
    svc = services_of(request)
    body = await read_json(request)

    def write(session: Session) -> Response:
        rt, s = _on_object(session, key)
        ops, shape_errors = parse.record_ops(rt, body, UserIds(s), creating=True)

        def run(dry: bool) -> WriteResult:
            return s.create(CreateCommand(rt.name, tuple(ops), validate_only=dry))

        result = _write(shape_errors, run)
        return _record_response(s, rt, result.record, 201)

    return await run_write_session(request, svc, creds, body, write, channel=CHANNEL)


@router.get("/objects/{key}/records/{record_id}", summary="Get a record")
async def get_record(key: str, record_id: str, request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def read(session: Session) -> Response:
        rt, s = _on_object(session, key)
        return _record_response(s, rt, s.get(rt.name, decode_record_id(record_id)))

    return await run_read_session(svc, creds, read, channel=CHANNEL)


@router.put("/objects/{key}/records/{record_id}", summary="Update a record")
async def update_record(key: str, record_id: str, request: Request, creds: Caller) -> Response:
    """``owners`` (or ``owner``) and ``followers`` take ``{"add": [...], "remove": [...]}``
    of user ids (at most 1 owner and 10 followers after the change); ``properties`` sets
    the fields given, ``null`` clears one, and a multi-value field (dropdown multiple,
    checkbox, file upload) takes ``{"add": [...], "remove": [...]}``."""
    svc = services_of(request)
    body = await read_json(request)

    def write(session: Session) -> Response:
        rt, s = _on_object(session, key)
        rid = decode_record_id(record_id)
        ops, shape_errors = parse.record_ops(rt, body, UserIds(s), creating=False)

        def run(dry: bool) -> WriteResult:
            return s.update(UpdateCommand(rt.name, rid, tuple(ops), validate_only=dry))

        result = _write(shape_errors, run)
        return _record_response(s, rt, result.record)

    return await run_write_session(request, svc, creds, body, write, channel=CHANNEL)


@router.delete("/objects/{key}/records/{record_id}", summary="Delete a record")
async def delete_record(key: str, record_id: str, request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def write(session: Session) -> Response:
        rt, s = _on_object(session, key)
        result = s.delete(DeleteCommand(rt.name, decode_record_id(record_id)))
        return json_response({"id": encode_record_id(result.id), "success": True})

    return await run_write_session(request, svc, creds, None, write, channel=CHANNEL)


# -- schema -------------------------------------------------------------------------
@router.get("/objects", include_in_schema=False)
@router.get("/objects/", summary="The custom objects")
async def list_objects(request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def read(session: Session) -> dict[str, Any]:
        require_metadata(expand(_caller(session)), "READ")
        types = session.schema.types.values()
        return {"objects": [render.object_json(rt) for rt in types if is_object(rt)]}

    return json_response(await run_read_session(svc, creds, read, channel=CHANNEL))


@router.get("/objects/{key}", summary="An object's schema and fields")
async def get_object(key: str, request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def read(session: Session) -> dict[str, Any]:
        require_metadata(expand(_caller(session)), "READ")
        rt = object_type(session.schema, key)
        fields = [render.field_json(rt, fd) for fd in rt if fd.name not in SYSTEM_PROPERTIES]
        return {"object": render.object_json(rt), "fields": fields, "cache": False}

    return json_response(await run_read_session(svc, creds, read, channel=CHANNEL))


@router.post("/objects", status_code=201, include_in_schema=False)
@router.post("/objects/", status_code=201, summary="Create a custom object")
async def create_object(request: Request, creds: Caller) -> Response:
    """Body: ``{"key": "custom_objects.pet", "labels": {"singular": "Pet", "plural": "Pets"},
    "primaryDisplayPropertyDetails": {"key": "custom_objects.pet.name", "name": "Name",
    "dataType": "TEXT"}}``. The object gets owners, followers and its primary property."""
    svc = services_of(request)
    body = _object(await read_json(request))

    def write(session: Session) -> Response:
        require_metadata(expand(_caller(session)), "WRITE")
        rt = _new_object(body)
        with engine_paths():
            created = session.add_type(rt)
        return json_response({"object": render.object_json(created)}, 201)

    return await run_write_session(request, svc, creds, body, write, channel=CHANNEL)


def _new_object(body: Mapping[str, Any]) -> RecordType:
    errors: list[FieldError] = []
    raw_key = body.get("key")
    name = raw_key.removeprefix(PREFIX) if isinstance(raw_key, str) else ""
    if not isinstance(raw_key, str) or not is_valid_name(name):
        errors.append(FieldError("key", "INVALID_KEY", "key is lower_snake, e.g. custom_objects.pet or pet"))
    elif name in STANDARD_OBJECTS or name == USER_MAP_TYPE:
        errors.append(FieldError("key", "RESERVED_KEY", f"{name!r} is reserved"))
    labels = body.get("labels")
    plural = labels.get("plural") if isinstance(labels, Mapping) else None
    if not isinstance(plural, str) or not plural.strip():
        errors.append(
            FieldError("labels.plural", "REQUIRED", 'labels is {"singular": "Pet", "plural": "Pets"}')
        )
    details = body.get("primaryDisplayPropertyDetails") or {"key": "name", "name": "Name", "dataType": "TEXT"}
    prop_name, prop_type, prop_label = "", "text", "Name"
    if not isinstance(details, Mapping):
        errors.append(
            FieldError("primaryDisplayPropertyDetails", "NOT_AN_OBJECT", "expected {key, name, dataType}")
        )
    else:
        raw = details.get("key")
        prop_name = raw.removeprefix(f"{PREFIX}{name}.") if isinstance(raw, str) else ""
        if not is_valid_name(prop_name) or prop_name in SYSTEM_PROPERTIES:
            errors.append(
                FieldError("primaryDisplayPropertyDetails.key", "INVALID_KEY", "a lower_snake field key")
            )
        data_type = details.get("dataType", "TEXT")
        if data_type not in ("TEXT", "NUMERICAL"):
            errors.append(FieldError("primaryDisplayPropertyDetails.dataType", "INVALID_DATA_TYPE",
                                     "the primary property is TEXT or NUMERICAL"))  # fmt: skip
        prop_type = "decimal" if data_type == "NUMERICAL" else "text"
        prop_label = str(details.get("name") or prop_name)
    if errors:
        raise ValidationFailed(errors)
    fields = {
        prop_name: FieldDef(prop_name, prop_type, label=prop_label),
        "owners": FieldDef("owners", "multi_user", label="Owner", max_items=1),
        "followers": FieldDef("followers", "multi_user", label="Followers", max_items=10),
    }
    return RecordType(name=name, label=str(plural).strip(), fields=fields, pack=PACK)


@router.post("/custom-fields", status_code=201, include_in_schema=False)
@router.post("/custom-fields/", status_code=201, summary="Add a field to a custom object")
async def create_field(request: Request, creds: Caller) -> Response:
    """Body: ``{"objectKey": "custom_objects.pet", "fieldKey": "custom_objects.pet.breed",
    "name": "Breed", "dataType": "SINGLE_OPTIONS", "options": [{"key": "lab", "label": "Labrador"}]}``."""
    svc = services_of(request)
    body = _object(await read_json(request))

    def write(session: Session) -> Response:
        require_metadata(expand(_caller(session)), "WRITE")
        object_key = body.get("objectKey")
        if not isinstance(object_key, str):
            raise ValidationFailed([FieldError("objectKey", "REQUIRED", "objectKey names the custom object")])
        rt = object_type(session.schema, object_key)
        definition = _field_definition(rt, body)
        with engine_paths():
            fd = session.add_field(rt.name, definition)
        return json_response({"field": render.field_json(rt, fd)}, 201)

    return await run_write_session(request, svc, creds, body, write, channel=CHANNEL)


def _field_definition(rt: RecordType, body: Mapping[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    raw = body.get("fieldKey")
    name = raw.removeprefix(f"{PREFIX}{rt.name}.") if isinstance(raw, str) else ""
    if not is_valid_name(name) or name in SYSTEM_PROPERTIES:
        errors.append(FieldError("fieldKey", "INVALID_KEY", f"e.g. {PREFIX}{rt.name}.my_field"))
    data_type = body.get("dataType")
    ftype = render.FIELD_TYPES.get(data_type) if isinstance(data_type, str) else None
    if ftype is None:
        errors.append(
            FieldError("dataType", "INVALID_DATA_TYPE", "one of " + ", ".join(sorted(render.FIELD_TYPES)))
        )
    options = body.get("options")
    if options is not None and not isinstance(options, list):
        errors.append(FieldError("options", "NOT_A_LIST", 'options is [{"key": "...", "label": "..."}]'))
    if errors:
        raise ValidationFailed(errors)
    definition: dict[str, Any] = {"name": name, "type": ftype, "label": str(body.get("name") or name)}
    if options:
        definition["options"] = options
    if ftype == "money":
        definition["default_currency"] = "USD"
    return definition


# -- anything else ------------------------------------------------------------------
@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def unknown(path: str, request: Request) -> Response:
    raise NotFound(f"no endpoint {request.method} {request.url.path}")
