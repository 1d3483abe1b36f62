"""Bad input gets a clear 4xx problem+json with a stable code, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cardfile.auth.apikeys import create_key, revoke_key
from tests.conftest import LiveServer
from tests.integration.test_api_support import (
    Cases,
    assert_problem,
    error_pairs,
    stored,
    total_rows,
)

MiB = 1 << 20


@pytest.fixture
def contact(live: LiveServer, api: httpx.Client) -> int:
    r = api.post(
        "/api/records/contacts",
        json={
            "last_name": "Hopper",
            "email": "grace@example.com",
            "score": 1,
            "status": "lead",
            "tags": ["vip"],
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


# (body, expected field errors) for a PATCH of `contact` and, with last_name, a create.
FIELD_CASES: list[tuple[str, dict[str, Any], set[tuple[str, str]]]] = [
    ("unknown field", {"nickname": "Amazing"}, {("nickname", "UNKNOWN_FIELD")}),
    ("integer as text", {"score": "ten"}, {("score", "NOT_AN_INTEGER")}),
    ("integer as fraction", {"score": 1.5}, {("score", "NOT_AN_INTEGER")}),
    ("integer as boolean", {"score": True}, {("score", "NOT_AN_INTEGER")}),
    ("integer too large", {"score": 2**63}, {("score", "TOO_LARGE")}),
    ("decimal as words", {"revenue": "a lot"}, {("revenue", "NOT_A_NUMBER")}),
    ("date not a date", {"birthday": "2021-02-30"}, {("birthday", "INVALID_DATE")}),
    ("date wrong shape", {"birthday": "30/01/2021"}, {("birthday", "INVALID_DATE")}),
    ("email not an email", {"email": "grace at example"}, {("email", "INVALID_EMAIL")}),
    ("text as number", {"first_name": 42}, {("first_name", "NOT_A_STRING")}),
    ("text too long", {"first_name": "x" * 101}, {("first_name", "TOO_LONG")}),
    ("text with newline", {"title": "a\nb"}, {("title", "INVALID_TEXT")}),
    ("phone without country", {"phone": "555 0100"}, {("phone", "INVALID_PHONE")}),
    ("multi value as string", {"tags": "vip"}, {("tags", "NOT_A_LIST")}),
    ("unknown option", {"status": "friend"}, {("status", "INVALID_OPTION")}),
    ("option label", {"status": "Customer"}, {("status", "INVALID_OPTION")}),
    ("unknown multi option", {"tags": ["vip", "gold"]}, {("tags[1]", "INVALID_OPTION")}),
    ("multi option label", {"tags": {"add": ["Churn Risk"]}}, {("tags[0]", "INVALID_OPTION")}),
    ("read-only version", {"version": 7}, {("version", "READ_ONLY_FIELD")}),
    ("read-only id", {"id": 99}, {("id", "READ_ONLY_FIELD")}),
    ("read-only modified_by", {"modified_by": "me"}, {("modified_by", "READ_ONLY_FIELD")}),
    ("read-only created_at", {"created_at": "2020-01-01T00:00:00Z"}, {("created_at", "READ_ONLY_FIELD")}),
    ("sub-value of a plain field", {"score.x": 1}, {("score.x", "NOT_A_KEYED_FIELD")}),
    (
        "several errors at once",
        {"score": "ten", "status": "Customer", "nickname": 1, "version": 3, "birthday": "soon"},
        {
            ("score", "NOT_AN_INTEGER"),
            ("status", "INVALID_OPTION"),
            ("nickname", "UNKNOWN_FIELD"),
            ("version", "READ_ONLY_FIELD"),
            ("birthday", "INVALID_DATE"),
        },
    ),
]


def test_bad_field_values_change_nothing(live: LiveServer, api: httpx.Client, contact: int) -> None:
    before = stored(live.services, "contacts", contact)
    rows = total_rows(live.services)
    cases = Cases()
    for case, body, pairs in FIELD_CASES:
        with cases.case(case):
            problem = assert_problem(
                api.patch(f"/api/records/contacts/{contact}", json=body), 422, "VALIDATION_FAILED"
            )
            assert error_pairs(problem) == pairs
            assert all(e["message"] for e in problem["errors"])
            n = len(pairs)
            assert problem["detail"] == f"{n} field error{'s' if n != 1 else ''}"
        with cases.case(f"{case} (create)"):
            problem = assert_problem(
                api.post("/api/records/contacts", json={"last_name": "Lovelace", **body}),
                422,
                "VALIDATION_FAILED",
            )
            assert error_pairs(problem) == pairs
        if "id" in body:  # in a bulk item "id" addresses the record
            continue
        with cases.case(f"{case} (bulk)"):
            r = api.patch(
                "/api/records/contacts", json={"records": [{"id": contact, **body}], "all_or_none": False}
            )
            assert r.status_code == 200, r.text
            result = r.json()["results"][0]
            assert result["ok"] is False and result["error"]["code"] == "VALIDATION_FAILED"
            assert {(e["field"], e["code"]) for e in result["error"]["errors"]} == pairs
    cases.check()
    assert stored(live.services, "contacts", contact) == before
    assert total_rows(live.services) == rows


def test_label_error_names_the_key(api: httpx.Client, contact: int) -> None:
    problem = assert_problem(
        api.patch(f"/api/records/contacts/{contact}", json={"status": "Customer"}), 422, "VALIDATION_FAILED"
    )
    assert "'customer'" in problem["errors"][0]["message"]


def test_duplicate_unique_value(live: LiveServer, api: httpx.Client, contact: int) -> None:
    other = api.post(
        "/api/records/contacts", json={"last_name": "Lovelace", "email": "ada@example.com"}
    ).json()["id"]
    before = stored(live.services, "contacts", other)
    rows = total_rows(live.services)
    for email in ("grace@example.com", "GRACE@example.com", "Grace@Example.com"):
        problem = assert_problem(
            api.post("/api/records/contacts", json={"last_name": "X", "email": email}), 409, "DUPLICATE_VALUE"
        )
        assert error_pairs(problem) == {("email", "DUPLICATE_VALUE")}
        assert str(contact) in problem["errors"][0]["message"]
        problem = assert_problem(
            api.patch(f"/api/records/contacts/{other}", json={"email": email}), 409, "DUPLICATE_VALUE"
        )
        assert error_pairs(problem) == {("email", "DUPLICATE_VALUE")}
    assert stored(live.services, "contacts", other) == before
    assert total_rows(live.services) == rows
    # a record may keep (or re-send) its own value
    r = api.patch(f"/api/records/contacts/{contact}", json={"email": "grace@example.com", "score": 2})
    assert r.status_code == 200, r.text
    # and freeing a value lets another record take it
    assert api.patch(f"/api/records/contacts/{contact}", json={"email": None}).status_code == 200
    r = api.patch(f"/api/records/contacts/{other}", json={"email": "grace@example.com"})
    assert r.status_code == 200, r.text


# -- body problems --------------------------------------------------------------------


BAD_BODIES: list[tuple[bytes, str, int, str]] = [
    (b'{"score": ', "application/json", 400, "MALFORMED_JSON"),
    (b"{'score': 2}", "application/json", 400, "MALFORMED_JSON"),
    (b"", "application/json", 400, "MALFORMED_JSON"),
    (b"   ", "application/json", 400, "MALFORMED_JSON"),
    (b"[1, 2]", "application/json", 400, "BAD_REQUEST"),
    (b'"score"', "application/json", 400, "BAD_REQUEST"),
    (b'{"score": 2}', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
    (b"score=2", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
    (b'{"score": 2}', "application/xml", 415, "UNSUPPORTED_MEDIA_TYPE"),
]


def test_bad_bodies(live: LiveServer, api: httpx.Client, contact: int) -> None:
    before = stored(live.services, "contacts", contact)
    rows = total_rows(live.services)
    cases = Cases()
    for content, ctype, status, code in BAD_BODIES:
        headers = {"Content-Type": ctype}
        for method, path in (
            ("PATCH", f"/api/records/contacts/{contact}"),
            ("POST", "/api/records/contacts"),
            ("PATCH", "/api/records/contacts"),
            ("POST", "/api/records/contacts/upsert"),
            ("POST", "/api/types/contacts/fields"),
        ):
            with cases.case(f"{method} {path} {ctype} {content[:20]!r}"):
                assert_problem(api.request(method, path, content=content, headers=headers), status, code)
    cases.check()
    assert stored(live.services, "contacts", contact) == before
    assert total_rows(live.services) == rows
    assert [f["name"] for f in api.get("/api/types/contacts").json()["fields"]][-1] == "notes"


def test_merge_patch_content_type_is_json(api: httpx.Client, contact: int) -> None:
    r = api.patch(
        f"/api/records/contacts/{contact}",
        content=b'{"score": 2}',
        headers={"Content-Type": "application/merge-patch+json; charset=utf-8"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["record"]["score"] == 2


def _big_body() -> bytes:
    return b'{"notes": "' + b"x" * (3 * MiB) + b'"}'


def test_oversize_body(live: LiveServer, api: httpx.Client, contact: int) -> None:
    assert live.services.settings.max_body_bytes == 2 * MiB
    before = stored(live.services, "contacts", contact)
    rows = total_rows(live.services)
    headers = {"Content-Type": "application/json"}
    body = assert_problem(
        api.patch(f"/api/records/contacts/{contact}", content=_big_body(), headers=headers),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    assert body["limit"] == 2 * MiB
    assert_problem(
        api.post("/api/records/contacts", content=_big_body(), headers=headers), 413, "PAYLOAD_TOO_LARGE"
    )
    assert stored(live.services, "contacts", contact) == before
    assert total_rows(live.services) == rows


def test_oversize_body_without_content_length(live: LiveServer, api: httpx.Client, contact: int) -> None:
    """A chunked body is counted as it streams in."""

    def chunks() -> Iterator[bytes]:
        data = _big_body()
        for i in range(0, len(data), 256 * 1024):
            yield data[i : i + 256 * 1024]

    before = stored(live.services, "contacts", contact)
    r = api.patch(
        f"/api/records/contacts/{contact}", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, "PAYLOAD_TOO_LARGE")
    assert stored(live.services, "contacts", contact) == before


# -- unknown things ----------------------------------------------------------------------


UNKNOWN_TYPE_ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/api/records/widgets", None),
    ("POST", "/api/records/widgets", {"name": "x"}),
    ("PATCH", "/api/records/widgets", {"records": [{"id": 1, "name": "x"}]}),
    ("POST", "/api/records/widgets/upsert", {"match_on": "name", "records": [{"name": "x"}]}),
    ("GET", "/api/records/widgets/{id}", None),
    ("PATCH", "/api/records/widgets/{id}", {"name": "x"}),
    ("DELETE", "/api/records/widgets/{id}", None),
    ("GET", "/api/records/widgets/{id}/history", None),
    ("POST", "/api/records/widgets/{id}/revert", {"version": 1}),
    ("GET", "/api/types/widgets", None),
    ("POST", "/api/types/widgets/fields", {"name": "nick", "type": "text"}),
]
NOT_FOUND_ROUTES: list[tuple[str, str, object]] = [
    ("GET", "", None),
    ("PATCH", "", {"score": 1}),
    ("DELETE", "", None),
    ("GET", "/history", None),
    ("POST", "/revert", {"version": 1}),
]


def test_unknown_record_type_and_record_not_found(live: LiveServer, api: httpx.Client, contact: int) -> None:
    api.patch(f"/api/records/contacts/{contact}", json={"score": 2})
    before = stored(live.services, "contacts", contact)
    rows = total_rows(live.services)
    cases = Cases()
    for method, path, body in UNKNOWN_TYPE_ROUTES:
        with cases.case(f"{method} {path}"):
            r = api.request(method, path.replace("{id}", str(contact)), json=body)
            problem = assert_problem(r, 404, "UNKNOWN_RECORD_TYPE")
            assert "widgets" in problem["detail"]
    for method, suffix, body in NOT_FOUND_ROUTES:
        with cases.case(f"{method} .../{{missing}}{suffix}"):
            r = api.request(method, f"/api/records/contacts/{contact + 1000}{suffix}", json=body)
            assert_problem(r, 404, "NOT_FOUND")
    cases.check()
    assert stored(live.services, "contacts", contact) == before
    assert total_rows(live.services) == rows


def test_unknown_route_and_bad_path_parameter(api: httpx.Client) -> None:
    assert_problem(api.get("/api/nothing-here"), 404, "NOT_FOUND")
    body = assert_problem(api.get("/api/records/contacts/abc"), 400, "BAD_REQUEST")
    assert body["errors"][0]["field"] == "record_id"


# -- authentication ---------------------------------------------------------------------------

ROUTES = [
    ("GET", "/api/types", None),
    ("GET", "/api/types/contacts", None),
    ("POST", "/api/types/contacts/fields", {"name": "nick", "type": "text"}),
    ("GET", "/api/records/contacts", None),
    ("POST", "/api/records/contacts", {"last_name": "Intruder"}),
    ("PATCH", "/api/records/contacts", {"records": [{"id": 1, "score": 9}]}),
    ("POST", "/api/records/contacts/upsert", {"match_on": "email", "records": [{"email": "a@b.co"}]}),
    ("GET", "/api/records/contacts/{id}", None),
    ("PATCH", "/api/records/contacts/{id}", {"score": 9}),
    ("DELETE", "/api/records/contacts/{id}", None),
    ("GET", "/api/records/contacts/{id}/history", None),
    ("POST", "/api/records/contacts/{id}/revert", {"version": 1}),
]


BAD_AUTH: list[str | None] = [
    None,
    "Bearer",
    "Bearer cf_0000_wrong",
    "Bearer not-a-key",
    "Basic {key}",
    "Bearer {key}x",
    "Bearer {revoked}",
]


def test_authentication_required(live: LiveServer, api: httpx.Client, contact: int) -> None:
    api.patch(f"/api/records/contacts/{contact}", json={"score": 2})  # so a revert would change something
    revoked = create_key(live.services.db, "revoked")
    assert revoke_key(live.services.db, revoked.split("_")[1])
    before = stored(live.services, "contacts", contact)
    rows = total_rows(live.services)
    types = api.get("/api/types").json()
    cases = Cases()
    with httpx.Client(base_url=live.url, timeout=30) as anonymous:
        for method, path, body in ROUTES:
            url = path.replace("{id}", str(contact))
            for auth in BAD_AUTH:
                with cases.case(f"{method} {path} Authorization: {auth}"):
                    headers = (
                        {} if auth is None else {"Authorization": auth.format(key=live.key, revoked=revoked)}
                    )
                    r = anonymous.request(method, url, json=body, headers=headers)
                    assert_problem(r, 401, "UNAUTHENTICATED")
                    assert r.headers["www-authenticate"].startswith("Bearer")
    cases.check()
    assert stored(live.services, "contacts", contact) == before
    assert total_rows(live.services) == rows
    assert api.get("/api/types").json() == types
    # the same requests with the key get past authentication
    for method, path, body in ROUTES:
        r = api.request(method, path.replace("{id}", str(contact)), json=body)
        assert r.status_code != 401, (method, path, r.text)


def test_health_needs_no_key(live: LiveServer) -> None:
    with httpx.Client(timeout=30) as anonymous:
        r = anonymous.get(live.url + "/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
