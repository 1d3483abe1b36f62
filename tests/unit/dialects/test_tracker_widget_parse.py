"""Tracker widget requests -> canonical ops, as pure functions (tracker_widget/parse.py,
columns.py, values.py, translate.py).

The envelope (``{"trackerrms": {"updateRecord": {...}}}``, the seed's sample) is read into
plain data, or refused as outcome 99 (``BadRequest``); its ``updates``, ``customfields`` and
``skills`` become ``FieldOp``s on a record type of the shipped ``tracker`` pack, with the
settings entries and skills a request names read from a fake of ``translate.Lookups``.
No server, no database.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from cardfile.api.dialects.tracker_widget.columns import Column, columns_of, setting_list
from cardfile.api.dialects.tracker_widget.parse import (
    Credentials,
    Entry,
    UpdateRecordRequest,
    parse_body,
    parse_settings,
    parse_update_record,
)
from cardfile.api.dialects.tracker_widget.translate import record_type_of, translate_with
from cardfile.api.dialects.tracker_widget.values import id_value, option_key, value_op
from cardfile.engine.commands import FieldOp
from cardfile.errors import BadRequest, MalformedBody
from cardfile.fieldtypes.base import InvalidValue
from cardfile.schema.model import FieldDef, RecordType
from tests.unit.dialects.helpers import fd, record_type

SEED: dict[str, Any] = {
    "trackerrms": {
        "updateRecord": {
            "credentials": {
                "username": "my.name@domain.com",
                "password": "Welcome123",
                "oauthtoken": "1bc7ca1e-8b9a-11e9-bc42-526af7764f64",
            },
            "instructions": {"recordtype": "R", "recordid": 1234},
            "updates": [
                {"column": "firstname", "value": "John"},
                {"column": "jobtitle", "value": "Marketing Manager"},
            ],
            "customfields": [{"id": 123, "value": "Value 1"}, {"id": 456, "value": "Value 2"}],
            "skills": [{"id": 789, "value": "Yes"}, {"id": 246, "value": "Expert"}],
        }
    }
}


def _call(**members: Any) -> dict[str, Any]:
    """The seed's updateRecord with some members replaced (None: left out)."""
    call = {**SEED["trackerrms"]["updateRecord"], **members}
    return {"trackerrms": {"updateRecord": {k: v for k, v in call.items() if v is not None}}}


# -- the envelope --------------------------------------------------------------------------------
def test_the_seeds_sample() -> None:
    req = parse_update_record(SEED)
    assert req == UpdateRecordRequest(
        credentials=Credentials("my.name@domain.com", "Welcome123", "1bc7ca1e-8b9a-11e9-bc42-526af7764f64"),
        recordtype="R",
        recordid=1234,
        updates=(
            Entry("firstname", "John", "updates[0]"),
            Entry("jobtitle", "Marketing Manager", "updates[1]"),
        ),
        customfields=(Entry(123, "Value 1", "customfields[0]"), Entry(456, "Value 2", "customfields[1]")),
        skills=(Entry(789, "Yes", "skills[0]"), Entry(246, "Expert", "skills[1]")),
    )


def test_member_names_without_regard_to_case() -> None:
    body = {"TrackerRMS": {"UpdateRecord": {"Credentials": {"UserName": " me@x.test ", "PassWord": " pw "},
            "Instructions": {"RecordType": " n ", "RecordID": "42"},
            "Updates": [{"Column": " Surname ", "Value": None}], "unknown": 1}}}  # fmt: skip
    req = parse_update_record(body)
    assert req.credentials == Credentials("me@x.test", " pw ", None)  # a password is taken as sent
    assert (req.recordtype, req.recordid) == ("N", 42)
    assert req.updates == (Entry("Surname", None, "updates[0]"),)
    assert req.customfields == () and req.skills == ()


def test_empty_credentials_count_as_absent() -> None:
    creds = parse_update_record(
        _call(credentials={"username": "", "password": "", "oauthtoken": "  "})
    ).credentials
    assert creds == Credentials(None, None, None) and creds.empty
    assert not Credentials(oauthtoken="t").empty and not Credentials("u", "p").empty
    assert Credentials("u", None).empty


def test_lists_may_be_null_or_absent() -> None:
    req = parse_update_record(_call(updates=None, customfields=None, skills=None))
    assert (req.updates, req.customfields, req.skills) == ((), (), ())


def test_values_keep_their_json_type() -> None:
    updates = [{"column": "a", "value": 5}, {"column": "b", "value": True}, {"column": "c", "value": 1.5}]
    assert [e.value for e in parse_update_record(_call(updates=updates)).updates] == [5, True, 1.5]


REFUSED: list[tuple[str, Any, str]] = [
    ("no object", [], "the body must be a JSON object"),
    ("no trackerrms", {"updateRecord": {}}, "'trackerrms' must be a JSON object"),
    ("no method", {"trackerrms": {"getSettings": {}}}, "'updateRecord' must be a JSON object"),
    ("no credentials", _call(credentials=None), "'credentials' must be a JSON object"),
    ("a username that is no string", _call(credentials={"username": 5}), "credentials.username must be a string"),
    ("a password that is no string", _call(credentials={"password": 5}), "credentials.password must be a string"),
    ("no instructions", _call(instructions=None), "'instructions' must be a JSON object"),
    ("an unknown record type", _call(instructions={"recordtype": "Z", "recordid": 1}),
     "instructions.recordtype must be one of C, N, L, O, P, T, R, X"),
    ("no record id", _call(instructions={"recordtype": "R"}), "instructions.recordid is required"),
    ("a record id that is a boolean", _call(instructions={"recordtype": "R", "recordid": True}),
     "instructions.recordid must be an integer, not a boolean"),
    ("a record id that is no integer", _call(instructions={"recordtype": "R", "recordid": "12a"}),
     "instructions.recordid must be an integer, got '12a'"),
    ("a record id out of range", _call(instructions={"recordtype": "R", "recordid": 2**63}),
     "instructions.recordid is out of range"),
    ("updates that are no list", _call(updates={"column": "a"}), "'updates' must be a list of {column, value} objects"),
    ("an update that is no object", _call(updates=["a"]), "updates[0] must be a JSON object"),
    ("an update without a column", _call(updates=[{"value": "a"}]), "updates[0].column must name a column"),
    ("an update with a blank column", _call(updates=[{"column": " ", "value": "a"}]),
     "updates[0].column must name a column"),
    ("an update without a value", _call(updates=[{"column": "a"}]), "updates[0].value is required (null clears)"),
    ("a value that is an object", _call(updates=[{"column": "a", "value": {"x": 1}}]),
     "updates[0].value must be a string, a number, a boolean or null"),
    ("a value that is a list", _call(updates=[{"column": "a", "value": [1]}]),
     "updates[0].value must be a string, a number, a boolean or null"),
    ("a custom field without an id", _call(customfields=[{"value": "a"}]), "customfields[0].id is required"),
    ("a custom field id that is no integer", _call(customfields=[{"id": "x", "value": "a"}]),
     "customfields[0].id must be an integer, got 'x'"),
    ("a skill id that is a boolean", _call(skills=[{"id": False, "value": "Yes"}]),
     "skills[0].id must be an integer, not a boolean"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "detail"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_shape_problems_are_outcome_99(body: Any, detail: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_update_record(body)
    assert type(info.value) is BadRequest and info.value.detail == detail


def test_ids_as_strings_of_digits() -> None:
    req = parse_update_record(
        _call(instructions={"recordtype": "c", "recordid": " 7 "}, customfields=[{"id": "12", "value": "x"}])
    )
    assert (req.recordtype, req.recordid, req.customfields[0].key) == ("C", 7, 12)


def test_get_settings() -> None:
    req = parse_settings({"trackerrms": {"getSettings": {"credentials": {"oauthtoken": "t"}}}})
    assert req.credentials == Credentials(None, None, "t")
    with pytest.raises(BadRequest):
        parse_settings({"trackerrms": {"getSettings": {}}})


@pytest.mark.parametrize(
    ("raw", "detail"), [(b"", "the request needs a JSON body"), (b"  \n", "the request needs a JSON body")]
)
def test_an_empty_body(raw: bytes, detail: str) -> None:
    with pytest.raises(MalformedBody) as info:
        parse_body(raw)
    assert info.value.detail == detail


def test_a_body_that_is_no_json() -> None:
    assert parse_body(b'{"a": 1}') == {"a": 1}
    with pytest.raises(MalformedBody) as info:
        parse_body(b"{nope")
    assert info.value.detail.startswith("the body is not valid JSON: ")


# -- columns -------------------------------------------------------------------------------------
RESOURCE = record_type("tracker", "resource")
CLIENT = record_type("tracker", "client")
CONTACT = record_type("tracker", "contact")
PLACEMENT = record_type("tracker", "opportunity_resource")

COLUMNS: list[tuple[RecordType, str, Column | None]] = [
    (RESOURCE, "firstname", Column("first_name")),
    (RESOURCE, "jobtitle", Column("job_title")),
    (RESOURCE, "status", Column("status", names=True, setting_list="resource_status")),
    (RESOURCE, "statusid", Column("status", id_column=True, setting_list="resource_status")),
    (RESOURCE, "resourcestatusid", Column("status", id_column=True, setting_list="resource_status")),
    (RESOURCE, "worktypes", Column("work_types", names=True, multi=True, setting_list="work_type")),
    (RESOURCE, "worktypeid", Column("work_types", id_column=True, multi=True, setting_list="work_type")),
    (RESOURCE, "createdby", Column("created_by_name")),  # Tracker's own spelling
    (CLIENT, "clienttype", Column("client_types", names=True, multi=True, setting_list="client_type")),
    (CLIENT, "clienttypes", Column("client_types", names=True, multi=True, setting_list="client_type")),
    (CLIENT, "parentclientid", Column("parent_client", id_column=True)),
    (CONTACT, "contacttypeid", Column("contact_type", id_column=True, multi=True, setting_list="contact_type")),
    (CONTACT, "lastactivityid", Column("last_activity_id", id_column=True)),
    (PLACEMENT, "opportunityresourcestatusid",
     Column("status", id_column=True, setting_list="opportunity_resource_status")),
    (PLACEMENT, "assignedbyuserid", Column("assigned_by", id_column=True)),
    # not columns: owner (kept with owners), sub-records, the quick-skill set
    (RESOURCE, "owner", None),
    (RESOURCE, "owners", None),
    (RESOURCE, "skills", None),
    (RESOURCE, "quickskills", None),
]  # fmt: skip


@pytest.mark.parametrize(("rt", "name", "column"), COLUMNS, ids=[f"{r[0].name}.{r[1]}" for r in COLUMNS])
def test_columns(rt: RecordType, name: str, column: Column | None) -> None:
    assert columns_of(rt).get(name) == column


def test_a_settings_list_by_field() -> None:
    assert setting_list("resource", fd(RESOURCE, "status")) == "resource_status"
    assert setting_list("client", fd(CLIENT, "sectors")) == "sector"
    assert setting_list("client", fd(CLIENT, "parent_client")) is None  # a record, not a setting
    assert [record_type_of(x) for x in "CNR"] == ["client", "contact", "resource"]


# -- values --------------------------------------------------------------------------------------
def _fd(type_: str, **attrs: Any) -> FieldDef:
    return FieldDef.from_json({"name": "f", "type": type_, **attrs})


VALUES: list[tuple[str, FieldDef, Any, dict[str, bool], FieldOp]] = [
    ("null clears", _fd("text"), None, {}, FieldOp("f", "clear")),
    ("'' clears", _fd("text"), "", {}, FieldOp("f", "clear")),
    ("blank clears", _fd("integer"), "  ", {}, FieldOp("f", "clear")),
    ("a text", _fd("text"), "John", {}, FieldOp("f", "set", "John")),
    ("a number as text", _fd("text"), 12, {}, FieldOp("f", "set", "12")),
    ("a boolean as text", _fd("text"), True, {}, FieldOp("f", "set", "true")),
    ("an integer from a string", _fd("integer"), " 5 ", {}, FieldOp("f", "set", 5)),
    ("a signed integer", _fd("integer"), "-5", {}, FieldOp("f", "set", -5)),
    ("not an integer: for the type", _fd("integer"), "5.5", {}, FieldOp("f", "set", "5.5")),
    ("Yes", _fd("boolean"), "Yes", {}, FieldOp("f", "set", True)),
    ("off", _fd("boolean"), "off", {}, FieldOp("f", "set", False)),
    ("1", _fd("boolean"), 1, {}, FieldOp("f", "set", True)),
    ("not a boolean: for the type", _fd("boolean"), "maybe", {}, FieldOp("f", "set", "maybe")),
    ("a decimal as sent", _fd("decimal"), "1.50", {}, FieldOp("f", "set", "1.50")),
    ("a date as sent", _fd("date"), "2024-05-01", {}, FieldOp("f", "set", "2024-05-01")),
    ("an option by key", _fd("single_select", options=["gold_client"]), "gold_client", {},
     FieldOp("f", "set", "gold_client")),
    ("an option by label", _fd("single_select", options=[{"key": "g", "label": "Gold Client"}]), "gold client", {},
     FieldOp("f", "set", "g")),
    ("an unknown option: for the type", _fd("radio", options=["a"]), "zz", {}, FieldOp("f", "set", "zz")),
    ("comma-separated values replace the set", _fd("multi_select", options=["a", "b"]), "a, B,,", {"multi": True},
     FieldOp("f", "replace", ["a", "b"])),
    ("an id column takes an integer", _fd("lookup", target="client"), 7, {"id_column": True}, FieldOp("f", "set", 7)),
    ("an id column takes a string of digits", _fd("lookup", target="client"), " 7 ", {"id_column": True},
     FieldOp("f", "set", 7)),
    ("an id column's 0 clears a link", _fd("lookup", target="client"), 0, {"id_column": True}, FieldOp("f", "clear")),
    ("an id column's 0 on an integer is 0", _fd("integer"), 0, {"id_column": True}, FieldOp("f", "set", 0)),
    ("one entry's id: the set becomes it", _fd("multi_lookup", target="setting"), "4",
     {"id_column": True, "multi": True}, FieldOp("f", "replace", [4])),
    ("a lookup that is no id column still takes an id", _fd("user"), "3", {}, FieldOp("f", "set", 3)),
]  # fmt: skip


@pytest.mark.parametrize(("field", "raw", "flags", "op"), [r[1:] for r in VALUES], ids=[r[0] for r in VALUES])
def test_value_op(field: FieldDef, raw: Any, flags: dict[str, bool], op: FieldOp) -> None:
    assert (
        value_op(field, raw, id_column=flags.get("id_column", False), multi=flags.get("multi", False)) == op
    )


@pytest.mark.parametrize(
    ("raw", "code"), [("two", "NOT_AN_INTEGER"), (True, "NOT_AN_INTEGER"), (1.5, "NOT_AN_INTEGER"), ("", "NOT_AN_INTEGER"),
                      (2**63, "TOO_LARGE"), ("-1", "NOT_AN_INTEGER")],
)  # fmt: skip
def test_an_id_column_refuses_anything_but_an_integer(raw: Any, code: str) -> None:
    with pytest.raises(InvalidValue) as info:
        id_value(raw)
    assert info.value.code == code


def test_option_key() -> None:
    field = _fd("single_select", options=[{"key": "Gold", "label": "Gold Client"}])
    assert [option_key(field, n) for n in (" Gold ", "gold client", "gold", "Silver")] == [
        "Gold",
        "Gold",
        "Gold",
        "Silver",
    ]


# -- translate: a request as ops, with the settings and skills it names --------------------------
class FakeLookups:
    """``translate.Lookups`` without a database."""

    def __init__(
        self, lists: dict[str, list[dict[str, Any]]], records: dict[tuple[str, int], dict[str, Any]]
    ):
        self.lists = lists
        self.records = records
        self.asked: list[str] = []

    def entries(self, list_name: str) -> list[dict[str, Any]]:
        self.asked.append(list_name)
        return self.lists.get(list_name, [])

    def record(self, type_name: str, record_id: int) -> dict[str, Any] | None:
        return self.records.get((type_name, record_id))


LOOK = FakeLookups(
    {
        "client_type": [{"id": 4, "name": "Prospect"}, {"id": 5, "name": "Gold Client"}],
        "resource_status": [{"id": 3, "name": "Available"}, {"id": 9, "name": "Placed"}],
        "territory": [{"id": 11, "name": "North"}],
    },
    {
        ("skill", 789): {"id": 789, "name": "Python", "skill_type": "quick"},
        ("skill", 246): {"id": 246, "name": "SQL", "skill_type": "list"},
        ("skill", 247): {"id": 247, "name": "Since", "skill_type": "date"},
    },
)


def _with_custom(rt: RecordType) -> RecordType:
    extra = {
        "cf_123": FieldDef.from_json({"name": "cf_123", "type": "text", "custom": True}),
        "cf_456": FieldDef.from_json(
            {"name": "cf_456", "type": "multi_select", "options": ["a", "b"], "custom": True}
        ),
    }
    return dataclasses.replace(rt, fields={**rt.fields, **extra})


def _request(letter: str, **lists: list[dict[str, Any]]) -> UpdateRecordRequest:
    return parse_update_record(_call(instructions={"recordtype": letter, "recordid": 1},
                                     **{k: lists.get(k, []) for k in ("updates", "customfields", "skills")}))  # fmt: skip


TRANSLATED: list[tuple[str, str, dict[str, list[dict[str, Any]]], list[FieldOp]]] = [
    ("the seed's columns", "R", {"updates": [{"column": "firstname", "value": "John"},
     {"column": "JobTitle", "value": "Marketing Manager"}]},
     [FieldOp("first_name", "set", "John"), FieldOp("job_title", "set", "Marketing Manager")]),
    ("settings entries by name, comma-separated (the seed's clienttype)", "C",
     {"updates": [{"column": "clienttype", "value": "Prospect,Gold Client"}]},
     [FieldOp("client_types", "replace", [4, 5])]),
    ("names without regard to case, each once", "C", {"updates": [{"column": "clienttypes", "value": "prospect, PROSPECT"}]},
     [FieldOp("client_types", "replace", [4])]),
    ("one entry by name", "R", {"updates": [{"column": "status", "value": "Placed"}]}, [FieldOp("status", "set", 9)]),
    ("a name column '' clears", "R", {"updates": [{"column": "territory", "value": ""}]}, [FieldOp("territory", "clear")]),
    ("an id column", "R", {"updates": [{"column": "resourcestatusid", "value": "3"}]}, [FieldOp("status", "set", 3)]),
    ("custom fields by id", "R", {"customfields": [{"id": 123, "value": "Value 1"}, {"id": 456, "value": "a,b"}]},
     [FieldOp("cf_123", "set", "Value 1"), FieldOp("cf_456", "replace", ["a", "b"])]),
    ("the seed's skills: a quick skill's Yes, a list skill's value", "R",
     {"skills": [{"id": 789, "value": "Yes"}, {"id": 246, "value": "Expert"}]},
     [FieldOp("quick_skills", "add", [789]), FieldOp("skills", "upsert", [{"skill": 246, "value": "Expert"}])]),
    ("a quick skill's No; an empty value removes a row", "R",
     {"skills": [{"id": 789, "value": "no"}, {"id": 247, "value": ""}]},
     [FieldOp("quick_skills", "remove", [789]), FieldOp("skills", "remove", [{"skill": 247}])]),
    ("skills are ignored for a type the seed gives none", "X", {"skills": [{"id": 1, "value": "Yes"}]}, []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("letter", "lists", "ops"), [r[1:] for r in TRANSLATED], ids=[r[0] for r in TRANSLATED]
)
def test_translate(letter: str, lists: dict[str, list[dict[str, Any]]], ops: list[FieldOp]) -> None:
    rt = _with_custom(record_type("tracker", record_type_of(letter)))
    out = translate_with(LOOK, rt, _request(letter, **lists))
    assert (out.ops, out.errors) == (ops, [])


TRANSLATE_REFUSED: list[tuple[str, str, dict[str, list[dict[str, Any]]], list[tuple[str, str]]]] = [
    ("an unknown column: outcome 4", "R", {"updates": [{"column": "shoesize", "value": "9"}]},
     [("shoesize", "UNKNOWN_FIELD")]),
    ("an unknown custom field: outcome 4", "R", {"customfields": [{"id": 999, "value": "x"}]},
     [("customfields[0]", "UNKNOWN_FIELD")]),
    ("an unknown skill: outcome 4", "R", {"skills": [{"id": 5, "value": "Yes"}]}, [("skills[0]", "UNKNOWN_FIELD")]),
    ("a quick skill's value that is not Yes or No", "R", {"skills": [{"id": 789, "value": "Expert"}]},
     [("skills[0]", "INVALID_SKILL_VALUE")]),
    ("an unknown settings name", "C", {"updates": [{"column": "clienttype", "value": "Prospect,Platinum"}]},
     [("clienttype", "UNKNOWN_SETTING")]),
    ("two names for one entry", "R", {"updates": [{"column": "status", "value": "Available,Placed"}]},
     [("status", "TOO_MANY_VALUES")]),
    ("a name column takes a string", "R", {"updates": [{"column": "status", "value": 3}]}, [("status", "NOT_A_STRING")]),
    ("an id column that is no integer", "R", {"updates": [{"column": "statusid", "value": "Placed"}]},
     [("statusid", "NOT_AN_INTEGER")]),
    ("every problem at once", "R", {"updates": [{"column": "nope", "value": 1}, {"column": "statusid", "value": "x"}],
     "customfields": [{"id": 1, "value": "x"}]},
     [("nope", "UNKNOWN_FIELD"), ("statusid", "NOT_AN_INTEGER"), ("customfields[0]", "UNKNOWN_FIELD")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("letter", "lists", "errors"), [r[1:] for r in TRANSLATE_REFUSED], ids=[r[0] for r in TRANSLATE_REFUSED]
)
def test_translate_refused(
    letter: str, lists: dict[str, list[dict[str, Any]]], errors: list[tuple[str, str]]
) -> None:
    rt = _with_custom(record_type("tracker", record_type_of(letter)))
    out = translate_with(LOOK, rt, _request(letter, **lists))
    assert [(e.field, e.code) for e in out.errors] == errors
