"""Server settings, from the CLI or ``CARDFILE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cardfile.webhooks.config import WebhookConfig

__all__ = ["DEFAULT_RATE_LIMITS", "Settings"]


def _env_bool(name: str, default: bool) -> bool:
    v = os.environ.get(name)
    return default if v is None else v.strip().lower() in ("1", "true", "yes", "on")


# Requests per caller (API key, token or, without credentials, client IP) and route group.
DEFAULT_RATE_LIMITS = {
    "records.read": "600/minute",
    "records.write": "300/minute",
    "metadata": "120/minute",
    "auth": "60/minute",  # the OAuth2 endpoints that check a password or client secret, per IP
}


def _rate_limits() -> dict[str, str]:
    """The default limits, with ``CARDFILE_RATE_LIMITS="group=LIMIT;group=LIMIT"`` over them."""
    limits = dict(DEFAULT_RATE_LIMITS)
    for part in os.environ.get("CARDFILE_RATE_LIMITS", "").split(";"):
        if not part.strip():
            continue
        group, sep, limit = (p.strip() for p in part.partition("="))
        if not sep or not group or not limit:
            raise ValueError(
                f"CARDFILE_RATE_LIMITS: {part.strip()!r} is not group=LIMIT, e.g. records.read=600/minute"
            )
        limits[group] = limit
    return limits


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

    # rate limits: memory:// counts per process; redis://host:port/db shares counts between processes
    rate_limit_storage: str = field(
        default_factory=lambda: os.environ.get("CARDFILE_RATE_LIMIT_STORAGE", "memory://")
    )
    rate_limits: dict[str, str] = field(default_factory=_rate_limits, hash=False)
    rate_limits_enabled: bool = field(default_factory=lambda: _env_bool("CARDFILE_RATE_LIMITS_ENABLED", True))

    # webhook delivery: in-server worker, outbound allow-list, timeouts, retries (CARDFILE_WEBHOOK_*)
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)

    # stored files (documents, résumés): "" = <data_dir>/files, or a directory (cardfile/files)
    file_store: str = field(default_factory=lambda: os.environ.get("CARDFILE_FILE_STORE", ""))
    max_file_bytes: int = field(
        default_factory=lambda: int(os.environ.get("CARDFILE_MAX_FILE_BYTES", str(10 << 20)))
    )

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+pysqlite:///{(self.data_dir / 'cardfile.db').resolve()}"
