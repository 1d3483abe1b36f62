"""Server settings, from the CLI or ``CARDFILE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]


def _env_bool(name: str, default: bool) -> bool:
    v = os.environ.get(name)
    return default if v is None else v.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("cardfile-data")
    database_url: str | None = None  # None: SQLite in data_dir
    packs: tuple[str, ...] = ()
    # SQLite durability: "full" survives power loss; "normal" may lose the last commits on power loss
    sqlite_sync: str = field(default_factory=lambda: os.environ.get("CARDFILE_SQLITE_SYNC", "full"))
    busy_timeout_ms: int = 5000
    batch_limit: int = field(default_factory=lambda: int(os.environ.get("CARDFILE_BATCH_LIMIT", "100")))
    max_body_bytes: int = field(
        default_factory=lambda: int(os.environ.get("CARDFILE_MAX_BODY_BYTES", str(2 << 20)))
    )
    # When on, PATCH and DELETE without If-Match or If-Unmodified-Since get 428.
    require_preconditions: bool = field(
        default_factory=lambda: _env_bool("CARDFILE_REQUIRE_PRECONDITIONS", False)
    )
    idempotency_ttl_s: int = 24 * 3600
    # access tokens
    issuer: str = field(default_factory=lambda: os.environ.get("CARDFILE_ISSUER", "cardfile"))
    audience: str = field(default_factory=lambda: os.environ.get("CARDFILE_AUDIENCE", "cardfile"))
    token_ttl_s: int = 3600
    # a retired signing key keeps verifying this long: longer than any token lives
    key_overlap_s: int = 24 * 3600

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+pysqlite:///{(self.data_dir / 'cardfile.db').resolve()}"
