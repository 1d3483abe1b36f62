"""The registry of field types: one instance per type name.

Built-in types register through ``register`` exactly as a plugin would.
"""

from __future__ import annotations

from collections.abc import Iterator

from cardfile.fieldtypes.base import FieldType

__all__ = ["DuplicateFieldType", "FieldTypeRegistry", "UnknownFieldType", "registry"]


class UnknownFieldType(KeyError):
    pass


class DuplicateFieldType(ValueError):
    pass


class FieldTypeRegistry:
    def __init__(self) -> None:
        self._types: dict[str, FieldType] = {}

    def register(self, cls: type[FieldType]) -> type[FieldType]:
        """Register a field type class; usable as a decorator."""
        if cls.name in self._types:
            raise DuplicateFieldType(cls.name)
        self._types[cls.name] = cls()
        return cls

    def get(self, name: str) -> FieldType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownFieldType(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._types))


registry = FieldTypeRegistry()
