"""Bulk PATCH and upsert: all-or-none, per record, limits, per-item preconditions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.integration.test_api_support import (
    Cases,
    Stored,
    assert_problem,
    count_records,
    error_pairs,
    history_rows,
    stored,
    total_rows,
)


def _contacts(api: httpx.Client, n: int) -> list[int]:
    ids = []
    for i in range(n):
        r = api.post(
            "/api/records/contacts",
            json={"last_name": f"Person {i}", "score": i, "email": f"p{i}@example.com"},
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def _snapshot(live: LiveServer, ids: list[int]) -> list[Stored]:
    return [stored(live.services, "contacts", i) for i in ids]


def _bulk(
    api: httpx.Client, records: list[dict[str, Any]], all_or_none: bool | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"records": records}
    if all_or_none is not None:
        body["all_or_none"] = all_or_none
    return api.patch("/api/records/contacts", json=body)


@pytest.mark.parametrize("all_or_none", [True, None])  # all-or-none is the default
def test_all_or_none_rolls_back_everything(
    live: LiveServer, api: httpx.Client, all_or_none: bool | None
) -> None:
    ids = _contacts(api, 3)
    before = _snapshot(live, ids)
    rows = total_rows(live.services)
    r = _bulk(
        api,
        [
            {"id": ids[0], "score": 100, "tags": ["vip"]},
            {"id": ids[1], "score": "lots", "status": "Customer"},
            {"id": ids[2], "score": 300},
        ],
        all_or_none,
    )
    body = assert_problem(r, 422, "BATCH_FAILED")
    assert len(body["failures"]) == 1
    failure = body["failures"][0]
    assert (failure["index"], failure["id"], failure["status"], failure["code"]) == (
        1, ids[1], 422, "VALIDATION_FAILED",
    )  # fmt: skip
    assert {(e["field"], e["code"]) for e in failure["errors"]} == {
        ("score", "NOT_AN_INTEGER"),
        ("status", "INVALID_OPTION"),
    }
    assert _snapshot(live, ids) == before
    assert total_rows(live.services) == rows


def test_all_or_none_lists_every_failing_index(live: LiveServer, api: httpx.Client) -> None:
    ids = _contacts(api, 3)
    before = _snapshot(live, ids)
    r = _bulk(
        api,
        [
            {"id": ids[0], "nickname": "x"},
            {"id": ids[1], "score": 1000},
            {"id": 999_999, "score": 1},
            {"id": ids[2], "email": "p1@example.com"},
        ],
        True,
    )
    body = assert_problem(r, 422, "BATCH_FAILED")
    assert [(f["index"], f["code"]) for f in body["failures"]] == [
        (0, "VALIDATION_FAILED"),
        (2, "NOT_FOUND"),
        (3, "DUPLICATE_VALUE"),
    ]
    assert body["failures"][0]["errors"][0]["code"] == "UNKNOWN_FIELD"
    assert body["failures"][2]["errors"][0]["field"] == "email"
    assert _snapshot(live, ids) == before


def test_per_record_commits_the_good_ones(live: LiveServer, api: httpx.Client) -> None:
    ids = _contacts(api, 3)
    bad_before = stored(live.services, "contacts", ids[1])
    r = _bulk(
        api,
        [
            {"id": ids[0], "score": 100, "tags": {"add": ["vip"]}},
            {"id": ids[1], "score": "lots"},
            {"id": ids[2], "score": 300},
        ],
        False,
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [(x["index"], x["ok"]) for x in results] == [(0, True), (1, False), (2, True)]
    assert results[0]["id"] == ids[0] and results[0]["version"] == 2 and results[0]["committed"] is True
    assert results[0]["record"]["score"] == 100 and results[0]["record"]["tags"] == ["vip"]
    assert results[0]["changes"] == [
        {"field": "score", "old": 0, "new": 100},
        {"field": "tags", "old": [], "new": ["vip"]},
    ]
    assert results[0]["actor"] == "tester"
    bad = results[1]
    assert bad["id"] == ids[1]
    assert bad["error"]["code"] == "VALIDATION_FAILED" and bad["error"]["status"] == 422
    assert {(e["field"], e["code"]) for e in bad["error"]["errors"]} == {("score", "NOT_AN_INTEGER")}

    assert api.get(f"/api/records/contacts/{ids[0]}").json()["score"] == 100
    assert api.get(f"/api/records/contacts/{ids[2]}").json()["score"] == 300
    assert stored(live.services, "contacts", ids[1]) == bad_before
    for rid in (ids[0], ids[2]):
        s = stored(live.services, "contacts", rid)
        assert (s.version, s.history, s.outbox) == (2, 2, 2)
        last = history_rows(live.services, "contacts", rid)[-1]
        assert (last.op, last.actor, last.channel, last.version) == ("update", "tester", "api", 2)


@pytest.mark.parametrize("all_or_none", [True, False])
def test_too_many_records(live: LiveServer, api: httpx.Client, all_or_none: bool) -> None:
    ids = _contacts(api, 2)
    before = _snapshot(live, ids)
    rows = total_rows(live.services)
    items = [{"id": ids[i % 2], "score": 1000 + i} for i in range(101)]
    body = assert_problem(_bulk(api, items, all_or_none), 400, "LIMIT_EXCEEDED")
    assert body["limit"] == 100
    assert_problem(_bulk(api, [], all_or_none), 400, "LIMIT_EXCEEDED")
    upsert = [{"email": f"new{i}@example.com", "last_name": "N"} for i in range(101)]
    assert_problem(
        api.post(
            "/api/records/contacts/upsert",
            json={"match_on": "email", "records": upsert, "all_or_none": all_or_none},
        ),
        400,
        "LIMIT_EXCEEDED",
    )
    assert _snapshot(live, ids) == before
    assert total_rows(live.services) == rows
    # exactly the limit is fine
    r = _bulk(api, [{"id": ids[i % 2], "score": 1000 + i} for i in range(100)], all_or_none)
    assert r.status_code == 200, r.text
    assert all(x["ok"] for x in r.json()["results"])


def test_stale_if_version_fails_only_that_item(live: LiveServer, api: httpx.Client) -> None:
    ids = _contacts(api, 2)
    api.patch(f"/api/records/contacts/{ids[1]}", json={"score": 5})  # now at version 2
    stale_before = stored(live.services, "contacts", ids[1])
    r = _bulk(
        api,
        [{"id": ids[0], "_if_version": 1, "score": 10}, {"id": ids[1], "_if_version": 1, "score": 20}],
        False,
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results[0]["ok"] is True and results[0]["version"] == 2
    assert results[1]["ok"] is False
    assert results[1]["error"]["code"] == "PRECONDITION_FAILED" and results[1]["error"]["status"] == 412
    assert results[1]["error"]["current_version"] == 2
    assert stored(live.services, "contacts", ids[1]) == stale_before

    # all-or-none: the stale item sinks the batch
    before = _snapshot(live, ids)
    r = _bulk(
        api,
        [{"id": ids[0], "_if_version": 2, "score": 11}, {"id": ids[1], "_if_version": 1, "score": 21}],
        True,
    )
    body = assert_problem(r, 422, "BATCH_FAILED")
    assert [(f["index"], f["code"]) for f in body["failures"]] == [(1, "PRECONDITION_FAILED")]
    assert _snapshot(live, ids) == before


MALFORMED_BULK: list[tuple[object, int, str]] = [
    ({"records": {"id": 1}}, 400, "BAD_REQUEST"),
    ({"records": [{"id": 1, "score": 1}], "all_or_none": "yes"}, 400, "BAD_REQUEST"),
    ({"records": [{"score": 1}]}, 422, "VALIDATION_FAILED"),
    ({"records": [{"id": "1", "score": 1}]}, 422, "VALIDATION_FAILED"),
    ({"records": [{"id": True, "score": 1}]}, 422, "VALIDATION_FAILED"),
    ({"records": [{"id": 1, "_if_version": "1", "score": 1}]}, 422, "VALIDATION_FAILED"),
    ({"records": [5]}, 422, "VALIDATION_FAILED"),
    ([{"id": 1}], 400, "BAD_REQUEST"),
]


def test_malformed_bulk_bodies(live: LiveServer, api: httpx.Client) -> None:
    ids = _contacts(api, 1)
    before = _snapshot(live, ids)
    rows = total_rows(live.services)
    cases = Cases()
    for body, status, code in MALFORMED_BULK:
        with cases.case(body):
            # the malformed item is last, after a good one: nothing of the request applies
            if isinstance(body, dict) and isinstance(body.get("records"), list):
                body = {**body, "records": [{"id": ids[0], "score": 99}, *body["records"]]}
            assert_problem(api.patch("/api/records/contacts", json=body), status, code)
    cases.check()
    assert _snapshot(live, ids) == before
    assert total_rows(live.services) == rows


# -- upsert ---------------------------------------------------------------------------


def test_upsert_creates_and_updates(live: LiveServer, api: httpx.Client) -> None:
    ids = _contacts(api, 2)
    r = api.post(
        "/api/records/contacts/upsert",
        json={
            "match_on": "email",
            "records": [
                {"email": "p1@example.com", "score": 11, "tags": ["vip"]},
                {"email": "new@example.com", "last_name": "Newcomer", "score": 7},
                {"email": "P0@Example.com", "first_name": "Zero"},  # matched case-insensitively
            ],
        },
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [(x["index"], x["ok"], x["action"]) for x in results] == [
        (0, True, "updated"),
        (1, True, "created"),
        (2, True, "updated"),
    ]
    assert results[0]["id"] == ids[1] and results[0]["version"] == 2
    assert results[0]["changes"] == [
        {"field": "score", "old": 1, "new": 11},
        {"field": "tags", "old": [], "new": ["vip"]},
    ]
    assert results[2]["id"] == ids[0]
    new_id = results[1]["id"]
    assert results[1]["created"] is True and results[1]["version"] == 1
    assert api.get(f"/api/records/contacts/{new_id}").json()["last_name"] == "Newcomer"
    assert count_records(live.services, "contacts") == 3
    assert api.get(f"/api/records/contacts/{ids[1]}").json()["score"] == 11

    # the same upsert again changes nothing
    r = api.post(
        "/api/records/contacts/upsert",
        json={"match_on": "email", "records": [{"email": "p1@example.com", "score": 11, "tags": ["vip"]}]},
    )
    assert r.status_code == 200, r.text
    again = r.json()["results"][0]
    assert (again["action"], again["version"], again["changes"], again["committed"]) == (
        "updated",
        2,
        [],
        False,
    )
    assert stored(live.services, "contacts", ids[1]).history == 2


def test_upsert_all_or_none_and_per_record(live: LiveServer, api: httpx.Client) -> None:
    ids = _contacts(api, 1)
    before = _snapshot(live, ids)
    rows = total_rows(live.services)
    items = [
        {"email": "p0@example.com", "score": 50},
        {"email": "fresh@example.com", "score": 1},  # no last_name: REQUIRED
        {"email": "other@example.com", "last_name": "Other"},
    ]
    body = assert_problem(
        api.post("/api/records/contacts/upsert", json={"match_on": "email", "records": items}),
        422,
        "BATCH_FAILED",
    )
    assert [(f["index"], f["id"], f["code"]) for f in body["failures"]] == [
        (1, "fresh@example.com", "VALIDATION_FAILED")
    ]
    assert body["failures"][0]["errors"] == [
        {"field": "last_name", "code": "REQUIRED", "message": body["failures"][0]["errors"][0]["message"]}
    ]
    assert _snapshot(live, ids) == before
    assert total_rows(live.services) == rows

    r = api.post(
        "/api/records/contacts/upsert", json={"match_on": "email", "records": items, "all_or_none": False}
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["ok"] for x in results] == [True, False, True]
    assert "action" not in results[1]
    assert results[1]["error"]["code"] == "VALIDATION_FAILED"
    assert count_records(live.services, "contacts") == 2
    assert api.get(f"/api/records/contacts/{ids[0]}").json()["score"] == 50


BAD_UPSERTS: list[tuple[object, int, str, set[tuple[str, str]]]] = [
    ({"match_on": "score", "records": [{"score": 1, "last_name": "X"}]}, 422, "VALIDATION_FAILED",
     {("match_on", "NOT_UNIQUE_FIELD")}),
    ({"match_on": "nickname", "records": [{"nickname": 1, "last_name": "X"}]}, 422, "VALIDATION_FAILED",
     {("match_on", "NOT_UNIQUE_FIELD")}),
    ({"match_on": "email", "records": [{"last_name": "X"}]}, 422, "VALIDATION_FAILED",
     {("records[0].email", "REQUIRED")}),
    ({"records": [{"email": "a@example.com", "last_name": "X"}]}, 400, "BAD_REQUEST", set()),
    ({"match_on": "email", "records": "x"}, 400, "BAD_REQUEST", set()),
    ({"match_on": "email", "records": [5]}, 400, "BAD_REQUEST", set()),
]  # fmt: skip


def test_upsert_bad_requests(live: LiveServer, api: httpx.Client) -> None:
    ids = _contacts(api, 1)
    rows = total_rows(live.services)
    before = _snapshot(live, ids)
    cases = Cases()
    for body, status, code, pairs in BAD_UPSERTS:
        with cases.case(body):
            problem = assert_problem(api.post("/api/records/contacts/upsert", json=body), status, code)
            assert error_pairs(problem) == pairs
    cases.check()
    assert _snapshot(live, ids) == before
    assert total_rows(live.services) == rows


def test_upsert_bad_match_value_fails_that_item(live: LiveServer, api: httpx.Client) -> None:
    r = api.post(
        "/api/records/contacts/upsert",
        json={
            "match_on": "email",
            "records": [
                {"email": "not an email", "last_name": "X"},
                {"email": "ok@example.com", "last_name": "Y"},
            ],
            "all_or_none": False,
        },
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results[0]["ok"] is False
    assert {(e["field"], e["code"]) for e in results[0]["error"]["errors"]} == {("email", "INVALID_EMAIL")}
    assert results[1]["ok"] is True and results[1]["action"] == "created"
    assert count_records(live.services, "contacts") == 1
