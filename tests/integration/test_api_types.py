"""Metadata API: record types, and custom fields usable at once and kept across restarts."""

from __future__ import annotations

from typing import Any

import httpx

from cardfile.auth.apikeys import create_key
from cardfile.services import open_services
from cardfile.settings import Settings
from tests.conftest import LiveServer, start_live
from tests.integration.test_api_support import Cases, assert_problem, error_pairs

CONTACT_FIELDS = [
    "first_name", "last_name", "email", "phone", "title", "company", "score", "revenue",
    "birthday", "status", "tags", "notes",
]  # fmt: skip


def _field(type_json: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in type_json["fields"] if f["name"] == name)


def test_list_types(api: httpx.Client) -> None:
    r = api.get("/api/types")
    assert r.status_code == 200, r.text
    body = r.json()
    assert sorted(t["name"] for t in body["items"]) == ["companies", "contacts", "deals"]
    assert {"text", "integer", "single_select", "multi_select", "sub_records", "keyed_text", "user"} <= set(
        body["field_types"]
    )
    contacts = next(t for t in body["items"] if t["name"] == "contacts")
    assert [f["name"] for f in contacts["fields"]] == CONTACT_FIELDS


def test_get_type(api: httpx.Client) -> None:
    r = api.get("/api/types/contacts")
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["name"] == "contacts"
    assert t["pack"] == "demo"
    assert t["system_fields"] == ["id", "version", "created_at", "created_by", "modified_at", "modified_by"]
    assert [f["name"] for f in t["fields"]] == CONTACT_FIELDS
    assert _field(t, "last_name")["required"] is True
    assert _field(t, "email") == {"name": "email", "type": "email", "label": "email", "unique": True}
    assert [o["key"] for o in _field(t, "status")["options"]] == [
        "lead", "prospect", "customer", "churned", "partner",
    ]  # fmt: skip
    deals = api.get("/api/types/deals").json()
    assert _field(deals, "company")["target"] == "companies"
    assert [c["name"] for c in _field(deals, "line_items")["fields"]] == ["product", "quantity", "unit_price"]


def test_get_unknown_type(api: httpx.Client) -> None:
    assert_problem(api.get("/api/types/widgets"), 404, "UNKNOWN_RECORD_TYPE")


def test_custom_field_is_usable_in_the_very_next_request(api: httpx.Client) -> None:
    r = api.post("/api/types/contacts/fields", json={"name": "nickname", "type": "text", "max_length": 10})
    assert r.status_code == 201, r.text
    assert r.json() == {
        "name": "nickname",
        "type": "text",
        "label": "nickname",
        "custom": True,
        "max_length": 10,
    }
    assert r.headers["location"] == "/api/types/contacts"

    t = api.get("/api/types/contacts").json()
    assert [f["name"] for f in t["fields"]] == [*CONTACT_FIELDS, "nickname"]

    r = api.post("/api/records/contacts", json={"last_name": "Hopper", "nickname": "Amazing"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["record"]["nickname"] == "Amazing"
    # the field's own constraint applies at once, too
    body = assert_problem(
        api.patch(f"/api/records/contacts/{rid}", json={"nickname": "x" * 11}), 422, "VALIDATION_FAILED"
    )
    assert error_pairs(body) == {("nickname", "TOO_LONG")}
    r = api.get("/api/records/contacts", params={"nickname": "Amazing"})
    assert [x["id"] for x in r.json()["items"]] == [rid]
    # other types did not get it
    body = assert_problem(
        api.post("/api/records/companies", json={"name": "Acme", "nickname": "A"}), 422, "VALIDATION_FAILED"
    )
    assert error_pairs(body) == {("nickname", "UNKNOWN_FIELD")}


def test_custom_field_survives_restart(settings: Settings, live: LiveServer, api: httpx.Client) -> None:
    r = api.post(
        "/api/types/contacts/fields",
        json={"name": "loyalty", "type": "single_select", "options": ["bronze", "gold"]},
    )
    assert r.status_code == 201, r.text
    rid = api.post("/api/records/contacts", json={"last_name": "Lovelace", "loyalty": "gold"}).json()["id"]
    before = api.get("/api/types/contacts").json()
    live.services.close()

    services = open_services(settings)  # a new process would do exactly this
    server, thread, url = start_live(services)
    try:
        with services.db.read() as conn:
            fd = services.catalog.record_type(conn, "contacts").get("loyalty")
        assert fd is not None and fd.custom
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {create_key(services.db, 'tester')}"}, timeout=30
        ) as c:
            after = c.get("/api/types/contacts").json()
            assert after == before
            assert _field(after, "loyalty")["custom"] is True
            assert c.get(f"/api/records/contacts/{rid}").json()["loyalty"] == "gold"
            r = c.patch(f"/api/records/contacts/{rid}", json={"loyalty": "bronze"})
            assert r.status_code == 200, r.text
            assert r.json()["record"]["loyalty"] == "bronze"
            body = assert_problem(
                c.patch(f"/api/records/contacts/{rid}", json={"loyalty": "silver"}), 422, "VALIDATION_FAILED"
            )
            assert error_pairs(body) == {("loyalty", "INVALID_OPTION")}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()


BAD_FIELDS: list[tuple[str, object, int, str]] = [
    ("contacts", {"name": "Bad Name", "type": "text"}, 422, "VALIDATION_FAILED"),
    ("contacts", {"name": "nick", "type": "no_such_type"}, 422, "VALIDATION_FAILED"),
    ("contacts", {"name": "nick", "type": "text", "colour": "red"}, 422, "VALIDATION_FAILED"),
    ("contacts", {"name": "nick", "type": "single_select"}, 422, "VALIDATION_FAILED"),
    ("contacts", {"name": "boss", "type": "lookup", "target": "widgets"}, 422, "VALIDATION_FAILED"),
    ("contacts", {"name": "version", "type": "integer"}, 422, "VALIDATION_FAILED"),
    ("contacts", {"name": "nick", "type": "text", "required": True}, 422, "VALIDATION_FAILED"),
    ("contacts", {"name": "nick", "type": "text", "max_length": 0}, 422, "VALIDATION_FAILED"),
    ("contacts", {"name": "email", "type": "text"}, 409, "CONFLICT"),
    ("contacts", ["name", "nick"], 400, "BAD_REQUEST"),
    ("widgets", {"name": "nick", "type": "text"}, 404, "UNKNOWN_RECORD_TYPE"),
]


def test_bad_field_definitions_change_nothing(api: httpx.Client) -> None:
    before = api.get("/api/types").json()
    cases = Cases()
    for path, body, status, code in BAD_FIELDS:
        with cases.case(f"{path} {body}"):
            problem = assert_problem(api.post(f"/api/types/{path}/fields", json=body), status, code)
            if code == "VALIDATION_FAILED":
                assert {e["code"] for e in problem["errors"]} == {"INVALID_FIELD"}
    cases.check()
    assert api.get("/api/types").json() == before
