"""HighLevel dialect: PUT /objects/{key}/records/{id} as seed 001 describes it, per field type,
owners and followers, errors (all at once, nothing changed), and reading back natively."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.test_api_support import history_rows, stored
from tests.integration.test_highlevel_support import (
    HL,
    KEY,
    assert_hl_error,
    hl,
    properties_of,
    property_errors,
)

__all__ = ["hl"]

# Seed 001's example request body, verbatim.
SEED_BODY = """
{
"owner": {
"add": ["v5cEPM428h8vShlRW1KT"],
"remove": ["sx6wyHhbFdRXh302Lunr"]
},
"followers": {
"add": ["v5cEPM428h8vShlRW1KT", "17asdaashqw6wbsd7qwhe"],
"remove": ["sx6wyHhbFdRXh302Lunr"]
},
"properties": {
"customer_number": 1424,
"ticket_name": "Customer not able to login",
"phone_number": "+917000000000",
"money": { "currency": "default", "value": 100 },
"type_of_ticket": "option_1_internal_key",
"section_of_app": {
"add": ["option_3_internal_key", "option_4_internal_key"],
"remove": ["option_1_internal_key"]
},
"recieved_on": "2024-07-11",
"my_files": {
"add": [{ "url": "https://example.com/new-file.pdf" }],
"remove": [{ "url": "https://example.com/old-file.pdf" }]
},
"my_textbox_list.option_a": "Value 1",
"my_textbox_list.option_b": "Value 2"
}
}
"""


def _native_id(hl_id: str) -> int:
    return int(hl_id, 16)


def test_seed_example_body_verbatim(hl: HL) -> None:
    v5c, v5c_uid = hl.user("v5cEPM428h8vShlRW1KT")
    seventeen, seventeen_uid = hl.user("17asdaashqw6wbsd7qwhe")
    sx6, sx6_uid = hl.user("sx6wyHhbFdRXh302Lunr")
    record = hl.create(
        {
            "owners": [sx6],
            "followers": [sx6],
            "properties": {
                "ticket_name": "Login broken",
                "section_of_app": ["option_1_internal_key", "option_2_internal_key"],
                "my_files": [{"url": "https://example.com/old-file.pdf"}],
            },
        }
    )
    assert record["owner"] == [sx6] and record["followers"] == [sx6]
    r = hl.api.put(
        f"{hl.records()}/{record['id']}", content=SEED_BODY, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    out = r.json()["record"]
    assert out["id"] == record["id"] and out["objectKey"] == KEY
    assert out["owner"] == [v5c]
    assert out["followers"] == [v5c, seventeen]
    assert properties_of(out) == {
        "ticket_name": "Customer not able to login",
        "my_textbox_list": {"option_a": "Value 1", "option_b": "Value 2"},
        "customer_number": 1424,
        "phone_number": "+917000000000",
        "money": {"currency": "default", "value": 100},
        "type_of_ticket": "option_1_internal_key",
        "section_of_app": ["option_2_internal_key", "option_3_internal_key", "option_4_internal_key"],
        "recieved_on": "2024-07-11",
        "my_files": [{"url": "https://example.com/new-file.pdf", "name": "new-file.pdf"}],
    }
    assert hl.get(record["id"]) == out
    # the same record through the native API, by its integer id
    native = hl.api.get(f"/api/records/event_ticket/{_native_id(record['id'])}")
    assert native.status_code == 200, native.text
    n = native.json()
    assert n["owners"] == [v5c_uid] and n["followers"] == [v5c_uid, seventeen_uid]
    assert n["money"] == {"currency": "USD", "value": 100}
    assert n["section_of_app"] == ["option_2_internal_key", "option_3_internal_key", "option_4_internal_key"]
    assert n["my_textbox_list"] == {"option_a": "Value 1", "option_b": "Value 2"}
    assert n["version"] == 2
    rows = history_rows(hl.services, "event_ticket", n["id"])
    assert [row.channel for row in rows] == ["highlevel", "highlevel"]
    assert sx6_uid not in n["owners"]


def test_record_ids_are_24_hex_and_reversible(hl: HL) -> None:
    record = hl.create({"properties": {"ticket_name": "ids"}})
    rid = record["id"]
    assert len(rid) == 24 and all(c in "0123456789abcdef" for c in rid)
    native = hl.api.get(f"/api/records/event_ticket/{_native_id(rid)}").json()
    assert native["ticket_name"] == "ids"
    # a record made natively is readable through the dialect
    made = hl.api.post("/api/records/event_ticket", json={"ticket_name": "native"}).json()
    assert hl.get(f"{made['id']:024x}")["properties"] == {"ticket_name": "native"}
    assert hl.get(f"{made['id']:024X}")["id"] == f"{made['id']:024x}"


# -- one case per field type of the seed's reference table ---------------------------
# (property, [(valid input, stored as HighLevel shows it)], [(invalid input, property path, code)])
FIELD_CASES: list[tuple[str, list[tuple[Any, Any]], list[tuple[Any, str, str]]]] = [
    (
        "ticket_name",  # single line
        [("Printer on fire", "Printer on fire")],
        [
            ("two\nlines", "properties.ticket_name", "INVALID_TEXT"),
            (42, "properties.ticket_name", "NOT_A_STRING"),
        ],
    ),
    (
        "description",  # multi line
        [("line one\nline two", "line one\nline two")],
        [(["a list"], "properties.description", "NOT_A_STRING")],
    ),
    (
        "my_textbox_list.option_b",  # textbox list
        [("Value 2", "Value 2")],
        [
            ("x", "properties.my_textbox_list.option_z", "UNKNOWN_KEY"),
            (5, "properties.my_textbox_list.option_b", "NOT_A_STRING"),
        ],
    ),
    (
        "customer_number",  # number
        [(1424, 1424), (12.5, 12.5)],
        [
            ("1424", "properties.customer_number", "NOT_A_NUMBER"),
            (True, "properties.customer_number", "NOT_A_NUMBER"),
        ],
    ),
    (
        "phone_number",  # phone
        [("+917000000000", "+917000000000"), ("+1 415 555 2671", "+14155552671")],
        [
            ("917000000000", "properties.phone_number", "INVALID_PHONE"),
            ("07000000000", "properties.phone_number", "INVALID_PHONE"),
            ("+07000000000", "properties.phone_number", "INVALID_PHONE"),
        ],
    ),
    (
        "money",  # monetary
        [
            ({"currency": "default", "value": 100}, {"currency": "default", "value": 100}),
            ({"currency": "EUR", "value": 9.5}, {"currency": "EUR", "value": 9.5}),
        ],
        [
            (100, "properties.money", "INVALID_MONEY"),
            ({"currency": "default"}, "properties.money.value", "INVALID_MONEY"),
            ({"currency": "default", "value": "lots"}, "properties.money.value", "NOT_A_NUMBER"),
        ],
    ),
    (
        "type_of_ticket",  # dropdown (single)
        [("option_2_internal_key", "option_2_internal_key")],
        [
            ("External", "properties.type_of_ticket", "INVALID_OPTION"),
            ("nope", "properties.type_of_ticket", "INVALID_OPTION"),
        ],
    ),
    (
        "section_of_app",  # dropdown (multiple)
        [
            (
                {"add": ["option_1_internal_key", "option_2_internal_key"]},
                ["option_1_internal_key", "option_2_internal_key"],
            )
        ],
        [
            ({"add": ["Billing"]}, "properties.section_of_app[0]", "INVALID_OPTION"),
            ({"remove": ["Reports"]}, "properties.section_of_app[0]", "INVALID_OPTION"),
            (["option_1_internal_key"], "properties.section_of_app", "ADD_REMOVE_REQUIRED"),
            ("option_1_internal_key", "properties.section_of_app", "ADD_REMOVE_REQUIRED"),
        ],
    ),
    (
        "priority",  # radio
        [("high", "high")],
        [
            ("High", "properties.priority", "INVALID_OPTION"),
            (["high"], "properties.priority", "INVALID_OPTION"),
        ],
    ),
    (
        "checklist",  # checkbox
        [({"add": ["reproduced", "escalated"]}, ["reproduced", "escalated"])],
        [
            ({"add": ["Reproduced"]}, "properties.checklist[0]", "INVALID_OPTION"),
            ({"add": "reproduced"}, "properties.checklist", "NOT_A_LIST"),
            ({"set": ["reproduced"]}, "properties.checklist", "ADD_REMOVE_REQUIRED"),
        ],
    ),
    (
        "recieved_on",  # date picker
        [("2024-07-11", "2024-07-11")],
        [
            ("11/07/2024", "properties.recieved_on", "INVALID_DATE"),
            ("2024-7-11", "properties.recieved_on", "INVALID_DATE"),
            ("2024-07-11T10:00:00Z", "properties.recieved_on", "INVALID_DATE"),
            ("2024-02-30", "properties.recieved_on", "INVALID_DATE"),
        ],
    ),
    (
        "my_files",  # file upload
        [
            (
                {"add": [{"url": "https://example.com/a.pdf"}]},
                [{"url": "https://example.com/a.pdf", "name": "a.pdf"}],
            )
        ],
        [
            ({"add": [{"url": "not a url"}]}, "properties.my_files[0].url", "INVALID_URL"),
            ({"add": [{"url": "ftp://example.com/a.pdf"}]}, "properties.my_files[0].url", "INVALID_URL"),
            ([{"url": "https://example.com/a.pdf"}], "properties.my_files", "ADD_REMOVE_REQUIRED"),
        ],
    ),
]


@pytest.mark.parametrize(("prop", "valid", "invalid"), FIELD_CASES, ids=[c[0] for c in FIELD_CASES])
def test_field_type(
    hl: HL, prop: str, valid: list[tuple[Any, Any]], invalid: list[tuple[Any, str, str]]
) -> None:
    record = hl.create({"properties": {"ticket_name": f"type {prop}"}})
    base, _, sub = prop.partition(".")
    for raw, shown in valid:
        r = hl.put(record["id"], {"properties": {prop: raw}})
        assert r.status_code == 200, (raw, r.text)
        value = properties_of(r.json()["record"])[base]
        assert (value[sub] if sub else value) == shown, raw
    before = stored(hl.services, "event_ticket", _native_id(record["id"]))
    for raw, path, code in invalid:
        key = "my_textbox_list.option_z" if path.endswith("option_z") else prop
        body = assert_hl_error(hl.put(record["id"], {"properties": {key: raw}}), 400, "VALIDATION_FAILED")
        assert property_errors(body) == {(path, code)}, (raw, body)
        assert isinstance(body["message"], list) and body["message"][0].startswith(path)
    assert stored(hl.services, "event_ticket", _native_id(record["id"])) == before


def test_add_and_remove_in_one_call(hl: HL) -> None:
    record = hl.create(
        {
            "properties": {
                "section_of_app": ["option_1_internal_key", "option_2_internal_key"],
                "checklist": ["reproduced"],
                "my_files": [{"url": "https://example.com/old.pdf"}, {"url": "https://example.com/keep.pdf"}],
            }
        }
    )
    r = hl.put(
        record["id"],
        {
            "properties": {
                "section_of_app": {"add": ["option_3_internal_key"], "remove": ["option_1_internal_key"]},
                "checklist": {"add": ["escalated", "reproduced"], "remove": ["customer_notified"]},
                "my_files": {
                    "add": [{"url": "https://example.com/new.pdf"}],
                    "remove": [{"url": "https://example.com/old.pdf"}],
                },
            }
        },
    )
    assert r.status_code == 200, r.text
    props = properties_of(r.json()["record"])
    assert props["section_of_app"] == ["option_2_internal_key", "option_3_internal_key"]
    assert props["checklist"] == [
        "reproduced",
        "escalated",
    ]  # re-adding is a no-op; removing an absent one too
    assert [f["url"] for f in props["my_files"]] == [
        "https://example.com/keep.pdf",
        "https://example.com/new.pdf",
    ]
    history = hl.api.get(f"/api/records/event_ticket/{_native_id(record['id'])}/history").json()["items"]
    assert [c["field"] for c in history[0]["changes"]] == ["section_of_app", "checklist", "my_files"]


def test_null_clears_and_missing_keys_stay(hl: HL) -> None:
    owner, _ = hl.user()
    record = hl.create(
        {
            "owners": [owner],
            "properties": {
                "ticket_name": "Clear me",
                "description": "kept",
                "money": {"currency": "default", "value": 5},
                "section_of_app": ["option_1_internal_key"],
                "my_textbox_list": {"option_a": "A", "option_b": "B"},
            },
        }
    )
    r = hl.put(
        record["id"],
        {
            "owners": None,
            "properties": {
                "ticket_name": None,
                "money": None,
                "section_of_app": None,
                "my_textbox_list.option_a": None,
            },
        },
    )
    assert r.status_code == 200, r.text
    out = r.json()["record"]
    assert out["owner"] == []
    assert properties_of(out) == {"description": "kept", "my_textbox_list": {"option_b": "B"}}
    native = hl.api.get(f"/api/records/event_ticket/{_native_id(record['id'])}").json()
    assert native["ticket_name"] is None and native["money"] is None and native["section_of_app"] == []


def test_owner_limit_is_one_on_the_resulting_set(hl: HL) -> None:
    a, uid_a = hl.user()
    b, uid_b = hl.user()
    record = hl.create({"properties": {"ticket_name": "owners"}})
    rid = record["id"]
    ok = hl.put(rid, {"owners": {"add": [a]}})
    assert ok.status_code == 200 and ok.json()["record"]["owner"] == [a], ok.text
    # over the limit: two owners would remain
    body = assert_hl_error(hl.put(rid, {"owners": {"add": [b]}}), 400, "VALIDATION_FAILED")
    assert property_errors(body) == {("owners", "TOO_MANY_ITEMS")}
    body = assert_hl_error(hl.put(rid, {"owner": {"add": [a, b], "remove": []}}), 400, "VALIDATION_FAILED")
    assert property_errors(body) == {("owners", "TOO_MANY_ITEMS")}
    # at the limit: swap owners in one call (the seed's "owner" spelling)
    swap = hl.put(rid, {"owner": {"add": [b], "remove": [a]}})
    assert swap.status_code == 200 and swap.json()["record"]["owner"] == [b], swap.text
    assert hl.api.get(f"/api/records/event_ticket/{_native_id(rid)}").json()["owners"] == [uid_b]
    assert uid_a != uid_b
    # the limit is the engine's: the native API keeps it too
    native = hl.api.patch(f"/api/records/event_ticket/{_native_id(rid)}", json={"owners": [uid_a, uid_b]})
    assert native.status_code == 422 and native.json()["errors"][0]["code"] == "TOO_MANY_ITEMS", native.text
    both = assert_hl_error(
        hl.put(rid, {"owner": {"add": [a]}, "owners": {"remove": [b]}}), 400, "VALIDATION_FAILED"
    )
    assert ("owner", "DUPLICATE_KEY") in property_errors(both)


def test_follower_limit_is_ten_on_the_resulting_set(hl: HL) -> None:
    users = [hl.user()[0] for _ in range(11)]
    record = hl.create({"properties": {"ticket_name": "followers"}})
    rid = record["id"]
    ten = hl.put(rid, {"followers": {"add": users[:10]}})
    assert ten.status_code == 200 and ten.json()["record"]["followers"] == users[:10], ten.text
    before = stored(hl.services, "event_ticket", _native_id(rid))
    body = assert_hl_error(hl.put(rid, {"followers": {"add": [users[10]]}}), 400, "VALIDATION_FAILED")
    assert property_errors(body) == {("followers", "TOO_MANY_ITEMS")}
    assert stored(hl.services, "event_ticket", _native_id(rid)) == before
    swap = hl.put(rid, {"followers": {"add": [users[10]], "remove": [users[0]]}})
    assert swap.status_code == 200, swap.text
    assert swap.json()["record"]["followers"] == users[1:]
    # on create too
    body = assert_hl_error(
        hl.api.post(hl.records(), json={"followers": users, "properties": {}}), 400, "VALIDATION_FAILED"
    )
    assert property_errors(body) == {("followers", "TOO_MANY_ITEMS")}


def test_unknown_users(hl: HL) -> None:
    known, _ = hl.user()
    record = hl.create({"owners": [known]})
    body = assert_hl_error(
        hl.put(
            record["id"],
            {"followers": {"add": ["NoSuchUser000000000", "bad id!"], "remove": ["AlsoUnknown"]}},
        ),
        400,
        "VALIDATION_FAILED",
    )
    assert property_errors(body) == {
        ("followers.add[0]", "USER_NOT_FOUND"),
        ("followers.add[1]", "INVALID_USER_ID"),
    }
    # removing a user the record does not name is a no-op
    r = hl.put(record["id"], {"owners": {"remove": ["AlsoUnknown"]}})
    assert r.status_code == 200 and r.json()["record"]["owner"] == [known], r.text


def test_every_error_at_once_and_nothing_changed(hl: HL) -> None:
    record = hl.create({"properties": {"ticket_name": "Untouched", "customer_number": 7}})
    rid = record["id"]
    native_id = _native_id(rid)
    before = stored(hl.services, "event_ticket", native_id)
    history_before = history_rows(hl.services, "event_ticket", native_id)
    r = hl.put(
        rid,
        {
            "owners": {"add": ["NoSuchUser000000000"]},
            "followers": ["plain list"],
            "colour": "red",
            "properties": {
                "ticket_name": "Changed",  # valid, but nothing may change
                "phone_number": "07000000000",
                "customer_number": "seven",
                "section_of_app": ["option_1_internal_key"],
                "recieved_on": "yesterday",
                "no_such_property": 1,
                "type_of_ticket": "Internal",
                "my_textbox_list.option_z": "x",
                "owners": {"add": []},
            },
        },
    )
    body = assert_hl_error(r, 400, "VALIDATION_FAILED")
    assert property_errors(body) == {
        ("owners.add[0]", "USER_NOT_FOUND"),
        ("followers", "ADD_REMOVE_REQUIRED"),
        ("colour", "UNKNOWN_KEY"),
        ("properties.phone_number", "INVALID_PHONE"),
        ("properties.customer_number", "NOT_A_NUMBER"),
        ("properties.section_of_app", "ADD_REMOVE_REQUIRED"),
        ("properties.recieved_on", "INVALID_DATE"),
        ("properties.no_such_property", "UNKNOWN_FIELD"),
        ("properties.type_of_ticket", "INVALID_OPTION"),
        ("properties.my_textbox_list.option_z", "UNKNOWN_KEY"),
        ("properties.owners", "NOT_A_PROPERTY"),
    }
    assert len(body["message"]) == len(body["errors"])
    assert stored(hl.services, "event_ticket", native_id) == before
    assert history_rows(hl.services, "event_ticket", native_id) == history_before
    assert properties_of(hl.get(rid)) == {"ticket_name": "Untouched", "customer_number": 7}


@pytest.mark.parametrize("key", ["contacts", "contact", "companies", "business", "business.email"])
def test_standard_objects_are_not_supported(hl: HL, key: str) -> None:
    body = assert_hl_error(
        hl.put("668d681f77af4e5229abd6c0", {"properties": {}}, key=key), 400, "NOT_SUPPORTED"
    )
    assert "not supported" in body["message"]
    assert property_errors(body) == {("customObjectKey", "NOT_SUPPORTED")}
    assert_hl_error(hl.api.post(hl.records(key), json={"properties": {}}), 400, "NOT_SUPPORTED")
    assert_hl_error(hl.api.get(f"{hl.records(key)}/668d681f77af4e5229abd6c0"), 400, "NOT_SUPPORTED")


def test_object_and_record_not_found(hl: HL) -> None:
    rid = "668d681f77af4e5229abd6c0"
    assert_hl_error(hl.put(rid, {"properties": {}}, key="event_ticket"), 400, "BAD_REQUEST")
    assert_hl_error(hl.put(rid, {"properties": {}}, key="custom_objects.nothing"), 404, "UNKNOWN_RECORD_TYPE")
    # the user-id mapping and other packs' types are not custom objects
    assert_hl_error(
        hl.put(rid, {"properties": {}}, key="custom_objects.highlevel_users"), 404, "UNKNOWN_RECORD_TYPE"
    )
    assert_hl_error(hl.put(rid, {"properties": {}}, key="custom_objects.deals"), 404, "UNKNOWN_RECORD_TYPE")
    assert_hl_error(hl.put(rid, {"properties": {"ticket_name": "x"}}), 404, "NOT_FOUND")
    assert_hl_error(hl.put("ffffffffffffffffffffffff", {"properties": {}}), 404, "NOT_FOUND")
    body = assert_hl_error(hl.put("12345", {"properties": {}}), 400, "BAD_REQUEST")
    assert property_errors(body) == {("recordId", "BAD_REQUEST")}
    # a record of another type is not found under this object
    deal = hl.api.post("/api/records/companies", json={"name": "Acme HL"}).json()
    assert_hl_error(hl.put(f"{deal['id']:024x}", {"properties": {}}), 404, "NOT_FOUND")


def test_bad_bodies(hl: HL) -> None:
    record = hl.create()
    assert_hl_error(hl.put(record["id"], [1, 2]), 400, "BAD_REQUEST")  # type: ignore[arg-type]
    r = hl.api.put(
        f"{hl.records()}/{record['id']}", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_hl_error(r, 400, "MALFORMED_JSON")
    body = assert_hl_error(hl.put(record["id"], {"properties": []}), 400, "VALIDATION_FAILED")
    assert property_errors(body) == {("properties", "NOT_AN_OBJECT")}
    # an empty update changes nothing and answers the record
    same = hl.put(record["id"], {"properties": {}})
    assert same.status_code == 200 and same.json()["record"] == hl.get(record["id"])
    assert json.loads(same.text)["record"]["properties"] == {}
