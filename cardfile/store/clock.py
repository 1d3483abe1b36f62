"""Time as integer microseconds since the epoch, and its ISO 8601 form."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

__all__ = ["from_datetime", "now_us", "to_datetime", "to_iso"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)


def now_us() -> int:
    return time.time_ns() // 1000


def to_datetime(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def from_datetime(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // _US


def to_iso(us: int) -> str:
    """Fixed width, UTC, microseconds: text order is time order."""
    return (_EPOCH_NAIVE + timedelta(microseconds=us)).isoformat(timespec="microseconds") + "Z"
