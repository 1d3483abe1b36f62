"""Documents: ``{Resource}/AttachDocument``, ``DocumentFolders/{Id}``, a resource's
documents and one document's bytes.

A document is a ``document`` record (file name, type, folder, size, the bytes' SHA-256,
which record it belongs to) plus its bytes in the file store (``cardfile/files``). The
bytes arrive base64-encoded in ``documentData`` and leave base64-encoded in
``filecontent``. A document is reached only through its record: whoever may not read
the record (the engine's read check, ownership included) gets 204, as for a record that
does not exist. Attaching needs the right to update the record's type.

A document's folder is named after its ``documentType`` (one ``document_folder`` record
per record and name, made on first use); a document without a type has no folder.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from cardfile.api.dialects.tracker_v1.parse import is_id, parse_id
from cardfile.api.dialects.tracker_v1.plumbing import (
    CHANNEL,
    Caller,
    answer,
    api_limited,
    find,
    no_content,
    not_found,
    read_body,
    write,
)
from cardfile.api.dialects.tracker_v1.render import result, tracker_time
from cardfile.api.kit.files import body_limit, checked_kind, decode_file, load_file, store_file
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_read_session
from cardfile.engine import permissions as perm
from cardfile.engine.commands import CreateCommand, FieldOp
from cardfile.engine.query import Condition, Query
from cardfile.engine.session import Session
from cardfile.errors import BadRequest, NotFound
from cardfile.files import FileKind, FileMissing, kept_name

__all__ = ["DOCUMENT_TYPES", "attach_document", "router", "system_search"]

router = APIRouter()
_log = logging.getLogger("cardfile.api.tracker_v1")
# Tracker resources that take documents, and their pack types
DOCUMENT_TYPES = {
    "client": "client", "contact": "contact", "lead": "lead", "opportunity": "opportunity",
    "project": "project", "resource": "resource",
}  # fmt: skip
_ATTACH_KEYS = {"filename", "documentType", "documentData", "recordId", "isPrimary", "description"}


def system_search(session: Session, q: Query) -> list[dict[str, Any]]:
    """The records ``q`` matches, read by the system, not the caller: the dialect's own
    lookups (a record's documents and folders, reached through the record whose read the
    caller's session checked; the department list)."""
    return session.acting_as(None).query(q).items


def _folder(session: Session, type_name: str, rid: int, name: str) -> int:
    conds = (Condition("record_type", "eq", type_name), Condition("record_id", "eq", rid),
             Condition("name", "ieq", name))  # fmt: skip
    folders = system_search(session, Query("document_folder", conds, page_size=1))
    if folders:
        return int(folders[0]["id"])
    ops = (
        FieldOp("record_type", "set", type_name),
        FieldOp("record_id", "set", rid),
        FieldOp("name", "set", name),
    )
    return session.create(CreateCommand("document_folder", ops)).id


def attach_document(
    session: Session,
    type_name: str,
    rid: int,
    *,
    filename: str,
    kind: FileKind,
    size: int,
    key: str,
    document_type: str | None,
    is_primary: bool,
    description: str | None = None,
) -> int:
    """A ``document`` record for bytes already in the store under ``key``, on the record
    ``type_name``/``rid``, which the caller must be able to read (NotFound otherwise).
    A primary one demotes the record's other documents (the pack's ``one_primary``)."""
    perm.require(session.principal, session.record_type(type_name), "UPDATE")
    session.get(type_name, rid)
    ops = [
        FieldOp("record_type", "set", type_name), FieldOp("record_id", "set", rid),
        FieldOp("filename", "set", kept_name(filename, kind)), FieldOp("is_primary", "set", is_primary),
        FieldOp("file_type", "set", kind.ext), FieldOp("content_type", "set", kind.content_type),
        FieldOp("size", "set", size), FieldOp("sha256", "set", key),
    ]  # fmt: skip
    if document_type:
        ops.append(FieldOp("document_type", "set", document_type))
        ops.append(FieldOp("folder", "set", _folder(session, type_name, rid, document_type)))
    if description:
        ops.append(FieldOp("description", "set", description))
    return session.create(CreateCommand("document", tuple(ops))).id


def _type_of(resource: str) -> str:
    t = DOCUMENT_TYPES.get(resource.lower())
    if t is None:
        raise NotFound(f"{resource[:60]!r} takes no documents")
    return t


@router.post("/api/v1/{resource}/AttachDocument", tags=["Documents"], dependencies=api_limited,
             summary="Attaches a document to a record (Client, Contact, Lead, Opportunity, Project, Resource)")  # fmt: skip
async def attach(resource: str, request: Request, creds: Caller) -> Response:
    svc = services_of(request)
    type_name = _type_of(resource)
    body = await read_body(request, limit=body_limit(svc))
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(body) - _ATTACH_KEYS)
    if unknown:
        raise BadRequest(f"unknown member(s): {', '.join(unknown)[:200]}")
    rid = body.get("recordId")
    if not is_id(rid) or rid <= 0:
        raise BadRequest("recordId must be the id of the record", field="recordId")
    filename = body.get("filename")
    if not isinstance(filename, str) or not filename.strip() or len(filename) > 255:
        raise BadRequest("filename must be the file's name (at most 255 characters)", field="filename")
    doc_type = body.get("documentType")
    if doc_type is not None and (not isinstance(doc_type, str) or len(doc_type) > 100):
        raise BadRequest("documentType must be text (at most 100 characters)", field="documentType")
    primary = body.get("isPrimary")
    if primary is not None and not isinstance(primary, bool):
        raise BadRequest("isPrimary must be true or false", field="isPrimary")
    desc = body.get("description")
    if desc is not None and not isinstance(desc, str):
        raise BadRequest("description must be text", field="description")
    data = decode_file(svc, body.get("documentData"), "documentData")
    kind = checked_kind(data, filename, "documentData")
    key = await store_file(svc, data)

    def work(session: Session) -> Response:
        try:
            doc_id = attach_document(
                session, type_name, rid, filename=filename, kind=kind, size=len(data), key=key,
                document_type=(doc_type or "").strip() or None, is_primary=bool(primary), description=desc,
            )  # fmt: skip
        except NotFound as exc:
            if not_found(exc):
                raise BadRequest(f"no {resource} with id {rid}", field="recordId") from None
            raise
        return json_response(result(doc_id, "Document attached successfully"), 201)

    # the idempotency fingerprint needs no copy of the file: its hash stands for it
    fingerprint = {**body, "documentData": key}
    return await write(request, creds, fingerprint, work)


@router.get("/api/v1/{resource}/DocumentFolders/{Id}", tags=["Documents"], dependencies=api_limited,
            summary="Lists all document folders for a record")  # fmt: skip
async def folders(resource: str, Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    type_name = _type_of(resource)
    rid = parse_id(Id)

    def work(session: Session) -> list[dict[str, Any]]:
        if find(session, type_name, rid) is None:
            return []
        conds = (Condition("record_type", "eq", type_name), Condition("record_id", "eq", rid))
        rows = system_search(session, Query("document_folder", conds, sort="name", page_size=500))
        return [{"id": r["id"], "name": r.get("name")} for r in rows]

    return await answer(request, creds, work)


def _user_names(session: Session, docs: Iterable[Mapping[str, Any]]) -> dict[int, str | None]:
    """The names of the users who made these documents."""
    ids = [uid for d in docs if isinstance(uid := d.get("created_by_user"), int)]
    people = session.names().people(ids, ())
    return {p.id: p.name for p in people}


def _doc_json(doc: Mapping[str, Any], users: Mapping[int, str | None]) -> dict[str, Any]:
    uid = doc.get("created_by_user")
    return {
        "documentId": doc["id"],
        "filename": doc.get("filename"),
        "isPrimary": bool(doc.get("is_primary")),
        "documentType": doc.get("document_type"),
        "description": doc.get("description"),
        "folderId": doc.get("folder"),
        "fileType": doc.get("file_type"),
        "history": {
            "createdOn": tracker_time(doc.get("created_at")),
            "createdByUserId": uid,
            "createdByDisplayName": users.get(uid) if uid is not None else doc.get("created_by"),
        },
    }


@router.get("/api/v1/Resource/{id}/Documents", tags=["Documents"], dependencies=api_limited,
            summary="Gets documents for a resource")  # fmt: skip
async def resource_documents(id: str, request: Request, creds: Caller) -> Response:  # noqa: A002
    rid = parse_id(id, "id")

    def work(session: Session) -> list[dict[str, Any]]:
        if find(session, "resource", rid) is None:
            return []
        conds = (Condition("record_type", "eq", "resource"), Condition("record_id", "eq", rid))
        docs = system_search(session, Query("document", conds, page_size=500))
        users = _user_names(session, docs)
        return [_doc_json(d, users) for d in docs]

    return await answer(request, creds, work)


@router.get("/api/v1/Resource/{resourceId}/Document/{documentId}", tags=["Documents"], dependencies=api_limited,
            summary="Gets the physical file for a specific resource document (base64 in filecontent)")  # fmt: skip
async def resource_document(resourceId: str, documentId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    rid, did = parse_id(resourceId, "resourceId"), parse_id(documentId, "documentId")

    def work(session: Session) -> dict[str, Any] | None:
        if find(session, "resource", rid) is None:
            return None
        conds = (Condition("id", "eq", did), Condition("record_type", "eq", "resource"),
                 Condition("record_id", "eq", rid))  # fmt: skip
        docs = system_search(session, Query("document", conds, page_size=1))
        return _doc_json(docs[0], _user_names(session, docs)) | {"_key": docs[0]["sha256"]} if docs else None

    doc = await run_read_session(svc, creds, work, channel=CHANNEL)
    if doc is None:
        return no_content()
    key = doc.pop("_key")
    try:
        data = await load_file(svc, key)
    except FileMissing:  # the metadata is there but the bytes are not: "File not found"
        _log.error("document %s: the stored file %s is missing", did, key)
        return no_content()
    doc["filecontent"] = base64.b64encode(data).decode("ascii")
    return json_response(doc)
