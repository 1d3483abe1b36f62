"""Group commit for SQLite: one writer thread per process; concurrent writes share a commit.

SQLite allows one writer at a time, and with ``synchronous=FULL`` every commit is an
fsync. Threads queueing on the write lock also fight over the GIL while holding it. So
this process's writes go to one thread, which takes every job waiting in the queue, runs
each in its own savepoint (one job's failure rolls back only that job), and commits them
together: one fsync for the group. A job's result is handed back only after that commit,
so an acknowledged write is as durable as with a commit of its own.

A write that is alone (nothing queued or running, and its caller saw no other write
waiting) may run inline in the caller's thread instead (``run_inline``), in the same
kind of transaction on the same connection: two thread hand-offs less.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import Connection

__all__ = ["GroupCommitWriter"]

T = TypeVar("T")


class _RolledBack(Exception):
    """A lone job failed: its transaction was rolled back, and its error is its outcome."""


@dataclass
class _Job:
    fn: Callable[[Connection], Any]
    future: Future[Any] = field(default_factory=Future)


class WriteStore(Protocol):
    """What the writer needs of ``Database`` (a protocol: the database builds the writer)."""

    def write_connection(self) -> Connection: ...

    def write(self, held: Connection | None = None) -> AbstractContextManager[Connection]: ...


class GroupCommitWriter:
    def __init__(self, db: WriteStore, *, max_group: int = 64) -> None:
        self.db = db
        self.max_group = max_group
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._busy = threading.Lock()  # held while a group runs, in the writer thread or inline
        self._conn: Connection | None = None  # kept open across groups; used only under _busy
        self._pending = 0  # callers inside pending()
        self._pending_lock = threading.Lock()

    @contextlib.contextmanager
    def pending(self) -> Iterator[None]:
        """Count the caller as waiting for a write (see ``alone``) until it has its result."""
        with self._pending_lock:
            self._pending += 1
        try:
            yield
        finally:
            with self._pending_lock:
                self._pending -= 1

    def alone(self) -> bool:
        """Is the caller (inside ``pending()``) the only one waiting for a write?"""
        return self._pending == 1

    def run_inline(self, fn: Callable[[Connection], T]) -> Future[T] | None:
        """Run ``fn`` now, in the calling thread, as a group of one, when nothing is queued
        or running; None (and nothing run) otherwise."""
        if not self._queue.empty() or not self._busy.acquire(blocking=False):
            return None
        try:
            job = _Job(fn)
            self._run_group([job])
            return job.future
        finally:
            self._busy.release()

    def submit(self, fn: Callable[[Connection], T]) -> Future[T]:
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
        with self._busy:  # the connection groups share (opened by the thread or inline)
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _loop(self) -> None:
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
            with self._busy:
                self._run_group(group)
            if stop:
                return

    def _run_group(self, group: list[_Job]) -> None:
        # One connection for all groups: a pool checkout per group costs more than its SQL.
        if self._conn is None:
            self._conn = self.db.write_connection()
        if not self._run(self._conn, group):  # the commit failed: start again on a fresh connection
            self._conn.close()
            self._conn = None

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
