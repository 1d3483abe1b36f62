"""The widget's request envelope, read into plain data; any shape problem is outcome 99.

``{"trackerrms": {"updateRecord": {"credentials": {...}, "instructions": {...},
"updates": [...], "customfields": [...], "skills": [...]}}}``. Member names are matched
without regard to case, as the vendor's JSON reader does; unknown members are ignored.
``updates``, ``customfields`` and ``skills`` are each optional (absent or null: none).
Which columns exist and what their values mean is decided later (``columns.py``,
``values.py``); here only the shape is checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from cardfile.api.dialects.tracker_widget.columns import RECORD_TYPES
from cardfile.errors import BadRequest, MalformedBody

__all__ = [
    "Credentials",
    "Entry",
    "SettingsRequest",
    "UpdateRecordRequest",
    "parse_body",
    "parse_settings",
    "parse_update_record",
]

_INT64_MAX = 2**63 - 1
_DIGITS = re.compile(r"^[0-9]+$")

Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class Credentials:
    """What the body carries; empty strings count as absent."""

    username: str | None = None
    password: str | None = None
    oauthtoken: str | None = None

    @property
    def empty(self) -> bool:
        return self.oauthtoken is None and (self.username is None or self.password is None)


@dataclass(frozen=True)
class Entry:
    """One ``{column|id, value}`` item; ``where`` names it in messages (``updates[1]``)."""

    key: str | int
    value: Scalar
    where: str


@dataclass(frozen=True)
class UpdateRecordRequest:
    credentials: Credentials
    recordtype: str
    recordid: int
    updates: tuple[Entry, ...]
    customfields: tuple[Entry, ...]
    skills: tuple[Entry, ...]


@dataclass(frozen=True)
class SettingsRequest:
    credentials: Credentials


def parse_body(raw: bytes) -> Any:
    if not raw.strip():
        raise MalformedBody("the request needs a JSON body")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"the body is not valid JSON: {exc}") from None


def _member(obj: Mapping[str, Any], name: str) -> Any:
    """``obj[name]`` matched case-insensitively (an exact match first); None when absent."""
    if name in obj:
        return obj[name]
    low = name.lower()
    return next((v for k, v in obj.items() if isinstance(k, str) and k.lower() == low), None)


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadRequest(f"{what} must be a JSON object")
    return value


def _envelope(body: Any, method: str) -> Mapping[str, Any]:
    outer = _object(body, "the body")
    return _object(_member(_object(_member(outer, "trackerrms"), "'trackerrms'"), method), f"'{method}'")


def _credentials(call: Mapping[str, Any]) -> Credentials:
    creds = _object(_member(call, "credentials"), "'credentials'")

    def text(name: str) -> str | None:
        v = _member(creds, name)
        if v is None:
            return None
        if not isinstance(v, str):
            raise BadRequest(f"credentials.{name} must be a string")
        return v.strip() or None

    # the password is taken as sent: spaces may be part of it
    password = _member(creds, "password")
    if password is not None and not isinstance(password, str):
        raise BadRequest("credentials.password must be a string")
    return Credentials(text("username"), password or None, text("oauthtoken"))


def _int(value: Any, what: str) -> int:
    """A JSON integer or a string of digits (the widget's ids travel either way)."""
    if isinstance(value, bool):
        raise BadRequest(f"{what} must be an integer, not a boolean")
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and _DIGITS.match(value.strip()):
        n = int(value.strip())
    else:
        raise BadRequest(f"{what} must be an integer, got {str(value)[:40]!r}")
    if not -_INT64_MAX <= n <= _INT64_MAX:
        raise BadRequest(f"{what} is out of range")
    return n


def _entries(call: Mapping[str, Any], name: str, key: str) -> tuple[Entry, ...]:
    items = _member(call, name)
    if items is None:
        return ()
    if not isinstance(items, list):
        raise BadRequest(f"'{name}' must be a list of {{{key}, value}} objects")
    out = []
    for i, item in enumerate(items):
        where = f"{name}[{i}]"
        item = _object(item, where)
        raw_key = _member(item, key)
        k: str | int
        if key == "column":
            if not isinstance(raw_key, str) or not raw_key.strip():
                raise BadRequest(f"{where}.column must name a column")
            k = raw_key.strip()
        else:
            if raw_key is None:
                raise BadRequest(f"{where}.id is required")
            k = _int(raw_key, f"{where}.id")
        if not any(isinstance(ik, str) and ik.lower() == "value" for ik in item):
            raise BadRequest(f"{where}.value is required (null clears)")
        value = _member(item, "value")
        if isinstance(value, Mapping | list):
            raise BadRequest(f"{where}.value must be a string, a number, a boolean or null")
        out.append(Entry(k, value, where))
    return tuple(out)


def parse_update_record(body: Any) -> UpdateRecordRequest:
    """Raises BadRequest (outcome 99) for any shape problem."""
    call = _envelope(body, "updateRecord")
    creds = _credentials(call)
    instructions = _object(_member(call, "instructions"), "'instructions'")
    letter = _member(instructions, "recordtype")
    if not isinstance(letter, str) or letter.strip().upper() not in RECORD_TYPES:
        raise BadRequest(f"instructions.recordtype must be one of {', '.join(RECORD_TYPES)}")
    raw_id = _member(instructions, "recordid")
    if raw_id is None:
        raise BadRequest("instructions.recordid is required")
    return UpdateRecordRequest(
        credentials=creds,
        recordtype=letter.strip().upper(),
        recordid=_int(raw_id, "instructions.recordid"),
        updates=_entries(call, "updates", "column"),
        customfields=_entries(call, "customfields", "id"),
        skills=_entries(call, "skills", "id"),
    )


def parse_settings(body: Any) -> SettingsRequest:
    call = _envelope(body, "getSettings")
    return SettingsRequest(_credentials(call))
