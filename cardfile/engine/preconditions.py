"""Optimistic concurrency: expected version (ETag / If-Match) and unmodified-since."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy.engine import Connection

from cardfile.errors import PreconditionFailed
from cardfile.store import records as store
from cardfile.store.clock import from_datetime, to_iso

__all__ = ["check_preconditions"]

_SECOND = 1_000_000


def check_preconditions(
    conn: Connection,
    row: Any,
    *,
    expected_version: int | None,
    unmodified_since: datetime | None,
    precision: Literal["second", "microsecond"],
) -> None:
    """Refuse a stale write; never merge it silently."""
    if expected_version is not None and row.version != expected_version:
        raise PreconditionFailed(
            f"record is at version {row.version}, not {expected_version}",
            current_version=row.version,
        )
    if unmodified_since is None:
        return
    limit = from_datetime(unmodified_since)
    modified = int(row.modified_at)
    if precision == "microsecond":
        stale = modified > limit
    else:
        # An HTTP-date carries whole seconds. Compare at that precision, and when the
        # record's last change falls in the very same second, accept it only if it was
        # the one change of that second: otherwise the caller may have seen an earlier
        # version from that second, and a same-second edit would slip through.
        second = limit - limit % _SECOND
        mod_second = modified - modified % _SECOND
        stale = mod_second > second or (
            mod_second == second
            and store.versions_in_window(conn, row.type, row.id, second, second + _SECOND) > 1
        )
    if stale:
        raise PreconditionFailed(
            f"record was modified at {to_iso(modified)}, after the given time",
            current_version=row.version,
        )
