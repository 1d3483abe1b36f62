"""Concurrent writers over real HTTP: no lost update, no clobbered field."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter

import httpx
import pytest

from cardfile.settings import Settings
from tests.conftest import LiveServer

CLIENTS = 32


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # All 32 clients share one API key, so one rate-limit budget; the limiter has its own tests.
    return dataclasses.replace(settings, rate_limits_enabled=False)


def _run(n: int, target: object) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]  # type: ignore[arg-type]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client hung"


@pytest.mark.slow
def test_conditional_increments_lose_nothing(live: LiveServer) -> None:
    with live.client() as c:
        ids = [
            c.post("/api/records/contacts", json={"last_name": f"Counter {i}", "score": 0}).json()["id"]
            for i in range(3)
        ]
    successes: Counter[int] = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        rid = ids[i % len(ids)]
        with live.client() as c:
            done = 0
            attempts = 0
            while done < 3 and attempts < 200:
                attempts += 1
                got = c.get(f"/api/records/contacts/{rid}")
                etag, score = got.headers["etag"], got.json()["score"]
                r = c.patch(
                    f"/api/records/contacts/{rid}", json={"score": score + 1}, headers={"If-Match": etag}
                )
                if r.status_code == 200:
                    done += 1
                    with lock:
                        successes[rid] += 1
                elif r.status_code not in (412, 503):
                    with lock:
                        errors.append(f"{r.status_code} {r.text}")
                    return

    _run(CLIENTS, client)
    assert errors == []
    with live.client() as c:
        for rid in ids:
            record = c.get(f"/api/records/contacts/{rid}").json()
            assert record["score"] == successes[rid]
            assert record["version"] == successes[rid] + 1
    assert sum(successes.values()) == CLIENTS * 3


@pytest.mark.slow
def test_each_client_patches_its_own_field(live: LiveServer) -> None:
    with live.client() as c:
        for i in range(CLIENTS):
            r = c.post("/api/types/contacts/fields", json={"name": f"f{i:02d}", "type": "integer"})
            assert r.status_code == 201, r.text
        rid = c.post("/api/records/contacts", json={"last_name": "Shared"}).json()["id"]
    failures: list[str] = []

    def client(i: int) -> None:
        with live.client() as c:
            for value in range(1, 4):
                r = c.patch(f"/api/records/contacts/{rid}", json={f"f{i:02d}": value * 100 + i})
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text}")

    _run(CLIENTS, client)
    assert failures == []
    with live.client() as c:
        record = c.get(f"/api/records/contacts/{rid}").json()
        history = c.get(f"/api/records/contacts/{rid}/history", params={"limit": 500}).json()["items"]
    assert {f"f{i:02d}": record[f"f{i:02d}"] for i in range(CLIENTS)} == {
        f"f{i:02d}": 300 + i for i in range(CLIENTS)
    }
    assert record["version"] == 1 + CLIENTS * 3
    assert len(history) == 1 + CLIENTS * 3


def test_client_errors_are_not_500(api: httpx.Client) -> None:
    for body in (b"{", b"[]", b'{"score": {"add": 1}}', b'"text"', b"null"):
        r = api.post("/api/records/contacts", content=body, headers={"content-type": "application/json"})
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
