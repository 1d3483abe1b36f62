"""Engine records -> Tracker REST v1 JSON, as pure functions (tracker_v1/render.py, errors.py).

A record is the engine's record JSON; the names of linked records and users come from a
fake of the ``Names`` the renderer takes (``name``, ``data``, ``user``, ``user_id``). Every
``CardfileError`` class renders as an RFC 9457 problem with the request path as
``instance``. No server, no database.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest
from starlette.requests import Request

from cardfile.api.dialects.tracker_v1.errors import duplicate_as_conflict, problem
from cardfile.api.dialects.tracker_v1.render import (
    custom_fields,
    display_name,
    first,
    render_record,
    render_row,
    result,
    tracker_time,
)
from cardfile.api.dialects.tracker_v1.spec import RESOURCES
from cardfile.errors import CardfileError, Conflict, Duplicate, FieldError
from cardfile.schema.model import FieldDef, RecordType
from tests.unit.dialects.helpers import ERROR_CLASSES, error_instance, ids, record_type

CLIENT = RESOURCES["client"]
CONTACT = RESOURCES["contact"]
PLACEMENT = RESOURCES["opportunityresource"]
TIMESHEET = RESOURCES["timesheetentries"]
T0 = "2024-05-01T12:30:00.123456Z"
T1 = "2024-05-02T08:00:00.000000Z"


def _custom(rt: RecordType) -> RecordType:
    extra = {
        "cf_7": FieldDef.from_json(
            {"name": "cf_7", "type": "integer", "label": "Head count", "custom": True}
        ),
        "cf_8": FieldDef.from_json({"name": "cf_8", "type": "boolean", "label": "VIP", "custom": True}),
        "cf_9": FieldDef.from_json(
            {"name": "cf_9", "type": "multi_select", "label": "", "options": ["a", "b"], "custom": True}
        ),
    }
    return dataclasses.replace(rt, fields={**rt.fields, **extra})


CLIENT_RT = _custom(record_type("tracker", "client"))
CONTACT_RT = _custom(record_type("tracker", "contact"))


class FakeNames:
    """The renderer's ``Names`` without a database: linked records by id, users by id."""

    def __init__(self, records: dict[int, tuple[str, dict[str, Any]]], users: dict[int, tuple[str, str]]):
        self._records = records
        self._users = users  # id -> (name, email)

    def record(self, rid: Any) -> tuple[str, dict[str, Any]] | None:
        return self._records.get(rid) if isinstance(rid, int) else None

    def name(self, rid: Any) -> str | None:
        found = self.record(rid)
        return display_name(*found) if found else None

    def data(self, rid: Any) -> dict[str, Any]:
        found = self.record(rid)
        return found[1] if found else {}

    def user(self, uid: Any) -> str | None:
        return self._users[uid][0] if uid in self._users else None

    def user_id(self, actor: str | None) -> int | None:
        return next((i for i, (_n, email) in self._users.items() if email == actor), None)


NAMES = FakeNames(
    {
        3: ("setting", {"name": "Active"}),
        4: ("setting", {"name": "Prospect"}),
        5: ("setting", {"name": "Gold Client"}),
        6: ("setting", {"name": "Decision maker"}),
        11: ("setting", {"name": "North", "order": 2}),
        20: ("client", {"name": "Acme"}),
        30: ("resource", {"first_name": "Ann", "preferred_name": "Annie", "surname": "Lee"}),
        40: ("opportunity", {"name": "Q3 hire", "status": 3}),
        50: ("contact", {"display_as": "Dr. Bo"}),
    },
    {1: ("Jo Admin", "jo@example.com"), 2: ("Sam", "sam@example.com")},
)

CLIENT_REC: dict[str, Any] = {
    "id": 20,
    "version": 2,
    "created_at": T0,
    "created_by": "jo@example.com",
    "modified_at": T1,
    "modified_by": "sam@example.com",
    "name": "Acme",
    "source": "Web",
    "email": "hello@acme.test",
    "status": 3,
    "territory": 11,
    "client_types": [4, 5],
    "parent_client": 7,
    "closed": "2024-06-01T00:00:00.000000Z",
    "cf_7": 12,
    "cf_8": True,
    "cf_9": ["a", "b"],
    "owners": [{"id": 1, "user": 1, "rank": 1, "percent": 100, "role": None}],
}


def test_a_client_as_tracker_answers_it() -> None:
    out = render_record(CLIENT, CLIENT_RT, CLIENT_REC, NAMES)
    assert list(out)[:3] == ["id", "name", "typeName"]
    assert (out["id"], out["name"], out["typeName"]) == (20, "Acme", "Prospect")  # the first client type
    assert out["source"] == "Web"
    assert out["contactDetails"] == {
        "telephone": None,
        "mobilePhone": None,
        "fax": None,
        "email": "hello@acme.test",
    }
    assert out["status"] == {"id": 3, "name": "Active"}
    assert out["territory"] == {"id": 11, "name": "North"}
    assert out["department"] is None
    assert out["clientTypes"] == [{"id": 4, "name": "Prospect"}, {"id": 5, "name": "Gold Client"}]
    assert out["sectors"] == []
    assert out["parentClientId"] == 7  # an id reference: the id alone
    assert out["rank"] is None
    assert out["customFields"] == [
        {"id": 7, "name": "Head count", "value": "12"},
        {"id": 8, "name": "VIP", "value": "true"},
        {"id": 9, "name": "cf_9", "value": "a,b"},
    ]
    assert out["owners"] == [{"ownerId": 1, "rank": 1, "name": "Jo Admin", "percent": 100, "role": None}]
    assert out["history"] == {
        "created": "2024-05-01T12:30:00.123Z",
        "updated": "2024-05-02T08:00:00.000Z",
        "updatedBy": 2,
        "closed": "2024-06-01T00:00:00.000Z",
        "renewal1": None,
        "renewal2": None,
        "cancelled": None,
        "cancellationReason": None,
    }
    assert list(out)[-3:] == ["customFields", "owners", "history"]


def test_a_contact_is_named_by_its_display_name_and_its_first_type() -> None:
    rec = {"id": 50, "created_at": T0, "modified_at": T0, "first_name": "Bo", "surname": "Chen",
           "contact_type": [6, 5], "client": 20}  # fmt: skip
    out = render_record(CONTACT, CONTACT_RT, rec, NAMES)
    assert (out["name"], out["typeName"]) == ("Bo Chen", "Decision maker")
    assert out["type"] == {"id": 6, "name": "Decision maker"}  # one {id, name} over the set
    assert out["client"] == {"id": 20, "name": "Acme"}
    assert out["address"]["addressLine1"] is None


@pytest.mark.parametrize(
    ("type_name", "data", "name"),
    [
        ("contact", {"display_as": "Dr. Bo", "first_name": "Bo"}, "Dr. Bo"),
        ("contact", {"preferred_name": "Annie", "first_name": "Ann", "surname": "Lee"}, "Annie Lee"),
        ("resource", {"first_name": "Ann"}, "Ann"),
        ("lead", {}, None),
        ("contact", {"name": "Named"}, "Named"),
        ("project_activity", {"subject": "Kick-off"}, "Kick-off"),
        ("user_profile", {"full_name": "Jo Admin"}, "Jo Admin"),
        ("invoice", {"invoice_number": "INV-1"}, "INV-1"),
        ("setting", {}, None),
    ],
)
def test_display_name(type_name: str, data: dict[str, Any], name: str | None) -> None:
    assert display_name(type_name, data) == name


def test_a_client_search_row() -> None:
    row = render_row(CLIENT, CLIENT_RT, {**CLIENT_REC, "owner": 1}, NAMES, include_custom=True)
    assert row["clientId"] == 20 and row["clientName"] == "Acme"
    assert row["creationDate"] == "2024-05-01T12:30:00.123Z"
    assert row["territory"] == "North" and row["departmentName"] is None
    assert row["clientOwner"] == "Jo Admin"
    # only the custom fields that hold a value
    assert row["customFields"] == [
        {"id": 7, "name": "Head count", "value": "12"},
        {"id": 8, "name": "VIP", "value": "true"},
        {"id": 9, "name": "cf_9", "value": "a,b"},
    ]
    assert render_row(CLIENT, CLIENT_RT, CLIENT_REC, NAMES, include_custom=False)["customFields"] == []


def test_a_placement_search_row_has_the_seeds_keys_and_its_owners() -> None:
    rt = record_type("tracker", "opportunity_resource")
    rec = {"id": 60, "created_at": T0, "modified_at": T1, "opportunity": 40, "resource": 30, "status": 3,
           "active_record": False, "owners": [{"user": 1, "percent": 70}, {"user": 2, "percent": 30}]}  # fmt: skip
    row = render_row(PLACEMENT, rt, rec, NAMES, include_custom=False)
    assert list(row)[:3] == ["opportunityResourceId", "opportunityId", "resourceId"]
    assert row["opportunityName"] == "Q3 hire" and row["resourceDisplayAs"] == "Annie Lee"
    assert row["opportunityStatusDesc"] == "Active"  # the opportunity's status, by name
    assert row["activeRecord"] == "false"
    assert (row["firstOwnerId"], row["firstOwnerPercent"], row["secondOwnerId"], row["thirdOwnerId"]) == (
        1, 70, 2, None,
    )  # fmt: skip
    assert row["fee"] is None  # a key of the seed's row this server does not hold


def test_a_timesheet_row_numbers_its_references() -> None:
    rt = record_type("tracker", "timesheet_entry")
    rec = {"id": 70, "created_at": T0, "modified_at": T0, "resource": 30, "hours": 7.5,
           "bill_reference": "123", "pay_reference": "n/a"}  # fmt: skip
    row = render_row(TIMESHEET, rt, rec, NAMES, include_custom=False)
    assert (row["entryId"], row["resourceId"], row["timeBooked"]) == (70, 30, 7.5)
    assert (row["billReference"], row["paidReference"]) == (123, None)


def test_a_resource_without_a_row_spec_gets_its_get_body() -> None:
    res = RESOURCES["projectactivity"]
    rt = record_type("tracker", "project_activity")
    rec = {"id": 80, "created_at": T0, "modified_at": T0, "subject": "Kick-off"}
    row = render_row(res, rt, rec, NAMES, include_custom=False)
    assert row == {**render_record(res, rt, rec, NAMES), "customFields": []} and row["activityId"] == 80


@pytest.mark.parametrize(
    ("iso", "tracker"),
    [
        ("2024-05-01T12:30:00.123456Z", "2024-05-01T12:30:00.123Z"),
        ("2024-05-01", "2024-05-01"),  # not a date-time: as it is
        (None, None),
        ("", ""),
    ],
)
def test_tracker_time(iso: str | None, tracker: str | None) -> None:
    assert tracker_time(iso) == tracker


def test_small_bodies() -> None:
    assert result(5, "Created") == {"id": 5, "success": True, "message": "Created"}
    assert result(None, "Not found", success=False) == {"id": None, "success": False, "message": "Not found"}
    assert first([3, 4]) == 3 and first([]) is None and first(7) == 7
    assert custom_fields(CLIENT_RT, {"cf_7": None, "cf_8": False}, only_set=True) == [
        {"id": 8, "name": "VIP", "value": "false"}
    ]


# -- errors: every class as a problem ----------------------------------------------------------------
REQUEST = Request({"type": "http", "method": "PATCH", "path": "/tracker/api/v1/Client/20", "headers": [],
                   "query_string": b""})  # fmt: skip


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=ids)
def test_every_error_class_as_a_problem(cls: type[CardfileError]) -> None:
    exc = error_instance(cls)
    r = problem(exc, REQUEST)
    body = orjson.loads(r.body)
    assert r.status_code == cls.status and r.media_type == "application/problem+json"
    assert body["type"] == "urn:cardfile:problem:" + cls.code.lower().replace("_", "-")
    assert (body["title"], body["status"], body["code"]) == (cls.title, cls.status, cls.code)
    assert body["detail"] == exc.detail and body["instance"] == "/tracker/api/v1/Client/20"
    assert ("retry-after" in r.headers) == (cls.status in (429, 503))
    if cls.status == 401:  # Tracker's realm, once
        assert r.headers.getlist("www-authenticate") == ['Bearer realm="tracker"']
    else:
        assert "www-authenticate" not in r.headers


def test_field_problems_are_listed() -> None:
    from cardfile.errors import BadRequest, ValidationFailed

    body = orjson.loads(problem(ValidationFailed([FieldError("name", "TOO_LONG", "at most 100"),
                                                  FieldError("email", "INVALID_EMAIL", "bad")]), REQUEST).body)  # fmt: skip
    assert body["errors"] == [
        {"field": "name", "code": "TOO_LONG", "message": "at most 100"},
        {"field": "email", "code": "INVALID_EMAIL", "message": "bad"},
    ]
    shaped = BadRequest(
        "the body has 1 problem", errors=[{"field": "colour", "code": "UNKNOWN_FIELD", "message": "x"}]
    )
    assert orjson.loads(problem(shaped, REQUEST).body)["errors"] == [
        {"field": "colour", "code": "UNKNOWN_FIELD", "message": "x"}
    ]


def test_a_duplicate_list_entry_is_a_conflict() -> None:
    with pytest.raises(Conflict) as info, duplicate_as_conflict("already on the shortlist"):
        raise Duplicate("dup", errors=[FieldError("resource", "DUPLICATE_VALUE", "taken")])
    assert type(info.value) is Conflict and info.value.detail == "already on the shortlist"
