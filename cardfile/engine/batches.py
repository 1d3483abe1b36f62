"""Batches: a size limit, and many writes each in its own savepoint."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.engine import Connection

from cardfile.engine.results import WriteResult
from cardfile.errors import BatchFailed, CardfileError, LimitExceeded

__all__ = ["check_size", "run"]

T = TypeVar("T")


def check_size(n: int, limit: int) -> None:
    if n > limit:
        raise LimitExceeded(f"at most {limit} records per request; got {n}", limit=limit)
    if n == 0:
        raise LimitExceeded("the batch holds no records")


def run(
    conn: Connection,
    items: Sequence[T],
    fn: Callable[[Connection, T], WriteResult],
    *,
    all_or_none: bool,
    key: Callable[[T], object] = lambda _: None,
) -> list[WriteResult | CardfileError]:
    """Run ``fn`` for each item, each in its own savepoint.

    All-or-none: the first pass collects every failure, then raises BatchFailed so
    nothing commits. Per-record: good items commit, failures are returned in place.
    """
    results: list[WriteResult | CardfileError] = []
    for item in items:
        try:
            with conn.begin_nested():
                results.append(fn(conn, item))
        except CardfileError as exc:
            results.append(exc)
    failures = [(i, key(items[i]), r) for i, r in enumerate(results) if isinstance(r, CardfileError)]
    if all_or_none and failures:
        raise BatchFailed(failures)
    return results
