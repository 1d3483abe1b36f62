"""Rate limits over real HTTP: one in-process server (memory storage), two server
processes sharing a real Redis, independent budgets per key, and failing open."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from cardfile.auth.apikeys import create_key
from cardfile.services import Services, open_services
from cardfile.settings import DEFAULT_RATE_LIMITS, Settings
from tests.conftest import _free_port, start_live
from tests.redis_server import RedisServer, start_redis

READ_100 = {**DEFAULT_RATE_LIMITS, "records.read": "100/minute"}
RATELIMIT = re.compile(r"limit=(\d+), remaining=(\d+), reset=(\d+)")


@contextmanager
def _server(settings: Settings) -> Iterator[tuple[str, Services]]:
    svc = open_services(settings)
    server, thread, url = start_live(svc)
    try:
        yield url, svc
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        svc.close()


def _client(url: str, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)


def _budget(r: httpx.Response) -> tuple[int, int, int]:
    m = RATELIMIT.fullmatch(r.headers["ratelimit"])
    assert m, r.headers["ratelimit"]
    limit, remaining, reset = (int(g) for g in m.groups())
    return limit, remaining, reset


def _assert_limited(r: httpx.Response, limit: int = 100) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "RATE_LIMITED"
    retry_after = r.headers["retry-after"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 60
    assert r.headers["ratelimit-policy"] == f"{limit};w=60"
    assert _budget(r) == (limit, 0, int(retry_after))


def _read_100_times(clients: list[httpx.Client]) -> None:
    """100 reads spread over the clients in turn: each succeeds, and the budget the
    responses report goes down by one each time, whichever server answered."""
    for i in range(100):
        r = clients[i % len(clients)].get("/api/records/contacts", params={"_limit": 1})
        assert r.status_code == 200, (i, r.status_code, r.text)
        assert r.headers["ratelimit-policy"] == "100;w=60"
        limit, remaining, reset = _budget(r)
        assert (limit, remaining) == (100, 99 - i)
        assert 0 <= reset <= 60


def test_memory_storage_one_server(tmp_path: Path) -> None:
    limits = {**READ_100, "metadata": "5/minute"}
    with _server(Settings(data_dir=tmp_path, packs=("demo",), rate_limits=limits)) as (url, svc):
        key, other = create_key(svc.db, "a"), create_key(svc.db, "b")
        with _client(url, key) as api, _client(url, other) as api2, _client(url, None) as anon:
            _read_100_times([api])
            _assert_limited(api.get("/api/records/contacts"))
            _assert_limited(api.get("/api/records/contacts/1"))  # every read of the group
            # writes are another group, with their own budget
            created = api.post("/api/records/contacts", json={"last_name": "Still writable"})
            assert created.status_code == 201, created.text
            assert created.headers["ratelimit-policy"] == "300;w=60"
            assert _budget(created)[:2] == (300, 299)
            # another key has its own budget
            r = api2.get("/api/records/contacts")
            assert r.status_code == 200 and _budget(r)[:2] == (100, 99)
            # without credentials, the client IP is the identity: counted, then 401
            for i in range(5):
                r = anon.get("/api/types")
                assert r.status_code == 401 and _budget(r)[:2] == (5, 4 - i)
            _assert_limited(anon.get("/api/types"), limit=5)
            assert api.get("/api/types").status_code == 200


def test_password_and_secret_checks_are_limited_per_ip(tmp_path: Path) -> None:
    """The OAuth2 endpoints that check a secret count in the "auth" group, so a password or
    client-secret guesser is slowed down; the 429 carries Retry-After like every other."""
    limits = {**DEFAULT_RATE_LIMITS, "auth": "3/minute"}
    with _server(Settings(data_dir=tmp_path, packs=("demo",), rate_limits=limits)) as (url, _svc):
        with _client(url, None) as anon:
            guess = {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "guess"}
            for i in range(3):
                r = anon.post("/oauth2/token", data=guess)
                assert r.status_code == 400 and r.json()["error"] == "invalid_client", r.text
                assert _budget(r)[:2] == (3, 2 - i)
            _assert_limited(anon.post("/oauth2/token", data=guess), limit=3)
            _assert_limited(anon.post("/oauth2/revoke", data={"token": "x"}), limit=3)
            # reading the public metadata is not a guess
            assert anon.get("/.well-known/oauth-authorization-server").status_code == 200


def test_two_server_processes_share_one_budget_through_redis(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    data = tmp_path / "data"
    cli = [sys.executable, "-m", "cardfile"]
    out = subprocess.run(
        [*cli, "apikey", "create", "--data", str(data), "--name", "x"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    key = out.stdout.strip()
    svc = open_services(Settings(data_dir=data))
    try:
        other = create_key(svc.db, "y")
    finally:
        svc.close()
    env = {**os.environ, "CARDFILE_RATE_LIMITS": "records.read=100/minute"}
    with ExitStack() as stack:
        urls = []
        for n in range(2):  # one after the other: both migrate and install the pack at start
            port = _free_port()
            argv = [*cli, "serve", "--data", str(data), "--port", str(port), "--pack", "demo",
                    "--rate-limit-storage", redis_server.url]  # fmt: skip
            urls.append(stack.enter_context(_process(argv, env, tmp_path / f"server{n}.log", port)))
        clients = [stack.enter_context(_client(u, key)) for u in urls]
        _read_100_times(clients)
        for c in clients:  # the 101st and later, on either process
            _assert_limited(c.get("/api/records/contacts"))
        for n, u in enumerate(urls):  # another key: its own budget, shared too
            with _client(u, other) as c2:
                r = c2.get("/api/records/contacts")
                assert r.status_code == 200, r.text
                assert _budget(r)[:2] == (100, 99 - n)


@contextmanager
def _process(argv: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[str]:
    """A server process, up when /api/health answers, stopped by its PID."""
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_redis_outage_fails_open(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    redis = start_redis(tmp_path)
    try:
        settings = Settings(
            data_dir=tmp_path, packs=("demo",), rate_limits=READ_100, rate_limit_storage=redis.url
        )
        with _server(settings) as (url, svc):
            key = create_key(svc.db, "a")
            with _client(url, key) as api, caplog.at_level(logging.WARNING, logger="cardfile.ratelimit"):
                for i in range(3):
                    r = api.get("/api/records/contacts")
                    assert r.status_code == 200 and _budget(r)[:2] == (100, 99 - i)
                redis.stop()  # the outage
                for _ in range(150):  # past the limit, and still served
                    r = api.get("/api/records/contacts", params={"_limit": 1})
                    assert r.status_code == 200, r.text
                    assert r.headers["ratelimit-policy"] == "100;w=60"
                    assert "ratelimit" not in r.headers  # the budget is unknown
            warnings = [rec for rec in caplog.records if rec.name == "cardfile.ratelimit"]
            assert len(warnings) == 1 and "rate limiting is off" in warnings[0].getMessage()
            assert key not in caplog.text
    finally:
        redis.stop()
