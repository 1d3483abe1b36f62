"""Zoho CRM request bodies -> canonical ops, as pure functions (zoho_crm/parse.py).

Each row is a record of ``data`` (shaped like the seed's "Update Records" sample) and the
``FieldOp``s it compiles to, or the ``FieldError``s of the ``ValidationFailed`` it raises.
The record types are the shipped ``zoho`` pack's; no server, no database.
"""

from __future__ import annotations

from typing import Any

import pytest

from cardfile.api.dialects.zoho_crm.errors import MandatoryMissing
from cardfile.api.dialects.zoho_crm.modules import layout_id
from cardfile.api.dialects.zoho_crm.parse import data_of, layout_of, namer, record_ops, skip_features
from cardfile.engine.commands import FieldOp
from cardfile.errors import BadRequest, LimitExceeded, ValidationFailed
from cardfile.schema.model import RecordType
from cardfile.schema.packs import parse_pack
from tests.unit.dialects.helpers import record_type

DEALS = record_type("zoho", "zoho_deals")
EVENTS = record_type("zoho", "zoho_events")
# a custom module with the multi-value kinds the shipped pack has no top-level field of
CUSTOM: RecordType = parse_pack(
    "zoho",
    {
        "types": {
            "zoho_custom": {
                "fields": [
                    {"name": "name", "type": "text"},
                    {"name": "tags", "type": "multi_lookup", "target": "zoho_leads"},
                    {"name": "watchers", "type": "multi_user"},
                    {"name": "flags", "type": "checkbox", "options": ["a", "b"]},
                ]
            }
        }
    },
).types[0]


# -- record_ops: one record of `data` -> its ops -------------------------------------------------
OPS: list[tuple[str, RecordType, dict[str, Any], tuple[FieldOp, ...]]] = [
    ("a text is set", DEALS, {"Deal_Name": "v7 Update"}, (FieldOp("deal_name", "set", "v7 Update"),)),
    ("null clears", DEALS, {"Amount": None}, (FieldOp("amount", "clear"),)),
    (
        "a picklist, a number, a date",
        DEALS,
        {"Stage": "Closed Won", "Amount": 1200.5, "Closing_Date": "2024-05-01"},
        (
            FieldOp("stage", "set", "Closed Won"),
            FieldOp("amount", "set", 1200.5),
            FieldOp("closing_date", "set", "2024-05-01"),
        ),
    ),
    (
        "a lookup as {name, id}: the name is ignored",
        DEALS,
        {"Account_Name": {"name": "Zylker", "id": "3652397000000624046"}},
        (FieldOp("account_name", "set", 3652397000000624046),),
    ),
    ("a lookup as the id itself", DEALS, {"Contact_Name": "42"}, (FieldOp("contact_name", "set", 42),)),
    ("a lookup as a JSON integer", DEALS, {"Contact_Name": 42}, (FieldOp("contact_name", "set", 42),)),
    ("a user as {id}", DEALS, {"Owner": {"id": "7"}}, (FieldOp("owner", "set", 7),)),
    (
        "a multi-select picklist replaces",
        DEALS,
        {"Foreign_Languages": ["Korean", "Spanish"]},
        (FieldOp("foreign_languages", "replace", ["Korean", "Spanish"]),),
    ),
    (
        "$append_values false replaces (the seed's sample)",
        DEALS,
        {"Foreign_Languages": ["Korean", "Spanish"], "$append_values": {"Foreign_Languages": False}},
        (FieldOp("foreign_languages", "replace", ["Korean", "Spanish"]),),
    ),
    (
        "$append_values true adds",
        DEALS,
        {"Foreign_Languages": ["Korean"], "$append_values": {"Foreign_Languages": True}},
        (FieldOp("foreign_languages", "add", ["Korean"]),),
    ),
    (
        "$append_values null is no append",
        DEALS,
        {"Regions": ["EU"], "$append_values": None},
        (FieldOp("regions", "replace", ["EU"]),),
    ),
    (
        "an image upload: a new row, and a row deleted by _delete (the seed's sample)",
        DEALS,
        {"Image_Upload": [{"File_Id__s": "2cxx2fa"}, {"id": "738964000002363016", "_delete": None}]},
        (
            FieldOp("image_upload", "remove", [738964000002363016]),
            FieldOp("image_upload", "add", [{"file_id__s": "2cxx2fa"}]),
        ),
    ),
    (
        "a multi-select lookup: the linked record as {id}, and _delete",
        DEALS,
        {
            "Listings": [
                {"Interested_Listings": {"id": "3652397000001988001"}},
                {"id": "431581000000697244", "_delete": None},
            ]
        },
        (
            FieldOp("listings", "remove", [431581000000697244]),
            FieldOp("listings", "add", [{"interested_listings": 3652397000001988001}]),
        ),
    ),
    (
        "a multi-user lookup: the user as {name, id}, and _delete",
        DEALS,
        {
            "AssociatedUser": [
                {"User": {"name": "J Smith", "id": "3652397000000281001"}},
                {"id": "431581000000701821", "_delete": None},
            ]
        },
        (
            FieldOp("associateduser", "remove", [431581000000701821]),
            FieldOp("associateduser", "add", [{"user": 3652397000000281001}]),
        ),
    ),
    (
        "a linking row with an id updates it",
        DEALS,
        {"Image_Upload": [{"id": "5", "Description__s": "front"}]},
        (FieldOp("image_upload", "update", [{"id": 5, "description__s": "front"}]),),
    ),
    (
        "a subform lists its rows in full: one sync, after the deletions",
        DEALS,
        {
            "Products_Subform": [
                {"id": "11", "Quantity": 2},
                {"Product_Name": {"id": "9"}, "Quantity": 1, "$row_key": "ignored"},
                {"id": "12", "_delete": None},
            ]
        },
        (
            FieldOp("products_subform", "remove", [12]),
            FieldOp(
                "products_subform", "sync", [{"id": 11, "quantity": 2}, {"product_name": 9, "quantity": 1}]
            ),
        ),
    ),
    (
        "an event's participants: lower-case column names",
        EVENTS,
        {"Participants": [{"type": "email", "participant": "a@example.com", "name": "A"}]},
        (
            FieldOp(
                "participants",
                "sync",
                [{"type": "email", "participant": "a@example.com", "name": "A"}],
            ),
        ),
    ),
    (
        "a record as read can be sent back: system keys and $-keys are ignored",
        DEALS,
        {
            "id": "42",
            "Created_Time": "2021-05-02T11:17:33+05:30",
            "Modified_Time": "2021-05-02T11:17:33+05:30",
            "Created_By": {"name": "P", "id": "1"},
            "Modified_By": {"name": "P", "id": "1"},
            "Layout": {"id": "1"},
            "$approval": {"delegate": False},
            "$editable": True,
            "Next_Step": "call",
        },
        (FieldOp("next_step", "set", "call"),),
    ),
    (
        "a multi-select lookup field at the top level: ids replace",
        CUSTOM,
        {"Tags": [{"id": "3"}, "4", 5]},
        (FieldOp("tags", "replace", [3, 4, 5]),),
    ),
    (
        "a multi-user field at the top level",
        CUSTOM,
        {"Watchers": [{"name": "J", "id": "8"}]},
        (FieldOp("watchers", "replace", [8]),),
    ),
    (
        "a checkbox set takes $append_values like a multi-select picklist",
        CUSTOM,
        {"Flags": ["a"], "$append_values": {"Flags": True}},
        (FieldOp("flags", "add", ["a"]),),
    ),
    ("a null sub-records field clears", DEALS, {"Listings": None}, (FieldOp("listings", "clear"),)),
    ("an empty record has no ops", DEALS, {}, ()),
]


@pytest.mark.parametrize(("rt", "record", "ops"), [r[1:] for r in OPS], ids=[r[0] for r in OPS])
def test_record_ops(rt: RecordType, record: dict[str, Any], ops: tuple[FieldOp, ...]) -> None:
    assert record_ops(rt, record) == ops


# -- record_ops: what is refused, every problem at once -------------------------------------------
REFUSED: list[tuple[str, RecordType, dict[str, Any], list[tuple[str, str]]]] = [
    ("an unknown field API name", DEALS, {"Deal_Nam": "x"}, [("Deal_Nam", "UNKNOWN_FIELD")]),
    ("a cardfile name is not an API name", DEALS, {"deal_name": "x"}, [("deal_name", "UNKNOWN_FIELD")]),
    (
        "a lookup that is no id",
        DEALS,
        {"Account_Name": {"name": "Zylker"}},
        [("account_name", "NOT_A_RECORD_ID")],
    ),
    ("a lookup id of 0", DEALS, {"Account_Name": "0"}, [("account_name", "NOT_A_RECORD_ID")]),
    ("a lookup id as a boolean", DEALS, {"Owner": True}, [("owner", "NOT_A_RECORD_ID")]),
    ("a lookup id that is not decimal", DEALS, {"Owner": {"id": "12ab"}}, [("owner", "NOT_A_RECORD_ID")]),
    ("sub-records that are no list", DEALS, {"Listings": {"id": "1"}}, [("listings", "NOT_A_LIST")]),
    ("a row that is no object", DEALS, {"Listings": ["1"]}, [("listings[0]", "INVALID_ROW")]),
    ("a row id that is malformed", DEALS, {"Listings": [{"id": "x1"}]}, [("listings[0].id", "NOT_A_ROW_ID")]),
    (
        "_delete without an id",
        DEALS,
        {"Image_Upload": [{"_delete": None}]},
        [("image_upload[0].id", "NOT_A_ROW_ID")],
    ),
    (
        "an unknown column of a row",
        DEALS,
        {"Products_Subform": [{"Colour": "red"}]},
        [("products_subform[0].Colour", "UNKNOWN_FIELD")],
    ),
    (
        "a bad lookup inside a row",
        DEALS,
        {"Listings": [{"Interested_Listings": {"id": "no"}}]},
        [("listings[0].interested_listings", "NOT_A_RECORD_ID")],
    ),
    ("a multi-lookup that is no list", CUSTOM, {"Tags": "3"}, [("tags", "NOT_A_LIST")]),
    ("a multi-lookup with a bad id", CUSTOM, {"Tags": ["3", "x"]}, [("tags", "NOT_A_RECORD_ID")]),
    (
        "$append_values on a field that is not a multi-select",
        DEALS,
        {"Deal_Name": "x", "$append_values": {"Deal_Name": True}},
        [("Deal_Name", "INVALID_VALUE")],
    ),
    (
        "$append_values on an unknown field",
        DEALS,
        {"$append_values": {"Colours": True}},
        [("Colours", "INVALID_VALUE")],
    ),
    (
        "every problem of the record, in order",
        DEALS,
        {"Nope": 1, "Owner": "me", "Listings": 3},
        [("Nope", "UNKNOWN_FIELD"), ("owner", "NOT_A_RECORD_ID"), ("listings", "NOT_A_LIST")],
    ),
]


@pytest.mark.parametrize(("rt", "record", "errors"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_record_ops_refused(rt: RecordType, record: dict[str, Any], errors: list[tuple[str, str]]) -> None:
    with pytest.raises(ValidationFailed) as info:
        record_ops(rt, record)
    assert [(e.field, e.code) for e in info.value.errors] == errors


@pytest.mark.parametrize(
    "append", [{"Foreign_Languages": "yes"}, ["Foreign_Languages"], "Foreign_Languages", {"Regions": 1}]
)
def test_append_values_must_map_names_to_booleans(append: Any) -> None:
    with pytest.raises(ValidationFailed) as info:
        record_ops(DEALS, {"Foreign_Languages": ["Korean"], "$append_values": append})
    assert [(e.field, e.code) for e in info.value.errors] == [("$append_values", "INVALID_VALUE")]


# -- the envelope: data, skip_feature_execution, Layout --------------------------------------------
def test_data_is_the_records() -> None:
    records = [{"id": "1"}, {"id": "2"}]
    assert data_of({"data": records}, 100) == records


DATA_REFUSED: list[tuple[str, Any, type[Exception], dict[str, Any]]] = [
    ("no object", [{"id": "1"}], BadRequest, {"api_name": "data"}),
    ("no data", {"records": []}, MandatoryMissing, {"api_name": "data"}),
    ("data null", {"data": None}, MandatoryMissing, {"api_name": "data"}),
    ("data empty", {"data": []}, BadRequest, {"api_name": "data"}),
    ("data no list", {"data": {"id": "1"}}, BadRequest, {"api_name": "data"}),
    ("over the limit", {"data": [{}, {}, {}]}, LimitExceeded, {"limit": 2}),
]


@pytest.mark.parametrize(
    ("body", "error", "extra"), [r[1:] for r in DATA_REFUSED], ids=[r[0] for r in DATA_REFUSED]
)
def test_data_refused(body: Any, error: type[Exception], extra: dict[str, Any]) -> None:
    with pytest.raises(BadRequest) as info:
        data_of(body, 2)
    assert type(info.value) is error and info.value.extra == extra


SKIPS: list[tuple[Any, frozenset[str] | None]] = [
    ({}, frozenset()),
    ({"skip_feature_execution": None}, frozenset()),
    ({"skip_feature_execution": [{"name": "cadences"}]}, frozenset({"cadences"})),
    ({"skip_feature_execution": []}, frozenset()),
    ({"skip_feature_execution": [{"name": "workflows"}]}, None),
    ({"skip_feature_execution": [{"nam": "cadences"}]}, None),
    ({"skip_feature_execution": ["cadences"]}, None),
    ({"skip_feature_execution": {"name": "cadences"}}, None),
]


@pytest.mark.parametrize(("body", "skipped"), SKIPS)
def test_skip_feature_execution(body: dict[str, Any], skipped: frozenset[str] | None) -> None:
    if skipped is not None:
        assert skip_features(body) == skipped
        return
    with pytest.raises(BadRequest) as info:
        skip_features(body)
    assert info.value.extra == {"api_name": "skip_feature_execution"}


def test_layout_by_its_id() -> None:
    for name in DEALS.layouts:
        lid = layout_id(DEALS, name)
        assert layout_of(DEALS, {"Layout": {"id": lid}}) == name
        assert layout_of(DEALS, {"Layout": lid}) == name  # the id itself
    assert layout_of(DEALS, {"Deal_Name": "x"}) is None
    assert layout_of(DEALS, {"Layout": None}) is None
    assert layout_of(DEALS, "not a record") is None
    with pytest.raises(ValidationFailed) as info:
        layout_of(DEALS, {"Layout": {"id": "12345"}})
    assert [(e.field, e.code) for e in info.value.errors] == [("layout", "UNKNOWN_LAYOUT")]


NAMES = [
    ("deal_name", "Deal_Name"),
    ("listings[0].interested_listings", "Listings"),
    ("products_subform[1].quantity", "Products_Subform"),
    ("approval_state__s", "Approval_State__s"),
    ("associateduser", "AssociatedUser"),
    ("layout", "Layout"),  # the type has no field `layout`: the record's Layout
    ("Nope", "Nope"),  # not a field: as given
]


@pytest.mark.parametrize(("path", "api"), NAMES)
def test_error_paths_as_api_names(path: str, api: str) -> None:
    assert namer(DEALS)(path) == api
