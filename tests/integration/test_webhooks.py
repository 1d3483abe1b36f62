"""Webhooks: subscriptions, signed delivery from the outbox, retries, dead letters, order,
and delivery that survives SIGKILL; on SQLite and PostgreSQL, to a real loopback receiver."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook, WebhookVerificationError

from cardfile.auth.apikeys import create_key
from cardfile.auth.principal import Principal
from cardfile.engine.commands import Context, CreateCommand, DeleteCommand, FieldOp, UpdateCommand
from cardfile.errors import BatchFailed, PermissionDenied, ScopeMissing, ValidationFailed
from cardfile.services import Services
from cardfile.settings import Settings
from cardfile.store import tables
from cardfile.store.database import Database
from cardfile.webhooks import signing, subscriptions
from cardfile.webhooks.access import require_webhook_admin
from cardfile.webhooks.config import WebhookConfig
from cardfile.webhooks.worker import DeliveryWorker, backoff_s, list_deliveries, open_count
from tests.conftest import LiveServer, _free_port
from tests.integration.webhook_receiver import Receiver

LOOPBACK = "127.0.0.1/32,::1/128"
CARDFILE = str(Path(sys.executable).parent / "cardfile")
CTX = Context("tester", "api")


def fast_config(**over: object) -> WebhookConfig:
    base = WebhookConfig(
        in_server=False, outbound_allow=LOOPBACK, backoff_base_s=0.02, backoff_max_s=0.05,
        lease_s=2, poll_s=0.02, timeout_s=5, connect_timeout_s=2, concurrency=8,
    )  # fmt: skip
    return dataclasses.replace(base, **over)  # type: ignore[arg-type]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def subscribe(svc: Services, url: str, **values: object) -> tuple[int, str]:
    with svc.db.write() as conn:
        sub, secret = subscriptions.create(conn, {"url": url, **values})
    return sub.id, secret


def drain(worker: DeliveryWorker, db: Database, timeout: float = 20) -> None:
    """Rounds until nothing is pending or in flight (dead letters end it too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.run_once()
        with db.read() as conn:
            if open_count(conn) == 0:
                return
        time.sleep(0.01)
    raise AssertionError("deliveries still open")


def contact(n: int | str) -> tuple[FieldOp, ...]:
    return (FieldOp("last_name", "set", f"L{n}"), FieldOp("email", "set", f"c{n}@example.com"))


# -- signatures ------------------------------------------------------------------------
def test_signatures_verify_with_standardwebhooks() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_") and len(signing.secret_bytes(secret)) == 32
    body = b'{"type":"record.updated","data":{"id":1}}'
    now = int(time.time())
    headers = signing.headers([secret], "msg_1_1", now, body)
    assert Webhook(secret).verify(body, headers) == {"type": "record.updated", "data": {"id": 1}}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"1}", b"2}"), headers)  # tampered body
    old = signing.headers([secret], "msg_1_1", now - 3600, body)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(body, old)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)  # another secret
    # rotation: both secrets sign, space separated; a receiver with either one verifies
    new = signing.new_secret()
    both = signing.headers([new, secret], "msg_1_1", now, body)
    assert len(both["webhook-signature"].split(" ")) == 2
    Webhook(secret).verify(body, both)
    Webhook(new).verify(body, both)


def test_webhook_admin_needs_scope_and_role() -> None:
    require_webhook_admin(None)
    require_webhook_admin(Principal("apikey", 1, "k", frozenset({"webhooks.ALL"})))
    with pytest.raises(ScopeMissing):
        require_webhook_admin(Principal("user", 1, "a", frozenset({"records.ALL", "metadata.WRITE"})))
    with pytest.raises(PermissionDenied):
        require_webhook_admin(Principal("user", 2, "s", frozenset({"webhooks.ALL"}), role="standard"))


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    cfg = WebhookConfig(backoff_base_s=5, backoff_max_s=3600)
    for attempt, step in ((1, 5), (2, 10), (5, 80), (20, 3600)):
        values = [backoff_s(attempt, cfg) for _ in range(50)]
        assert all(step / 2 <= v <= step for v in values)
        assert len(set(values)) > 1
    # retries span at least a day before a dead letter: the default window
    assert WebhookConfig().retry_for_s >= 24 * 3600


# -- the API -----------------------------------------------------------------------------
def test_subscription_api(live: LiveServer, api: httpx.Client) -> None:
    live.services.settings = dataclasses.replace(
        live.services.settings, webhooks=fast_config(outbound_allow="")
    )
    r = api.post("/api/webhooks", json={"url": "http://127.0.0.1:9/hook"})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "URL_NOT_ALLOWED", r.text
    r = api.post("/api/webhooks", json={"url": "https://93.184.215.14/hook", "event_types": ["updated", "deal.won"],
                                         "record_types": ["deals"], "fields": ["stage"], "bogus": 1})  # fmt: skip
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["bogus"]
    body = {"url": "https://93.184.215.14/hook", "event_types": ["updated", "deal.won"],
            "record_types": ["deals"], "fields": ["stage"], "description": "CRM sync"}  # fmt: skip
    r = api.post("/api/webhooks", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    sid, secret = created["id"], created["secret"]
    assert secret.startswith("whsec_")
    assert created["event_types"] == ["record.updated", "deal.won"]
    assert r.headers["location"] == f"/api/webhooks/{sid}"
    got = api.get(f"/api/webhooks/{sid}").json()
    assert "secret" not in got and secret not in str(got)
    assert api.get("/api/webhooks").json()["items"][0]["id"] == sid
    r = api.patch(f"/api/webhooks/{sid}", json={"active": False, "fields": None})
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["fields"] is None
    r = api.post(f"/api/webhooks/{sid}/rotate-secret")
    assert r.status_code == 200
    new_secret = r.json()["secret"]
    assert new_secret != secret and len(r.json()["secrets"]) == 2
    assert r.json()["secrets"][0]["expires_at"] is None and r.json()["secrets"][1]["expires_at"] is not None
    with live.services.db.read() as conn:
        live_secrets = subscriptions.get(conn, sid).live_secrets(int(time.time() * 1e6))
    assert live_secrets == [new_secret, secret]  # both sign during the overlap
    assert api.get("/api/webhooks/dead-letters").json() == {"items": [], "next_after": None}
    assert api.post("/api/webhooks/dead-letters/replay", json={}).json() == {"replayed": 0}
    assert api.delete(f"/api/webhooks/{sid}").status_code == 204
    assert api.get(f"/api/webhooks/{sid}").status_code == 404
    # a standard user's token (records.ALL metadata.READ) may do none of it
    from cardfile.auth import scopes
    from cardfile.auth.users import add_user

    svc = live.services
    with svc.db.write() as conn:
        uid = add_user(conn, "std@example.com", role="standard", password="correct horse battery").id
        token = svc.auth.tokens.issue(
            conn, subject=f"user:{uid}", scopes=scopes.normalize(scopes.default_for_role("standard"))
        )[0]
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}) as std:
        for method, path in (
            ("GET", "/api/webhooks"),
            ("POST", "/api/webhooks"),
            ("GET", "/api/webhooks/dead-letters"),
        ):
            r = std.request(
                method, path, json={"url": "https://93.184.215.14/"} if method == "POST" else None
            )
            assert r.status_code == 403 and r.json()["code"] == "INSUFFICIENT_SCOPE", (path, r.text)


# -- delivery ------------------------------------------------------------------------------
def test_delivery_payload_signature_and_order(svc: Services, receiver: Receiver) -> None:
    sid, secret = subscribe(svc, receiver.url)
    deals_only, _ = subscribe(svc, receiver.url + "?deals", record_types=["deals"])
    stage_only, _ = subscribe(svc, receiver.url + "?stage", fields=["title"], event_types=["record.updated"])
    ctx = Context("alice", "api", reason="test")
    created = svc.engine.create(CreateCommand("contacts", contact(1)), ctx)
    svc.engine.update(UpdateCommand("contacts", created.id, (FieldOp("score", "set", 7),)), ctx)
    svc.engine.update(UpdateCommand("contacts", created.id, (FieldOp("title", "set", "CTO"),)), ctx)
    svc.engine.delete(DeleteCommand("contacts", created.id), ctx)
    worker = DeliveryWorker(svc.db, fast_config())
    try:
        drain(worker, svc.db)
    finally:
        worker.stop()
    got = receiver.snapshot()
    main = [r for r in got if r.headers["webhook-id"].endswith(f"_{sid}")]
    assert [r.json["type"] for r in main] == [
        "record.created",
        "record.updated",
        "record.updated",
        "record.deleted",
    ]
    assert [r.json["data"]["version"] for r in main] == [1, 2, 3, 4]
    first = main[1]
    Webhook(secret).verify(first.body, first.headers)
    data = first.json["data"]
    assert data["record_type"] == "contacts" and data["id"] == created.id and data["actor"] == "alice"
    assert data["channel"] == "api" and data["client_id"] is None
    assert data["changes"] == [{"field": "score", "old": None, "new": 7}]
    assert first.headers["content-type"] == "application/json"
    assert not [r for r in got if r.headers["webhook-id"].endswith(f"_{deals_only}")]  # contacts only
    title = [r for r in got if r.headers["webhook-id"].endswith(f"_{stage_only}")]
    assert [r.json["data"]["version"] for r in title] == [3]  # the field filter
    with svc.db.read() as conn:
        log = list_deliveries(conn, subscription_id=sid)
    assert [d["status"] for d in log] == ["delivered"] * 4 and all(d["attempts"] == 1 for d in log)


def test_retries_keep_order_then_dead_letter_and_replay(live: LiveServer, api: httpx.Client) -> None:
    svc = live.services
    broken = {"on": True}
    receiver = Receiver(status=lambda r: 503 if broken["on"] else 200).start()
    try:
        sid, secret = subscribe(svc, receiver.url)
        rid = svc.engine.create(CreateCommand("contacts", contact(1)), CTX).id
        svc.engine.update(UpdateCommand("contacts", rid, (FieldOp("score", "set", 1),)), CTX)
        worker = DeliveryWorker(svc.db, fast_config(retry_for_s=0.4))
        try:
            drain(worker, svc.db)  # fails until the window is over: dead letters
            got = receiver.snapshot()
            # per-record order: version 2 is never tried while version 1 is still being retried
            versions = [r.json["data"]["version"] for r in got]
            first_v2 = versions.index(2)
            assert versions[:first_v2] == [1] * first_v2 and first_v2 >= 2
            assert len({r.webhook_id for r in got if r.json["data"]["version"] == 1}) == 1
            dead = api.get("/api/webhooks/dead-letters").json()["items"]
            assert [d["status"] for d in dead] == ["dead", "dead"]
            assert dead[0]["last_status"] == 503 and dead[0]["last_error"].startswith("HTTP 503")
            assert dead[0]["attempts"] >= 2
            broken["on"] = False
            r = api.post("/api/webhooks/dead-letters/replay", json={"ids": [dead[0]["id"]]})
            assert r.json() == {"replayed": 1}
            drain(worker, svc.db)
            assert api.post("/api/webhooks/dead-letters/replay", json={"subscription_id": sid}).json() == {
                "replayed": 1
            }
            drain(worker, svc.db)
        finally:
            worker.stop()
        ok = [r for r in receiver.snapshot() if r.at and r.json and True][-2:]
        for r in ok:
            Webhook(secret).verify(r.body, r.headers)
        assert [d["status"] for d in api.get("/api/webhooks/deliveries").json()["items"]] == ["delivered"] * 2
    finally:
        receiver.stop()


def test_nothing_is_sent_for_rolled_back_changes(svc: Services, receiver: Receiver) -> None:
    subscribe(svc, receiver.url)
    with pytest.raises(BatchFailed):
        svc.engine.run_batch(
            [contact("gone"), (FieldOp("email", "set", "bad"),)],
            lambda c, ops: svc.engine.create(CreateCommand("contacts", ops), CTX, c),
            all_or_none=True,
        )
    with pytest.raises(ValidationFailed):
        svc.engine.create(CreateCommand("contacts", (FieldOp("email", "set", "x"),)), CTX)
    kept = svc.engine.create(CreateCommand("contacts", contact("kept")), CTX)
    worker = DeliveryWorker(svc.db, fast_config())
    try:
        drain(worker, svc.db)
    finally:
        worker.stop()
    assert [r.json["data"]["id"] for r in receiver.snapshot()] == [kept.id]


def test_events_before_a_subscription_are_not_sent(svc: Services, receiver: Receiver) -> None:
    svc.engine.create(CreateCommand("contacts", contact(1)), CTX)
    time.sleep(0.002)
    subscribe(svc, receiver.url)
    later = svc.engine.create(CreateCommand("contacts", contact(2)), CTX)
    worker = DeliveryWorker(svc.db, fast_config())
    try:
        drain(worker, svc.db)
    finally:
        worker.stop()
    assert [r.json["data"]["id"] for r in receiver.snapshot()] == [later.id]


# -- crashes and many workers -----------------------------------------------------------------
def _serve(settings: Settings, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [CARDFILE, "serve", "--data", str(settings.data_dir), "--pack", "demo",
           "--port", str(port)]  # fmt: skip
    if settings.database_url:
        cmd += ["--database", settings.database_url]
    log = settings.data_dir / "serve.log"
    with open(log, "ab") as err:  # the child keeps its own descriptor
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise AssertionError(log.read_text())
    raise AssertionError("server did not start")


@pytest.mark.slow
def test_sigkill_mid_delivery_loses_nothing(settings: Settings, svc: Services) -> None:
    """1,000 committed events; SIGKILL the server while it delivers them; restart: every
    committed change arrives at least once, duplicates share their webhook-id, and
    nothing of a rolled-back batch ever arrives."""
    # after 150 arrivals the receiver holds each request a while: the kill finds POSTs in
    # flight, sent but never recorded as delivered, which must come again after the restart
    hold = {"on": True, "n": 0}

    def answer(_r: object) -> int:
        hold["n"] += 1
        if hold["on"] and hold["n"] > 150:
            time.sleep(1.0)
        return 200

    receiver = Receiver(status=answer, delay_s=0.004).start()
    env = {**os.environ, "CARDFILE_OUTBOUND_ALLOW": LOOPBACK, "CARDFILE_WEBHOOK_LEASE_S": "1.5",
           "CARDFILE_WEBHOOK_POLL_S": "0.05", "CARDFILE_WEBHOOK_BACKOFF_BASE_S": "0.05",
           "CARDFILE_WEBHOOK_CONCURRENCY": "8", "CARDFILE_WEBHOOK_WORKER": "on"}  # fmt: skip
    sid, secret = subscribe(svc, receiver.url)
    port = _free_port()
    key = create_key(svc.db, "kill-test")
    proc = _serve(settings, port, env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"},
                          timeout=30) as api:  # fmt: skip
            ids = []
            for b in range(5):  # 500 creates, 100 a call
                r = api.post("/api/records/contacts/upsert", json={"match_on": "email", "records": [
                    {"last_name": f"L{b}-{i}", "email": f"k{b}-{i}@example.com"} for i in range(100)]})  # fmt: skip
                assert r.status_code == 200, r.text
                ids += [item["id"] for item in r.json()["results"]]
            for b in range(5):  # 500 updates
                r = api.patch("/api/records/contacts", json={"records": [
                    {"id": i, "score": b} for i in ids[b * 100:(b + 1) * 100]]})  # fmt: skip
                assert r.status_code == 200, r.text
            r = api.patch("/api/records/contacts", json={"all_or_none": True, "records": [  # rolled back
                {"id": ids[0], "title": "ROLLED BACK"}, {"id": ids[1], "email": "not an email"}]})  # fmt: skip
            assert r.status_code == 422
        receiver.wait_for(lambda got: len(got) >= 150 and any(receiver.in_flight.values()), timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        hold["on"] = False
        before = len({r.webhook_id for r in receiver.snapshot()})
        assert before < 1000, "the kill came too late to test anything"
        proc = _serve(settings, port, env)
        got = receiver.wait_for(lambda got: len({r.webhook_id for r in got}) >= 1000, timeout=90)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        receiver.stop()
    with svc.db.read() as conn:
        committed = {(r.record_id, r.version) for r in conn.execute(select(tables.outbox))}
    assert len(committed) == 1000
    by_id: dict[str, set[tuple[int, int]]] = {}
    for r in got:
        d = r.json["data"]
        by_id.setdefault(r.webhook_id, set()).add((d["id"], d["version"]))
        assert "ROLLED BACK" not in r.body.decode()
    assert all(len(v) == 1 for v in by_id.values())  # a duplicate carries its event's webhook-id
    assert len(got) > len(by_id)  # and there were duplicates: the POSTs in flight at the kill
    assert set().union(*by_id.values()) == committed  # every committed change arrived
    assert all(w.endswith(f"_{sid}") for w in by_id)
    Webhook(secret).verify(got[-1].body, got[-1].headers)
    # order per record: each record's first arrivals are in version order
    first_seen: dict[int, list[int]] = {}
    for r in got:
        d = r.json["data"]
        seen = first_seen.setdefault(d["id"], [])
        if d["version"] not in seen:
            seen.append(d["version"])
    assert all(v == sorted(v) for v in first_seen.values())


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_two_workers_never_deliver_one_event_at_once(settings: Settings, svc: Services) -> None:
    receiver = Receiver(delay_s=0.003).start()
    try:
        subscribe(svc, receiver.url)
        for b in range(3):
            svc.engine.run_batch(
                [contact(f"{b}-{i}") for i in range(100)],
                lambda c, ops: svc.engine.create(CreateCommand("contacts", ops), CTX, c),
                all_or_none=True,
            )
        dbs = [Database(settings.db_url) for _ in range(2)]
        workers = [
            DeliveryWorker(db, fast_config(lease_s=30, batch_size=20), name=f"w{i}")
            for i, db in enumerate(dbs)
        ]
        for w in workers:
            w.start()
        try:
            got = receiver.wait_for(lambda g: len(g) >= 300, timeout=60)
            time.sleep(0.3)  # anything extra would show up now
        finally:
            for w in workers:
                w.stop()
            for db in dbs:
                db.dispose()
        got = receiver.snapshot()
        assert receiver.overlaps == []
        assert len(got) == len({r.webhook_id for r in got}) == 300
        with svc.db.read() as conn:
            counts = dict(conn.execute(select(tables.webhook_deliveries.c.status, func.count()).group_by(tables.webhook_deliveries.c.status)).all())  # fmt: skip
        assert counts == {"delivered": 300}
    finally:
        receiver.stop()


def test_cli_worker_process_delivers(settings: Settings, svc: Services, receiver: Receiver) -> None:
    subscribe(svc, receiver.url)
    rid = svc.engine.create(CreateCommand("contacts", contact(1)), CTX).id
    cmd = [CARDFILE, "worker", "--data", str(settings.data_dir)]
    if settings.database_url:
        cmd += ["--database", settings.database_url]
    env = {**os.environ, "CARDFILE_OUTBOUND_ALLOW": LOOPBACK, "CARDFILE_WEBHOOK_POLL_S": "0.05"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        got = receiver.wait_for(lambda g: len(g) >= 1, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert got[0].json["data"]["id"] == rid


def test_webhook_timestamp_is_current(svc: Services, receiver: Receiver) -> None:
    subscribe(svc, receiver.url)
    svc.engine.create(CreateCommand("contacts", contact(1)), CTX)
    worker = DeliveryWorker(svc.db, fast_config())
    try:
        drain(worker, svc.db)
    finally:
        worker.stop()
    (r,) = receiver.snapshot()
    sent = datetime.fromtimestamp(int(r.headers["webhook-timestamp"]), UTC)
    assert abs(datetime.now(UTC) - sent) < timedelta(seconds=30)


def test_rotation_sends_both_signatures_until_the_overlap_ends(svc: Services, receiver: Receiver) -> None:
    sid, old = subscribe(svc, receiver.url)
    worker = DeliveryWorker(svc.db, fast_config())
    try:
        with svc.db.write() as conn:
            _sub, new = subscriptions.rotate_secret(conn, sid, overlap_s=3600)
        svc.engine.create(CreateCommand("contacts", contact(1)), CTX)
        drain(worker, svc.db)
        (during,) = receiver.snapshot()
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        Webhook(old).verify(during.body, during.headers)  # receivers still on the old secret
        Webhook(new).verify(during.body, during.headers)  # and those already switched
        with svc.db.write() as conn:  # rotating with no overlap: only the newest signs
            _sub, newest = subscriptions.rotate_secret(conn, sid, overlap_s=0)
        svc.engine.create(CreateCommand("contacts", contact(2)), CTX)
        drain(worker, svc.db)
    finally:
        worker.stop()
    after = receiver.snapshot()[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(newest).verify(after.body, after.headers)
    for stale in (old, new):
        with pytest.raises(WebhookVerificationError):
            Webhook(stale).verify(after.body, after.headers)
