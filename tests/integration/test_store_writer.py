"""The group-commit writer's inline path (store/writer.py): a lone write runs in the
caller's thread, in its own committed transaction; never while a group runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection

from cardfile.store import tables
from cardfile.store.database import Database


def _set(value: str) -> Callable[[Connection], str]:
    def fn(conn: Connection) -> str:
        conn.execute(tables.meta.insert().values(key="k", value=value))
        return threading.current_thread().name

    return fn


def _value(db: Database) -> str | None:
    with db.read() as conn:
        return conn.execute(select(tables.meta.c.value).where(tables.meta.c.key == "k")).scalar()


def test_inline_write_commits_in_the_callers_thread(tmp_path: Path) -> None:
    db = Database(f"sqlite+pysqlite:///{tmp_path / 'w.db'}")
    db.migrate()
    writer = db.writer
    assert writer is not None
    try:
        with writer.pending():
            assert writer.alone()
            with writer.pending():
                assert not writer.alone()
            done = writer.run_inline(_set("inline"))
        assert done is not None and done.result() == threading.current_thread().name
        assert _value(db) == "inline"

        def fail(conn: Connection) -> None:
            conn.execute(tables.meta.delete())
            raise RuntimeError("refused")

        failed = writer.run_inline(fail)
        assert failed is not None
        with pytest.raises(RuntimeError):
            failed.result()
        assert _value(db) == "inline"  # rolled back

        # while the writer thread runs a group, nothing runs inline
        started, release = threading.Event(), threading.Event()

        def slow(conn: Connection) -> str:
            started.set()
            release.wait(10)
            return "slow"

        queued = writer.submit(slow)
        assert started.wait(10)
        assert writer.run_inline(_set("never")) is None
        release.set()
        assert queued.result(10) == "slow"
        assert _value(db) == "inline"
    finally:
        db.dispose()
