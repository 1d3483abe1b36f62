"""What the engine answers: the record as JSON plus what changed, by whom and when."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Change", "WriteResult"]


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class WriteResult:
    type: str
    id: int
    version: int
    record: dict[str, Any]  # the record as JSON after the write (or as it would be, when validated only)
    changes: list[Change] = field(default_factory=list)
    actor: str = ""
    at: str = ""  # ISO 8601 time of the write
    created: bool = False
    deleted: bool = False
    committed: bool = True  # False for validate-only and for a change that changed nothing

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "changes": [c.to_json() for c in self.changes],
            "actor": self.actor,
            "at": self.at,
            "created": self.created,
            "committed": self.committed,
        }
