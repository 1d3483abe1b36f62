"""The rate limiter on its own: budgets, headers, settings, failing open."""

from __future__ import annotations

import logging
import re
import socket
import time

import orjson
import pytest

from cardfile.api.native.problems import problem_response
from cardfile.errors import RateLimited
from cardfile.ratelimit import RateLimiter, RateState, client_identity, rate_limit_headers, token_identity
from cardfile.settings import DEFAULT_RATE_LIMITS, Settings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def test_the_101st_request_in_a_minute_is_refused() -> None:
    limiter = RateLimiter(groups={"tracker": "100/minute"})
    states = [limiter.hit("tracker", "key:a") for _ in range(100)]
    assert [s.remaining for s in states if s] == list(range(99, -1, -1))
    assert all(s and s.limit == 100 and s.window == 60 and 0 < (s.reset or 0) <= 60 for s in states)
    with pytest.raises(RateLimited) as info:
        limiter.hit("tracker", "key:a")
    exc = info.value
    assert (exc.code, exc.status) == ("RATE_LIMITED", 429)
    assert 1 <= exc.retry_after <= 60
    assert (exc.limit, exc.remaining, exc.reset, exc.policy) == (100, 0, exc.retry_after, "100;w=60")
    with pytest.raises(RateLimited):  # a refused request takes nothing, and changes nothing
        limiter.hit("tracker", "key:a")


def test_budgets_are_per_identity_and_per_group() -> None:
    limiter = RateLimiter(groups={"a": "2/minute", "b": "2/minute"})
    for _ in range(2):
        limiter.hit("a", "key:1")
    with pytest.raises(RateLimited):
        limiter.hit("a", "key:1")
    assert limiter.hit("a", "key:2") is not None
    assert limiter.hit("b", "key:1") is not None


def test_groups_are_registered_through_a_public_method() -> None:
    limiter = RateLimiter(groups=DEFAULT_RATE_LIMITS)
    limiter.register_group("tracker", "100/minute")
    assert limiter.groups == {**DEFAULT_RATE_LIMITS, "tracker": "100/minute"}
    limiter.register_group("tracker", "1/second")  # replaced
    assert limiter.hit("tracker", "ip:1.2.3.4") == RateState("tracker", 1, 1, 0, 1)
    with pytest.raises(KeyError):
        limiter.hit("nope", "ip:1.2.3.4")
    for bad in ("100/fortnight", "10/second;100/minute", "0/minute", ""):
        with pytest.raises(ValueError, match="not one limit like '100/minute'"):
            limiter.register_group("x", bad)


def test_disabled_limiter_counts_nothing() -> None:
    limiter = RateLimiter(groups={"a": "1/minute"}, enabled=False)
    assert [limiter.hit("a", "key:1") for _ in range(3)] == [None, None, None]


def test_header_syntax_is_draft_07() -> None:
    state = RateState("records.read", 100, 60, 42, 17)
    assert state.headers() == {
        "RateLimit-Policy": "100;w=60",
        "RateLimit": "limit=100, remaining=42, reset=17",
    }
    assert RateState("records.read", 100, 60).headers() == {"RateLimit-Policy": "100;w=60"}
    assert rate_limit_headers("5;w=1", 5, 0, 1)["RateLimit"] == "limit=5, remaining=0, reset=1"


def test_429_problem_carries_retry_after_and_ratelimit_headers() -> None:
    resp = problem_response(
        RateLimited("slow down", retry_after=17, limit=100, remaining=0, reset=17, policy="100;w=60")
    )
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "17"
    assert resp.headers["ratelimit-policy"] == "100;w=60"
    assert resp.headers["ratelimit"] == "limit=100, remaining=0, reset=17"
    assert orjson.loads(resp.body)["code"] == "RATE_LIMITED"
    plain = problem_response(RateLimited())  # without a known budget: Retry-After only
    assert plain.headers["retry-after"] == "1" and "ratelimit" not in plain.headers


def test_identity_is_a_digest_never_the_token() -> None:
    token = "cf_abc_secret-token-value"
    ident = token_identity(token)
    assert re.fullmatch(r"key:[0-9a-f]{32}", ident)
    assert "secret" not in ident and ident == token_identity(token) != token_identity(token + "x")
    assert client_identity("10.0.0.7") == "ip:10.0.0.7"
    assert client_identity(None) == "ip:unknown"


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().rate_limits == DEFAULT_RATE_LIMITS
    assert Settings().rate_limit_storage == "memory://"
    assert Settings().rate_limits_enabled is True
    monkeypatch.setenv("CARDFILE_RATE_LIMITS", " records.read = 100/minute ; tracker=100/minute;")
    monkeypatch.setenv("CARDFILE_RATE_LIMIT_STORAGE", "redis://127.0.0.1:6380/1")
    monkeypatch.setenv("CARDFILE_RATE_LIMITS_ENABLED", "0")
    s = Settings()
    assert s.rate_limits == {**DEFAULT_RATE_LIMITS, "records.read": "100/minute", "tracker": "100/minute"}
    assert (s.rate_limit_storage, s.rate_limits_enabled) == ("redis://127.0.0.1:6380/1", False)
    monkeypatch.setenv("CARDFILE_RATE_LIMITS", "records.read:100/minute")
    with pytest.raises(ValueError, match="is not group=LIMIT"):
        Settings()


def test_bad_storage_uri_is_refused_without_its_password() -> None:
    with pytest.raises(ValueError, match="memory:// or redis://") as info:
        RateLimiter("mongo://admin:hunter2@db.example:27017")
    assert "hunter2" not in str(info.value)


def test_unreachable_storage_fails_open_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter(f"redis://:hunter2@127.0.0.1:{_closed_port()}/0", {"a": "1/minute"})
    try:
        with caplog.at_level(logging.WARNING, logger="cardfile.ratelimit"):
            start = time.monotonic()
            states = [limiter.hit("a", token_identity("tok")) for _ in range(5)]
            elapsed = time.monotonic() - start
    finally:
        limiter.close()
    assert states == [RateState("a", 1, 60)] * 5  # over the limit, yet let through; remaining unknown
    assert elapsed < 1.0
    warnings = [r for r in caplog.records if r.name == "cardfile.ratelimit"]
    assert len(warnings) == 1
    assert "rate limiting is off" in warnings[0].getMessage()
    assert "hunter2" not in caplog.text and "tok" not in caplog.text


def test_limiting_resumes_when_the_storage_answers_again(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter(groups={"a": "2/minute"}, pause_s=0)
    real = limiter._strategy

    class Broken:
        def hit(self, *_args: object) -> bool:
            raise ConnectionError("storage down")

    limiter._strategy = Broken()  # type: ignore[assignment]
    with caplog.at_level(logging.WARNING, logger="cardfile.ratelimit"):
        assert limiter.hit("a", "key:1") == RateState("a", 2, 60)
        limiter._strategy = real
        state = limiter.hit("a", "key:1")
    assert state is not None and state.remaining == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("off" in m for m in messages) and any("back on" in m for m in messages)
