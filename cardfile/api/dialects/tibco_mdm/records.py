"""Add, modify, read and delete MDM records through the one update engine.

A record request becomes one engine command on the record (attributes, state, deleted and
every relationship as ops), plus one command per related record whose attributes the
request changes, all in the request's transaction. Every problem (parse, perspective,
field types, links, unique values) is collected before anything is answered; when there
is one, ``MdmRejected`` is raised and the transaction rolls back: nothing is changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from cardfile.api.dialects.tibco_mdm.errors import MdmRejected, attribute_json
from cardfile.api.dialects.tibco_mdm.parse import (
    AttrChange,
    Problem,
    RecordRef,
    RecordRequest,
    RelChange,
    column_ops,
    parse_attributes,
)
from cardfile.api.dialects.tibco_mdm.render import identity_json, record_json, service_name, success_body
from cardfile.api.dialects.tibco_mdm.repository import (
    DELETED,
    ID,
    ID_EXT,
    STATE,
    Repository,
    find_repository,
    mdm_name,
    normalize,
)
from cardfile.api.kit.filters import parse_filters
from cardfile.engine import permissions as perm
from cardfile.engine.commands import Context, CreateCommand, DeleteCommand, FieldOp, UpdateCommand
from cardfile.engine.query import Query
from cardfile.engine.results import WriteResult
from cardfile.engine.session import Session
from cardfile.errors import BadRequest, Duplicate, FieldError, NotFound, ValidationFailed

__all__ = ["delete_record", "read_record", "resolve", "write_record"]

PROCESS = "process"  # the automation feature of the processing rules (see the mdm pack)
_PATH = re.compile(r"^(?P<base>[a-z0-9_+]+)(?:\[(?P<row>[0-9]+)\])?(?:\.(?P<col>[a-z0-9_]+))?(?P<rest>.*)$")


def resolve(session: Session, repo: Repository, ref: RecordRef) -> int:
    """The record id of ``productId`` + ``productIdExt`` (or of ``productKeyId``); looked up
    as the system (finding the record is the dialect's plumbing; reading it is checked)."""
    system = session.acting_as(None)
    pid, ext, key = ref.product_id, ref.product_id_ext, ref.product_key_id
    for name, v in (("productId", pid), ("productIdExt", ext), ("productKeyId", key)):
        if isinstance(v, bool) or (v is not None and not isinstance(v, str | int)):
            raise BadRequest(f"{name} must be a string", field=name)
    if pid not in (None, ""):
        ext_value = None if ext in (None, "") else str(ext)
        rid: int | None
        if any(set(g) == {ID, ID_EXT} for g in repo.rt.unique_together):
            try:
                rid = system.find_unique(repo.type, {ID: str(pid), ID_EXT: ext_value})
            except ValidationFailed as exc:
                raise BadRequest(f"productId/productIdExt: {exc.errors[0].message}") from None
        else:  # a repository without the unique pair (defined elsewhere): look it up
            where = [(ID, str(pid))]
            if repo.has(ID_EXT):
                where.append((ID_EXT, ext_value) if ext_value else (f"{ID_EXT}__isnull", "true"))
            rid = _only(system, repo, where)
        if rid is None and ext is None:  # no extension given: the one record with this productId
            rid = _only(system, repo, [(ID, str(pid))])
        if rid is None:
            shown = f"productId {str(pid)!r}" + (f" and productIdExt {ext_value!r}" if ext_value else "")
            raise NotFound(f"no {repo.name} record with {shown}")
        if key not in (None, "") and str(key) != str(rid):
            raise BadRequest(
                f"productKeyId {key!r} is not the key of productId {pid!r}", field="productKeyId"
            )
        return rid
    if key not in (None, ""):
        if not str(key).isdigit():
            raise NotFound(f"no {repo.name} record with productKeyId {key!r}")
        system.get(repo.type, int(key))  # NotFound when there is none
        return int(key)
    raise BadRequest("the record needs a productId (and productIdExt) or a productKeyId", field="productId")


def _only(session: Session, repo: Repository, where: list[tuple[str, str]]) -> int | None:
    """The id of the one record matching ``where`` (read as the native query string does);
    None for none or several."""
    q = Query(repo.type, tuple(parse_filters(repo.rt, where)), page_size=2)
    items = session.query(q).items
    return int(items[0]["id"]) if len(items) == 1 else None


@dataclass
class _Target:
    change: RelChange
    repo: Repository
    record_id: int
    ops: list[FieldOp] = field(default_factory=list)
    changes: list[AttrChange] = field(default_factory=list)


@dataclass
class _Plan:
    ops: list[FieldOp]
    # (relationship field, row position in its upsert) -> the change that wrote it
    rows: dict[tuple[str, int], RelChange]
    targets: list[_Target]
    # links to remove: (change, relationship field, its lookup column, target id)
    removed: list[tuple[RelChange, str, str, int]] = field(default_factory=list)


def write_record(
    session: Session,
    ctx: Context,
    repo: Repository,
    req: RecordRequest,
    *,
    adding: bool,
) -> dict[str, Any]:
    """Add or modify one record; the success body, or MdmRejected with every problem."""
    problems = list(req.problems)
    current: dict[str, Any] | None = None
    record_id: int | None = None
    ops: list[FieldOp] = []
    if adding:
        # without a productId the engine reports ProductId as required
        if req.ref.product_id not in (None, ""):
            ops.append(FieldOp(ID, "set", _str(req.ref.product_id)))
        if req.ref.product_id_ext not in (None, ""):
            ops.append(FieldOp(ID_EXT, "set", _str(req.ref.product_id_ext)))
    else:
        record_id = resolve(session, repo, req.ref)
        # read for its version (a stale write is refused); the write itself is checked as the caller's
        current = session.acting_as(None).get(repo.type, record_id)
    if req.deleted and not repo.has(DELETED):
        problems.append(Problem("NOT_SUPPORTED", f"{repo.name} records cannot be marked deleted; use DELETE"))
    ops += [c.op for c in req.changes] + req.extra_ops(repo)
    plan = _plan_relationships(session, repo, req.relationships, ops)

    def failing() -> bool:
        return bool(problems) or any(rc.problems for rc in req.relationships)

    if not req.process:  # the repository's processing rules (automation, feature "process") are declined
        ctx = replace(ctx, skip=ctx.skip | {PROCESS})

    for t in plan.targets:  # related records first; a later failure rolls them back too
        _run_target(session, ctx, t, dry=req.dry_run or failing())

    def run(all_ops: list[FieldOp], dry: bool) -> WriteResult:
        if adding:
            return session.create(CreateCommand(repo.type, tuple(all_ops), validate_only=dry), ctx)
        assert record_id is not None and current is not None
        cmd = UpdateCommand(repo.type, record_id, tuple(all_ops), expected_version=int(current["version"]),
                            validate_only=dry)  # fmt: skip
        return session.update(cmd, ctx)

    try:
        _check_removed(plan, run(plan.ops, req.dry_run or failing()))
    except (ValidationFailed, Duplicate) as exc:
        _map_errors(exc.errors, repo, req.changes, plan.rows, problems)
    if failing():
        rels = [_relationship_json(repo, rc) for rc in req.relationships if rc.problems]
        raise MdmRejected(identity_json(repo, current, req.ref), problems, rels)
    # A saved change answers exactly as the seed's example; what processing did shows in the
    # record (its state) and in its history.
    notes: list[tuple[str, str]] = []
    if req.dry_run:
        notes.append(
            ("VALIDATED_ONLY", "validate was requested: the record was checked and nothing was saved")
        )
    return success_body(service_name(req.validate_flag, req.process), notes)


def _str(v: Any) -> Any:
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


def _plan_relationships(
    session: Session,
    repo: Repository,
    rels: list[RelChange],
    ops: list[FieldOp],
) -> _Plan:
    """Each relationship field changed becomes an ``upsert`` of rows found by their target
    and a ``remove`` of links by target, applied by the engine to the rows it read under its
    lock: untouched rows are kept as they are."""
    schema = session.schema
    plan = _Plan(ops=ops, rows={}, targets=[])
    by_field: dict[str, list[tuple[RelChange, int]]] = {}
    for rc in rels:
        if rc.problems or rc.rel is None:
            continue
        trepo = find_repository(schema, rc.rel.target_type)
        if trepo is None:
            rc.problems.append(Problem("UNKNOWN_REPOSITORY", f"{rc.rel.target_type!r} is not a repository"))
            continue
        if rc.target.repository and normalize(rc.target.repository) != normalize(trepo.name):
            rc.problems.append(
                Problem(
                    "WRONG_REPOSITORY", f"{rc.rel.name} links to {trepo.name}, not {rc.target.repository}"
                )
            )
            continue
        try:
            tid = resolve(session, trepo, rc.target)
        except (NotFound, BadRequest) as exc:
            rc.problems.append(Problem("RECORD_NOT_FOUND", exc.detail))
            continue
        by_field.setdefault(rc.rel.field, []).append((rc, tid))
        if rc.target_attributes and not rc.deleted:
            plan.targets.append(_Target(rc, trepo, tid))
    for fname, changes in by_field.items():
        rel = changes[0][0].rel
        assert rel is not None
        col = rel.target_column
        rows: list[dict[str, Any]] = []
        gone: list[dict[str, Any]] = []
        for rc, tid in changes:
            if rc.deleted:
                gone.append({col: tid})
                plan.removed.append((rc, fname, col, tid))
                continue
            plan.rows[(fname, len(rows))] = rc
            rows.append({col: tid, **column_ops(rc.columns)})
        if rows:  # a row per target updated (only the attributes given) or added
            ops.append(FieldOp(fname, "upsert", {"by": col, "rows": rows}))
        if gone:
            ops.append(FieldOp(fname, "remove", gone))
    return plan


def _check_removed(plan: _Plan, result: WriteResult) -> None:
    """A link to remove that the record did not have (as the engine read it under its
    lock) is RELATIONSHIP_NOT_FOUND."""
    for rc, fname, col, tid in plan.removed:
        change = next((c for c in result.changes if c.field == fname), None)
        if change is None or not any(r.get(col) == tid for r in change.old or ()):
            assert rc.rel is not None
            rc.problems.append(Problem("RELATIONSHIP_NOT_FOUND", f"{rc.rel.name} has no link to this record"))


def _run_target(session: Session, ctx: Context, t: _Target, *, dry: bool) -> None:
    changes, problems = parse_attributes(
        t.change.target_attributes, t.repo.attribute, t.repo.display_name, None
    )
    t.change.problems.extend(problems)
    if not changes:
        return
    try:
        session.update(UpdateCommand(t.repo.type, t.record_id, tuple(c.op for c in changes), validate_only=dry),
                       ctx)  # fmt: skip
    except (ValidationFailed, Duplicate) as exc:
        local: list[Problem] = []
        _map_errors(exc.errors, t.repo, changes, {}, local)
        t.change.problems.extend(local)


def _map_errors(
    errors: list[FieldError],
    repo: Repository,
    changes: list[AttrChange],
    rows: dict[tuple[str, int], RelChange],
    problems: list[Problem],
) -> None:
    """Engine field errors back onto the attributes (and relationship attributes) sent."""
    by_field = {c.field.name: c for c in changes}
    for e in errors:
        m = _PATH.match(e.field)
        base = m.group("base") if m else e.field
        if "+" in base:
            names = " and ".join(mdm_name(n) for n in base.split("+"))
            problems.append(Problem(e.code, f"{names}: another record has these values"))
            continue
        rel = next((r for r in repo.relationships.values() if r.field == base), None)
        if rel is not None and m is not None and m.group("row") is not None:
            rc = rows.get((base, int(m.group("row"))))
            col = m.group("col") or ""
            if rc is None:
                problems.append(Problem(e.code, f"{rel.name}: {e.message}"))
                continue
            c = next((x for x in rc.columns if x.field.name == col), None)
            cfd = next((x for x in rel.attributes if x.name == col), None)
            name = c.given if c else (mdm_name(col) if col else rel.name)
            display = (cfd.label or mdm_name(cfd.name)) if cfd else name
            rc.problems.append(Problem(e.code, e.message, name, display, c.values if c else ()))
            continue
        c = by_field.get(base)
        fd = repo.rt.get(base)
        name = c.given if c else mdm_name(base)
        display = repo.display_name(fd) if fd else name
        rest = e.field[len(base) :]
        message = f"{rest.lstrip('.')}: {e.message}" if rest else e.message
        problems.append(Problem(e.code, message, name, display, c.values if c else ()))


def _relationship_json(repo: Repository, rc: RelChange) -> dict[str, Any]:
    return {
        "relationshipName": rc.rel.name if rc.rel else rc.name,
        "sourceRepositoryName": repo.name,
        "targetRepositoryName": rc.target.repository or (mdm_name(rc.rel.target_type) if rc.rel else None),
        "recordId": _opt(rc.target.product_id),
        "recordIdExt": _opt(rc.target.product_id_ext),
        "productKeyId": _opt(rc.target.product_key_id),
        "responseAttributes": [attribute_json(p) for p in rc.problems if p.attribute]
        + [
            {
                "attributeName": None,
                "attributeDisplayName": None,
                "values": [],
                "errorCode": p.code,
                "errorMessage": p.message,
                "errorType": "Error",
            }
            for p in rc.problems
            if not p.attribute
        ],  # fmt: skip
    }


def _opt(v: Any) -> str | None:
    return None if v is None else str(v)


# -- read and delete ----------------------------------------------------------------

_STATES = ("CONFIRMED", "UNCONFIRMED", "LATEST", "DELETED", "ALL")


def read_record(
    session: Session,
    repo: Repository,
    ref: RecordRef,
    *,
    perspective: str | None,
    record_state: str | None,
    active: str | None,
) -> dict[str, Any]:
    """``{"records": [record]}``; a record marked deleted only with ``recordState=DELETED``
    or ``ALL`` (or ``Active=N``/``ANY``)."""
    allowed = None
    if perspective:
        found = repo.perspective(perspective)
        if found is None:
            raise BadRequest(f"{repo.name} has no perspective {perspective!r}", field="perspectiveName")
        allowed = found[1]
    state = (record_state or "LATEST").upper()
    if state not in _STATES:
        raise BadRequest(f"recordState is one of {', '.join(_STATES)}", field="recordState")
    act = (active or "Y").upper()
    if act not in ("Y", "N", "ANY"):
        raise BadRequest("Active is Y, N or ANY", field="Active")
    rid = resolve(session, repo, ref)
    record = session.get(repo.type, rid)
    deleted = bool(record.get(DELETED))
    wanted = {
        "DELETED": deleted,
        "ALL": True,
        "LATEST": not deleted or act != "Y",
        "CONFIRMED": record.get(STATE) == "CONFIRMED" and (not deleted or act != "Y"),
        "UNCONFIRMED": record.get(STATE) != "CONFIRMED" and (not deleted or act != "Y"),
    }[state]
    if act == "N" and not deleted:
        wanted = False
    if not wanted:
        raise NotFound(f"no {repo.name} record {ref.product_id!r} in state {state}")
    schema = session.schema

    def target_identity(type_name: str, tid: int) -> dict[str, Any] | None:
        trepo = find_repository(schema, type_name)
        try:
            target = session.get(type_name, tid)
        except NotFound:
            target = None
        if trepo is None or target is None:
            return {"repositoryName": mdm_name(type_name), "productKeyId": str(tid)}
        return identity_json(trepo, target)

    return {"records": [record_json(repo, record, allowed=allowed, target_identity=target_identity)]}


def delete_record(
    session: Session,
    ctx: Context,
    repo: Repository,
    ref: RecordRef,
    *,
    related: bool,
) -> dict[str, Any]:
    """Delete the record as its type says (the pack's ``soft_delete`` marks it deleted);
    with ``related``, the records its relationships link to as well (the type's cascade)."""
    perm.require(ctx.principal, repo.rt, "DELETE")
    rid = resolve(session, repo, ref)
    session.delete(DeleteCommand(repo.type, rid, cascade=related), ctx)
    return {**success_body("DELETE_RECORD"), "records": []}
