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
import binascii
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from cardfile.api.dialects.tracker_v1.parse import is_id, parse_id
from cardfile.api.dialects.tracker_v1.plumbing import (
    Caller,
    api_limited,
    ctx,
    no_content,
    not_found,
    read,
    read_body,
)
from cardfile.api.dialects.tracker_v1.render import Names, result, tracker_time
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_write
from cardfile.auth.principal import Principal
from cardfile.engine import permissions as perm
from cardfile.engine.commands import CreateCommand, FieldOp
from cardfile.engine.search import Condition, search_records
from cardfile.errors import BadRequest, FieldError, NotFound, PayloadTooLarge, ValidationFailed
from cardfile.files import FileKind, FileMissing, FileRefused, check_file, open_store
from cardfile.services import Services

__all__ = ["DOCUMENT_TYPES", "attach_document", "body_limit", "decode_file", "router"]

router = APIRouter()
_log = logging.getLogger("cardfile.api.tracker_v1")
# Tracker resources that take documents, and their pack types
DOCUMENT_TYPES = {
    "client": "client", "contact": "contact", "lead": "lead", "opportunity": "opportunity",
    "project": "project", "resource": "resource",
}  # fmt: skip
_ATTACH_KEYS = {"filename", "documentType", "documentData", "recordId", "isPrimary", "description"}


def body_limit(svc: Services) -> int:
    """A JSON body carrying a file of the largest allowed size, base64-encoded."""
    n = svc.settings.max_file_bytes
    return 4 * ((n + 2) // 3) + 64 * 1024


def decode_file(svc: Services, raw: Any, key: str) -> bytes:
    """Base64 (standard or URL-safe, padding optional) into bytes, within the size limit."""
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest(f"{key} must be the file's bytes, base64-encoded", field=key)
    text = "".join(raw.split())
    if text.startswith("data:") and "," in text:  # a data: URL; the bytes decide the type
        text = text.split(",", 1)[1]
    text = text.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{key} is not valid base64", field=key) from None
    limit = svc.settings.max_file_bytes
    if len(data) > limit:
        raise PayloadTooLarge(f"a file may be at most {limit} bytes; this one has {len(data)}", limit=limit)
    return data


def checked_kind(data: bytes, filename: str, key: str) -> FileKind:
    try:
        return check_file(data, filename)
    except FileRefused as exc:
        raise ValidationFailed([FieldError(key, exc.code, exc.message)], exc.message) from None


def _folder(
    svc: Services, conn: Connection, principal: Principal, type_name: str, rid: int, name: str
) -> int:
    conds = [Condition("record_type", "eq", type_name), Condition("record_id", "eq", rid),
             Condition("name", "ieq", name)]  # fmt: skip
    found = search_records(conn, svc.catalog, "document_folder", conds, page_size=1)
    if found:
        return int(found[0]["id"])
    ops = (
        FieldOp("record_type", "set", type_name),
        FieldOp("record_id", "set", rid),
        FieldOp("name", "set", name),
    )
    return svc.engine.create(CreateCommand("document_folder", ops), ctx(principal), conn).id


def attach_document(
    svc: Services,
    conn: Connection,
    principal: Principal,
    type_name: str,
    rid: int,
    *,
    filename: str,
    kind: FileKind,
    data: bytes,
    key: str,
    document_type: str | None,
    is_primary: bool,
    description: str | None = None,
) -> int:
    """A ``document`` record for bytes already in the store under ``key``, on the record
    ``type_name``/``rid``, which the caller must be able to read (NotFound otherwise).
    A primary one demotes the record's other documents (the pack's ``one_primary``)."""
    rt = svc.catalog.record_type(conn, type_name)
    perm.require(principal, rt, "UPDATE")
    svc.engine.get(type_name, rid, conn, principal)
    name = filename.strip()
    if "." not in name.strip(".") or not name.rpartition(".")[2].isalnum():
        name = f"{name}.{kind.ext}"
    ops = [
        FieldOp("record_type", "set", type_name), FieldOp("record_id", "set", rid),
        FieldOp("filename", "set", name[:255]), FieldOp("is_primary", "set", is_primary),
        FieldOp("file_type", "set", kind.ext), FieldOp("content_type", "set", kind.content_type),
        FieldOp("size", "set", len(data)), FieldOp("sha256", "set", key),
    ]  # fmt: skip
    if document_type:
        ops.append(FieldOp("document_type", "set", document_type))
        ops.append(FieldOp("folder", "set", _folder(svc, conn, principal, type_name, rid, document_type)))
    if description:
        ops.append(FieldOp("description", "set", description))
    return svc.engine.create(CreateCommand("document", tuple(ops)), ctx(principal), conn).id


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
    key = await run_in_threadpool(open_store(svc.settings).put, data)

    def write(conn: Connection, principal: Principal) -> Response:
        try:
            doc_id = attach_document(
                svc, conn, principal, type_name, rid, filename=filename, kind=kind, data=data, key=key,
                document_type=(doc_type or "").strip() or None, is_primary=bool(primary), description=desc,
            )  # fmt: skip
        except NotFound as exc:
            if not_found(exc):
                raise BadRequest(f"no {resource} with id {rid}", field="recordId") from None
            raise
        return json_response(result(doc_id, "Document attached successfully"), 201)

    # the idempotency fingerprint needs no copy of the file: its hash stands for it
    fingerprint = {**body, "documentData": key}
    return await run_write(request, svc, creds, fingerprint, write)


def _parent_visible(svc: Services, conn: Connection, p: Principal, type_name: str, rid: int) -> bool:
    try:
        svc.engine.get(type_name, rid, conn, p)
    except NotFound as exc:
        if not_found(exc):
            return False
        raise
    return True


@router.get("/api/v1/{resource}/DocumentFolders/{Id}", tags=["Documents"], dependencies=api_limited,
            summary="Lists all document folders for a record")  # fmt: skip
async def folders(resource: str, Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    type_name = _type_of(resource)
    rid = parse_id(Id)

    def work(conn: Connection, p: Principal) -> list[dict[str, Any]]:
        if not _parent_visible(svc, conn, p, type_name, rid):
            return []
        conds = [Condition("record_type", "eq", type_name), Condition("record_id", "eq", rid)]
        rows = search_records(conn, svc.catalog, "document_folder", conds, sort="name", page_size=500)
        return [{"id": r["id"], "name": r.get("name")} for r in rows]

    rows = await read(svc, creds, work)
    return json_response(rows) if rows else no_content()


def _doc_json(doc: Mapping[str, Any], names: Names) -> dict[str, Any]:
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
            "createdByDisplayName": names.user(uid) if uid is not None else doc.get("created_by"),
        },
    }


@router.get("/api/v1/Resource/{id}/Documents", tags=["Documents"], dependencies=api_limited,
            summary="Gets documents for a resource")  # fmt: skip
async def resource_documents(id: str, request: Request, creds: Caller) -> Response:  # noqa: A002
    svc = services_of(request)
    rid = parse_id(id, "id")

    def work(conn: Connection, p: Principal) -> list[dict[str, Any]]:
        if not _parent_visible(svc, conn, p, "resource", rid):
            return []
        conds = [Condition("record_type", "eq", "resource"), Condition("record_id", "eq", rid)]
        docs = search_records(conn, svc.catalog, "document", conds, page_size=500)
        names = Names(conn, svc.catalog, p)
        return [_doc_json(d, names) for d in docs]

    rows = await read(svc, creds, work)
    return json_response(rows) if rows else no_content()


@router.get("/api/v1/Resource/{resourceId}/Document/{documentId}", tags=["Documents"], dependencies=api_limited,
            summary="Gets the physical file for a specific resource document (base64 in filecontent)")  # fmt: skip
async def resource_document(resourceId: str, documentId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    rid, did = parse_id(resourceId, "resourceId"), parse_id(documentId, "documentId")

    def work(conn: Connection, p: Principal) -> dict[str, Any] | None:
        if not _parent_visible(svc, conn, p, "resource", rid):
            return None
        conds = [Condition("id", "eq", did), Condition("record_type", "eq", "resource"),
                 Condition("record_id", "eq", rid)]  # fmt: skip
        docs = search_records(conn, svc.catalog, "document", conds, page_size=1)
        return _doc_json(docs[0], Names(conn, svc.catalog, p)) | {"_key": docs[0]["sha256"]} if docs else None

    doc = await read(svc, creds, work)
    if doc is None:
        return no_content()
    key = doc.pop("_key")
    try:
        data = await run_in_threadpool(open_store(svc.settings).get, key)
    except FileMissing:  # the metadata is there but the bytes are not: "File not found"
        _log.error("document %s: the stored file %s is missing", did, key)
        return no_content()
    doc["filecontent"] = base64.b64encode(data).decode("ascii")
    return json_response(doc)
