"""Settings of webhook delivery, from ``CARDFILE_WEBHOOK_*`` and ``CARDFILE_OUTBOUND_ALLOW``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["WebhookConfig"]


def _env_float(name: str, default: float) -> float:
    v = os.environ.get(name)
    return default if v is None or not v.strip() else float(v)


def _env_bool(name: str, default: bool) -> bool:
    v = os.environ.get(name)
    return default if v is None else v.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class WebhookConfig:
    """How the delivery worker behaves; every value has a ``CARDFILE_*`` variable."""

    # run a delivery worker inside `cardfile serve` (off: run `cardfile worker` processes)
    in_server: bool = field(default_factory=lambda: _env_bool("CARDFILE_WEBHOOK_WORKER", True))
    # networks and host names outbound calls may reach although they are internal,
    # e.g. "127.0.0.1/32,::1/128,localhost" for tests and internal deployments
    outbound_allow: str = field(default_factory=lambda: os.environ.get("CARDFILE_OUTBOUND_ALLOW", ""))
    connect_timeout_s: float = field(
        default_factory=lambda: _env_float("CARDFILE_WEBHOOK_CONNECT_TIMEOUT_S", 5)
    )
    timeout_s: float = field(default_factory=lambda: _env_float("CARDFILE_WEBHOOK_TIMEOUT_S", 10))
    max_response_bytes: int = 64 * 1024
    # retries: exponential backoff with jitter from base to max, for retry_for_s, then dead letter
    backoff_base_s: float = field(default_factory=lambda: _env_float("CARDFILE_WEBHOOK_BACKOFF_BASE_S", 5))
    backoff_max_s: float = field(default_factory=lambda: _env_float("CARDFILE_WEBHOOK_BACKOFF_MAX_S", 3600))
    retry_for_s: float = field(default_factory=lambda: _env_float("CARDFILE_WEBHOOK_RETRY_FOR_S", 24 * 3600))
    # a claimed delivery whose worker died is taken over after this (longer than timeout_s)
    lease_s: float = field(default_factory=lambda: _env_float("CARDFILE_WEBHOOK_LEASE_S", 60))
    poll_s: float = field(default_factory=lambda: _env_float("CARDFILE_WEBHOOK_POLL_S", 0.2))
    concurrency: int = field(default_factory=lambda: int(_env_float("CARDFILE_WEBHOOK_CONCURRENCY", 16)))
    batch_size: int = 200
    # after a secret rotation the old secret keeps signing (a second signature) this long
    secret_overlap_s: float = field(
        default_factory=lambda: _env_float("CARDFILE_WEBHOOK_SECRET_OVERLAP_S", 24 * 3600)
    )
