"""Rate limits per caller and per route group, on the ``limits`` library.

Each route belongs to a *group* (``records.read``, ``records.write``, ``metadata``; a
dialect registers its own, e.g. ``tracker``) with one limit such as ``600/minute``. A
caller is an *identity*: a SHA-256 digest prefix of its bearer token (never the token
itself), or its client IP when it sent no credentials. Each (group, identity) pair has its
own budget.

Window: a **moving window**. It enforces exactly what a limit says: never more than N
requests in any window-long span, so a client that honours "100 a minute" is never
refused, and none gets 2N through by bursting across a fixed window's edge. Refused
requests take nothing from the budget, and ``Retry-After`` is the exact time until the
oldest counted request leaves the window. The price is one timestamp per counted request
(at most N per pair), which is small at these limits.

Storage: from a URI. ``memory://`` (the default) counts in this process only: right for a
single server process. ``redis://host:port/db`` shares the counts between every server
process that points at the same Redis; the decision is atomic there (a Lua script). Each
process stamps hits with its own clock, so servers on several hosts need synchronised
clocks (NTP).

Failing open: if the storage cannot be reached (Redis down, a timeout), the request is let
through, with one warning in the log per outage; the storage is not tried again for
``pause_s`` seconds, so an outage costs at most one short, bounded stall (``timeout_s``)
every few seconds instead of one per request. A rate limiter outage must not take the API
down. Logs never carry a token or the storage URI's password.

Headers: ``RateLimit-Policy: 100;w=60`` and ``RateLimit: limit=100, remaining=42,
reset=17`` in the syntax of draft-ietf-httpapi-ratelimit-headers-07 (the form most
libraries and clients read today; drafts 08 and later moved to named policies such as
``"default";q=100;w=60`` / ``"default";r=42;t=17``).

The limiter is synchronous and called on the event loop, with no thread hop: a memory
hit takes some 20 µs; a Redis hit is two round trips (the counting script, then the window
for the headers), about 0.5 ms against a loopback Redis, each bounded by ``timeout_s``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError
from limits.storage import RedisStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from cardfile.errors import RateLimited

__all__ = ["RateLimiter", "RateState", "client_identity", "rate_limit_headers", "token_identity"]

log = logging.getLogger("cardfile.ratelimit")

_REDIS_SCHEMES = ("redis", "rediss", "redis+unix", "valkey", "valkeys", "valkey+unix")
_KEY_PREFIX = "cardfile"  # Redis keys: cardfile:LIMITER/<group>/<identity>/<limit>


def token_identity(token: str) -> str:
    """A caller's identity from its bearer token: a digest prefix, never the token."""
    return "key:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def client_identity(host: str | None) -> str:
    """The identity of a caller without credentials: its client address."""
    return "ip:" + (host or "unknown")


def rate_limit_headers(policy: str, limit: int, remaining: int | None, reset: int | None) -> dict[str, str]:
    """``RateLimit-Policy`` always; ``RateLimit`` when the state is known (draft-07 syntax)."""
    headers = {"RateLimit-Policy": policy}
    if remaining is not None and reset is not None:
        headers["RateLimit"] = f"limit={limit}, remaining={remaining}, reset={reset}"
    return headers


@dataclass(frozen=True, slots=True)
class RateState:
    """A caller's budget in one group after a counted request."""

    group: str
    limit: int  # requests per window
    window: int  # seconds
    remaining: int | None = None  # None: unknown (the storage failed; the request was let through)
    reset: int | None = None  # seconds until the oldest counted request leaves the window

    @property
    def policy(self) -> str:
        return f"{self.limit};w={self.window}"

    def headers(self) -> dict[str, str]:
        return rate_limit_headers(self.policy, self.limit, self.remaining, self.reset)


class RateLimiter:
    """Moving-window limits per (group, identity), stored in memory or in Redis."""

    def __init__(
        self,
        storage_uri: str = "memory://",
        groups: Mapping[str, str] | None = None,
        *,
        enabled: bool = True,
        timeout_s: float = 0.25,
        pause_s: float = 5.0,
    ) -> None:
        self.enabled = enabled
        self.storage_uri = redact(storage_uri)  # safe to show
        self._password = urllib.parse.urlsplit(storage_uri).password
        self._pause_s = pause_s
        self._down_until = 0.0  # monotonic time before which the storage is not tried
        self._groups: dict[str, tuple[RateLimitItem, str]] = {}
        self._storage = _open_storage(storage_uri, timeout_s)
        self._strategy = MovingWindowRateLimiter(self._storage)
        for group, limit in (groups or {}).items():
            self.register_group(group, limit)

    def register_group(self, group: str, limit: str) -> None:
        """Give ``group`` the limit ``limit`` ("100/minute", "10/second", "5000/hour"...);
        a registered group's limit is replaced."""
        if not group or "/" in group:
            raise ValueError(f"bad rate-limit group name {group!r}")
        try:
            items = parse_many(limit)
        except ValueError:
            items = []
        if len(items) != 1 or items[0].amount < 1:
            raise ValueError(f"rate limit {limit!r} of group {group!r} is not one limit like '100/minute'")
        self._groups[group] = (items[0], limit)

    @property
    def groups(self) -> dict[str, str]:
        """Each registered group with its limit as given."""
        return {group: text for group, (_item, text) in self._groups.items()}

    def hit(self, group: str, identity: str) -> RateState | None:
        """Count one request of ``identity`` in ``group``.

        Returns the state after it (``None`` when rate limiting is off); raises
        ``RateLimited`` when the budget is spent. An unknown group is a ``KeyError``: a
        route must not be silently unlimited.
        """
        if not self.enabled:
            return None
        item = self._groups[group][0]
        window = item.get_expiry()
        if self._down_until and time.monotonic() < self._down_until:
            return RateState(group, item.amount, window)
        try:
            allowed = self._strategy.hit(item, group, identity)
            reset_at, remaining = self._strategy.get_window_stats(item, group, identity)
        except Exception as exc:  # any storage failure: let the request through
            self._failed(exc)
            return RateState(group, item.amount, window)
        if self._down_until:
            self._down_until = 0.0
            log.warning("rate limiting is back on: storage %s answers again", self.storage_uri)
        reset = max(0, math.ceil(reset_at - time.time()))
        if not allowed:
            retry = max(1, reset)
            raise RateLimited(
                f"at most {item.amount} requests per {window} s in {group!r}; retry in {retry} s",
                retry_after=retry,
                limit=item.amount,
                remaining=0,
                reset=retry,
                policy=f"{item.amount};w={window}",
            )
        return RateState(group, item.amount, window, max(0, remaining), reset)

    def close(self) -> None:
        if isinstance(self._storage, RedisStorage):
            self._storage.storage.close()

    def _failed(self, exc: Exception) -> None:
        first = not self._down_until
        self._down_until = time.monotonic() + self._pause_s
        if first:
            reason = f"{type(exc).__name__}: {exc}"
            if self._password:
                reason = reason.replace(self._password, "***")
            log.warning(
                "rate limiting is off: storage %s failed (%s); requests are let through, retrying every %g s",
                self.storage_uri,
                reason,
                self._pause_s,
            )


def redact(uri: str) -> str:
    """The URI without its password."""
    parts = urllib.parse.urlsplit(uri)
    if parts.password is None:
        return uri
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def _open_storage(uri: str, timeout_s: float) -> Storage:
    scheme = urllib.parse.urlsplit(uri).scheme
    options: dict[str, Any] = {}
    if scheme in _REDIS_SCHEMES:
        options = {"key_prefix": _KEY_PREFIX, **_redis_options(timeout_s)}
    try:
        storage = storage_from_string(uri, **options)
    except ConfigurationError:
        raise ValueError(
            f"unsupported rate-limit storage {redact(uri)!r}: use memory:// or redis://host:port/db"
        ) from None
    if not isinstance(storage, Storage):  # an async+ scheme
        raise ValueError(
            f"unsupported rate-limit storage {redact(uri)!r}: use memory:// or redis://host:port/db"
        )
    return storage


def _redis_options(timeout_s: float) -> dict[str, Any]:
    """Short socket timeouts and no client-side retries: a dead Redis costs one bounded stall
    (redis-py otherwise retries with back-off for seconds, on the event loop)."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {
        "socket_connect_timeout": timeout_s,
        "socket_timeout": timeout_s,
        "retry": Retry(NoBackoff(), 0),
    }
