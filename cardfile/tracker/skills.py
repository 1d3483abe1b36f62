"""A record's skills in the ``tracker`` pack, as both Tracker dialects read and write them.

A skill is a ``skill`` record whose ``skill_type`` says what its value is:

- ``quick``: yes or no. "Yes" puts the skill's id in the record's ``quick_skills`` set,
  "No" takes it out;
- ``list``: one of the skill's ``list_values`` (by its text, or by the row's id);
- ``date``: ``YYYY-MM-DD``;
- ``text`` (or none): any text.

The last three are rows ``{skill, value}`` of the record's ``skills`` sub-records, one per
skill. The widget (``skills[{id, value}]``) and REST v1 (``Resource/{id}/Skills``) compile
their requests into the ops built here, so a skill set through one reads back through the
other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cardfile.engine.commands import FieldOp
from cardfile.fieldtypes.base import InvalidValue

__all__ = [
    "YES",
    "SkillEntry",
    "change_ops",
    "clear_ops",
    "entries_of",
    "list_value_of",
    "remove_ops",
    "replace_ops",
    "skill_value",
]

YES = "Yes"
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
Rec = Mapping[str, Any]


@dataclass(frozen=True)
class SkillEntry:
    """One skill a record has: its id, kind, value (``Yes`` for a quick skill) and, for a
    skill list, the id of the list value's row (or None)."""

    skill_id: int
    kind: str
    value: str
    value_id: int | None = None


def kind_of(skill: Rec) -> str:
    return str(skill.get("skill_type") or "text")


def skill_value(skill: Rec, raw: Any) -> tuple[str, str | None]:
    """(kind, value): the quick skill's ``Yes`` (or None for No); a list value's text in
    the list's spelling; a date as ``YYYY-MM-DD``; None when the value is empty (the skill
    is removed). A value that does not fit the kind raises ``InvalidValue``."""
    kind = kind_of(skill)
    name = skill.get("name") or f"skill {skill.get('id')}"
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return kind, None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InvalidValue("INVALID_SKILL_VALUE", f"{name!r} takes a string value")
    text = str(raw).strip()
    if kind == "quick":
        if text.lower() == "yes":
            return kind, YES
        if text.lower() == "no":
            return kind, None
        raise InvalidValue(
            "INVALID_SKILL_VALUE", f"{name!r} is a quick skill: pass Yes to set it or No to clear it"
        )
    if kind == "list":
        values = [str(r.get("value")) for r in skill.get("list_values") or () if r.get("value") is not None]
        match = next((v for v in values if v.strip().lower() == text.lower()), None)
        if match is None:
            allowed = ", ".join(repr(v) for v in values) or "none"
            raise InvalidValue(
                "INVALID_SKILL_VALUE",
                f"{text[:60]!r} is not a value of the skill list {name!r}; values: {allowed}",
            )
        return kind, match
    if kind == "date":
        try:
            if not _DATE.match(text):
                raise ValueError
            date.fromisoformat(text)
        except ValueError:
            raise InvalidValue(
                "INVALID_SKILL_VALUE", f"{name!r} is a skill date: pass YYYY-MM-DD, e.g. 2020-12-31"
            ) from None
        return kind, text
    return kind, text


def list_value_of(skill: Rec, value_id: int) -> str:
    """The text of the skill list's value row ``value_id`` (``skillValueId``)."""
    for row in skill.get("list_values") or ():
        if row.get("id") == value_id and row.get("value") is not None:
            return str(row["value"])
    name = skill.get("name") or f"skill {skill.get('id')}"
    raise InvalidValue(
        "INVALID_SKILL_VALUE", f"{value_id} is not the id of a value of the skill list {name!r}"
    )


def _rows(record: Rec) -> dict[int, int]:
    """skill id -> row id of the record's ``skills`` rows."""
    return {int(r["skill"]): int(r["id"]) for r in record.get("skills") or () if r.get("skill") is not None}


def change_ops(
    record: Rec, quick: Mapping[int, bool], values: Mapping[int, str | None]
) -> tuple[list[FieldOp], bool]:
    """Add, change or remove some skills, leaving the others alone: ``quick`` sets (True)
    or clears quick skills; ``values`` sets the row of a list, date or text skill (None
    removes it). Returns the ops and whether they address rows by id (then the update
    must apply to the version ``record`` was read from)."""
    ops: list[FieldOp] = []
    on = [s for s, v in quick.items() if v]
    off = [s for s, v in quick.items() if not v]
    if on:
        ops.append(FieldOp("quick_skills", "add", on))
    if off:
        ops.append(FieldOp("quick_skills", "remove", off))
    rows = _rows(record)
    add = [{"skill": s, "value": v} for s, v in values.items() if v is not None and s not in rows]
    update = [{"id": rows[s], "value": v} for s, v in values.items() if v is not None and s in rows]
    remove = [rows[s] for s, v in values.items() if v is None and s in rows]
    if update:
        ops.append(FieldOp("skills", "update", update))
    if add:
        ops.append(FieldOp("skills", "add", add))
    if remove:
        ops.append(FieldOp("skills", "remove", remove))
    return ops, bool(update or remove)


def replace_ops(quick: Iterable[int], values: Mapping[int, str]) -> list[FieldOp]:
    """Exactly these skills: the quick skills ``quick`` and one row per entry of ``values``."""
    q = list(dict.fromkeys(quick))
    rows = [{"skill": s, "value": v} for s, v in values.items()]
    return [
        FieldOp("quick_skills", "replace", q) if q else FieldOp("quick_skills", "clear"),
        FieldOp("skills", "replace", rows) if rows else FieldOp("skills", "clear"),
    ]


def clear_ops(record: Rec) -> list[FieldOp]:
    """No skills at all (no ops when the record has none)."""
    ops = []
    if record.get("quick_skills"):
        ops.append(FieldOp("quick_skills", "clear"))
    if record.get("skills"):
        ops.append(FieldOp("skills", "clear"))
    return ops


def remove_ops(record: Rec, skill_id: int) -> list[FieldOp]:
    """Remove one skill (no ops when the record does not have it); rows by id, so the
    update must apply to the version ``record`` was read from."""
    ops = []
    if skill_id in (record.get("quick_skills") or ()):
        ops.append(FieldOp("quick_skills", "remove", [skill_id]))
    row = _rows(record).get(skill_id)
    if row is not None:
        ops.append(FieldOp("skills", "remove", [row]))
    return ops


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
