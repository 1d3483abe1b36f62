"""Names and ids as HighLevel spells them, and cardfile's for the same things.

- **Objects.** ``custom_objects.<name>`` is the record type ``<name>`` of the ``highlevel``
  pack (installed from ``schema/packs/highlevel.yaml`` or created through ``POST /objects/``,
  which saves the type under that pack). Types of other packs are not HighLevel objects,
  and standard objects (contacts, companies, ...) are refused as not supported.
- **Records.** A record id is the 24-digit, zero-padded, lower-case hexadecimal form of the
  record's integer id: record 42 is ``00000000000000000000002a``. Reversible without a
  lookup or a stored column, one id per record, and the shape of HighLevel's ids (24 hex
  characters), so ``/api/records/event_ticket/42`` and
  ``/highlevel/objects/custom_objects.event_ticket/records/00000000000000000000002a`` are one record.
- **Users.** Owners and followers are cardfile users. HighLevel names them by its own user
  ids (e.g. ``v5cEPM428h8vShlRW1KT``); the ``highlevel_users`` records map those ids onto
  cardfile users. A user without a mapping is named by their cardfile user id as a string
  (``"7"``), which is accepted as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from cardfile.engine.query import Condition, Query
from cardfile.engine.session import Session
from cardfile.errors import BadRequest, NotFound, UnknownRecordType
from cardfile.schema.model import RecordType, Schema

__all__ = [
    "PACK",
    "PREFIX",
    "STANDARD_OBJECTS",
    "SYSTEM_PROPERTIES",
    "USER_MAP_TYPE",
    "NotSupported",
    "UserIds",
    "decode_record_id",
    "encode_record_id",
    "is_object",
    "object_key",
    "object_type",
    "valid_user_id",
]

PACK = "highlevel"
PREFIX = "custom_objects."
USER_MAP_TYPE = "highlevel_users"
# Fields every object has that are not properties: set at the top level of a body.
SYSTEM_PROPERTIES = ("owners", "followers")
# HighLevel's standard objects, named with or without a plural or a field suffix.
STANDARD_OBJECTS = frozenset(
    {"contact", "contacts", "company", "companies", "business", "businesses", "opportunity", "opportunities"}
)
_HEX24 = re.compile(r"^[0-9a-fA-F]{24}$")
_USER_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_INT64_MAX = 2**63 - 1
_LOOKUP_CHUNK = 200


class NotSupported(BadRequest):
    """A standard object (contacts, companies): the records API serves custom objects only."""

    code = "NOT_SUPPORTED"
    title = "Not supported"


def object_key(rt: RecordType) -> str:
    return PREFIX + rt.name


def is_object(rt: RecordType) -> bool:
    return rt.pack == PACK and rt.name != USER_MAP_TYPE


def object_type(schema: Schema, key: str) -> RecordType:
    """The record type of a customObjectKey; NotSupported, BadRequest or NotFound otherwise."""
    if not key.startswith(PREFIX):
        if key.lower().split(".")[0] in STANDARD_OBJECTS:
            raise NotSupported(
                f"{key!r} is a standard object: only custom objects are supported by the records API; "
                "standard objects (contacts, companies) are not supported yet",
                property="customObjectKey",
            )
        raise BadRequest(
            f"{key!r} is not a custom object key: prefix it with {PREFIX!r}, e.g. custom_objects.event_ticket",
            property="customObjectKey",
        )
    rt = schema.get(key[len(PREFIX) :])
    if rt is None or not is_object(rt):
        raise UnknownRecordType(f"no custom object {key!r}", property="customObjectKey")
    return rt


def encode_record_id(record_id: int) -> str:
    return f"{record_id:024x}"


def decode_record_id(raw: str) -> int:
    if not _HEX24.match(raw):
        raise BadRequest(
            f"recordId {raw[:40]!r} is not a record id: 24 hexadecimal characters, e.g. 668d681f77af4e5229abd6c0",
            property="recordId",
        )
    n = int(raw, 16)
    if not 1 <= n <= _INT64_MAX:
        raise NotFound(f"no record with id {raw.lower()}", property="recordId")
    return n


def valid_user_id(raw: object) -> bool:
    return isinstance(raw, str) and bool(_USER_ID.match(raw))


class UserIds:
    """HighLevel user ids <-> cardfile user ids, looked up once per request.

    The lookups are the dialect's own plumbing, not the caller's reads: they run as the
    system (no principal), in the request's session."""

    def __init__(self, session: Session) -> None:
        self._session = session.acting_as(None)

    def _lookup(self, field: str, values: Sequence[str | int]) -> list[dict[str, object]]:
        try:
            self._session.record_type(USER_MAP_TYPE)
        except UnknownRecordType:
            return []
        rows: list[dict[str, object]] = []
        for i in range(0, len(values), _LOOKUP_CHUNK):
            chunk = list(values[i : i + _LOOKUP_CHUNK])
            q = Query(USER_MAP_TYPE, (Condition(field, "in", chunk),), page_size=len(chunk))
            rows.extend(self._session.query(q).items)
        return rows

    def to_cardfile(self, hl_ids: Iterable[str]) -> dict[str, int]:
        """The cardfile user of each HighLevel user id that names one (unknown ones are left out)."""
        wanted = sorted({u for u in hl_ids if valid_user_id(u)})
        found: dict[str, int] = {}
        for row in self._lookup("hl_id", wanted):
            if isinstance(row["hl_id"], str) and isinstance(row["user"], int):
                found[row["hl_id"]] = row["user"]
        for u in wanted:
            if u not in found and u.isdigit() and 1 <= int(u) <= _INT64_MAX:
                found[u] = int(u)
        return found

    def to_highlevel(self, user_ids: Iterable[int]) -> dict[int, str]:
        wanted = sorted(set(user_ids))
        out: dict[int, str] = {}
        for row in self._lookup("user", wanted):
            if isinstance(row["hl_id"], str) and isinstance(row["user"], int):
                out[row["user"]] = row["hl_id"]
        return {u: out.get(u, str(u)) for u in wanted}
