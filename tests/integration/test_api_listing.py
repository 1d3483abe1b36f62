"""Listing records: filters, sort and cursor pagination, on both engines."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.test_api_support import Cases, assert_problem, error_pairs

PEOPLE: list[dict[str, Any]] = [
    {"last_name": "Hopper", "email": "grace@example.com", "score": 12, "status": "customer", "tags": ["vip"]},
    {
        "last_name": "Oppenheimer",
        "score": 10,
        "status": "lead",
        "tags": ["newsletter", "vip"],
        "revenue": 2.5,
    },
    {"last_name": "Lovelace", "email": "ada@example.com", "score": 3, "status": "customer"},
    {"last_name": "Turing", "email": "alan@example.com", "score": 25, "tags": ["trial"], "revenue": 100},
    {"last_name": "Curie", "status": "partner", "tags": ["vip", "smb"]},
    {"last_name": "Noether", "email": "emmy@example.com", "score": -1, "status": "customer", "revenue": 7},
]


@pytest.fixture
def people(api: httpx.Client) -> dict[str, int]:
    ids = {}
    for p in PEOPLE:
        r = api.post("/api/records/contacts", json=p)
        assert r.status_code == 201, r.text
        ids[p["last_name"]] = r.json()["id"]
    # a record of another type must never show up
    assert api.post("/api/records/companies", json={"name": "Hopper Inc"}).status_code == 201
    return ids


def _names(api: httpx.Client, params: list[tuple[str, str]] | dict[str, str]) -> list[str]:
    r = api.get("/api/records/contacts", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["next_cursor"] is None
    return [x["last_name"] for x in body["items"]]


FILTERS: list[tuple[dict[str, str], list[str]]] = [
    ({}, ["Hopper", "Oppenheimer", "Lovelace", "Turing", "Curie", "Noether"]),
    ({"status": "customer"}, ["Hopper", "Lovelace", "Noether"]),
    ({"status__eq": "customer"}, ["Hopper", "Lovelace", "Noether"]),
    ({"status__ne": "customer"}, ["Oppenheimer", "Turing", "Curie"]),
    ({"status__in": "lead,partner"}, ["Oppenheimer", "Curie"]),
    ({"score__gte": "10"}, ["Hopper", "Oppenheimer", "Turing"]),
    ({"score__gt": "10"}, ["Hopper", "Turing"]),
    ({"score__lt": "10"}, ["Lovelace", "Noether"]),
    ({"score__lte": "3"}, ["Lovelace", "Noether"]),
    ({"score": "12"}, ["Hopper"]),
    ({"score__in": "3,25"}, ["Lovelace", "Turing"]),
    ({"score__isnull": "true"}, ["Curie"]),
    ({"revenue__gt": "5"}, ["Turing", "Noether"]),
    ({"revenue__gte": "2.5"}, ["Oppenheimer", "Turing", "Noether"]),
    ({"tags__contains": "vip"}, ["Hopper", "Oppenheimer", "Curie"]),
    ({"tags": "trial"}, ["Turing"]),
    ({"tags__ne": "vip"}, ["Lovelace", "Turing", "Noether"]),
    ({"tags__in": "trial,smb"}, ["Turing", "Curie"]),
    ({"tags__isnull": "true"}, ["Lovelace", "Noether"]),
    ({"tags__isnull": "false"}, ["Hopper", "Oppenheimer", "Turing", "Curie"]),
    ({"last_name__contains": "opp"}, ["Hopper", "Oppenheimer"]),
    ({"last_name__contains": "OPP"}, ["Hopper", "Oppenheimer"]),
    ({"last_name__contains": "%"}, []),
    ({"last_name__contains": "_"}, []),
    ({"email__isnull": "true"}, ["Oppenheimer", "Curie"]),
    ({"email__isnull": "false"}, ["Hopper", "Lovelace", "Turing", "Noether"]),
    ({"email": "ada@example.com"}, ["Lovelace"]),
    ({"status": "customer", "score__gte": "10"}, ["Hopper"]),
    ({"tags__contains": "vip", "last_name__contains": "opp"}, ["Hopper", "Oppenheimer"]),
    ({"status": "churned"}, []),
]


def test_filters(api: httpx.Client, people: dict[str, int]) -> None:
    cases = Cases()
    for params, expected in FILTERS:
        with cases.case(params):
            assert _names(api, params) == expected
    cases.check()


def test_repeated_filters_and_sort_with_filter(api: httpx.Client, people: dict[str, int]) -> None:
    assert _names(api, [("score__gte", "3"), ("score__lte", "12")]) == ["Hopper", "Oppenheimer", "Lovelace"]
    assert _names(api, {"_sort": "-score", "status": "customer"}) == ["Hopper", "Lovelace", "Noether"]


SORTS: list[tuple[str, list[str]]] = [
    ("-score", ["Turing", "Hopper", "Oppenheimer", "Lovelace", "Noether", "Curie"]),  # nulls last
    ("score", ["Curie", "Noether", "Lovelace", "Oppenheimer", "Hopper", "Turing"]),  # nulls first
    ("last_name", ["Curie", "Hopper", "Lovelace", "Noether", "Oppenheimer", "Turing"]),
    ("-last_name", ["Turing", "Oppenheimer", "Noether", "Lovelace", "Hopper", "Curie"]),
    ("-revenue", ["Turing", "Noether", "Oppenheimer", "Curie", "Lovelace", "Hopper"]),  # ties: -id
    ("-id", ["Noether", "Curie", "Turing", "Lovelace", "Oppenheimer", "Hopper"]),
    ("id", ["Hopper", "Oppenheimer", "Lovelace", "Turing", "Curie", "Noether"]),
]


def test_sort(api: httpx.Client, people: dict[str, int]) -> None:
    cases = Cases()
    for sort, expected in SORTS:
        with cases.case(sort):
            assert _names(api, {"_sort": sort}) == expected
    cases.check()


def _pages(api: httpx.Client, params: dict[str, str]) -> tuple[list[int], list[int]]:
    """Every id over all pages, and the page sizes."""
    ids: list[int] = []
    sizes: list[int] = []
    cursor = None
    for _ in range(20):
        r = api.get("/api/records/contacts", params={**params, **({"_cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [x["id"] for x in body["items"]]
        sizes.append(len(body["items"]))
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, sizes
    raise AssertionError("pagination did not end")


def test_cursor_pagination(api: httpx.Client) -> None:
    created: list[dict[str, Any]] = []
    for i in range(25):
        body: dict[str, Any] = {"last_name": f"P{i:02d}"}
        if i % 5:  # every fifth has no score: nulls must be paged too
            body["score"] = i % 4  # many ties
        if i % 3 == 0:
            body["status"] = "customer"
        r = api.post("/api/records/contacts", json=body)
        assert r.status_code == 201, r.text
        created.append(r.json()["record"])

    ids, sizes = _pages(api, {"_limit": "10"})
    assert sizes == [10, 10, 5]
    assert ids == [c["id"] for c in created]

    def score_key(c: dict[str, Any]) -> tuple[int, int, int]:
        s = c["score"]
        return (0 if s is None else 1, s or 0, c["id"])

    ids, sizes = _pages(api, {"_limit": "10", "_sort": "-score"})
    assert sizes == [10, 10, 5]
    expected = sorted(created, key=lambda c: (c["score"] is None, -(c["score"] or 0), -c["id"]))
    assert ids == [c["id"] for c in expected]

    ids, _ = _pages(api, {"_limit": "7", "_sort": "score"})
    assert ids == [c["id"] for c in sorted(created, key=score_key)]

    ids, _ = _pages(api, {"_limit": "3", "_sort": "-last_name", "status": "customer"})
    customers = [c for c in created if c["status"] == "customer"]
    assert ids == [c["id"] for c in sorted(customers, key=lambda c: c["last_name"], reverse=True)]

    ids, sizes = _pages(api, {"_limit": "25"})
    assert sizes == [25] and len(ids) == 25
    ids, sizes = _pages(api, {"_limit": "5", "_sort": "-id"})
    assert sizes == [5, 5, 5, 5, 5] and ids == [c["id"] for c in reversed(created)]


BAD_FILTERS: list[tuple[dict[str, str], set[tuple[str, str]]]] = [
    ({"nickname": "x"}, {("nickname", "UNKNOWN_FIELD")}),
    ({"score__gte": "ten"}, {("score__gte", "INVALID_FILTER")}),
    ({"score__contains": "1"}, {("score__contains", "INVALID_FILTER")}),
    ({"score__like": "1"}, {("score__like", "INVALID_FILTER")}),
    ({"tags__gte": "vip"}, {("tags__gte", "INVALID_FILTER")}),
    ({"email__isnull": "maybe"}, {("email__isnull", "INVALID_FILTER")}),
    ({"id": "1"}, {("id", "NOT_FILTERABLE")}),
    ({"score__gte": "NaN"}, {("score__gte", "INVALID_FILTER")}),
    ({"nickname": "x", "score__lt": "y"}, {("nickname", "UNKNOWN_FIELD"), ("score__lt", "INVALID_FILTER")}),
    ({"_sort": "nickname"}, {("_sort", "INVALID_SORT")}),
    ({"_sort": "tags"}, {("_sort", "INVALID_SORT")}),
]
BAD_PAGING: list[dict[str, str]] = [
    {"_limit": "0"},
    {"_limit": "501"},
    {"_limit": "ten"},
    {"_cursor": "not-a-cursor"},
    {"_cursor": "WzEsICJ4Il0"},  # [1, "x"]: not a position
]


def test_bad_filters_name_the_field(api: httpx.Client, people: dict[str, int]) -> None:
    cases = Cases()
    for params, pairs in BAD_FILTERS:
        with cases.case(params):
            problem = assert_problem(
                api.get("/api/records/contacts", params=params), 422, "VALIDATION_FAILED"
            )
            assert error_pairs(problem) == pairs
    for params in BAD_PAGING:
        with cases.case(params):
            assert_problem(api.get("/api/records/contacts", params=params), 400, "BAD_REQUEST")
    cases.check()
