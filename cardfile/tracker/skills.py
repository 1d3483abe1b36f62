"""A record's skills in the ``tracker`` pack, as both Tracker dialects spell them.

A quick skill is held as its id in the record's ``quick_skills`` set ("Yes" adds it,
"No" takes it out); any other skill is a row ``{skill, value}`` of the record's
``skills`` sub-records, one per skill (``upsert_by: skill``), whose value the
``skill_value`` field type judges by the skill, in the engine, for every channel. The
widget (``skills[{id, value}]``) and REST v1 (``Resource/{id}/Skills``) compile their
requests into the ops built here, which name rows by skill, never by row id, so neither
reads the record first; a skill set through one reads back through the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cardfile.engine.commands import FieldOp
from cardfile.fieldtypes.base import InvalidValue
from cardfile.fieldtypes.skills import kind_of

__all__ = [
    "YES",
    "SkillEntry",
    "change_ops",
    "clear_ops",
    "entries_of",
    "kind_of",
    "list_value_of",
    "remove_ops",
    "replace_ops",
    "row_skills",
]

YES = "Yes"
Rec = Mapping[str, Any]


@dataclass(frozen=True)
class SkillEntry:
    """One skill a record has: its id, kind, value (``Yes`` for a quick skill) and, for a
    skill list, the id of the list value's row (or None)."""

    skill_id: int
    kind: str
    value: str
    value_id: int | None = None


def list_value_of(skill: Rec, value_id: int) -> str:
    """The text of the skill list's value row ``value_id`` (``skillValueId``)."""
    for row in skill.get("list_values") or ():
        if row.get("id") == value_id and row.get("value") is not None:
            return str(row["value"])
    name = skill.get("name") or f"skill {skill.get('id')}"
    raise InvalidValue(
        "INVALID_SKILL_VALUE", f"{value_id} is not the id of a value of the skill list {name!r}"
    )


def row_skills(values: Mapping[int, Any]) -> list[int]:
    """The skills of ``change_ops`` / ``replace_ops`` rows in order: an engine error at
    ``skills[i]`` is about ``row_skills(values)[i]``."""
    return [s for s, v in values.items() if v is not None]


def change_ops(quick: Mapping[int, bool], values: Mapping[int, Any]) -> list[FieldOp]:
    """Add, change or remove some skills, leaving the others alone: ``quick`` sets (True)
    or clears quick skills; ``values`` sets the row of a list, date or text skill (None
    removes it)."""
    ops: list[FieldOp] = []
    on = [s for s, v in quick.items() if v]
    off = [s for s, v in quick.items() if not v]
    if on:
        ops.append(FieldOp("quick_skills", "add", on))
    if off:
        ops.append(FieldOp("quick_skills", "remove", off))
    rows = [{"skill": s, "value": values[s]} for s in row_skills(values)]
    gone = [{"skill": s} for s, v in values.items() if v is None]
    if rows:
        ops.append(FieldOp("skills", "upsert", rows))
    if gone:
        ops.append(FieldOp("skills", "remove", gone))
    return ops


def replace_ops(quick: Iterable[int], values: Mapping[int, Any]) -> list[FieldOp]:
    """Exactly these skills: the quick skills ``quick`` and one row per value of ``values``."""
    q = list(dict.fromkeys(quick))
    rows = [{"skill": s, "value": values[s]} for s in row_skills(values)]
    return [
        FieldOp("quick_skills", "replace", q) if q else FieldOp("quick_skills", "clear"),
        FieldOp("skills", "replace", rows) if rows else FieldOp("skills", "clear"),
    ]


def clear_ops() -> list[FieldOp]:
    """No skills at all (a record without any is left as it is)."""
    return [FieldOp("quick_skills", "clear"), FieldOp("skills", "clear")]


def remove_ops(skill_id: int) -> list[FieldOp]:
    """Remove one skill, quick or not (a record without it is left as it is)."""
    return [FieldOp("quick_skills", "remove", [skill_id]), FieldOp("skills", "remove", [{"skill": skill_id}])]


def entries_of(record: Rec, skills: Mapping[int, Rec]) -> list[SkillEntry]:
    """The skills a record has, quick skills first, in the record's order. ``skills``
    holds the ``skill`` records by id (for the kind and the list value's row id)."""
    out: list[SkillEntry] = []
    for sid in record.get("quick_skills") or ():
        out.append(SkillEntry(int(sid), "quick", YES))
    for row in record.get("skills") or ():
        if row.get("skill") is None:
            continue
        sid = int(row["skill"])
        skill = skills.get(sid, {})
        kind = kind_of(skill)
        value = str(row.get("value") or "")
        value_id = None
        if kind == "list":
            value_id = next(
                (int(v["id"]) for v in skill.get("list_values") or () if str(v.get("value")) == value), None
            )
        out.append(SkillEntry(sid, kind, value, value_id))
    return out
