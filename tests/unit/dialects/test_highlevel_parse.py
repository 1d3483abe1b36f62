"""HighLevel record bodies -> canonical ops, as pure functions (highlevel/parse.py).

Each row is a create or update body (shaped like the seed's ``PUT /objects/{key}/records/{id}``
example) and the ``FieldOp``s and shape errors ``record_ops`` returns for the shipped
``highlevel`` pack's ``event_ticket``. HighLevel user ids are resolved by a fake of
``ids.UserIds`` (its ``to_cardfile``). No server, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from cardfile.api.dialects.highlevel.ids import decode_record_id, encode_record_id, valid_user_id
from cardfile.api.dialects.highlevel.parse import property_path, record_ops
from cardfile.engine.commands import FieldOp
from cardfile.errors import BadRequest, NotFound
from tests.unit.dialects.helpers import record_type

TICKET = record_type("highlevel", "event_ticket")


class FakeUserIds:
    """``UserIds.to_cardfile`` without a database: mapped HighLevel ids, and a cardfile id
    given as a string of digits (as the real lookup answers)."""

    MAP = {"v5cEPM428h8vShlRW1KT": 1, "17asdaashqw6wbsd7qwhe": 2, "sx6wyHhbFdRXh302Lunr": 3}

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def to_cardfile(self, hl_ids: Iterable[str]) -> dict[str, int]:
        wanted = sorted({u for u in hl_ids if valid_user_id(u)})
        self.asked.append(wanted)
        found = {u: self.MAP[u] for u in wanted if u in self.MAP}
        found.update({u: int(u) for u in wanted if u.isdigit() and u not in found and int(u) < 100})
        return found


SEED: dict[str, Any] = {
    "owner": {"add": ["v5cEPM428h8vShlRW1KT"], "remove": ["sx6wyHhbFdRXh302Lunr"]},
    "followers": {
        "add": ["v5cEPM428h8vShlRW1KT", "17asdaashqw6wbsd7qwhe"],
        "remove": ["sx6wyHhbFdRXh302Lunr"],
    },
    "properties": {
        "customer_number": 1424,
        "ticket_name": "Customer not able to login",
        "phone_number": "+917000000000",
        "money": {"currency": "default", "value": 100},
        "type_of_ticket": "option_1_internal_key",
        "section_of_app": {"add": ["option_3_internal_key"], "remove": ["option_1_internal_key"]},
        "recieved_on": "2024-07-11",
        "my_files": {
            "add": [{"url": "https://example.com/new-file.pdf"}],
            "remove": [{"url": "https://example.com/old-file.pdf"}],
        },
        "my_textbox_list.option_a": "Value 1",
        "my_textbox_list.option_b": "Value 2",
    },
}


def test_the_seeds_update_body() -> None:
    users = FakeUserIds()
    ops, errors = record_ops(TICKET, SEED, users, creating=False)
    assert errors == []
    assert ops == [
        FieldOp("owners", "add", [1]),
        FieldOp("owners", "remove", [3]),
        FieldOp("followers", "add", [1, 2]),
        FieldOp("followers", "remove", [3]),
        FieldOp("customer_number", "set", 1424),
        FieldOp("ticket_name", "set", "Customer not able to login"),
        FieldOp("phone_number", "set", "+917000000000"),
        FieldOp("money", "set", {"value": 100}),  # "default": the field's own currency
        FieldOp("type_of_ticket", "set", "option_1_internal_key"),
        FieldOp("section_of_app", "add", ["option_3_internal_key"]),
        FieldOp("section_of_app", "remove", ["option_1_internal_key"]),
        FieldOp("recieved_on", "set", "2024-07-11"),
        FieldOp("my_files", "add", [{"url": "https://example.com/new-file.pdf"}]),
        FieldOp("my_files", "remove", [{"url": "https://example.com/old-file.pdf"}]),
        FieldOp("my_textbox_list", "set", "Value 1", key="option_a"),
        FieldOp("my_textbox_list", "set", "Value 2", key="option_b"),
    ]
    # every user id of the body in one lookup
    assert users.asked == [["17asdaashqw6wbsd7qwhe", "sx6wyHhbFdRXh302Lunr", "v5cEPM428h8vShlRW1KT"]]


OK: list[tuple[str, dict[str, Any], bool, list[FieldOp]]] = [
    ("owners is the other spelling of owner", {"owners": {"add": ["17asdaashqw6wbsd7qwhe"]}}, False,
     [FieldOp("owners", "add", [2])]),
    ("a cardfile user id as a string", {"followers": {"add": ["7"]}}, False, [FieldOp("followers", "add", [7])]),
    ("removing an unknown user changes nothing", {"followers": {"remove": ["nobodyAtAll"]}}, False,
     [FieldOp("followers", "remove", [])]),
    ("null clears owners", {"owner": None}, False, [FieldOp("owners", "clear")]),
    ("on create a list of users adds them", {"owners": ["v5cEPM428h8vShlRW1KT"]}, True,
     [FieldOp("owners", "add", [1])]),
    ("on create a multi-value list replaces", {"properties": {"checklist": ["reproduced"]}}, True,
     [FieldOp("checklist", "replace", ["reproduced"])]),
    ("a multi-value null clears", {"properties": {"checklist": None}}, False, [FieldOp("checklist", "clear")]),
    ("a property null clears", {"properties": {"description": None}}, False, [FieldOp("description", "clear")]),
    ("a textbox list entry null clears it", {"properties": {"my_textbox_list.option_c": None}}, False,
     [FieldOp("my_textbox_list", "clear", None, key="option_c")]),
    ("money in another currency is kept", {"properties": {"money": {"currency": "EUR", "value": 5}}}, False,
     [FieldOp("money", "set", {"currency": "EUR", "value": 5})]),
    ("a decimal number", {"properties": {"customer_number": 14.5}}, False, [FieldOp("customer_number", "set", 14.5)]),
    ("an unknown property goes to the engine, which reports it", {"properties": {"colour": "red"}}, False,
     [FieldOp("colour", "set", "red")]),
    ("locationId is accepted and ignored", {"locationId": "loc1", "properties": {}}, False, []),
    ("radio and a date", {"properties": {"priority": "high", "recieved_on": "2024-07-11"}}, False,
     [FieldOp("priority", "set", "high"), FieldOp("recieved_on", "set", "2024-07-11")]),
]  # fmt: skip


@pytest.mark.parametrize(("body", "creating", "ops"), [r[1:] for r in OK], ids=[r[0] for r in OK])
def test_record_ops(body: dict[str, Any], creating: bool, ops: list[FieldOp]) -> None:
    assert record_ops(TICKET, body, FakeUserIds(), creating=creating) == (ops, [])


REFUSED: list[tuple[str, dict[str, Any], bool, list[tuple[str, str]]]] = [
    ("an unknown top-level key", {"ticket_name": "x"}, False, [("ticket_name", "UNKNOWN_KEY")]),
    ("owners and owner both", {"owners": {"add": []}, "owner": {"add": []}}, False, [("owner", "DUPLICATE_KEY")]),
    ("owners as a list on update", {"owners": ["v5cEPM428h8vShlRW1KT"]}, False, [("owners", "ADD_REMOVE_REQUIRED")]),
    ("owners as an empty object", {"owners": {}}, False, [("owners", "ADD_REMOVE_REQUIRED")]),
    ("owners with another key", {"owners": {"set": []}}, False, [("owners", "ADD_REMOVE_REQUIRED")]),
    ("add that is no list", {"followers": {"add": "v5cEPM428h8vShlRW1KT"}}, False, [("followers.add", "NOT_A_LIST")]),
    ("a user id that is malformed", {"followers": {"add": ["not valid!"]}}, False,
     [("followers.add[0]", "INVALID_USER_ID")]),
    ("a user id that is no string", {"followers": {"add": [7]}}, False, [("followers.add[0]", "INVALID_USER_ID")]),
    ("adding a user who is not there", {"owner": {"add": ["unknownUser1"]}}, False,
     [("owner.add[0]", "USER_NOT_FOUND")]),
    ("properties that are no object", {"properties": ["x"]}, False, [("properties", "NOT_AN_OBJECT")]),
    ("owners inside properties", {"properties": {"owners": {"add": []}}}, False,
     [("properties.owners", "NOT_A_PROPERTY")]),
    ("a multi-value as a plain value", {"properties": {"section_of_app": "option_1_internal_key"}}, False,
     [("properties.section_of_app", "ADD_REMOVE_REQUIRED")]),
    ("a multi-value as a list on update", {"properties": {"checklist": ["reproduced"]}}, False,
     [("properties.checklist", "ADD_REMOVE_REQUIRED")]),
    ("a number as a string", {"properties": {"customer_number": "1424"}}, False,
     [("properties.customer_number", "NOT_A_NUMBER")]),
    ("a number as a boolean", {"properties": {"customer_number": True}}, False,
     [("properties.customer_number", "NOT_A_NUMBER")]),
    ("money as a number", {"properties": {"money": 100}}, False, [("properties.money", "INVALID_MONEY")]),
    ("every problem at once, with the good ops", {"x": 1, "properties": {"money": 1, "ticket_name": "ok"}}, False,
     [("x", "UNKNOWN_KEY"), ("properties.money", "INVALID_MONEY")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "creating", "errors"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_record_ops_shape_errors(body: dict[str, Any], creating: bool, errors: list[tuple[str, str]]) -> None:
    _ops, found = record_ops(TICKET, body, FakeUserIds(), creating=creating)
    assert [(e.field, e.code) for e in found] == errors


def test_the_good_ops_come_with_the_errors() -> None:
    ops, errors = record_ops(
        TICKET, {"x": 1, "properties": {"ticket_name": "ok"}}, FakeUserIds(), creating=False
    )
    assert ops == [FieldOp("ticket_name", "set", "ok")] and len(errors) == 1


@pytest.mark.parametrize("body", [[], "x", None])
def test_a_body_is_an_object(body: Any) -> None:
    with pytest.raises(BadRequest):
        record_ops(TICKET, body, FakeUserIds(), creating=True)


@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("ticket_name", "properties.ticket_name"),
        ("my_textbox_list.option_a", "properties.my_textbox_list.option_a"),
        ("owners", "owners"),
        ("followers[0]", "followers[0]"),
    ],
)
def test_engine_field_paths(field: str, path: str) -> None:
    assert property_path(field) == path


def test_record_ids() -> None:
    assert encode_record_id(42) == "00000000000000000000002a"
    assert decode_record_id("00000000000000000000002A") == 42
    for bad in ("2a", "zz0000000000000000000000", ""):
        with pytest.raises(BadRequest) as info:
            decode_record_id(bad)
        assert info.value.extra == {"property": "recordId"}
    with pytest.raises(NotFound):
        decode_record_id("0" * 24)  # no record 0
