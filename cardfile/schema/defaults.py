"""Field defaults and mirrored fields: the values a field gets without a write naming it.

Declared on a field in a pack (or a metadata API body), applied by the engine on every
channel (``cardfile.engine.defaults``):

- ``default``, what a record *created* without the field holds:

  - a literal: ``default: UNCONFIRMED`` (a value the field takes; an object, such as a
    money value, is written ``default: {value: {amount: 0, currency: USD}}``);
  - ``default: {from: creator}``: the acting user (``user`` and ``multi_user`` fields);
  - ``default: {from: <lookup>.<field>}``: the value of ``<field>`` on the record that
    the record's ``<lookup>`` field links to (copied once, on create).

- ``mirror: <field>[.<column>]``: the field holds the first item of the multi-value field
  ``<field>`` (or ``<column>`` of the first row of a sub-records field), recomputed on
  every write that touches ``<field>``; e.g. Tracker's ``owner`` is ``owners.user``.

Pure data, like the rest of ``cardfile.schema``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CREATOR", "FieldDefault", "parse_mirror"]

CREATOR = "creator"


@dataclass(frozen=True)
class FieldDefault:
    """What a field holds when a record is created without it.

    Attributes:
        value: the literal value, when ``source`` is None.
        source: ``"creator"`` for the acting user, or ``"<lookup>.<field>"`` to copy a value
            from the linked record.
    """

    value: Any = None
    source: str | None = None

    @property
    def from_creator(self) -> bool:
        return self.source == CREATOR

    @property
    def copied(self) -> tuple[str, str] | None:
        """(lookup field, field of the linked record) of a copied default, else None."""
        if self.source is None or self.source == CREATOR:
            return None
        link, _, name = self.source.partition(".")
        return link, name

    def to_json(self) -> Any:
        if self.source is not None:
            return {"from": self.source}
        return {"value": self.value} if isinstance(self.value, Mapping) else self.value

    @classmethod
    def from_json(cls, raw: Any) -> FieldDefault | None:
        """Parse a ``default`` attribute; None for no default; raises ValueError."""
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            return cls(value=raw)
        if set(raw) == {"value"}:
            return None if raw["value"] is None else cls(value=raw["value"])
        if set(raw) == {"from"} and isinstance(raw["from"], str):
            source = raw["from"]
            link, dot, name = source.partition(".")
            if source == CREATOR or (dot and link and name and "." not in name):
                return cls(source=source)
        raise ValueError("default is a value, {value: ...}, {from: creator} or {from: <lookup>.<field>}")


def parse_mirror(raw: Any) -> str | None:
    """Parse a ``mirror`` attribute (``<field>`` or ``<field>.<column>``); raises ValueError."""
    if raw is None:
        return None
    if isinstance(raw, str):
        parts = raw.split(".")
        if len(parts) <= 2 and all(parts):
            return raw
    raise ValueError("mirror names a multi-value field, or a sub-records field and its column: owners.user")
