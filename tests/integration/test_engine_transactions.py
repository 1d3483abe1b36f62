"""The engine writes record, history and outbox in the caller's one transaction."""

from __future__ import annotations

import pytest

from cardfile.engine import history as history_ops
from cardfile.engine.commands import Context, CreateCommand, DeleteCommand, FieldOp, UpdateCommand
from cardfile.errors import BatchFailed, Duplicate, NotFound, PreconditionFailed, ValidationFailed
from cardfile.services import Services
from tests.integration.test_api_support import history_rows, outbox_rows, stored, total_rows

CTX = Context(actor="engine-test", channel="test")


class Boom(Exception):
    pass


def _create(svc: Services, **fields: object) -> int:
    ops = tuple(FieldOp(k, "set", v) for k, v in {"last_name": "Hopper", **fields}.items())
    return svc.engine.create(CreateCommand("contacts", ops), CTX).id


def _update(rid: int, **fields: object) -> UpdateCommand:
    return UpdateCommand("contacts", rid, tuple(FieldOp(k, "set", v) for k, v in fields.items()))


def test_every_committed_change_has_one_history_row_and_one_event(svc: Services) -> None:
    rid = _create(svc, score=1, email="grace@example.com")
    svc.engine.update(_update(rid, score=2), CTX)
    svc.engine.update(_update(rid, score=2), CTX)  # no change: nothing written
    svc.engine.update(UpdateCommand("contacts", rid, (FieldOp("tags", "add", ["vip"]),)), CTX)
    history_ops.revert(svc.engine, "contacts", rid, 1, CTX)
    svc.engine.delete(DeleteCommand("contacts", rid), CTX)

    hist = history_rows(svc, "contacts", rid)
    out = outbox_rows(svc, "contacts", rid)
    assert [(h.version, h.op) for h in hist] == [
        (1, "create"),
        (2, "update"),
        (3, "update"),
        (4, "update"),
        (5, "delete"),
    ]
    assert [(o.version, o.event_type) for o in out] == [
        (1, "record.created"), (2, "record.updated"), (3, "record.updated"), (4, "record.updated"), (5, "record.deleted"),
    ]  # fmt: skip
    for h, o in zip(hist, out, strict=True):
        assert (h.actor, h.channel) == ("engine-test", "test")
        assert o.created_at == h.at
        # history stores changes as a list in field order, exactly as the event carries them
        assert o.payload["changes"] == h.changes
    assert hist[3].changes == [
        {"field": "score", "old": 2, "new": 1},
        {"field": "tags", "old": ["vip"], "new": []},
    ]
    assert hist[3].reason == "revert to version 1"


def test_an_outer_rollback_takes_record_history_and_event_with_it(svc: Services) -> None:
    rid = _create(svc, score=1)
    before = stored(svc, "contacts", rid)
    rows = total_rows(svc)
    with pytest.raises(Boom), svc.db.write() as conn:
        result = svc.engine.update(_update(rid, score=2), CTX, conn)
        assert result.version == 2
        new = svc.engine.create(
            CreateCommand("contacts", (FieldOp("last_name", "set", "Lovelace"),)), CTX, conn
        )
        svc.engine.delete(DeleteCommand("contacts", new.id), CTX, conn)
        raise Boom
    assert stored(svc, "contacts", rid) == before
    assert total_rows(svc) == rows


@pytest.mark.parametrize(
    ("cmd", "error"),
    [
        (lambda rid: _update(rid, score="x"), ValidationFailed),
        (lambda rid: _update(rid, email="taken@example.com"), Duplicate),
        (
            lambda rid: UpdateCommand("contacts", rid, (FieldOp("score", "set", 5),), expected_version=7),
            PreconditionFailed,
        ),
        (lambda rid: _update(rid + 1000, score=5), NotFound),
    ],
)
def test_a_failed_update_writes_nothing(svc: Services, cmd: object, error: type[Exception]) -> None:
    _create(svc, email="taken@example.com")
    rid = _create(svc, score=1)
    before = stored(svc, "contacts", rid)
    rows = total_rows(svc)
    with pytest.raises(error):
        svc.engine.update(cmd(rid), CTX)  # type: ignore[operator]
    assert stored(svc, "contacts", rid) == before
    assert total_rows(svc) == rows


def test_validate_only_writes_nothing(svc: Services) -> None:
    rid = _create(svc, score=1)
    before = stored(svc, "contacts", rid)
    rows = total_rows(svc)
    cmd = UpdateCommand("contacts", rid, (FieldOp("score", "set", 2),), validate_only=True)
    result = svc.engine.update(cmd, CTX)
    assert (result.committed, result.record["score"]) == (False, 2)
    created = svc.engine.create(
        CreateCommand("contacts", (FieldOp("last_name", "set", "Lovelace"),), validate_only=True), CTX
    )
    assert created.committed is False
    assert stored(svc, "contacts", rid) == before
    assert total_rows(svc) == rows


def test_all_or_none_batch_in_the_engine(svc: Services) -> None:
    a, b = _create(svc, score=1), _create(svc, score=2)
    before = [stored(svc, "contacts", i) for i in (a, b)]
    rows = total_rows(svc)
    with pytest.raises(BatchFailed) as info:
        svc.engine.update_many([_update(a, score=10), _update(b, score="x")], CTX, all_or_none=True)
    assert [(i, key, type(e)) for i, key, e in info.value.failures] == [(1, b, ValidationFailed)]
    assert [stored(svc, "contacts", i) for i in (a, b)] == before
    assert total_rows(svc) == rows

    results = svc.engine.update_many([_update(a, score=10), _update(b, score="x")], CTX, all_or_none=False)
    assert not isinstance(results[0], Exception) and results[0].version == 2
    assert isinstance(results[1], ValidationFailed)
    assert stored(svc, "contacts", a).history == 2
    assert stored(svc, "contacts", b) == before[1]
