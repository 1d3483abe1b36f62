"""Tracker REST v1 request bodies -> canonical ops, as pure functions (tracker_v1/parse.py).

Each row is a partial body of a resource (shaped like the seed's swagger models: nested
``contactDetails``, ``{id, name}`` references, ``customFields``, ``owners``) and the
``FieldOp``s it compiles to, or the field problems of the ``BadRequest`` it raises. The
record types are the shipped ``tracker`` pack's (custom fields added as the metadata API
adds them); no server, no database.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from cardfile.api.dialects.tracker_v1.parse import body_ops, custom_value, parse_id, tracker_path
from cardfile.api.dialects.tracker_v1.spec import RESOURCES, Resource
from cardfile.api.kit.patch import json_patch_object
from cardfile.engine.commands import FieldOp
from cardfile.errors import BadRequest
from cardfile.schema.model import FieldDef, RecordType
from tests.unit.dialects.helpers import record_type

CLIENT = RESOURCES["client"]
CONTACT = RESOURCES["contact"]
RESOURCE = RESOURCES["resource"]
PLACEMENT = RESOURCES["opportunityresource"]
TIMESHEET = RESOURCES["timesheetentries"]


def _with_custom_fields(rt: RecordType) -> RecordType:
    """The type with custom fields ``cf_7`` (integer), ``cf_8`` (boolean), ``cf_9`` (a set)."""
    extra = {
        "cf_7": FieldDef.from_json(
            {"name": "cf_7", "type": "integer", "label": "Head count", "custom": True}
        ),
        "cf_8": FieldDef.from_json({"name": "cf_8", "type": "boolean", "label": "VIP", "custom": True}),
        "cf_9": FieldDef.from_json(
            {"name": "cf_9", "type": "multi_select", "label": "Tags", "options": ["a", "b"], "custom": True}
        ),
        "cf_10": FieldDef.from_json({"name": "cf_10", "type": "text", "label": "Code", "custom": True}),
    }
    return dataclasses.replace(rt, fields={**rt.fields, **extra})


TYPES = {res.name: _with_custom_fields(record_type("tracker", res.type)) for res in RESOURCES.values()}

OPS: list[tuple[str, Resource, dict[str, Any], list[FieldOp]]] = [
    ("a scalar is set", CLIENT, {"name": "Acme"}, [FieldOp("name", "set", "Acme")]),
    ("null clears", CLIENT, {"website": None}, [FieldOp("website", "clear")]),
    (
        "a nested object: each key is a field of its own",
        CLIENT,
        {"contactDetails": {"email": "a@acme.test", "fax": None}},
        [FieldOp("email", "set", "a@acme.test"), FieldOp("fax", "clear")],
    ),
    (
        "a nested object null clears all of its fields",
        CLIENT,
        {"bankingDetails": None},
        [FieldOp(f, "clear") for f in ("bank_name", "sort_code", "account_number", "bank_reference")],
    ),
    (
        "a reference {id, name}: the id",
        CLIENT,
        {"status": {"id": 3, "name": "Active"}},
        [FieldOp("status", "set", 3)],
    ),
    ("a reference with id 0 is no reference", CLIENT, {"status": {"id": 0, "name": ""}}, []),
    ("a reference without an id is no reference", CLIENT, {"territory": {"name": "North"}}, []),
    ("a reference null clears", CLIENT, {"department": None}, [FieldOp("department", "clear")]),
    (
        "a list of references replaces, dropping id 0",
        CLIENT,
        {"clientTypes": [{"id": 4, "name": "Prospect"}, {"id": 0}, {"id": 5}]},
        [FieldOp("client_types", "replace", [4, 5])],
    ),
    ("a list of references null clears", CLIENT, {"sectors": None}, [FieldOp("sectors", "clear")]),
    ("an empty list of references empties", CLIENT, {"sectors": []}, [FieldOp("sectors", "replace", [])]),
    (
        "a contact's type: one {id, name} over a set",
        CONTACT,
        {"type": {"id": 6, "name": "Decision maker"}},
        [FieldOp("contact_type", "replace", [6])],
    ),
    ("an id reference as an integer", CLIENT, {"parentClientId": 2}, [FieldOp("parent_client", "set", 2)]),
    ("an id reference as a string", CLIENT, {"parentClientId": "2"}, [FieldOp("parent_client", "set", 2)]),
    ("an id reference 0 is none", CLIENT, {"parentClientId": 0}, []),
    ("an id reference null clears", CLIENT, {"parentClientId": None}, [FieldOp("parent_client", "clear")]),
    (
        "a date-time where a date is stored: its date",
        PLACEMENT,
        {"startDate": "2024-05-01T09:00:00", "endDate": "2024-06-01"},
        [FieldOp("start_date", "set", "2024-05-01"), FieldOp("end_date", "set", "2024-06-01")],
    ),
    (
        "a date where a date-time is stored: its midnight, UTC",
        RESOURCE,
        {"dateApplied": "2024-05-01"},
        [FieldOp("date_applied", "set", "2024-05-01T00:00:00Z")],
    ),
    (
        "a local date-time: taken as UTC",
        RESOURCE,
        {"availableFrom": "2024-05-01T09:30:00"},
        [FieldOp("available_from", "set", "2024-05-01T09:30:00Z")],
    ),
    (
        "a date-time with an offset is kept",
        RESOURCE,
        {"availableFrom": "2024-05-01T09:30:00+02:00"},
        [FieldOp("available_from", "set", "2024-05-01T09:30:00+02:00")],
    ),
    (
        "rows replace, their dates as dates, nulls left out",
        RESOURCE,
        {
            "fullEmploymentHistory": [
                {"organization": "Acme", "startDate": "2019-01-01T00:00:00", "endDate": None}
            ]
        },
        [
            FieldOp(
                "full_employment_history", "replace", [{"organization": "Acme", "start_date": "2019-01-01"}]
            )
        ],
    ),
    (
        "rows null clear",
        RESOURCE,
        {"fullEmploymentHistory": None},
        [FieldOp("full_employment_history", "clear")],
    ),
    (
        "custom fields: each entry one field, its string in the field's form",
        CLIENT,
        {
            "customFields": [
                {"id": 7, "name": "Head count", "value": "12"},
                {"id": 8, "value": "yes"},
                {"id": 9, "value": "a, b"},
                {"id": 10, "value": "X1"},
            ]
        },
        [
            FieldOp("cf_7", "set", 12),
            FieldOp("cf_8", "set", True),
            FieldOp("cf_9", "set", ["a", "b"]),
            FieldOp("cf_10", "set", "X1"),
        ],
    ),
    (
        "a custom field's empty or null value clears; id 0 is no field",
        CLIENT,
        {"customFields": [{"id": 7, "value": ""}, {"id": 8, "value": None}, {"id": 0, "value": "x"}]},
        [FieldOp("cf_7", "clear"), FieldOp("cf_8", "clear")],
    ),
    ("customFields null is none", CLIENT, {"customFields": None}, []),
    (
        "owners in rank order; owner id 0 is dropped",
        CLIENT,
        {
            "owners": [
                {"ownerId": 5, "rank": 2, "percent": 40, "role": None},
                {"ownerId": 4, "rank": 1, "percent": 60, "role": "Lead"},
                {"ownerId": 0, "rank": 3},
                {"ownerId": 6},
            ]
        },
        [
            FieldOp(
                "owners",
                "replace",
                [
                    {"user": 4, "rank": 1, "percent": 60, "role": "Lead"},
                    {"user": 5, "rank": 2, "percent": 40},
                    {"user": 6},
                ],
            )
        ],
    ),
    ("owners null clears", CLIENT, {"owners": None}, [FieldOp("owners", "clear")]),
    (
        "a body as read can be sent back: read-only keys are ignored",
        CLIENT,
        {"id": 1, "typeName": "Prospect", "history": {"created": "x"}, "name": "Acme"},
        [FieldOp("name", "set", "Acme")],
    ),
    (
        "a resource without a base: its own id key is ignored",
        TIMESHEET,
        {"entryId": 9, "resourceId": 4, "hours": 7.5},
        [FieldOp("resource", "set", 4), FieldOp("hours", "set", 7.5)],
    ),
    ("an empty body has no ops", CLIENT, {}, []),
]


@pytest.mark.parametrize(("res", "body", "ops"), [r[1:] for r in OPS], ids=[r[0] for r in OPS])
def test_body_ops(res: Resource, body: dict[str, Any], ops: list[FieldOp]) -> None:
    assert body_ops(res, TYPES[res.name], body) == ops


REFUSED: list[tuple[str, Resource, Any, list[tuple[str, str]]]] = [
    ("an unknown key", CLIENT, {"colour": "red"}, [("colour", "UNKNOWN_FIELD")]),
    ("an unknown nested key", CLIENT, {"contactDetails": {"pager": "1"}}, [("contactDetails.pager", "UNKNOWN_FIELD")]),
    ("a nested object that is none", CLIENT, {"contactDetails": "a@b"}, [("contactDetails", "NOT_AN_OBJECT")]),
    ("a reference that is no object", CLIENT, {"status": 3}, [("status", "NOT_AN_OBJECT")]),
    ("a reference id that is negative", CLIENT, {"status": {"id": -1}}, [("status.id", "NOT_A_RECORD_ID")]),
    ("a reference id that is a string", CLIENT, {"status": {"id": "3"}}, [("status.id", "NOT_A_RECORD_ID")]),
    ("a reference id that is a boolean", CLIENT, {"status": {"id": True}}, [("status.id", "NOT_A_RECORD_ID")]),
    ("references that are no list", CLIENT, {"sectors": {"id": 1}}, [("sectors", "NOT_A_LIST")]),
    ("a bad item of references", CLIENT, {"sectors": [{"id": 1}, 2]}, [("sectors[1]", "NOT_AN_OBJECT")]),
    ("an id reference that is no id", CLIENT, {"parentClientId": "two"}, [("parentClientId", "NOT_A_RECORD_ID")]),
    ("rows that are no list", RESOURCE, {"fullEmploymentHistory": {}}, [("fullEmploymentHistory", "NOT_A_LIST")]),
    ("a row that is no object", RESOURCE, {"fullEmploymentHistory": ["x"]}, [("fullEmploymentHistory[0]", "NOT_AN_OBJECT")]),
    ("an unknown column of a row", RESOURCE, {"fullEmploymentHistory": [{"salary": 1}]},
     [("fullEmploymentHistory[0].salary", "UNKNOWN_FIELD")]),
    ("custom fields that are no list", CLIENT, {"customFields": {"id": 7}}, [("customFields", "NOT_A_LIST")]),
    ("a custom field that is no object", CLIENT, {"customFields": [7]}, [("customFields[0]", "NOT_AN_OBJECT")]),
    ("a custom field id that is no id", CLIENT, {"customFields": [{"id": "7"}]}, [("customFields[0].id", "NOT_A_CUSTOM_FIELD_ID")]),
    ("an unknown custom field", CLIENT, {"customFields": [{"id": 99, "value": "x"}]}, [("customFields[0].id", "UNKNOWN_CUSTOM_FIELD")]),
    ("owners that are no list", CLIENT, {"owners": {"ownerId": 1}}, [("owners", "NOT_A_LIST")]),
    ("an owner that is no object", CLIENT, {"owners": [1]}, [("owners[0]", "NOT_AN_OBJECT")]),
    ("an owner id that is no id", CLIENT, {"owners": [{"ownerId": "me"}]}, [("owners[0].ownerId", "NOT_A_USER_ID")]),
    ("customFields where the resource has none", TIMESHEET, {"customFields": []}, [("customFields", "UNKNOWN_FIELD")]),
    ("every problem at once", CLIENT, {"colour": 1, "status": 3, "owners": 2},
     [("colour", "UNKNOWN_FIELD"), ("status", "NOT_AN_OBJECT"), ("owners", "NOT_A_LIST")]),
]  # fmt: skip


@pytest.mark.parametrize(("res", "body", "errors"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_body_ops_refused(res: Resource, body: Any, errors: list[tuple[str, str]]) -> None:
    with pytest.raises(BadRequest) as info:
        body_ops(res, TYPES[res.name], body)
    assert [(e["field"], e["code"]) for e in info.value.extra["errors"]] == errors
    n = len(errors)
    assert info.value.detail == f"the body has {n} problem{'s' if n != 1 else ''}"


@pytest.mark.parametrize("body", [[{"name": "Acme"}], "Acme", None, 1])
def test_a_body_is_an_object(body: Any) -> None:
    with pytest.raises(BadRequest) as info:
        body_ops(CLIENT, TYPES["Client"], body)
    assert info.value.detail == "the body must be a JSON object"


@pytest.mark.parametrize(
    ("fd_type", "raw", "value"),
    [
        ("integer", "12", 12),
        ("integer", " -3 ", -3),
        ("integer", "1.5", "1.5"),  # the field type refuses it
        ("boolean", "true", True),
        ("boolean", "No", False),
        ("boolean", "1", True),
        ("boolean", "maybe", "maybe"),
        ("multi_select", "a,b, ,c", ["a", "b", "c"]),
        ("checkbox", "a", ["a"]),
        ("text", " x ", " x "),
        ("integer", 5, 5),  # not a string: as sent
    ],
)
def test_custom_value(fd_type: str, raw: Any, value: Any) -> None:
    assert custom_value(fd_type, raw) == value


@pytest.mark.parametrize(("raw", "n"), [("42", 42), (" 7 ", 7), ("-1", -1)])
def test_a_path_id(raw: str, n: int) -> None:
    assert parse_id(raw) == n


@pytest.mark.parametrize("raw", ["x", "1.5", "", "１２", "1234567890123456789"])
def test_a_path_id_refused(raw: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_id(raw, "clientId")
    assert info.value.extra == {"field": "clientId"}


PATHS = [
    (CLIENT, "name", "name"),
    (CLIENT, "fax", "contactDetails.fax"),
    (CLIENT, "cf_7", "customFields.7"),
    (CLIENT, "owners[1].user", "owners[1].user"),
    (CLIENT, "owner", "owners"),
    (CLIENT, "parent_client", "parentClientId"),
    (CLIENT, "client_types[0]", "clientTypes[0]"),
    (RESOURCE, "date_applied", "dateApplied"),
    (RESOURCE, "full_employment_history[2].start_date", "fullEmploymentHistory[2].startDate"),
    (CLIENT, "no_such_field", "no_such_field"),
    (CLIENT, "[0]", "[0]"),
]


@pytest.mark.parametrize(("res", "field", "path"), PATHS)
def test_engine_field_paths_as_tracker_keys(res: Resource, field: str, path: str) -> None:
    assert tracker_path(res, field) == path


def test_a_json_patch_as_the_partial_object_it_stands_for() -> None:
    ops = [
        {"op": "replace", "path": "/name", "value": "Acme"},
        {"op": "add", "path": "/contactDetails/email", "value": "a@acme.test"},
        {"op": "remove", "path": "/contactDetails/fax"},
        {"op": "replace", "path": "/a~1b~0c", "value": 1},
    ]
    assert json_patch_object(ops) == {
        "name": "Acme",
        "contactDetails": {"email": "a@acme.test", "fax": None},
        "a/b~c": 1,
    }


PATCH_REFUSED = [
    ([{"op": "move", "path": "/a", "from": "/b"}], "[0].op"),
    (["replace"], "[0].op"),
    ([{"op": "replace", "path": "name", "value": 1}], "[0].path"),
    ([{"op": "replace", "path": "/", "value": 1}], "[0].path"),
    ([{"op": "replace", "path": "/sectors/0", "value": 1}], "[0].path"),
    ([{"op": "add", "path": "/sectors/-", "value": 1}], "[0].path"),
    ([{"op": "replace", "path": "/name"}], "[0].value"),
    (
        [{"op": "replace", "path": "/name", "value": "x"}, {"op": "add", "path": "/name/first", "value": 1}],
        "[1].path",
    ),
]


@pytest.mark.parametrize(("ops", "field"), PATCH_REFUSED)
def test_a_json_patch_refused(ops: list[Any], field: str) -> None:
    with pytest.raises(BadRequest) as info:
        json_patch_object(ops)
    assert info.value.extra == {"field": field}
