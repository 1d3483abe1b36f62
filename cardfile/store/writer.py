"""Group commit for SQLite: one writer thread per process; concurrent writes share a commit.

SQLite allows one writer at a time, and with ``synchronous=FULL`` every commit is an
fsync. Threads queueing on the write lock also fight over the GIL while holding it. So
this process's writes go to one thread, which takes every job waiting in the queue, runs
each in its own savepoint (one job's failure rolls back only that job), and commits them
together: one fsync for the group. A job's result is handed back only after that commit,
so an acknowledged write is as durable as with a commit of its own.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from cardfile.store.database import Database

__all__ = ["GroupCommitWriter"]


class _RolledBack(Exception):
    """A lone job failed: its transaction was rolled back, and its error is its outcome."""


@dataclass
class _Job:
    fn: Callable[[Connection], Any]
    future: Future[Any] = field(default_factory=Future)


class GroupCommitWriter:
    def __init__(self, db: Database, *, max_group: int = 64) -> None:
        self.db = db
        self.max_group = max_group
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, fn: Callable[[Connection], Any]) -> Future[Any]:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="cardfile-writer", daemon=True)
                    self._thread.start()
        job = _Job(fn)
        self._queue.put(job)
        return job.future

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        # One connection for the thread's life: a pool checkout per group costs more than its SQL.
        conn: Connection | None = None
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                group = [first]
                stop = False
                while len(group) < self.max_group:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stop = True
                        break
                    group.append(job)
                if conn is None:
                    conn = self.db.write_connection()
                if not self._run(conn, group):  # the commit failed: start again on a fresh connection
                    conn.close()
                    conn = None
                if stop:
                    return
        finally:
            if conn is not None:
                conn.close()

    def _run(self, held: Connection, group: list[_Job]) -> bool:
        """Run and commit a group; False when the transaction itself failed."""
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self.db.write(held) as conn:
                if len(group) == 1:  # alone in its transaction: no savepoint needed
                    try:
                        outcomes.append((True, group[0].fn(conn)))
                    except Exception as exc:
                        outcomes.append((False, exc))
                        raise _RolledBack from exc
                else:
                    for job in group:
                        try:
                            with conn.begin_nested():
                                outcomes.append((True, job.fn(conn)))
                        except Exception as exc:
                            outcomes.append((False, exc))
        except _RolledBack:
            pass
        except Exception as exc:  # the commit itself failed: nothing of the group is durable
            for job in group:
                job.future.set_exception(exc)
            return False
        for job, (ok, value) in zip(group, outcomes, strict=True):
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)
        return True
