"""Who is calling: an API key, a user (through a client or the CLI), or a machine client."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ROLES", "Principal"]

ROLES = ("admin", "standard", "read-only")


@dataclass(frozen=True)
class Principal:
    kind: str  # "apikey" | "user" | "client"
    id: int | str
    name: str  # the actor written to history: the user's email, the client's or the key's name
    scopes: frozenset[str] = field(default_factory=frozenset)
    role: str = "admin"
    user_id: int | None = None  # for ownership checks
    client_id: str | None = None  # the OAuth2 client acted through

    @property
    def key(self) -> str:
        """A stable identity for per-caller state (idempotency keys, rate limits)."""
        return f"{self.kind}:{self.id}"
