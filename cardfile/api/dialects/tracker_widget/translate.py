"""An updateRecord request as canonical ops on one record of the ``tracker`` pack.

Columns (``columns.py``) and their values (``values.py``) become ``set`` / ``clear`` /
``replace`` ops; settings entries named in a value are looked up in their list (an id
must be one of the field's ``target_where``: the engine checks that); custom
fields are the fields ``cf_<id>``; skills (for C, N and R only; ignored for the other
types) become changes of the record's ``quick_skills`` set and ``skills`` rows. Every
problem is collected, then raised at once as ``ValidationFailed``: a column, custom
field or skill the record does not have carries the code ``UNKNOWN_FIELD`` (outcome 4),
anything else outcome 99. The ops go to the engine as one update, so the record changes
wholly or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from cardfile.api.dialects.tracker_widget.columns import RECORD_TYPES, SETTING, SKILL, Column, columns_of
from cardfile.api.dialects.tracker_widget.errors import UNKNOWN_COLUMN
from cardfile.api.dialects.tracker_widget.parse import Entry, UpdateRecordRequest
from cardfile.api.dialects.tracker_widget.values import value_op
from cardfile.engine.commands import FieldOp
from cardfile.engine.query import Condition, Query
from cardfile.engine.session import Session
from cardfile.errors import FieldError, NotFound
from cardfile.fieldtypes.base import InvalidValue
from cardfile.fieldtypes.skills import QUICK, kind_of, quick_choice
from cardfile.schema.model import RecordType
from cardfile.tracker import skills

__all__ = ["SKILL_TYPES", "Lookups", "Translation", "record_type_of", "translate", "translate_with"]

# record types whose skills the widget sets (the seed: C, N and R; ignored for the rest)
SKILL_TYPES = frozenset({"C", "N", "R"})


def record_type_of(letter: str) -> str:
    return RECORD_TYPES[letter]


@dataclass
class Translation:
    ops: list[FieldOp] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)

    def fail(self, where: str, code: str, message: str) -> None:
        self.errors.append(FieldError(where, code, message))


class Lookups(Protocol):
    """What a translation reads besides the request: settings entries and skills."""

    def entries(self, list_name: str) -> list[dict[str, Any]]: ...

    def record(self, type_name: str, record_id: int) -> dict[str, Any] | None: ...


class _Lookups:
    """Settings lists and skills, read once per request (as the system: resolving the
    names a request uses is part of reading it, not a read the caller asked for)."""

    def __init__(self, session: Session) -> None:
        self.system = session.acting_as(None)
        self._lists: dict[str, list[dict[str, Any]]] = {}
        self._records: dict[tuple[str, int], dict[str, Any] | None] = {}

    def entries(self, list_name: str) -> list[dict[str, Any]]:
        if list_name not in self._lists:
            q = Query(SETTING, (Condition("list", "eq", list_name),))
            self._lists[list_name] = list(self.system.all_records(q))
        return self._lists[list_name]

    def record(self, type_name: str, record_id: int) -> dict[str, Any] | None:
        key = (type_name, record_id)
        if key not in self._records:
            try:
                self._records[key] = self.system.get(type_name, record_id)
            except NotFound:
                self._records[key] = None
        return self._records[key]


def translate(session: Session, rt: RecordType, req: UpdateRecordRequest) -> Translation:
    return translate_with(_Lookups(session), rt, req)


def translate_with(look: Lookups, rt: RecordType, req: UpdateRecordRequest) -> Translation:
    """``translate`` with the reads given (a fake in the unit tests: no database)."""
    out = Translation()
    cols = columns_of(rt)
    for entry in req.updates:
        col = cols.get(str(entry.key).lower())
        if col is None:
            out.fail(str(entry.key), UNKNOWN_COLUMN, f"{req.recordtype} records have no column {entry.key!r}")
            continue
        _column(out, look, rt, col, entry)
    for entry in req.customfields:
        fd = rt.get(f"cf_{entry.key}")
        if fd is None:
            out.fail(
                entry.where, UNKNOWN_COLUMN, f"{req.recordtype} records have no custom field {entry.key}"
            )
            continue
        multi = fd.type in ("multi_select", "checkbox")
        try:
            out.ops.append(value_op(fd, entry.value, id_column=False, multi=multi))
        except InvalidValue as exc:
            out.fail(entry.where, exc.code, exc.message)
    if req.recordtype in SKILL_TYPES and req.skills:
        _skills(out, look, rt, req)
    return out


def _column(out: Translation, look: Lookups, rt: RecordType, col: Column, entry: Entry) -> None:
    fd = rt.fields[col.field]
    where = str(entry.key)
    try:
        if col.names and col.setting_list is not None:
            op = _by_names(look, fd.name, fd.type == "multi_lookup", col.setting_list, entry.value)
        else:
            # which entries the field may name is the engine's check (the field's target_where)
            op = value_op(fd, entry.value, id_column=col.id_column, multi=col.multi)
    except InvalidValue as exc:
        out.fail(where, exc.code, exc.message)
        return
    out.ops.append(op)


def _by_names(look: Lookups, name: str, multi: bool, list_name: str, raw: Any) -> FieldOp:
    """Settings entries by name (comma-separated): the set of a multi-lookup is replaced."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return FieldOp(name, "clear")
    if not isinstance(raw, str):
        raise InvalidValue("NOT_A_STRING", f"expected the names of {list_name} entries, comma-separated")
    by_name: dict[str, int] = {}
    for e in look.entries(list_name):
        by_name.setdefault(str(e.get("name", "")).strip().lower(), int(e["id"]))
    ids: list[int] = []
    unknown: list[str] = []
    for part in raw.split(","):
        n = part.strip()
        if not n:
            continue
        rid = by_name.get(n.lower())
        if rid is None:
            unknown.append(n)
        elif rid not in ids:
            ids.append(rid)
    if unknown:
        raise InvalidValue(
            "UNKNOWN_SETTING",
            f"no {list_name} named {', '.join(repr(u) for u in unknown)} (getSettings lists the names)",
        )
    if multi:
        return FieldOp(name, "replace", ids)
    if len(ids) > 1:
        raise InvalidValue("TOO_MANY_VALUES", f"a record holds one {list_name}; got {len(ids)} names")
    return FieldOp(name, "set", ids[0]) if ids else FieldOp(name, "clear")


def _skills(out: Translation, look: Lookups, rt: RecordType, req: UpdateRecordRequest) -> None:
    """Each entry's skill (it must exist: outcome 4) and, for a quick skill, its Yes or No;
    then one set of ops for them all (``cardfile.tracker.skills``): quick skills in or out
    of ``quick_skills``, rows of ``skills`` by skill, whose values the engine judges."""
    if rt.get("skills") is None or rt.get("quick_skills") is None:
        for entry in req.skills:
            out.fail(entry.where, UNKNOWN_COLUMN, f"{req.recordtype} records have no skills")
        return
    wanted: dict[int, Any] = {}  # skill id -> row value (None: no row); the last entry wins
    quick: dict[int, bool] = {}
    for entry in req.skills:
        skill_id = int(entry.key)
        skill = look.record(SKILL, skill_id) if skill_id > 0 else None
        if skill is None:
            out.fail(entry.where, UNKNOWN_COLUMN, f"there is no skill with id {skill_id}")
            continue
        if kind_of(skill) != QUICK:
            blank = entry.value is None or (isinstance(entry.value, str) and not entry.value.strip())
            wanted[skill_id] = None if blank else entry.value
            continue
        try:
            quick[skill_id] = bool(quick_choice(skill, entry.value))
        except InvalidValue as exc:
            out.fail(entry.where, exc.code, exc.message)
    out.ops.extend(skills.change_ops(quick, wanted))
