"""The engine bound to a unit of work (``engine/session.py``): what a converted dialect gets."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Connection

from cardfile.auth.principal import Principal
from cardfile.engine.commands import CreateCommand, FieldOp
from cardfile.engine.query import Query
from cardfile.engine.results import WriteResult
from cardfile.engine.session import Session
from cardfile.errors import BatchFailed, CardfileError, Duplicate, PermissionDenied
from cardfile.services import Services


def _company(name: str) -> CreateCommand:
    return CreateCommand("companies", (FieldOp("name", "set", name),))


def _names(svc: Services) -> list[str]:
    with svc.db.read() as conn:
        items = Session(svc.engine, conn, None).query(Query("companies", page_size=100)).items
    return sorted(r["name"] for r in items)


def _two(s: Session, pair: tuple[str, str]) -> WriteResult:
    """Two writes for one item: the second may fail after the first was written."""
    s.create(_company(pair[0]))
    return s.create(_company(pair[1]))


def test_a_session_never_hands_out_its_connection(svc: Services) -> None:
    caller = Principal("apikey", 1, "k", frozenset({"records.ALL"}))
    with svc.db.read() as conn:
        s = Session(svc.engine, conn, caller, channel="test")
        for one in (s, s.acting_as(None), s.acting_as(caller)):
            public = {n: getattr(one, n) for n in dir(one) if not n.startswith("_")}
            assert not [n for n, v in public.items() if isinstance(v, Connection)]
        assert not hasattr(s, "__dict__")  # slots: nothing can be hung on it either
        assert "companies" in s.schema.types


def test_a_failing_batch_item_rolls_back_only_itself(svc: Services) -> None:
    with svc.db.write() as conn:
        s = Session(svc.engine, conn, None, channel="test")
        results = s.batch([("a", "b"), ("c", "c"), ("d", "e")], _two, all_or_none=False)
    assert [type(r) for r in results] == [WriteResult, Duplicate, WriteResult]
    assert _names(svc) == ["a", "b", "d", "e"]  # "c", written before its item failed, is gone


def test_an_all_or_none_batch_rolls_back_every_item(svc: Services) -> None:
    with pytest.raises(BatchFailed) as info, svc.db.write() as conn:
        Session(svc.engine, conn, None).batch(
            [("a", "b"), ("c", "c")], _two, all_or_none=True, key=lambda pair: pair[0]
        )
    assert [(i, k, e.code) for i, k, e in info.value.failures] == [(1, "c", "DUPLICATE_VALUE")]
    assert _names(svc) == []


def test_a_session_acts_as_its_caller(svc: Services) -> None:
    reader = Principal("apikey", 2, "reader", frozenset({"records.companies.READ"}))
    with svc.db.write() as conn:
        s = Session(svc.engine, conn, reader, channel="test")
        with pytest.raises(PermissionDenied):
            s.create(_company("refused"))
        done = s.acting_as(None).create(_company("by the system"))
        assert s.get("companies", done.id)["name"] == "by the system"
        ctx = s.context("why")
        assert (ctx.actor, ctx.channel, ctx.reason, ctx.principal) == ("reader", "test", "why", reader)
        item_sessions: list[Session] = []

        def seen(inner: Session, name: str) -> WriteResult:
            item_sessions.append(inner)
            return inner.acting_as(None).create(_company(name))

        results: list[WriteResult | CardfileError] = s.batch(["x"], seen, all_or_none=True)
        assert isinstance(results[0], WriteResult)
        assert [i.principal for i in item_sessions] == [reader]  # a batch item keeps the caller
    assert _names(svc) == ["by the system", "x"]
