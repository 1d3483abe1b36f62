"""The hot path's statements on the driver (store/dbapi.py), on SQLite and PostgreSQL: the
same rows as Core, inside Core's transaction, SQLAlchemy's errors, and the schema version
read once per transaction without going stale."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from cardfile.auth.apikeys import authenticate_key, create_key
from cardfile.engine.commands import Context, CreateCommand, FieldOp
from cardfile.services import Services
from cardfile.store import records as store
from cardfile.store import schema_store, tables
from cardfile.store.dbapi import Prepared

CTX = Context("tester", "test")


def _create(svc: Services, **fields: object) -> int:
    ops = tuple(FieldOp(k, "set", v) for k, v in fields.items())
    return svc.engine.create(CreateCommand("contacts", ops), CTX).id


def test_rows_written_on_the_driver_read_back_through_core(svc: Services) -> None:
    rid = _create(svc, last_name="Lovelace", tags=["vip"], score=1)
    data = {"last_name": "Lovelace", "tags": ["vip", "smb"], "score": 2, "notes": 'é ✓ "quoted"'}
    changes = [{"field": "score", "old": 1, "new": 2}]
    with svc.db.write() as conn:
        row = store.get_record(conn, "contacts", rid, lock=True)
        assert row is not None and row.version == 1 and row.locked_by is None
        assert row.data["tags"] == ["vip"]  # JSON decoded on both engines
        store.update_records(conn, [(rid, 1, data)], "tester", 123)
        history = {"record_type": "contacts", "record_id": rid, "version": 2, "op": "update",
                   "actor": "tester", "channel": "test", "at": 123, "changes": changes, "reason": None,
                   "client_id": None}  # fmt: skip
        store.insert_history_many(conn, [history, {**history, "version": 3}])  # executemany
        event = {"event_type": "record.updated", "record_type": "contacts", "record_id": rid, "version": 2,
                 "created_at": 123, "status": "pending", "attempts": 0, "next_attempt_at": 123,
                 "delivered_at": None, "payload": {"changes": changes}}  # fmt: skip
        store.insert_outbox_many(conn, [event])
    with svc.db.read() as conn:
        r = conn.execute(select(tables.records).where(tables.records.c.id == rid)).one()
        assert (r.version, r.data, r.modified_at, r.modified_by) == (2, data, 123, "tester")
        h = tables.history
        rows = conn.execute(select(h.c.version, h.c.changes).where(h.c.record_id == rid, h.c.at == 123)).all()
        assert sorted(rows) == [(2, changes), (3, changes)]
        o = tables.outbox
        payload = conn.execute(
            select(o.c.payload).where(o.c.record_id == rid, o.c.created_at == 123)
        ).scalar()
        assert payload == {"changes": changes}
        again = store.get_record(conn, "contacts", rid)
        assert again is not None and again.data == data and again.version == 2
    with svc.db.read() as conn:
        assert store.get_record(conn, "contacts", 10**9) is None
        assert store.get_record(conn, "companies", rid) is None  # the type is part of the key


def test_a_rollback_takes_the_drivers_writes_with_it(svc: Services) -> None:
    rid = _create(svc, last_name="Rollback")
    with pytest.raises(RuntimeError), svc.db.write() as conn:
        store.update_records(conn, [(rid, 1, {"last_name": "Changed"})], "tester", 1)
        raise RuntimeError("abort")
    with svc.db.read() as conn:
        row = store.get_record(conn, "contacts", rid)
        assert row is not None and row.version == 1 and row.data == {"last_name": "Rollback"}


def test_driver_errors_are_sqlalchemys_and_a_read_begins_the_transaction(svc: Services) -> None:
    claim = Prepared(insert(tables.unique_values), column_keys=("record_type", "field", "value", "record_id"))
    row = {"record_type": "contacts", "field": "email", "value": "x@example.com", "record_id": 1}
    with svc.db.write() as conn:
        claim.run(conn, [row])
        with pytest.raises(IntegrityError), conn.begin_nested():
            claim.run(conn, [row])  # the primary key refuses it, as through Core
    key = create_key(svc.db, "reader")
    with svc.db.engine.connect() as conn:  # no transaction begun yet
        assert authenticate_key(conn, key).name == "reader"
        assert conn.in_transaction()  # begun as Core's execute would, so close() ends it


def test_schema_version_is_read_once_per_transaction_and_never_stale(svc: Services) -> None:
    with svc.db.write() as conn:
        v = schema_store.read_schema_version(conn)
        with conn.begin_nested() as sp:
            assert schema_store.bump_schema_version(conn) == v + 1
            assert schema_store.read_schema_version(conn) == v + 1
            sp.rollback()
        assert schema_store.read_schema_version(conn) == v  # not the rolled-back bump
        svc.catalog.add_field("contacts", {"name": "nick", "type": "text"}, conn=conn)
        assert schema_store.read_schema_version(conn) == v + 1
        assert "nick" in svc.catalog.record_type(conn, "contacts").fields  # in the same transaction
    with svc.db.read() as conn:
        assert schema_store.read_schema_version(conn) == v + 1
        assert "nick" in svc.catalog.record_type(conn, "contacts").fields
