"""HighLevel dialect: the record lifecycle, search, object schema (from the pack and created
at runtime), auth and scopes, the rate-limit group, and HighLevel's error JSON."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from cardfile.auth.users import add_user as add_login_user
from cardfile.services import Services, open_services
from cardfile.settings import Settings
from tests.conftest import LiveServer, start_live
from tests.integration.test_api_support import stored
from tests.integration.test_highlevel_support import (
    HL,
    KEY,
    assert_hl_error,
    hl,
    properties_of,
    property_errors,
)

__all__ = ["hl"]


def test_create_get_delete(hl: HL) -> None:
    owner, owner_uid = hl.user()
    r = hl.api.post(
        hl.records(),
        json={
            "locationId": "ignored",
            "owners": [owner],
            "properties": {"ticket_name": "Lifecycle", "customer_number": 3, "checklist": ["reproduced"]},
        },
    )
    assert r.status_code == 201, r.text
    record = r.json()["record"]
    assert set(record) == {
        "id", "objectKey", "owner", "followers", "properties", "createdAt", "updatedAt", "dateAdded", "dateUpdated",
    }  # fmt: skip
    assert record["owner"] == [owner] and record["followers"] == []
    assert properties_of(record) == {
        "ticket_name": "Lifecycle",
        "customer_number": 3,
        "checklist": ["reproduced"],
    }
    assert record["createdAt"].endswith("Z") and len(record["createdAt"]) == 24
    assert hl.get(record["id"]) == record
    native_id = int(record["id"], 16)
    assert hl.api.get(f"/api/records/event_ticket/{native_id}").json()["owners"] == [owner_uid]

    d = hl.api.delete(f"{hl.records()}/{record['id']}")
    assert d.status_code == 200, d.text
    assert d.json() == {"id": record["id"], "success": True}
    assert_hl_error(hl.api.get(f"{hl.records()}/{record['id']}"), 404, "NOT_FOUND")
    assert_hl_error(hl.api.delete(f"{hl.records()}/{record['id']}"), 404, "NOT_FOUND")
    assert not stored(hl.services, "event_ticket", native_id).exists


def test_create_reports_every_error_and_creates_nothing(hl: HL) -> None:
    before = hl.api.post(f"{hl.records()}/search", json={"page": 1, "pageLimit": 1}).json()["total"]
    r = hl.api.post(
        hl.records(),
        json={
            "owners": ["NoSuchUser000000000"],
            "properties": {"phone_number": "123", "my_files": "x", "nope": 1},
        },
    )
    body = assert_hl_error(r, 400, "VALIDATION_FAILED")
    assert property_errors(body) == {
        ("owners.add[0]", "USER_NOT_FOUND"),
        ("properties.phone_number", "INVALID_PHONE"),
        ("properties.my_files", "ADD_REMOVE_REQUIRED"),
        ("properties.nope", "UNKNOWN_FIELD"),
    }
    after = hl.api.post(f"{hl.records()}/search", json={"page": 1, "pageLimit": 1}).json()["total"]
    assert after == before


def test_search_pages_and_query(hl: HL) -> None:
    tag = "srch" + hl.user()[0][:6]
    made = [
        hl.create({"properties": {"ticket_name": f"{tag} {i}", "customer_number": i}})["id"] for i in range(5)
    ]
    url = f"{hl.records()}/search"
    first = hl.api.post(url, json={"locationId": "x", "page": 1, "pageLimit": 2, "query": tag})
    assert first.status_code == 200, first.text
    assert first.json()["total"] == 5
    assert [r["id"] for r in first.json()["records"]] == made[:2]
    third = hl.api.post(url, json={"page": 3, "pageLimit": 2, "query": f"ticket_name:{tag}"}).json()
    assert [r["id"] for r in third["records"]] == made[4:] and third["total"] == 5
    beyond = hl.api.post(url, json={"page": 4, "pageLimit": 2, "query": tag}).json()
    assert beyond == {"records": [], "total": 5}
    by_number = hl.api.post(url, json={"query": "customer_number:3", "pageLimit": 100}).json()
    assert made[3] in [r["id"] for r in by_number["records"]]
    bad = assert_hl_error(hl.api.post(url, json={"page": 0, "pageLimit": 101}), 400, "VALIDATION_FAILED")
    assert property_errors(bad) == {("page", "INVALID_PAGE"), ("pageLimit", "INVALID_PAGE_LIMIT")}
    unknown = assert_hl_error(hl.api.post(url, json={"query": "colour:red"}), 400, "VALIDATION_FAILED")
    assert property_errors(unknown) == {("query", "UNKNOWN_PROPERTY")}


def test_object_schema_from_the_pack(hl: HL) -> None:
    r = hl.api.get(f"/highlevel/objects/{KEY}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"]["key"] == KEY and body["object"]["standard"] is False
    assert body["object"]["primaryDisplayProperty"] == f"{KEY}.ticket_name"
    types = {f["fieldKey"].removeprefix(f"{KEY}."): f["dataType"] for f in body["fields"]}
    assert types == {
        "ticket_name": "TEXT", "description": "LARGE_TEXT", "my_textbox_list": "TEXTBOX_LIST",
        "customer_number": "NUMERICAL", "phone_number": "PHONE", "money": "MONETORY",
        "type_of_ticket": "SINGLE_OPTIONS", "section_of_app": "MULTIPLE_OPTIONS", "priority": "RADIO",
        "checklist": "CHECKBOX", "recieved_on": "DATE", "my_files": "FILE_UPLOAD",
    }  # fmt: skip
    single = next(f for f in body["fields"] if f["fieldKey"].endswith(".type_of_ticket"))
    assert {"key": "option_1_internal_key", "label": "Internal"} in single["options"]
    listing = hl.api.get("/highlevel/objects/").json()["objects"]
    assert KEY in [o["key"] for o in listing]
    assert "custom_objects.highlevel_users" not in [o["key"] for o in listing]
    assert_hl_error(hl.api.get("/highlevel/objects/contact"), 400, "NOT_SUPPORTED")


def test_create_object_and_fields_at_runtime(hl: HL) -> None:
    r = hl.api.post(
        "/highlevel/objects/",
        json={
            "key": "custom_objects.pet",
            "labels": {"singular": "Pet", "plural": "Pets"},
            "locationId": "x",
            "primaryDisplayPropertyDetails": {
                "key": "custom_objects.pet.name",
                "name": "Name",
                "dataType": "TEXT",
            },
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["object"]["key"] == "custom_objects.pet"
    assert_hl_error(
        hl.api.post("/highlevel/objects/", json={"key": "pet", "labels": {"plural": "Pets"}}), 409, "CONFLICT"
    )
    bad = assert_hl_error(
        hl.api.post("/highlevel/objects/", json={"key": "Bad Key!", "labels": {}}), 400, "VALIDATION_FAILED"
    )
    assert property_errors(bad) == {("key", "INVALID_KEY"), ("labels.plural", "REQUIRED")}
    for field in (
        {"fieldKey": "custom_objects.pet.breed", "name": "Breed", "dataType": "SINGLE_OPTIONS",
         "options": [{"key": "lab", "label": "Labrador"}, {"key": "pug", "label": "Pug"}]},
        {"fieldKey": "toys", "name": "Toys", "dataType": "CHECKBOX", "options": [{"key": "ball", "label": "Ball"}]},
        {"fieldKey": "fee", "name": "Fee", "dataType": "MONETORY"},
    ):  # fmt: skip
        f = hl.api.post("/highlevel/custom-fields/", json={"objectKey": "custom_objects.pet", **field})
        assert f.status_code == 201, f.text
        assert f.json()["field"]["dataType"] == field["dataType"]
    bad_field = hl.api.post(
        "/highlevel/custom-fields/",
        json={"objectKey": "custom_objects.pet", "fieldKey": "x", "dataType": "HOLOGRAM"},
    )
    assert property_errors(assert_hl_error(bad_field, 400, "VALIDATION_FAILED")) == {
        ("dataType", "INVALID_DATA_TYPE")
    }
    schema = hl.api.get("/highlevel/objects/custom_objects.pet").json()
    assert [f["fieldKey"] for f in schema["fields"]] == [
        "custom_objects.pet.name", "custom_objects.pet.breed", "custom_objects.pet.toys", "custom_objects.pet.fee",
    ]  # fmt: skip
    # records of the new object, with owners and followers like any object
    owner, _ = hl.user()
    pet = hl.create(
        {"owners": [owner], "properties": {"name": "Rex", "breed": "lab"}}, key="custom_objects.pet"
    )
    r = hl.put(
        pet["id"],
        {
            "owner": {"remove": [owner]},
            "properties": {"toys": {"add": ["ball"]}, "fee": {"currency": "default", "value": 30}},
        },
        key="custom_objects.pet",
    )
    assert r.status_code == 200, r.text
    out = r.json()["record"]
    assert out["owner"] == [] and out["objectKey"] == "custom_objects.pet"
    assert properties_of(out) == {
        "name": "Rex", "breed": "lab", "toys": ["ball"], "fee": {"currency": "default", "value": 30},
    }  # fmt: skip
    assert hl.api.get(f"/api/records/pet/{int(pet['id'], 16)}").json()["fee"] == {
        "currency": "USD",
        "value": 30,
    }


def _token(svc: Services, scopes: str, role: str = "standard") -> str:
    import uuid

    with svc.db.write() as conn:
        user = add_login_user(conn, f"{uuid.uuid4().hex[:8]}@example.com", role=role, password=None)
        return svc.auth.tokens.issue(conn, subject=f"user:{user.id}", scopes=scopes)[0]


def test_auth_and_scopes(hl: HL) -> None:
    record = hl.create({"properties": {"ticket_name": "Auth"}})
    url = f"{hl.records()}/{record['id']}"
    with hl.client() as anon:
        body = assert_hl_error(anon.get(url), 401, "UNAUTHENTICATED")
        assert anon.get(url).headers["www-authenticate"].startswith("Bearer")
    with hl.client("cf_bogus_key") as bad:
        assert_hl_error(bad.put(url, json={"properties": {}}), 401, "UNAUTHENTICATED")
    # an access token with cardfile's scopes
    with hl.client(_token(hl.services, "records.event_ticket.READ")) as reader:
        assert reader.get(url).status_code == 200
        body = assert_hl_error(
            reader.put(url, json={"properties": {"ticket_name": "x"}}), 401, "INSUFFICIENT_SCOPE"
        )
        assert body["message"] == "The token is not authorized for this scope."
        assert body["requiredScopes"] == ["objects/record.write", "records.event_ticket.UPDATE"]
    # an access token with HighLevel's scope names
    with hl.client(_token(hl.services, "objects/record.readonly objects/record.write")) as writer:
        r = writer.put(url, json={"properties": {"ticket_name": "Written"}})
        assert r.status_code == 200, r.text
        assert_hl_error(writer.get(f"/highlevel/objects/{KEY}"), 401, "INSUFFICIENT_SCOPE")
    with hl.client(_token(hl.services, "objects/schema.readonly")) as schema_reader:
        assert schema_reader.get(f"/highlevel/objects/{KEY}").status_code == 200
        assert_hl_error(schema_reader.get(url), 401, "INSUFFICIENT_SCOPE")
        assert_hl_error(
            schema_reader.post("/highlevel/objects/", json={"key": "x"}), 401, "INSUFFICIENT_SCOPE"
        )
    # a read-only user cannot write even with the scope
    with hl.client(_token(hl.services, "objects/record.write", role="read-only")) as ro:
        assert_hl_error(ro.put(url, json={"properties": {}}), 403, "PERMISSION_DENIED")
    assert properties_of(hl.get(record["id"])) == {"ticket_name": "Written"}
    history = hl.api.get(f"/api/records/event_ticket/{int(record['id'], 16)}/history").json()["items"]
    assert history[0]["channel"] == "highlevel" and history[0]["actor"].endswith("@example.com")


def test_unknown_endpoint_answers_in_highlevel_shape(hl: HL) -> None:
    assert_hl_error(hl.api.get("/highlevel/nothing/here"), 404, "NOT_FOUND")
    assert_hl_error(hl.api.patch(f"{hl.records()}/668d681f77af4e5229abd6c0", json={}), 404, "NOT_FOUND")


@pytest.fixture
def limited_live(settings: Settings) -> Iterator[LiveServer]:
    from cardfile.auth.apikeys import create_key

    s = replace(settings, packs=("highlevel",), rate_limits={**settings.rate_limits, "highlevel": "3/minute"})
    svc = open_services(s)
    server, thread, url = start_live(svc)
    yield LiveServer(url=url, key=create_key(svc.db, "tester"), services=svc)
    server.should_exit = True
    thread.join(timeout=10)
    svc.close()


def test_rate_limit_group(limited_live: LiveServer) -> None:
    assert limited_live.services.rate_limiter.groups["highlevel"] == "3/minute"
    with limited_live.client() as api:
        for i in range(3):
            r = api.get(f"/highlevel/objects/{KEY}")
            assert r.status_code == 200, r.text
            assert r.headers["ratelimit-policy"] == "3;w=60"
            assert r.headers["ratelimit"].startswith(f"limit=3, remaining={2 - i},")
        body = assert_hl_error(api.get(f"/highlevel/objects/{KEY}"), 429, "RATE_LIMITED")
        assert "highlevel" in body["message"]
        over = api.put(f"/highlevel/objects/{KEY}/records/668d681f77af4e5229abd6c0", json={})
        assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
        # the native API has its own budget
        assert api.get("/api/types").status_code == 200


def test_default_rate_limit_is_highlevels_burst(svc: Services) -> None:
    from cardfile.api.app import create_app

    create_app(svc)
    assert svc.rate_limiter.groups["highlevel"] == "100/10 seconds"


def test_every_error_class_has_a_highlevel_shape() -> None:
    from cardfile.api.dialects.highlevel.errors import error_json, status_of
    from cardfile.errors import ALL_ERRORS, BatchFailed, FieldError, ValidationFailed

    for cls in ALL_ERRORS:
        if cls is ValidationFailed:
            exc = cls([FieldError("properties.x", "INVALID_TEXT", "bad")])
        elif cls is BatchFailed:
            exc = cls([])
        else:
            exc = cls("something went wrong")
        body = error_json(exc)
        assert body["statusCode"] == status_of(exc) and 400 <= body["statusCode"] < 600, cls
        assert body["code"] == cls.code and body["message"] and body["error"], cls
