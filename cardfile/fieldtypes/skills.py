"""skill_value: a sub-record column whose value is judged by the skill its row names.

A skill is a record whose ``skill_type`` says what its value is (``tracker`` pack):

- ``list``: one of the skill's ``list_values``, by its text in any case; stored in the
  list's own spelling (``"expert"`` becomes ``"Expert"``);
- ``date``: ``YYYY-MM-DD``, a calendar day;
- ``text`` (or none): any text;
- ``quick``: a yes/no skill, held as the skill's id in a set (``quick_skills``), never as
  a row: a row for it is refused.

The column sits in a ``sub_records`` field with ``upsert_by`` on the row's lookup column
(``{skill, value}`` rows, one per skill). Alone, the type takes one line of text (or a
number) with the surrounding spaces removed, at most ``max_length`` (255); a blank value
is none. The kind rules need the skill
record, which the engine reads in the write's transaction (``judged_by_row``), so every
channel, the native API included, gets the same refusal: ``INVALID_SKILL_VALUE``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from cardfile.fieldtypes.base import InvalidValue
from cardfile.fieldtypes.registry import registry
from cardfile.fieldtypes.text import TextLike, parse_line
from cardfile.schema.model import FieldDef

__all__ = ["QUICK", "SkillValue", "kind_of", "quick_choice"]

QUICK = "quick"
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def kind_of(skill: Mapping[str, Any]) -> str:
    """A skill's kind: quick, list, date or text."""
    return str(skill.get("skill_type") or "text")


def _name(skill: Mapping[str, Any]) -> str:
    return str(skill.get("name") or f"skill {skill.get('id')}")


def quick_choice(skill: Mapping[str, Any], raw: Any) -> bool | None:
    """A quick skill's yes (True) or no (False); None for an empty value."""
    text = _text(skill, raw)
    if text is None:
        return None
    if text.lower() in ("yes", "no"):
        return text.lower() == "yes"
    raise InvalidValue(
        "INVALID_SKILL_VALUE", f"{_name(skill)!r} is a quick skill: pass Yes to set it or No to clear it"
    )


def _text(skill: Mapping[str, Any] | None, raw: Any) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        what = repr(_name(skill)) if skill is not None else "a skill"
        raise InvalidValue("INVALID_SKILL_VALUE", f"{what} takes a string value")
    return parse_line(str(raw).strip())


@registry.register
class SkillValue(TextLike):
    name = "skill_value"
    default_max_length = 255
    judged_by_row = True

    def parse(self, raw: Any, field: FieldDef) -> str | None:
        return _text(None, raw)

    def judge(self, raw: Any, field: FieldDef, record: Mapping[str, Any]) -> Any:
        text = _text(record, raw)
        if text is None:
            return None
        kind = kind_of(record)
        name = _name(record)
        if kind == QUICK:
            raise InvalidValue(
                "INVALID_SKILL_VALUE",
                f"{name!r} is a quick skill: it is set in quick_skills, not given a value",
            )
        if kind == "list":
            values = [str(r["value"]) for r in record.get("list_values") or () if r.get("value") is not None]
            match = next((v for v in values if v.strip().lower() == text.lower()), None)
            if match is None:
                allowed = ", ".join(repr(v) for v in values) or "none"
                raise InvalidValue(
                    "INVALID_SKILL_VALUE",
                    f"{text[:60]!r} is not a value of the skill list {name!r}; values: {allowed}",
                )
            return match
        if kind == "date":
            try:
                if not _DATE.match(text):
                    raise ValueError
                date.fromisoformat(text)
            except ValueError:
                raise InvalidValue(
                    "INVALID_SKILL_VALUE", f"{name!r} is a skill date: pass YYYY-MM-DD, e.g. 2020-12-31"
                ) from None
        return text
