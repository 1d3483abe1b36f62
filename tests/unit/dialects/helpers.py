"""What the dialect unit tests share: the shipped packs' record types, without a database,
and one instance of every error class."""

from __future__ import annotations

import functools
from typing import Any

from cardfile.errors import ALL_ERRORS, BatchFailed, CardfileError, FieldError, ValidationFailed
from cardfile.schema.model import FieldDef, RecordType, Schema
from cardfile.schema.packs import load_pack

__all__ = ["ERROR_CLASSES", "error_instance", "fd", "ids", "record_type", "schema"]


@functools.cache
def schema(*packs: str) -> Schema:
    """The record types of ``packs`` as one schema snapshot, as installing them would make it."""
    return Schema({rt.name: rt for name in packs for rt in load_pack(name).types})


def record_type(pack: str, name: str) -> RecordType:
    rt = schema(pack).get(name)
    assert rt is not None, f"pack {pack!r} has no type {name!r}"
    return rt


def fd(rt: RecordType, name: str) -> FieldDef:
    found = rt.get(name)
    assert found is not None, f"{rt.name} has no field {name!r}"
    return found


def error_instance(cls: type[CardfileError], detail: str = "something went wrong") -> CardfileError:
    """One instance of an error class, as the engine raises it."""
    if issubclass(cls, ValidationFailed):
        return cls([FieldError("name", "INVALID_TEXT", "bad")])
    if cls is BatchFailed:
        return BatchFailed([])
    return cls(detail)


ERROR_CLASSES: tuple[type[CardfileError], ...] = ALL_ERRORS


def ids(value: Any) -> str:
    """A parametrize id: a class by its name."""
    return value.__name__ if isinstance(value, type) else str(value)
