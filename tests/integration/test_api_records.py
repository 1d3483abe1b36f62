"""Native record API: create, read, update semantics, links, keyed text, sub-records, delete."""

from __future__ import annotations

import email.utils
from datetime import datetime
from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.integration.test_api_support import (
    add_user,
    assert_problem,
    error_pairs,
    history_rows,
    stored,
)

WRITE_KEYS = {"id", "version", "changes", "actor", "at", "created", "committed", "record"}
SYSTEM = {"id", "version", "created_at", "created_by", "modified_at", "modified_by"}


def _create(api: httpx.Client, type_name: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post(f"/api/records/{type_name}", json=body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _patch(api: httpx.Client, type_name: str, rid: int, body: dict[str, Any]) -> dict[str, Any]:
    r = api.patch(f"/api/records/{type_name}/{rid}", json=body)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _changes(result: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c["field"]: (c["old"], c["new"]) for c in result["changes"]}


def test_create_response(api: httpx.Client) -> None:
    r = api.post(
        "/api/records/contacts",
        json={"last_name": "Hopper", "first_name": "Grace", "score": 3, "tags": ["vip"], "revenue": "12.50"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == WRITE_KEYS
    rid = body["id"]
    assert isinstance(rid, int)
    assert body["version"] == 1
    assert body["created"] is True and body["committed"] is True
    assert body["actor"] == "tester"
    assert _changes(body) == {
        "first_name": (None, "Grace"),
        "last_name": (None, "Hopper"),
        "score": (None, 3),
        "revenue": (None, 12.5),
        "tags": ([], ["vip"]),
    }
    record = body["record"]
    assert record["id"] == rid and record["version"] == 1
    assert record["created_by"] == record["modified_by"] == "tester"
    assert record["modified_at"] == record["created_at"] == body["at"]
    # every field is present; unset ones are empty
    assert record["email"] is None and record["status"] is None and record["notes"] is None
    assert set(record) == SYSTEM | {
        "first_name", "last_name", "email", "phone", "title", "company", "score", "revenue",
        "birthday", "status", "tags", "notes",
    }  # fmt: skip
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == f"/api/records/contacts/{rid}"
    last_modified = email.utils.parsedate_to_datetime(r.headers["last-modified"])
    at = datetime.fromisoformat(body["at"].replace("Z", "+00:00"))
    assert last_modified == at.replace(microsecond=0)
    assert r.headers["content-type"] == "application/json"

    got = api.get(f"/api/records/contacts/{rid}")
    assert got.status_code == 200
    assert got.json() == record
    assert got.headers["etag"] == '"1"'
    assert got.headers["last-modified"] == r.headers["last-modified"]
    not_modified = api.get(f"/api/records/contacts/{rid}", headers={"If-None-Match": '"1"'})
    assert not_modified.status_code == 304


def test_patch_semantics(live: LiveServer, api: httpx.Client) -> None:
    rid = _create(
        api,
        "contacts",
        {
            "last_name": "Hopper",
            "first_name": "Grace",
            "title": "Rear Admiral",
            "score": 1,
            "status": "lead",
            "tags": ["vip", "newsletter"],
        },
    )["id"]

    # a missing key is untouched
    res = _patch(api, "contacts", rid, {"score": 2})
    assert res["version"] == 2 and res["created"] is False and res["committed"] is True
    assert _changes(res) == {"score": (1, 2)}
    rec = res["record"]
    assert (rec["first_name"], rec["title"], rec["status"], rec["tags"]) == (
        "Grace", "Rear Admiral", "lead", ["vip", "newsletter"],
    )  # fmt: skip
    assert res.keys() == WRITE_KEYS
    # null clears
    res = _patch(api, "contacts", rid, {"title": None, "tags": None})
    assert _changes(res) == {"title": ("Rear Admiral", None), "tags": (["vip", "newsletter"], [])}
    assert res["record"]["title"] is None and res["record"]["tags"] == []
    # a list replaces a multi value
    _patch(api, "contacts", rid, {"tags": ["vip", "trial"]})
    res = _patch(api, "contacts", rid, {"tags": ["smb", "enterprise"]})
    assert res["record"]["tags"] == ["smb", "enterprise"]
    assert _changes(res) == {"tags": (["vip", "trial"], ["smb", "enterprise"])}
    # add and remove
    res = _patch(api, "contacts", rid, {"tags": {"add": ["vip", "smb"], "remove": ["enterprise"]}})
    assert res["record"]["tags"] == ["smb", "vip"]
    assert _changes(res) == {"tags": (["smb", "enterprise"], ["smb", "vip"])}

    got = api.get(f"/api/records/contacts/{rid}").json()
    assert got == res["record"]
    assert got["version"] == 6
    assert api.get(f"/api/records/contacts/{rid}").headers["etag"] == '"6"'
    s = stored(live.services, "contacts", rid)
    assert (s.version, s.history, s.outbox) == (6, 6, 6)
    assert "title" not in (s.data or {})  # a cleared value is stored as absent


def test_patch_response_headers(api: httpx.Client) -> None:
    rid = _create(api, "contacts", {"last_name": "Hopper"})["id"]
    r = api.patch(f"/api/records/contacts/{rid}", json={"score": 5})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    body = r.json()
    at = datetime.fromisoformat(body["at"].replace("Z", "+00:00"))
    assert email.utils.parsedate_to_datetime(r.headers["last-modified"]) == at.replace(microsecond=0)
    assert body["record"]["modified_at"] == body["at"]
    assert "location" not in r.headers


def test_noop_patch_changes_nothing(live: LiveServer, api: httpx.Client) -> None:
    rid = _create(api, "contacts", {"last_name": "Hopper", "score": 1, "tags": ["vip"]})["id"]
    before = stored(live.services, "contacts", rid)
    for body in ({"score": 1}, {"tags": {"add": ["vip"]}}, {"tags": ["vip"]}, {"email": None}, {}):
        r = api.patch(f"/api/records/contacts/{rid}", json=body)
        assert r.status_code == 200, r.text
        res = r.json()
        assert res["version"] == 1, body
        assert res["changes"] == [] and res["committed"] is False
        assert r.headers["etag"] == '"1"'
    assert stored(live.services, "contacts", rid) == before


def test_required_field_cannot_be_cleared(live: LiveServer, api: httpx.Client) -> None:
    rid = _create(api, "contacts", {"last_name": "Hopper"})["id"]
    before = stored(live.services, "contacts", rid)
    body = assert_problem(
        api.patch(f"/api/records/contacts/{rid}", json={"last_name": None}), 422, "VALIDATION_FAILED"
    )
    assert error_pairs(body) == {("last_name", "REQUIRED")}
    body = assert_problem(
        api.post("/api/records/contacts", json={"first_name": "G"}), 422, "VALIDATION_FAILED"
    )
    assert error_pairs(body) == {("last_name", "REQUIRED")}
    assert stored(live.services, "contacts", rid) == before


# -- links -------------------------------------------------------------------


def test_lookup_must_point_at_an_existing_record(live: LiveServer, api: httpx.Client) -> None:
    acme = _create(api, "companies", {"name": "Acme"})["id"]
    gone = _create(api, "companies", {"name": "Gone Inc"})["id"]
    assert api.delete(f"/api/records/companies/{gone}").status_code == 200
    contact = _create(api, "contacts", {"last_name": "Hopper"})["id"]
    deal = _create(api, "deals", {"name": "Big deal", "company": acme})
    assert deal["record"]["company"] == acme
    did = deal["id"]
    before = stored(live.services, "deals", did)

    for bad in (999_999, gone, contact):  # missing, deleted, a record of another type
        body = assert_problem(
            api.patch(f"/api/records/deals/{did}", json={"company": bad}), 422, "VALIDATION_FAILED"
        )
        assert error_pairs(body) == {("company", "RECORD_NOT_FOUND")}, bad
        body = assert_problem(
            api.post("/api/records/deals", json={"name": "x", "company": bad}), 422, "VALIDATION_FAILED"
        )
        assert error_pairs(body) == {("company", "RECORD_NOT_FOUND")}
    body = assert_problem(
        api.patch(f"/api/records/deals/{did}", json={"contacts": [contact, 888_888]}),
        422,
        "VALIDATION_FAILED",
    )
    assert error_pairs(body) == {("contacts", "RECORD_NOT_FOUND")}
    body = assert_problem(
        api.patch(f"/api/records/deals/{did}", json={"company": "1"}), 422, "VALIDATION_FAILED"
    )
    assert error_pairs(body) == {("company", "NOT_A_RECORD_ID")}
    assert stored(live.services, "deals", did) == before
    assert [r.op for r in history_rows(live.services, "deals", did)] == ["create"]

    res = _patch(api, "deals", did, {"contacts": [contact], "company": None})
    assert res["record"]["contacts"] == [contact] and res["record"]["company"] is None


def test_user_fields_must_name_an_active_user(live: LiveServer, api: httpx.Client) -> None:
    ada = add_user(live.services, "ada")
    bob = add_user(live.services, "bob")
    former = add_user(live.services, "former", active=False)
    did = _create(api, "deals", {"name": "Deal", "owner": ada})["id"]
    before = stored(live.services, "deals", did)

    for body, field in (
        ({"owner": 999_999}, "owner"),
        ({"owner": former}, "owner"),
        ({"followers": [bob, 999_999]}, "followers"),
        ({"followers": {"add": [former]}}, "followers"),
    ):
        problem = assert_problem(api.patch(f"/api/records/deals/{did}", json=body), 422, "VALIDATION_FAILED")
        assert error_pairs(problem) == {(field, "USER_NOT_FOUND")}, body
    problem = assert_problem(
        api.post("/api/records/deals", json={"name": "D2", "owner": former}), 422, "VALIDATION_FAILED"
    )
    assert error_pairs(problem) == {("owner", "USER_NOT_FOUND")}
    assert stored(live.services, "deals", did) == before

    res = _patch(api, "deals", did, {"owner": bob, "followers": [ada, bob]})
    assert (res["record"]["owner"], res["record"]["followers"]) == (bob, [ada, bob])
    assert _changes(res) == {"owner": (ada, bob), "followers": ([], [ada, bob])}


# -- keyed text and sub-records ------------------------------------------------------


def test_keyed_text_sub_value(live: LiveServer, api: httpx.Client) -> None:
    did = _create(api, "deals", {"name": "Deal", "links": {"proposal": "p-1", "contract": "c-1"}})["id"]

    res = _patch(api, "deals", did, {"links.proposal": "p-2"})
    assert res["record"]["links"] == {"proposal": "p-2", "contract": "c-1"}
    assert _changes(res) == {
        "links": ({"proposal": "p-1", "contract": "c-1"}, {"proposal": "p-2", "contract": "c-1"})
    }
    res = _patch(api, "deals", did, {"links.contract": None})
    assert res["record"]["links"] == {"proposal": "p-2"}
    # an object merges key by key; other keys stay
    res = _patch(api, "deals", did, {"links": {"contract": "c-2"}})
    assert res["record"]["links"] == {"proposal": "p-2", "contract": "c-2"}

    before = stored(live.services, "deals", did)
    body = assert_problem(
        api.patch(f"/api/records/deals/{did}", json={"links.invoice": "i-1"}), 422, "VALIDATION_FAILED"
    )
    assert error_pairs(body) == {("links.invoice", "UNKNOWN_KEY")}
    body = assert_problem(
        api.patch(f"/api/records/deals/{did}", json={"name.first": "x"}), 422, "VALIDATION_FAILED"
    )
    assert error_pairs(body) == {("name.first", "NOT_A_KEYED_FIELD")}
    assert stored(live.services, "deals", did) == before
    assert api.get(f"/api/records/deals/{did}").json()["links"] == {"proposal": "p-2", "contract": "c-2"}


def test_sub_records_add_update_remove(live: LiveServer, api: httpx.Client) -> None:
    created = _create(
        api,
        "deals",
        {"name": "Deal", "line_items": [{"product": "Widget", "quantity": 2, "unit_price": "9.5"}]},
    )
    did = created["id"]
    assert created["record"]["line_items"] == [
        {"id": 1, "product": "Widget", "quantity": 2, "unit_price": 9.5}
    ]

    res = _patch(api, "deals", did, {"line_items": {"add": [{"product": "Gadget", "quantity": 1}]}})
    assert res["record"]["line_items"] == [
        {"id": 1, "product": "Widget", "quantity": 2, "unit_price": 9.5},
        {"id": 2, "product": "Gadget", "quantity": 1, "unit_price": None},
    ]
    res = _patch(api, "deals", did, {"line_items": {"update": [{"id": 1, "quantity": 5}]}})
    assert res["record"]["line_items"][0] == {"id": 1, "product": "Widget", "quantity": 5, "unit_price": 9.5}
    assert res["record"]["line_items"][1]["product"] == "Gadget"
    old, new = _changes(res)["line_items"]
    assert old[0]["quantity"] == 2 and new[0]["quantity"] == 5
    res = _patch(api, "deals", did, {"line_items": {"remove": [1]}})
    assert res["record"]["line_items"] == [{"id": 2, "product": "Gadget", "quantity": 1, "unit_price": None}]
    # row ids are never reused
    res = _patch(api, "deals", did, {"line_items": {"add": [{"product": "Gizmo"}]}})
    assert [r["id"] for r in res["record"]["line_items"]] == [2, 3]

    before = stored(live.services, "deals", did)
    for body, pairs in (
        ({"line_items": {"add": [{"quantity": 1}]}}, {("line_items[0].product", "REQUIRED")}),
        ({"line_items": {"update": [{"id": 99, "quantity": 1}]}}, {("line_items[0]", "ROW_NOT_FOUND")}),
        ({"line_items": {"remove": [1]}}, {("line_items[0]", "ROW_NOT_FOUND")}),
        ({"line_items": {"update": [{"id": 2, "quantity": 0}]}}, {("line_items[0].quantity", "TOO_SMALL")}),
        (
            {"line_items": {"update": [{"id": 2, "colour": "red"}]}},
            {("line_items[0].colour", "UNKNOWN_FIELD")},
        ),
        (
            {"line_items": {"add": [{"product": "A", "quantity": "x"}, {"product": ""}]}},
            {("line_items[0].quantity", "NOT_AN_INTEGER"), ("line_items[1].product", "REQUIRED")},
        ),
    ):
        problem = assert_problem(api.patch(f"/api/records/deals/{did}", json=body), 422, "VALIDATION_FAILED")
        assert error_pairs(problem) == pairs, body
    assert stored(live.services, "deals", did) == before


# -- delete -------------------------------------------------------------------------


def test_delete(live: LiveServer, api: httpx.Client) -> None:
    rid = _create(api, "contacts", {"last_name": "Hopper", "email": "grace@example.com"})["id"]
    _patch(api, "contacts", rid, {"score": 1})
    r = api.delete(f"/api/records/contacts/{rid}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == rid and body["deleted"] is True and body["version"] == 3
    assert isinstance(body["at"], str)
    assert_problem(api.get(f"/api/records/contacts/{rid}"), 404, "NOT_FOUND")
    assert_problem(api.delete(f"/api/records/contacts/{rid}"), 404, "NOT_FOUND")
    assert_problem(api.patch(f"/api/records/contacts/{rid}", json={"score": 2}), 404, "NOT_FOUND")
    s = stored(live.services, "contacts", rid)
    assert (s.exists, s.history, s.outbox) == (False, 3, 3)
    # the unique value was released with the record
    again = _create(api, "contacts", {"last_name": "Hopper", "email": "grace@example.com"})
    assert again["id"] != rid


def test_records_of_other_types_are_not_found(live: LiveServer, api: httpx.Client) -> None:
    rid = _create(api, "contacts", {"last_name": "Hopper"})["id"]
    before = stored(live.services, "contacts", rid)
    for type_name in ("companies", "deals"):
        assert_problem(api.get(f"/api/records/{type_name}/{rid}"), 404, "NOT_FOUND")
        assert_problem(api.patch(f"/api/records/{type_name}/{rid}", json={"name": "x"}), 404, "NOT_FOUND")
        assert_problem(api.delete(f"/api/records/{type_name}/{rid}"), 404, "NOT_FOUND")
    assert stored(live.services, "contacts", rid) == before
