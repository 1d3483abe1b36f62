"""Who is calling. Kept abstract: API keys now, users and OAuth2 clients later."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Principal"]


@dataclass(frozen=True)
class Principal:
    kind: str  # "apikey"
    id: int
    name: str  # the actor written to history

    @property
    def key(self) -> str:
        """A stable identity for per-caller state (idempotency keys, rate limits)."""
        return f"{self.kind}:{self.id}"
