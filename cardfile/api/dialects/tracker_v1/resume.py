"""``POST /api/v1/Resource/CreateFromResume``: a resource from an uploaded résumé.

The file (``fileName``, base64 ``fileData``; PDF, DOCX or plain text) is read by
``cardfile/resume`` and the resource gets what was found: first name and surname, email,
telephone, LinkedIn URL, job title, the employment history (rows of
``full_employment_history``, and the section's text in ``employment_history``), and
``resume_received`` = now. ``resourceStatusId`` sets the status, ``source`` (or
``resourceSource``) the source, ``department`` the department (a ``department`` entry's id
or name), ``userId`` the owner. The résumé is attached to the resource as its primary
document (type ``Resume``). With ``opportunityId`` the resource goes on that
opportunity's long list as an applicant, or on its shortlist when ``list`` is
``shortlist``. With ``resource`` (an existing resource's id) that resource is completed
instead: only its empty fields are filled, and the résumé is attached.

Answer: 201 ``{success, resourceId, returnCode: "CREATED" | "UPDATED",
returnDescription: what was found, returnAction: "created" | "updated"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from cardfile.api.dialects.tracker_v1.documents import attach_document, system_search
from cardfile.api.dialects.tracker_v1.errors import duplicate_as_conflict
from cardfile.api.dialects.tracker_v1.lists import longlist_entry
from cardfile.api.dialects.tracker_v1.parse import is_id
from cardfile.api.dialects.tracker_v1.plumbing import Caller, api_limited, find, read_body, write
from cardfile.api.kit.files import body_limit, checked_kind, decode_file, store_file
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.engine.commands import CreateCommand, FieldOp, UpdateCommand
from cardfile.engine.query import Condition, Query
from cardfile.engine.session import Session
from cardfile.errors import BadRequest, FieldError, ValidationFailed
from cardfile.resume import Resume, ResumeUnreadable, parse_resume, resume_text

__all__ = ["router"]

router = APIRouter()
_KEYS = {"resourceStatusId", "opportunityId", "source", "resource", "list", "fileName", "fileData", "department",
         "userId", "resourceSource"}  # fmt: skip
RESUME_KINDS = ("pdf", "docx", "txt")


def _resume_ops(r: Resume) -> dict[str, Any]:
    """field -> value of what the résumé gave."""
    out: dict[str, Any] = {}
    for f, v in (("first_name", r.first_name), ("surname", r.surname), ("email", r.email),
                 ("telephone", r.phone), ("linked_in_url", r.linkedin), ("job_title", r.job_title),
                 ("employment_history", r.employment_text)):  # fmt: skip
        if v:
            out[f] = v
    rows = []
    for j in r.jobs:
        row: dict[str, Any] = {}
        for f, v in (
            ("job_title", j.job_title),
            ("organization", j.organization),
            ("description", j.description),
        ):
            if v:
                row[f] = v
        if j.start_date:
            row["start_date"] = j.start_date.isoformat()
        if j.end_date:
            row["end_date"] = j.end_date.isoformat()
        if row:
            rows.append(row)
    if rows:
        out["full_employment_history"] = rows
    return out


def _optional_id(body: Mapping[str, Any], key: str) -> int | None:
    v = body.get(key)
    if v is None or v == 0 or v == "":
        return None
    if isinstance(v, str) and v.strip().isdigit():
        v = int(v.strip())
    if not is_id(v) or v < 0:
        raise BadRequest(f"{key} must be an id", field=key)
    return v or None


def _department(session: Session, raw: Any) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise BadRequest("department must be a department's name or id", field="department")
    text = str(raw).strip()
    which = Condition("id", "eq", int(text)) if text.isdigit() else Condition("name", "ieq", text)
    conds = (Condition("list", "eq", "department"), which)
    hits = system_search(session, Query("setting", conds, page_size=1))
    if not hits:
        raise BadRequest(f"no department {text[:60]!r}", field="department")
    return int(hits[0]["id"])


@router.post("/api/v1/Resource/CreateFromResume", tags=["Resource"], dependencies=api_limited,
             summary="Creates a new resource record from a resume (PDF, DOCX or plain text)")  # fmt: skip
async def create_from_resume(request: Request, creds: Caller) -> Response:
    svc = services_of(request)
    body = await read_body(request, limit=body_limit(svc))
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise BadRequest(f"unknown member(s): {', '.join(unknown)[:200]}")
    filename = body.get("fileName")
    if not isinstance(filename, str) or not filename.strip() or len(filename) > 255:
        raise BadRequest("fileName must be the résumé's file name", field="fileName")
    for key in ("source", "resourceSource", "list"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise BadRequest(f"{key} must be text", field=key)
    status, opp_id = _optional_id(body, "resourceStatusId"), _optional_id(body, "opportunityId")
    existing, owner = _optional_id(body, "resource"), _optional_id(body, "userId")
    which = (body.get("list") or "").strip().lower().replace(" ", "").replace("-", "")
    if which not in ("", "longlist", "shortlist"):
        raise BadRequest("list is longlist or shortlist", field="list")
    data = decode_file(svc, body.get("fileData"), "fileData")
    kind = checked_kind(data, filename, "fileData")
    if kind.ext not in RESUME_KINDS:
        raise ValidationFailed([FieldError("fileData", "UNSUPPORTED_RESUME_TYPE",
                                           f"résumés are read from PDF, DOCX or plain text files, not a {kind.name}")])  # fmt: skip
    try:
        text = await run_in_threadpool(resume_text, data, kind.ext)
    except ResumeUnreadable as exc:
        raise ValidationFailed([FieldError("fileData", "UNREADABLE_RESUME", str(exc))]) from None
    parsed = parse_resume(text)
    found = _resume_ops(parsed)
    key = await store_file(svc, data)
    source = body.get("source") or body.get("resourceSource")

    def work(session: Session) -> Response:
        extra: dict[str, Any] = {"resume_received": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
        if status:
            extra["status"] = status
        if source:
            extra["source"] = source
        dept = _department(session, body.get("department"))
        if dept:
            extra["department"] = dept
        if existing:
            rec = find(session, "resource", existing)
            if rec is None:
                raise BadRequest(f"no resource with id {existing}", field="resource")
            values = {k: v for k, v in {**found, **extra}.items() if rec.get(k) in (None, "", [])}
            ops = [FieldOp(k, "set", v) for k, v in values.items()]
            if owner and rec.get("owner") is None:
                ops.append(FieldOp("owners", "replace", [{"user": owner, "rank": 1}]))
            if ops:
                session.update(UpdateCommand("resource", existing, tuple(ops)))
            rid, action = existing, "updated"
        else:
            if not parsed.first_name and not parsed.surname and not parsed.email:
                raise ValidationFailed([FieldError("fileData", "NOTHING_FOUND",
                                                   "no name or email address was found in the résumé")])  # fmt: skip
            ops = [FieldOp(k, "set", v) for k, v in {**found, **extra}.items()]
            if owner:
                ops.append(FieldOp("owners", "replace", [{"user": owner, "rank": 1}]))
            rid = session.create(CreateCommand("resource", tuple(ops))).id
            action = "created"
        attach_document(session, "resource", rid, filename=filename, kind=kind, size=len(data), key=key,
                        document_type="Resume", is_primary=True)  # fmt: skip
        if opp_id:
            if find(session, "opportunity", opp_id) is None:
                raise BadRequest(f"no opportunity with id {opp_id}", field="opportunityId")
            if which == "shortlist":
                sl = [FieldOp("resource", "set", rid), FieldOp("opportunity", "set", opp_id),
                      FieldOp("active_record", "set", True), FieldOp("placement_source", "set", "Resume")]  # fmt: skip
                with duplicate_as_conflict(
                    f"resource {rid} is on the shortlist of opportunity {opp_id} already"
                ):
                    session.create(CreateCommand("opportunity_resource", tuple(sl)))
            else:
                longlist_entry(session, opp_id, rid, source=source or "Resume", applicant=True)
        what = ", ".join(n.replace("_", " ") for n in parsed.found()) or "nothing"
        return json_response(
            {"success": True, "resourceId": rid, "returnCode": action.upper(),
             "returnDescription": f"Resource {action} from the resume; found: {what}", "returnAction": action},
            201,
        )  # fmt: skip

    return await write(request, creds, {**body, "fileData": key}, work)
