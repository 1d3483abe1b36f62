"""The TIBCO MDM record API under ``/mdm``: modify, add, read and delete a record.

``/mdm/records/{repositoryName}/modifyRecord`` answers PUT (as the vendor documents it)
and POST. Callers authenticate with ``Authorization: Bearer`` (an API key or an access
token; the engine checks the scopes ``records.{type}.*`` of the repository's record type)
and are counted in the rate-limit group ``mdm``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from starlette.responses import Response

from cardfile.api.dialects.tibco_mdm.errors import SHAPE
from cardfile.api.dialects.tibco_mdm.parse import RecordRef, parse_request
from cardfile.api.dialects.tibco_mdm.records import delete_record, read_record, write_record
from cardfile.api.dialects.tibco_mdm.repository import Repository, find_repository
from cardfile.api.dialects.tibco_mdm.schema import definition_json, new_repository
from cardfile.api.kit.body import JSON_BODY_DOC, read_json
from cardfile.api.kit.credentials import Credentials, credentials_of
from cardfile.api.kit.mount import api_app
from cardfile.api.kit.ratelimit import limited
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_read_session, run_write_session
from cardfile.engine.commands import Context
from cardfile.engine.permissions import require_metadata
from cardfile.engine.session import Session
from cardfile.errors import UnknownRecordType
from cardfile.services import Services

__all__ = ["DEFAULT_LIMIT", "GROUP", "create_app", "router"]

GROUP = "mdm"
DEFAULT_LIMIT = "300/minute"
CHANNEL = "mdm"


router = APIRouter(tags=["tibco-mdm"], dependencies=[Depends(limited(GROUP))])
Caller = Annotated[Credentials, Depends(credentials_of)]


def _repository(session: Session, name: str) -> Repository:
    repo = find_repository(session.schema, name)
    if repo is None:
        raise UnknownRecordType(f"no repository {name[:80]!r}")
    return repo


def _context(session: Session, work_item_id: str | None) -> Context:
    # a change made within a work item is tied to it in the record's history
    return session.context(f"workItemId={work_item_id}" if work_item_id else None)


async def _write(
    request: Request,
    creds: Credentials,
    repository: str,
    perspective: str | None,
    work_item_id: str | None,
    *,
    adding: bool,
) -> Response:
    svc = services_of(request)
    body = await read_json(request)

    def write(session: Session) -> Response:
        repo = _repository(session, repository)
        schema = session.schema
        req = parse_request(
            repo,
            body,
            path_repository=repository,
            perspective=perspective,
            work_item_id=work_item_id,
            schema_repo=lambda n: find_repository(schema, n),
        )
        out = write_record(session, _context(session, req.work_item_id), repo, req, adding=adding)
        return json_response(out)

    return await run_write_session(request, svc, creds, body, write, channel=CHANNEL)


Perspective = Annotated[str | None, Query(alias="perspectiveName")]
WorkItem = Annotated[str | None, Query(alias="workItemId")]


@router.put("/records/{repositoryName}/modifyRecord", summary="Modify a record", openapi_extra=JSON_BODY_DOC)
async def modify_record(
    request: Request,
    creds: Caller,
    repositoryName: str,
    perspective: Perspective = None,
    work_item: WorkItem = None,
) -> Response:
    """Body: ``{process, validate, workItemId, perspectiveName, record: {productId, productIdExt,
    attributes, relationships, state, deleted}}``. Left out, ``process`` is true and the
    record is validated and saved; ``validate: true`` checks without saving."""
    return await _write(request, creds, repositoryName, perspective, work_item, adding=False)


router.add_api_route(
    "/records/{repositoryName}/modifyRecord",
    modify_record,
    methods=["POST"],
    summary="Modify a record (POST)",
    openapi_extra=JSON_BODY_DOC,
    include_in_schema=False,
)


@router.post("/records/{repositoryName}/addRecord", summary="Add a record", openapi_extra=JSON_BODY_DOC)
async def add_record(
    request: Request,
    creds: Caller,
    repositoryName: str,
    perspective: Perspective = None,
) -> Response:
    """The modify body for a new record; ``productId`` + ``productIdExt`` must be free."""
    return await _write(request, creds, repositoryName, perspective, None, adding=True)


router.add_api_route(
    "/records/{repositoryName}",
    add_record,
    methods=["POST"],
    summary="Add a record (the older path)",
    openapi_extra=JSON_BODY_DOC,
    include_in_schema=False,
)


@router.get("/records/{repositoryName}/{id}", summary="Get a record by productId and productIdExt")
async def get_record(
    request: Request,
    creds: Caller,
    repositoryName: str,
    id: str,
    id_ext: Annotated[str | None, Query(alias="idExt")] = None,
    perspective: Perspective = None,
    record_state: Annotated[str | None, Query(alias="recordState")] = None,
    active: Annotated[str | None, Query(alias="Active")] = None,
) -> Response:
    svc = services_of(request)
    ref = RecordRef(product_id=id, product_id_ext=id_ext)

    def read(session: Session) -> dict[str, Any]:
        repo = _repository(session, repositoryName)
        return read_record(
            session, repo, ref, perspective=perspective, record_state=record_state, active=active
        )

    return json_response(await run_read_session(svc, creds, read, channel=CHANNEL))


@router.delete("/records/{repositoryName}/{id}", summary="Delete a record (it is marked deleted)")
async def delete(
    request: Request,
    creds: Caller,
    repositoryName: str,
    id: str,
    id_ext: Annotated[str | None, Query(alias="idExt")] = None,
    work_item: WorkItem = None,
    delete_related: Annotated[bool, Query(alias="deleteRelRecords")] = False,
) -> Response:
    svc = services_of(request)
    ref = RecordRef(product_id=id, product_id_ext=id_ext)

    def write(session: Session) -> Response:
        repo = _repository(session, repositoryName)
        ctx = _context(session, work_item)
        return json_response(delete_record(session, ctx, repo, ref, related=delete_related))

    return await run_write_session(request, svc, creds, None, write, channel=CHANNEL)


# -- repositories (an extension: defined at runtime, described) -------------------------


@router.post(
    "/repositories", status_code=201, summary="Define a repository at runtime", openapi_extra=JSON_BODY_DOC
)
async def create_repository(request: Request, creds: Caller) -> Response:
    """Body: ``{"name": "Supplier", "attributes": [{"name": "SupplierName", "type": "text",
    "required": true}], "relationships": [{"name": "SupplierCompany", "targetRepository":
    "Company", "attributes": [{"name": "Since", "type": "date"}]}]}``; needs metadata.WRITE."""
    svc = services_of(request)
    body = await read_json(request)

    def write(session: Session) -> Response:
        require_metadata(session.principal, "WRITE")
        rt = new_repository(body, session.schema.types)
        session.add_type(rt)
        return json_response(definition_json(_repository(session, rt.name)), 201)

    return await run_write_session(request, svc, creds, body, write, channel=CHANNEL)


@router.get(
    "/repositories/{repositoryName}", summary="A repository's attributes, relationships and perspectives"
)
async def get_repository(request: Request, creds: Caller, repositoryName: str) -> Response:
    svc = services_of(request)

    def read(session: Session) -> dict[str, Any]:
        require_metadata(session.principal, "READ")
        return definition_json(_repository(session, repositoryName))

    return json_response(await run_read_session(svc, creds, read, channel=CHANNEL))


def create_app(services: Services) -> FastAPI:
    """The dialect as an application of its own, for ``app.mount("/mdm", ...)``."""
    return api_app(
        services,
        SHAPE,
        [router],
        rate_groups={GROUP: DEFAULT_LIMIT},
        title="cardfile: TIBCO MDM",
        description="TIBCO MDM's record API on cardfile's engine.",
        docs_url=None,
        redoc_url=None,
    )
