"""Link types: lookup / multi_lookup (records of ``field.target``), user / multi_user ("users").

Stored as record ids (positive integers). Whether the record exists is the engine's
check, through ``references``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cardfile.fieldtypes.base import InvalidValue, MultiValueFieldType, Reference, SingleValueFieldType
from cardfile.fieldtypes.registry import registry
from cardfile.schema.model import FieldDef, SchemaError

__all__ = ["Lookup", "MultiLookup", "MultiUser", "User", "parse_record_id"]

USERS = "users"
_INT64_MAX = 2**63 - 1


def parse_record_id(raw: Any) -> int:
    """A record id: a JSON integer >= 1 (not a string, not a boolean, not 3.0)."""
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= _INT64_MAX:
        raise InvalidValue("NOT_A_RECORD_ID", f"expected a record id (a positive integer), got {raw!r:.40}")
    return raw


def _lookup_target(field: FieldDef) -> str:
    if not field.target:
        raise SchemaError(f"field {field.name!r} has no target record type")
    return field.target


@registry.register
class Lookup(SingleValueFieldType):
    name = "lookup"
    sql_kind = "number"

    def target(self, field: FieldDef) -> str:
        return _lookup_target(field)

    def parse(self, raw: Any, field: FieldDef) -> int:
        return parse_record_id(raw)

    def references(self, value: Any, field: FieldDef) -> Iterable[Reference]:
        return () if value is None else ((self.target(field), value),)


@registry.register
class MultiLookup(MultiValueFieldType):
    sql_item_kind = "number"

    name = "multi_lookup"

    def target(self, field: FieldDef) -> str:
        return _lookup_target(field)

    def parse_item(self, raw: Any, field: FieldDef) -> int:
        return parse_record_id(raw)

    def references(self, value: Any, field: FieldDef) -> Iterable[Reference]:
        target = self.target(field)
        return [(target, v) for v in value or ()]


@registry.register
class User(Lookup):
    """A link to a user; ``field.target`` is ignored."""

    name = "user"

    def target(self, field: FieldDef) -> str:
        return USERS


@registry.register
class MultiUser(MultiLookup):
    """Links to users; ``field.target`` is ignored."""

    name = "multi_user"

    def target(self, field: FieldDef) -> str:
        return USERS
