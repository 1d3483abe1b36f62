"""Preconditions (If-Match, If-Unmodified-Since, 428), validate-only writes, Idempotency-Key."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cardfile.auth.apikeys import create_key
from cardfile.services import Services, open_services
from cardfile.settings import Settings
from tests.conftest import LiveServer, replace, start_live
from tests.integration.test_api_support import (
    Cases,
    assert_problem,
    count_records,
    error_pairs,
    stored,
    total_rows,
)


def _contact(api: httpx.Client, **fields: object) -> int:
    r = api.post("/api/records/contacts", json={"last_name": "Hopper", **fields})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _http_date(dt: datetime) -> str:
    return email.utils.format_datetime(dt.astimezone(UTC), usegmt=True)


# -- If-Match -----------------------------------------------------------------------


def test_if_match(live: LiveServer, api: httpx.Client) -> None:
    rid = _contact(api, score=1)
    url = f"/api/records/contacts/{rid}"
    r = api.patch(url, json={"score": 2}, headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'

    before = stored(live.services, "contacts", rid)
    for stale in ('"1"', '"3"', 'W/"1"'):
        body = assert_problem(
            api.patch(url, json={"score": 3}, headers={"If-Match": stale}), 412, "PRECONDITION_FAILED"
        )
        assert body["current_version"] == 2
        assert_problem(api.delete(url, headers={"If-Match": stale}), 412, "PRECONDITION_FAILED")
    # a stale no-op is refused too: the client has not seen the current record
    assert_problem(api.patch(url, json={"score": 2}, headers={"If-Match": '"1"'}), 412, "PRECONDITION_FAILED")
    assert stored(live.services, "contacts", rid) == before
    assert api.get(url).json()["score"] == 2

    r = api.patch(url, json={"score": 3}, headers={"If-Match": 'W/"2"'})
    assert r.status_code == 200, r.text
    r = api.patch(url, json={"score": 4}, headers={"If-Match": "*"})
    assert r.status_code == 200, r.text
    r = api.delete(url, headers={"If-Match": '"4"'})
    assert r.status_code == 200, r.text
    assert stored(live.services, "contacts", rid).exists is False


def test_malformed_conditions(live: LiveServer, api: httpx.Client) -> None:
    rid = _contact(api)
    url = f"/api/records/contacts/{rid}"
    before = stored(live.services, "contacts", rid)
    cases = Cases()
    for header, value in (
        ("If-Match", '"abc"'),
        ("If-Match", '"1", "2"'),
        ("If-Match", ""),
        ("If-Match", "version-1"),
        ("If-Unmodified-Since", "yesterday"),
        ("If-Unmodified-Since", "2024-05-01T12:00:00"),  # no time zone
        ("If-Unmodified-Since", "Mon, 99 Foo 2024 99:99:99 GMT"),
    ):
        for method, body in (("PATCH", {"score": 5}), ("DELETE", None)):
            with cases.case(f"{method} {header}: {value!r}"):
                r = api.request(method, url, json=body, headers={header: value})
                problem = assert_problem(r, 400, "BAD_REQUEST")
                assert header in problem["detail"]
    cases.check()
    assert stored(live.services, "contacts", rid) == before


def test_revert_honours_if_match(live: LiveServer, api: httpx.Client) -> None:
    rid = _contact(api, score=1)
    api.patch(f"/api/records/contacts/{rid}", json={"score": 2})
    before = stored(live.services, "contacts", rid)
    assert_problem(
        api.post(f"/api/records/contacts/{rid}/revert", json={"version": 1}, headers={"If-Match": '"1"'}),
        412,
        "PRECONDITION_FAILED",
    )
    assert stored(live.services, "contacts", rid) == before


# -- If-Unmodified-Since ---------------------------------------------------------------


def test_if_unmodified_since(live: LiveServer, api: httpx.Client) -> None:
    rid = _contact(api, score=1)
    url = f"/api/records/contacts/{rid}"
    seen = api.get(url).headers["last-modified"]

    # the record's own Last-Modified, when it is the only change of that second: accepted
    r = api.patch(url, json={"score": 2}, headers={"If-Unmodified-Since": seen})
    assert r.status_code == 200, r.text

    before = stored(live.services, "contacts", rid)
    # the v1 time is stale now: the record changed after it (later or within the same second)
    year_ago = _http_date(datetime.now(UTC) - timedelta(days=365))
    for stale in (seen, year_ago):
        assert_problem(
            api.patch(url, json={"score": 3}, headers={"If-Unmodified-Since": stale}),
            412,
            "PRECONDITION_FAILED",
        )
        assert_problem(api.delete(url, headers={"If-Unmodified-Since": stale}), 412, "PRECONDITION_FAILED")
    assert stored(live.services, "contacts", rid) == before

    tomorrow = _http_date(datetime.now(UTC) + timedelta(days=1))
    r = api.patch(url, json={"score": 3}, headers={"If-Unmodified-Since": tomorrow})
    assert r.status_code == 200, r.text


def test_if_unmodified_since_after_a_later_second(live: LiveServer, api: httpx.Client) -> None:
    """A client that read the newest version may write with its Last-Modified, once that
    version is the only change of its second (here: made in a later second than v1)."""
    rid = _contact(api, score=1)
    url = f"/api/records/contacts/{rid}"
    v1_seen = api.get(url).headers["last-modified"]
    time.sleep(1.01 - time.time() % 1)  # into the next whole second
    r = api.patch(url, json={"score": 2})
    assert r.status_code == 200, r.text
    v2_seen = r.headers["last-modified"]
    assert v2_seen != v1_seen
    assert_problem(
        api.patch(url, json={"score": 3}, headers={"If-Unmodified-Since": v1_seen}),
        412,
        "PRECONDITION_FAILED",
    )
    r = api.patch(url, json={"score": 3}, headers={"If-Unmodified-Since": v2_seen})
    assert r.status_code == 200, r.text
    assert stored(live.services, "contacts", rid).version == 3


def test_if_unmodified_since_iso_with_microseconds(live: LiveServer, api: httpx.Client) -> None:
    rid = _contact(api)
    url = f"/api/records/contacts/{rid}"
    modified_at = api.get(url).json()["modified_at"]  # e.g. 2024-05-01T12:00:00.123456Z
    t = datetime.fromisoformat(modified_at.replace("Z", "+00:00"))
    if t.microsecond < 2:  # the extension needs a fractional part to be taken as microseconds
        pytest.skip("modified exactly on a second boundary")
    earlier = (t - timedelta(microseconds=1)).isoformat()
    before = stored(live.services, "contacts", rid)
    assert_problem(
        api.patch(url, json={"score": 1}, headers={"If-Unmodified-Since": earlier}),
        412,
        "PRECONDITION_FAILED",
    )
    assert stored(live.services, "contacts", rid) == before
    r = api.patch(url, json={"score": 1}, headers={"If-Unmodified-Since": modified_at})
    assert r.status_code == 200, r.text


# -- required preconditions ---------------------------------------------------------------


@pytest.fixture
def strict(settings: Settings) -> Iterator[tuple[httpx.Client, Services]]:
    """A server whose settings require preconditions on PATCH and DELETE."""
    services = open_services(replace(settings, require_preconditions=True))
    server, thread, url = start_live(services)
    key = create_key(services.db, "tester")
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            yield client, services
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()


def test_preconditions_required(strict: tuple[httpx.Client, Services]) -> None:
    api, services = strict
    rid = _contact(api, score=1)  # creating needs none
    url = f"/api/records/contacts/{rid}"
    before = stored(services, "contacts", rid)
    body = assert_problem(api.patch(url, json={"score": 2}), 428, "PRECONDITION_REQUIRED")
    assert "If-Match" in body["detail"]
    assert_problem(api.delete(url), 428, "PRECONDITION_REQUIRED")
    assert stored(services, "contacts", rid) == before

    r = api.patch(
        url, json={"score": 2}, headers={"If-Unmodified-Since": api.get(url).headers["last-modified"]}
    )
    assert r.status_code == 200, r.text
    assert_problem(api.patch(url, json={"score": 3}, headers={"If-Match": '"1"'}), 412, "PRECONDITION_FAILED")
    r = api.patch(url, json={"score": 3}, headers={"If-Match": '"2"'})
    assert r.status_code == 200, r.text
    r = api.delete(url, headers={"If-Match": '"3"'})
    assert r.status_code == 200, r.text
    assert stored(services, "contacts", rid).exists is False


# -- validate only ----------------------------------------------------------------------


def test_validate_only_patch(live: LiveServer, api: httpx.Client) -> None:
    rid = _contact(api, score=1, tags=["vip"])
    url = f"/api/records/contacts/{rid}"
    before = stored(live.services, "contacts", rid)
    for flag in ("true", "1"):
        r = api.patch(url, params={"validate_only": flag}, json={"score": 99, "tags": {"add": ["smb"]}})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["committed"] is False
        assert body["record"]["score"] == 99 and body["record"]["tags"] == ["vip", "smb"]
        assert {c["field"]: (c["old"], c["new"]) for c in body["changes"]} == {
            "score": (1, 99),
            "tags": (["vip"], ["vip", "smb"]),
        }
        assert stored(live.services, "contacts", rid) == before
    assert api.get(url).json()["score"] == 1

    problem = assert_problem(
        api.patch(url, params={"validate_only": "true"}, json={"score": "many", "status": "Customer"}),
        422,
        "VALIDATION_FAILED",
    )
    assert error_pairs(problem) == {("score", "NOT_AN_INTEGER"), ("status", "INVALID_OPTION")}
    assert_problem(api.patch(url, params={"validate_only": "maybe"}, json={"score": 2}), 400, "BAD_REQUEST")
    assert stored(live.services, "contacts", rid) == before

    # validate_only=false is an ordinary write
    r = api.patch(url, params={"validate_only": "false"}, json={"score": 2})
    assert r.status_code == 200 and r.json()["committed"] is True
    assert stored(live.services, "contacts", rid).version == 2


def test_validate_only_create_and_uniques(live: LiveServer, api: httpx.Client) -> None:
    _contact(api, email="taken@example.com")
    rows = total_rows(live.services)
    r = api.post(
        "/api/records/contacts",
        params={"validate_only": "true"},
        json={"last_name": "Lovelace", "email": "ada@example.com"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["committed"] is False and body["created"] is True
    assert body["record"]["email"] == "ada@example.com"
    assert "location" not in r.headers
    problem = assert_problem(
        api.post(
            "/api/records/contacts",
            params={"validate_only": "true"},
            json={"last_name": "X", "email": "taken@example.com"},
        ),
        409,
        "DUPLICATE_VALUE",
    )
    assert error_pairs(problem) == {("email", "DUPLICATE_VALUE")}
    assert total_rows(live.services) == rows
    assert count_records(live.services, "contacts") == 1
    # the dry run claimed nothing: the email is still free
    r = api.post("/api/records/contacts", json={"last_name": "Lovelace", "email": "ada@example.com"})
    assert r.status_code == 201, r.text


# -- Idempotency-Key -------------------------------------------------------------------------


def test_idempotent_create(live: LiveServer, api: httpx.Client) -> None:
    body = {"last_name": "Hopper", "email": "grace@example.com"}
    first = api.post("/api/records/contacts", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    second = api.post("/api/records/contacts", json=body, headers={"Idempotency-Key": "k-1"})
    assert second.status_code == 201, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert second.json() == first.json()
    for h in ("etag", "last-modified", "location", "content-type"):
        assert second.headers[h] == first.headers[h]
    assert count_records(live.services, "contacts") == 1
    rid = first.json()["id"]
    s = stored(live.services, "contacts", rid)
    assert (s.version, s.history, s.outbox) == (1, 1, 1)

    # the same key with a different body is refused, and creates nothing
    other = api.post(
        "/api/records/contacts", json={**body, "first_name": "Grace"}, headers={"Idempotency-Key": "k-1"}
    )
    assert_problem(other, 422, "IDEMPOTENCY_KEY_REUSED")
    assert count_records(live.services, "contacts") == 1
    # a new key is a new request (the email is taken now)
    assert_problem(
        api.post("/api/records/contacts", json=body, headers={"Idempotency-Key": "k-2"}),
        409,
        "DUPLICATE_VALUE",
    )
    # keys are per caller: another API key's "k-1" is its own
    other_key = create_key(live.services.db, "other")
    r = api.post(
        "/api/records/contacts",
        json={"last_name": "Lovelace"},
        headers={"Idempotency-Key": "k-1", "Authorization": f"Bearer {other_key}"},
    )
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert count_records(live.services, "contacts") == 2


def test_idempotent_patch_applies_once(live: LiveServer, api: httpx.Client) -> None:
    rid = _contact(api, score=1)
    url = f"/api/records/contacts/{rid}"
    headers = {"Idempotency-Key": "p-1", "If-Match": '"1"'}
    first = api.patch(url, json={"score": 2}, headers=headers)
    assert first.status_code == 200, first.text
    # a retry would be stale (412) if applied again; it gets the first answer instead
    second = api.patch(url, json={"score": 2}, headers=headers)
    assert second.status_code == 200, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert stored(live.services, "contacts", rid).history == 2
    assert_problem(api.patch(url, json={"score": 3}, headers=headers), 422, "IDEMPOTENCY_KEY_REUSED")
    assert api.get(url).json()["score"] == 2


def test_failed_requests_are_not_stored_under_their_key(live: LiveServer, api: httpx.Client) -> None:
    for _ in range(2):
        r = api.post("/api/records/contacts", json={"score": 1}, headers={"Idempotency-Key": "f-1"})
        assert_problem(r, 422, "VALIDATION_FAILED")
        assert "idempotent-replayed" not in r.headers
    assert count_records(live.services, "contacts") == 0
    assert_problem(
        api.post("/api/records/contacts", json={"last_name": "X"}, headers={"Idempotency-Key": "x" * 256}),
        400,
        "BAD_REQUEST",
    )
    assert count_records(live.services, "contacts") == 0
