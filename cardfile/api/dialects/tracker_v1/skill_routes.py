"""Skills: the skills metadata (``MetaData/Skills/...``) and a resource's skills
(``Resource/{resourceId}/Skills``).

Skills are ``skill`` records; an area is a ``skill_area`` record (its id is the
``areaId``) with a category name, and a skill's ``skill_area`` links it to its area. A
skill list is a skill of kind ``list``: its id is the ``skillListId`` and its
``list_values`` rows are the values (a row's id is a ``skillValueId``). A resource's
skills are read and written through ``cardfile.tracker.skills``, the same code the
widget dialect uses, so both dialects see the same skills; the engine judges the values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from cardfile.api.dialects.tracker_v1.parse import is_id, parse_id
from cardfile.api.dialects.tracker_v1.plumbing import (
    Caller,
    answer,
    api_limited,
    find,
    no_content,
    read_body,
    write,
)
from cardfile.api.dialects.tracker_v1.render import result
from cardfile.api.kit.responses import json_response
from cardfile.engine.commands import FieldOp, UpdateCommand
from cardfile.engine.query import Condition, Query
from cardfile.engine.results import WriteResult
from cardfile.engine.session import Session
from cardfile.errors import BadRequest, FieldError, ValidationFailed
from cardfile.fieldtypes.base import InvalidValue
from cardfile.fieldtypes.skills import QUICK, quick_choice
from cardfile.tracker import skills as sk

__all__ = ["router"]

router = APIRouter()
_ITEM_KEYS = {"skillId", "skillName", "skillValueId", "skillValue", "skillType"}
MAX_PAGE = 500


# -- metadata ------------------------------------------------------------------------------


def _page(request: Request) -> tuple[int, int]:
    q = {k.lower(): v for k, v in request.query_params.items()}
    out = []
    for names, default in ((("pagenumber", "page"), 1), (("maxresults", "pagesize", "limit"), 50)):
        raw = next((q[n] for n in names if n in q), None)
        if raw is None or raw == "":
            out.append(default)
            continue
        if not raw.isdigit() or int(raw) < 1:
            raise BadRequest(f"{names[0]} must be a positive integer", field=names[0])
        out.append(int(raw))
    page, size = out
    if size > MAX_PAGE:
        raise BadRequest(f"maxResults may be at most {MAX_PAGE}", field="maxResults")
    return page, size


def _skill_row(s: Mapping[str, Any]) -> dict[str, Any]:
    kind = sk.kind_of(s)
    return {
        "skillId": s["id"], "skillName": s.get("name"), "skillType": kind, "areaId": s.get("skill_area"),
        "category": s.get("category"), "skillListId": s["id"] if kind == "list" else None,
    }  # fmt: skip


def _skills(
    session: Session, *conds: Condition, sort: str | None = None, page: int = 1, size: int = 10
) -> list[dict[str, Any]]:
    """Page ``page`` of the ``skill`` records matching ``conds``, ``size`` to a page."""
    return session.query(Query("skill", conds, sort=sort, page=page, page_size=size)).items


@router.get("/api/v1/MetaData/Skills/Hierarchy", tags=["MetaData"], dependencies=api_limited,
            summary="Gets skill categories and areas (lightweight hierarchy without skills)")  # fmt: skip
async def hierarchy(request: Request, creds: Caller) -> Response:
    def work(session: Session) -> list[dict[str, Any]]:
        areas = session.all_records(Query("skill_area"))
        cats: dict[str, list[dict[str, Any]]] = {}
        for a in sorted(areas, key=lambda a: (a.get("order") is None, a.get("order") or 0, a["id"])):
            cats.setdefault(a.get("category") or "", []).append(
                {"id": a["id"], "name": a.get("name"), "order": a.get("order")}
            )
        return [{"category": c or None, "areas": v} for c, v in sorted(cats.items())]

    return await answer(request, creds, work)


@router.get("/api/v1/MetaData/Skills/Areas/{areaId}/Skills", tags=["MetaData"], dependencies=api_limited,
            summary="Gets paginated skills for a specific area (pageNumber, maxResults)")  # fmt: skip
async def area_skills(areaId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    area = parse_id(areaId, "areaId")
    page, size = _page(request)

    def work(session: Session) -> list[dict[str, Any]]:
        got = _skills(session, Condition("skill_area", "eq", area), sort="name", page=page, size=size)
        return [_skill_row(s) for s in got]

    return await answer(request, creds, work)


@router.get("/api/v1/MetaData/Skills/Search", tags=["MetaData"], dependencies=api_limited,
            summary="Gets paginated skills with search across all areas (searchTerm, pageNumber, maxResults)")  # fmt: skip
async def skills_search(request: Request, creds: Caller) -> Response:
    page, size = _page(request)
    q = {k.lower(): v for k, v in request.query_params.items()}
    term = (q.get("searchterm") or q.get("search") or q.get("term") or q.get("name") or "").strip()

    def work(session: Session) -> list[dict[str, Any]]:
        conds = [Condition("name", "contains", term)] if term else []
        return [_skill_row(s) for s in _skills(session, *conds, sort="name", page=page, size=size)]

    return await answer(request, creds, work)


@router.get("/api/v1/MetaData/Skills/Areas/{areaId}/Count", tags=["MetaData"], dependencies=api_limited,
            summary="Gets skills count for a specific area")  # fmt: skip
async def area_count(areaId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    area = parse_id(areaId, "areaId")

    def work(session: Session) -> dict[str, Any] | None:
        if not session.query(Query("skill_area", (Condition("id", "eq", area),), page_size=1)).items:
            return None
        q = Query("skill", (Condition("skill_area", "eq", area),), page_size=1, with_total=True)
        return {"areaId": area, "count": session.query(q).total}

    return await answer(request, creds, work)


@router.get("/api/v1/MetaData/Skills/List/{skillListId}", tags=["MetaData"], dependencies=api_limited,
            summary="Gets skill list with its associated values")  # fmt: skip
async def skill_list(skillListId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    sid = parse_id(skillListId, "skillListId")

    def work(session: Session) -> dict[str, Any] | None:
        got = _skills(session, Condition("id", "eq", sid))
        if not got or sk.kind_of(got[0]) != "list":
            return None
        s = got[0]
        values = sorted(
            s.get("list_values") or (), key=lambda r: (r.get("order") is None, r.get("order") or 0, r["id"])
        )
        return {"skillListId": sid, "name": s.get("name"),
                "values": [{"skillValueId": r["id"], "value": r.get("value"), "order": r.get("order")} for r in values]}  # fmt: skip

    return await answer(request, creds, work)


# -- a resource's skills ----------------------------------------------------------------------


def _entry_json(e: sk.SkillEntry, skills: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    return {"skillId": e.skill_id, "skillName": skills.get(e.skill_id, {}).get("name"),
            "skillValueId": e.value_id, "skillValue": e.value, "skillType": e.kind}  # fmt: skip


def _entries(session: Session, rec: Mapping[str, Any]) -> tuple[list[sk.SkillEntry], dict[int, Any]]:
    ids = [int(i) for i in rec.get("quick_skills") or ()] + [
        int(r["skill"]) for r in rec.get("skills") or () if r.get("skill") is not None
    ]
    found = _skills(session.acting_as(None), Condition("id", "in", sorted(set(ids))), size=500) if ids else []
    skills = {int(x["id"]): x for x in found}
    return sk.entries_of(rec, skills), skills


def _items(body: Any) -> list[Mapping[str, Any]]:
    if not isinstance(body, Mapping) or set(body) - {"skills"}:
        raise BadRequest('the body is {"skills": [{"skillId": …, "skillValue": …}, …]}')
    items = body.get("skills")
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise BadRequest("skills must be a list of skill objects", field="skills")
    for n, item in enumerate(items):
        unknown = sorted(set(item) - _ITEM_KEYS)
        if unknown:
            raise BadRequest(
                f"skills[{n}]: unknown member(s) {', '.join(unknown)[:200]}", field=f"skills[{n}]"
            )
    return items


@dataclass
class _Skills:
    """A request's skills: quick ones on or off, the others' values (None removes), the
    item each skill came from, and the problems found before the engine's (422)."""

    quick: dict[int, bool] = field(default_factory=dict)
    values: dict[int, Any] = field(default_factory=dict)
    item: dict[int, int] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    def write(self, run: Callable[[bool], WriteResult | None]) -> WriteResult | None:
        """``run`` the ops (only checked when a problem was already found); every problem,
        the engine's at the item they are about, at once."""
        errors = list(self.errors)
        out = None
        try:
            out = run(bool(errors))
        except ValidationFailed as exc:
            rows = sk.row_skills(self.values)
            for e in exc.errors:
                m = _ROW.match(e.field)
                if m is None or int(m.group(1)) >= len(rows):
                    errors.append(e)
                    continue
                where = f"skills[{self.item[rows[int(m.group(1))]]}]"
                errors.append(FieldError(f"{where}.skillValue", e.code, e.message))
        if errors:
            raise ValidationFailed(sorted(errors, key=_item_index))
        return out


_ROW = re.compile(r"^skills\[([0-9]+)\]\.value$")


def _item_index(e: FieldError) -> int:
    m = re.match(r"^skills\[([0-9]+)\]", e.field)
    return int(m.group(1)) if m else -1


def _resolve(session: Session, items: list[Mapping[str, Any]]) -> _Skills:
    """Each item's skill, found by id or name; a quick skill's Yes or No. The values of the
    other skills are judged by the engine (the ``skill_value`` field type)."""
    out = _Skills()
    system = session.acting_as(None)
    for n, item in enumerate(items):
        where = f"skills[{n}]"
        sid, name = item.get("skillId"), item.get("skillName")
        skill: Mapping[str, Any] | None = None
        if is_id(sid) and sid > 0:
            got = _skills(system, Condition("id", "eq", sid))
            skill = got[0] if got else None
        elif sid in (None, 0) and isinstance(name, str) and name.strip():
            got = _skills(system, Condition("name", "ieq", name.strip()), size=2)
            skill = got[0] if len(got) == 1 else None
        else:
            out.errors.append(
                FieldError(f"{where}.skillId", "REQUIRED", "skillId (or skillName) names the skill")
            )
            continue
        if skill is None:
            out.errors.append(
                FieldError(f"{where}.skillId", "UNKNOWN_SKILL", f"there is no skill {sid or name!r}")
            )
            continue
        raw = item.get("skillValue")
        vid = item.get("skillValueId")
        key = int(skill["id"])
        try:
            kind = sk.kind_of(skill)
            if kind == "list" and is_id(vid) and vid > 0:
                by_id = sk.list_value_of(skill, vid)
                if raw not in (None, "") and str(raw).strip().lower() != by_id.lower():
                    raise InvalidValue("INVALID_SKILL_VALUE", f"skillValueId {vid} is {by_id!r}, not {raw!r}")
                raw = by_id
            if kind == QUICK:
                on = quick_choice(skill, sk.YES if raw is None else raw)  # naming a quick skill sets it
                out.quick[key] = bool(on)
            else:
                blank = raw is None or (isinstance(raw, str) and not raw.strip())
                out.values[key] = None if blank else raw
                out.item[key] = n
        except InvalidValue as exc:
            out.errors.append(FieldError(f"{where}.skillValue", exc.code, exc.message))
    return out


def _update(session: Session, rid: int, ops: list[FieldOp], dry: bool = False) -> WriteResult | None:
    return session.update(UpdateCommand("resource", rid, tuple(ops), validate_only=dry)) if ops else None


@router.post("/api/v1/Resource/{resourceId}/Skills", tags=["Resource"], dependencies=api_limited,
             summary="Adds or updates multiple skills for a resource")  # fmt: skip
async def skills_add(resourceId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    rid = parse_id(resourceId, "resourceId")
    body = await read_body(request)
    items = _items(body)

    def work(session: Session) -> Response:
        if find(session, "resource", rid) is None:
            return no_content()
        got = _resolve(session, items)
        ops = sk.change_ops(got.quick, got.values)
        got.write(lambda dry: _update(session, rid, ops, dry))
        return json_response(result(rid, "Skills added successfully"), 201)

    return await write(request, creds, body, work)


@router.put("/api/v1/Resource/{resourceId}/Skills", tags=["Resource"], dependencies=api_limited,
            summary="Replaces all skills for a resource with the provided skills")  # fmt: skip
async def skills_replace(resourceId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    rid = parse_id(resourceId, "resourceId")
    body = await read_body(request)
    items = _items(body)

    def work(session: Session) -> Response:
        if find(session, "resource", rid) is None:
            return no_content()
        got = _resolve(session, items)
        ops = sk.replace_ops([s for s, on in got.quick.items() if on], got.values)
        got.write(lambda dry: _update(session, rid, ops, dry))
        return json_response(result(rid, "Skills updated successfully"))

    return await write(request, creds, body, work)


@router.delete("/api/v1/Resource/{resourceId}/Skills", tags=["Resource"], dependencies=api_limited,
               summary="Deletes all skills for a resource")  # fmt: skip
async def skills_clear(resourceId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    rid = parse_id(resourceId, "resourceId")

    def work(session: Session) -> Response:
        if find(session, "resource", rid) is None:
            return no_content()
        _update(session, rid, sk.clear_ops())
        return json_response(result(rid, "Skills deleted successfully"))

    return await write(request, creds, None, work)


@router.get("/api/v1/Resource/{resourceId}/Skills", tags=["Resource"], dependencies=api_limited,
            summary="Gets all skills for a resource")  # fmt: skip
async def skills_get(resourceId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    rid = parse_id(resourceId, "resourceId")

    def work(session: Session) -> dict[str, Any] | None:
        rec = find(session, "resource", rid)
        if rec is None:
            return None
        entries, skills = _entries(session, rec)
        rows = [_entry_json(e, skills) for e in entries]
        return {"skills": rows} if rows else None

    return await answer(request, creds, work)


@router.get("/api/v1/Resource/{resourceId}/Skills/{skillId}", tags=["Resource"], dependencies=api_limited,
            summary="Gets a specific skill for a resource by resource ID and skill ID")  # fmt: skip
async def skill_get(resourceId: str, skillId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    rid, sid = parse_id(resourceId, "resourceId"), parse_id(skillId, "skillId")

    def work(session: Session) -> dict[str, Any] | None:
        rec = find(session, "resource", rid)
        if rec is None:
            return None
        entries, skills = _entries(session, rec)
        return next((_entry_json(e, skills) for e in entries if e.skill_id == sid), None)

    return await answer(request, creds, work)


@router.delete("/api/v1/Resource/{resourceId}/Skills/{skillId}", tags=["Resource"], dependencies=api_limited,
               summary="Deletes a specific skill for a resource by resource ID and skill ID")  # fmt: skip
async def skill_delete(resourceId: str, skillId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    rid, sid = parse_id(resourceId, "resourceId"), parse_id(skillId, "skillId")

    def work(session: Session) -> Response:
        if find(session, "resource", rid) is None:
            return no_content()
        out = _update(session, rid, sk.remove_ops(sid))
        if out is None or not out.changes:  # the resource does not have this skill
            return no_content()
        return json_response(result(rid, "Skill deleted successfully"))

    return await write(request, creds, None, work)
