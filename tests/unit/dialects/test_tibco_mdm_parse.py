"""TIBCO MDM record requests -> canonical ops and relationship changes, as pure functions
(tibco_mdm/parse.py).

Each row is a request body (shaped like the seed's "Modify a Record" model and example) and
the ``FieldOp``s of its attributes, or the ``Problem``s (per attribute) it collects; the
repositories are the shipped ``mdm`` pack's types (``Company``, ``Customer``). No server,
no database.
"""

from __future__ import annotations

from typing import Any

import pytest

from cardfile.api.dialects.tibco_mdm.parse import (
    Problem,
    RecordRef,
    coerce,
    column_ops,
    parse_attributes,
    parse_request,
)
from cardfile.api.dialects.tibco_mdm.repository import Repository, find_repository, mdm_name, normalize
from cardfile.engine.commands import MISSING, FieldOp
from cardfile.errors import BadRequest
from cardfile.schema.model import FieldDef
from tests.unit.dialects.helpers import schema

SCHEMA = schema("mdm")


def _repo(name: str) -> Repository:
    repo = find_repository(SCHEMA, name)
    assert repo is not None
    return repo


COMPANY = _repo("Company")
CUSTOMER = _repo("Customer")


def _parse(body: Any, *, perspective: str | None = None, work_item_id: str | None = None) -> Any:
    return parse_request(
        COMPANY,
        body,
        path_repository="Company",
        perspective=perspective,
        work_item_id=work_item_id,
        schema_repo=lambda n: find_repository(SCHEMA, n),
    )


SEED: dict[str, Any] = {
    "record": {
        "repositoryName": "Company",
        "productIdExt": "record1",
        "productId": "record1",
        "attributes": [
            {"name": "Name", "value": "TIBCO"},
            {"name": "Address", "value": "UK"},
            {"name": "Street", "multivalues": ["11th St", "Rockford"], "multivalue": True},
            {"name": "Website", "value": "https://in.yahoo.com/"},
            {"name": "Rating", "value": "10.10"},
            {"name": "CompanySource", "value": "IT SOURCE"},
            {"name": "CompanyRating", "value": "9"},
        ],
    }
}


def test_the_seeds_example() -> None:
    req = _parse(SEED)
    assert req.ref == RecordRef("Company", "record1", "record1", None)
    assert [c.op for c in req.changes] == [
        FieldOp("name", "set", "TIBCO"),
        FieldOp("address", "set", "UK"),
        FieldOp("street", "replace", ["11th St", "Rockford"]),
        FieldOp("website", "set", "https://in.yahoo.com/"),
        FieldOp("rating", "set", "10.10"),  # a decimal keeps its string: the field type parses it exactly
        FieldOp("company_source", "set", "IT SOURCE"),
        FieldOp("company_rating", "set", 9),
    ]
    assert [c.values for c in req.changes][2] == ("11th St", "Rockford")
    assert req.problems == [] and req.relationships == []
    assert (req.process, req.validate_flag, req.dry_run, req.state, req.deleted) == (
        True,
        None,
        False,
        MISSING,
        None,
    )


ATTRIBUTES: list[tuple[str, dict[str, Any], FieldOp]] = [
    ("names match without case or underscores", {"name": "COMPANY_RATING", "value": "3"},
     FieldOp("company_rating", "set", 3)),
    ("'' clears", {"name": "Address", "value": ""}, FieldOp("address", "clear")),
    ("null clears", {"name": "Address", "value": None}, FieldOp("address", "clear")),
    ("no value clears", {"name": "Address"}, FieldOp("address", "clear")),
    ("a value for a multi-value field is its one item", {"name": "Street", "value": "Main St"},
     FieldOp("street", "replace", ["Main St"])),
    ("an empty multi-value clears", {"name": "Street", "value": ""}, FieldOp("street", "clear")),
    ("multivalues without multivalue: true, when no value is given", {"name": "Street", "multivalues": ["a", "b"]},
     FieldOp("street", "replace", ["a", "b"])),
    ("multivalues items as {value}", {"name": "Street", "multivalues": [{"value": "a"}, "b"], "multivalue": True},
     FieldOp("street", "replace", ["a", "b"])),
    ("an empty multivalues clears", {"name": "Street", "multivalues": [], "multivalue": True}, FieldOp("street", "clear")),
    ("multivalues of one for a single-value field", {"name": "Name", "multivalues": ["X"], "multivalue": True},
     FieldOp("name", "set", "X")),
    ("multivalues ignored when value is given and multivalue is false",
     {"name": "Name", "value": "Y", "multivalues": ["X", "Z"], "multivalue": False}, FieldOp("name", "set", "Y")),
    ("a number for a text attribute: its string", {"name": "Address", "value": 12}, FieldOp("address", "set", "12")),
    ("the seed's other members are ignored", {"name": "Name", "value": "T", "displayName": "Name", "id": 0,
     "groupName": "g"}, FieldOp("name", "set", "T")),
    ("the identity can be renamed", {"name": "PRODUCTID", "value": "record2"}, FieldOp("product_id", "set", "record2")),
]  # fmt: skip


@pytest.mark.parametrize(("entry", "op"), [r[1:] for r in ATTRIBUTES], ids=[r[0] for r in ATTRIBUTES])
def test_an_attribute(entry: dict[str, Any], op: FieldOp) -> None:
    req = _parse({"record": {"productId": "record1", "attributes": [entry]}})
    assert req.problems == []
    assert [c.op for c in req.changes] == [op]
    assert req.changes[0].given == entry["name"]


PROBLEMS: list[tuple[str, list[Any], list[tuple[str, str, str]]]] = [
    ("an unknown attribute", [{"name": "Colour", "value": "red"}], [("UNKNOWN_ATTRIBUTE", "Colour", "Colour")]),
    ("no name", [{"value": "x"}], [("INVALID_ATTRIBUTE", "attributes[0]", "[0]")]),
    ("no object", ["Name"], [("INVALID_ATTRIBUTE", "attributes[0]", "[0]")]),
    ("an attribute twice", [{"name": "Name", "value": "a"}, {"name": "NAME", "value": "b"}],
     [("DUPLICATE_ATTRIBUTE", "NAME", "Name")]),
    ("multivalues that is no list", [{"name": "Street", "multivalues": "a", "multivalue": True}],
     [("NOT_A_LIST", "Street", "Street")]),
    ("an item object without a value", [{"name": "Street", "multivalues": [{}], "multivalue": True}],
     [("INVALID_VALUE", "Street", "Street")]),
    ("several values for a single-value field", [{"name": "Name", "multivalues": ["a", "b"], "multivalue": True}],
     [("NOT_MULTIVALUE", "Name", "Name")]),
    ("every problem, and the good changes kept", [{"name": "Colour"}, {"name": "Name", "value": "ok"}, {"x": 1}],
     [("UNKNOWN_ATTRIBUTE", "Colour", "Colour"), ("INVALID_ATTRIBUTE", "attributes[2]", "[2]")]),
]  # fmt: skip


@pytest.mark.parametrize(("attrs", "problems"), [r[1:] for r in PROBLEMS], ids=[r[0] for r in PROBLEMS])
def test_attribute_problems(attrs: list[Any], problems: list[tuple[str, str, str]]) -> None:
    req = _parse({"record": {"productId": "record1", "attributes": attrs}})
    assert [(p.code, p.attribute, p.display) for p in req.problems] == problems


def test_a_problem_shows_the_values_sent() -> None:
    req = _parse({"record": {"attributes": [{"name": "Colour", "multivalues": ["red", {"value": 2}]}]}})
    assert req.problems == [Problem("UNKNOWN_ATTRIBUTE", "there is no attribute 'Colour'", "Colour", "Colour",
                                    ("red", "2"))]  # fmt: skip


def test_record_members() -> None:
    req = _parse({"process": "false", "validate": True, "workItemId": 7, "perspectiveName": "",
                  "record": {"productId": 1, "state": "CONFIRMED", "deleted": False}})  # fmt: skip
    assert (req.process, req.validate_flag, req.dry_run) == (False, True, True)
    assert (req.work_item_id, req.perspective, req.state, req.deleted) == ("7", None, "CONFIRMED", False)
    assert req.extra_ops(COMPANY) == [FieldOp("state", "set", "CONFIRMED"), FieldOp("deleted", "set", False)]
    assert _parse({"record": {"state": None}}).extra_ops(COMPANY) == [FieldOp("state", "clear")]


def test_record_member_problems() -> None:
    req = _parse({"record": {"state": 3, "deleted": "yes", "attributes": {"name": "x"}}})
    assert [(p.code, p.attribute) for p in req.problems] == [
        ("NOT_A_STRING", "State"), ("NOT_A_BOOLEAN", "Deleted"), ("NOT_A_LIST", ""),
    ]  # fmt: skip


def test_a_perspective_limits_the_attributes() -> None:
    req = _parse({"record": {"attributes": [{"name": "Rating", "value": "1"}, {"name": "Name", "value": "x"}]}},
                 perspective="rating")  # fmt: skip
    assert req.perspective == "rating"
    assert [c.op for c in req.changes] == [FieldOp("rating", "set", "1")]
    assert [(p.code, p.attribute) for p in req.problems] == [("NOT_IN_PERSPECTIVE", "Name")]


REQUEST_REFUSED: list[tuple[str, Any, dict[str, Any], str]] = [
    ("no object", [], {}, ""),
    ("no record", {"process": True}, {}, "record"),
    ("another repository", {"record": {"repositoryName": "Customer"}}, {}, "record.repositoryName"),
    ("an unknown repository", {"record": {"repositoryName": "Nope"}}, {}, "record.repositoryName"),
    ("a flag that is no boolean", {"process": "maybe", "record": {}}, {}, "process"),
    ("the query and the body disagree", {"workItemId": "a", "record": {}}, {"work_item_id": "b"}, "workItemId"),
    ("a parameter that is no string", {"perspectiveName": ["a"], "record": {}}, {}, "perspectiveName"),
    ("a parameter too long", {"workItemId": "x" * 256, "record": {}}, {}, "workItemId"),
    ("an unknown perspective", {"record": {}}, {"perspective": "Billing"}, "perspectiveName"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "params", "field"), [r[1:] for r in REQUEST_REFUSED], ids=[r[0] for r in REQUEST_REFUSED]
)
def test_request_refused(body: Any, params: dict[str, Any], field: str) -> None:
    with pytest.raises(BadRequest) as info:
        _parse(body, **params)
    assert info.value.extra.get("field", "") == field


def test_the_query_and_the_body_may_agree() -> None:
    assert _parse({"workItemId": "w1", "record": {}}, work_item_id="w1").work_item_id == "w1"


# -- relationships: three spellings -------------------------------------------------------------
TARGET = {"repositoryName": "Customer", "productId": "c1", "productIdExt": "x"}
ATTRS = [{"name": "R_CUSTOMER_TYPE", "value": "Gold"}, {"name": "rCompanyType", "value": ""}]
SPELLINGS = [
    ("by name", {"CompanyCustomer": [{"relationshipAttributes": ATTRS, "targetRecord": TARGET}]}),
    ("by name, one entry", {"company_customer": {"relationshipAttributes": ATTRS, "targetRecord": TARGET}}),
    ("a list with relationshipName",
     [{"relationshipName": "CompanyCustomer", "relationshipAttributes": ATTRS, "targetRecord": TARGET}]),
    ("the model's single spelling", {"relationshipAttributes": ATTRS, "targetRecord": TARGET}),
]  # fmt: skip


@pytest.mark.parametrize("rels", [r[1] for r in SPELLINGS], ids=[r[0] for r in SPELLINGS])
def test_a_relationship(rels: Any) -> None:
    (rc,) = _parse({"record": {"productId": "record1", "relationships": rels}}).relationships
    assert rc.rel is not None and rc.rel.field == "company_customer" and rc.rel.target_type == "customer"
    assert rc.target == RecordRef("Customer", "c1", "x", None)
    assert rc.problems == [] and rc.deleted is False
    assert column_ops(rc.columns) == {"r_customer_type": "Gold", "r_company_type": None}


def test_a_relationship_marked_deleted() -> None:
    rels = {
        "CompanyCustomer": [
            {"targetRecord": {**TARGET, "deleted": True}},
            {"deleted": True, "targetRecord": TARGET},
        ]
    }
    assert [rc.deleted for rc in _parse({"record": {"relationships": rels}}).relationships] == [True, True]


@pytest.mark.parametrize("rels", [None, {}, []])
def test_no_relationships(rels: Any) -> None:
    assert _parse({"record": {"relationships": rels}}).relationships == []


REL_PROBLEMS: list[Any] = [
    ("an unknown relationship", {"Owners": [{"targetRecord": TARGET}]}, None, ["UNKNOWN_RELATIONSHIP"]),
    ("an entry that is no object", {"CompanyCustomer": ["c1"]}, None, ["INVALID_RELATIONSHIP"]),
    ("no target record", {"CompanyCustomer": [{"relationshipAttributes": ATTRS}]}, None, ["INVALID_RELATIONSHIP"]),
    ("attributes that are no list",
     {"CompanyCustomer": [{"relationshipAttributes": {}, "targetRecord": TARGET}]}, None, ["NOT_A_LIST"]),
    ("an unknown relationship attribute",
     {"CompanyCustomer": [{"relationshipAttributes": [{"name": "Colour"}], "targetRecord": TARGET}]}, None,
     ["UNKNOWN_ATTRIBUTE"]),
    ("outside the perspective", {"CompanyCustomer": [{"targetRecord": TARGET}]}, "Contact", ["NOT_IN_PERSPECTIVE"]),
]  # fmt: skip


def _case(r: Any) -> Any:
    """A table row as a parameter set named by its first item (a ``pytest.param`` keeps its marks)."""
    if hasattr(r, "marks"):
        return pytest.param(*r.values[1:], id=r.values[0], marks=r.marks)
    return pytest.param(*r[1:], id=r[0])


@pytest.mark.parametrize(("rels", "perspective", "codes"), [_case(r) for r in REL_PROBLEMS])
def test_relationship_problems(rels: Any, perspective: str | None, codes: list[str]) -> None:
    (rc,) = _parse({"record": {"relationships": rels}}, perspective=perspective).relationships
    assert [p.code for p in rc.problems] == codes


def test_relationships_that_are_neither_object_nor_list() -> None:
    req = _parse({"record": {"relationships": "CompanyCustomer"}})
    assert req.relationships == [] and [p.code for p in req.problems] == ["INVALID_RELATIONSHIPS"]


# -- values and names ---------------------------------------------------------------------------
def _fd(type_: str) -> FieldDef:
    return FieldDef.from_json({"name": "f", "type": type_})


@pytest.mark.parametrize(
    ("type_", "raw", "value"),
    [
        ("integer", " 9 ", 9),
        ("integer", "+3", 3),
        ("integer", "9.5", "9.5"),  # the field type refuses it
        ("decimal", "10.10", "10.10"),
        ("decimal", 10.1, 10.1),
        ("boolean", "Yes", True),
        ("boolean", "n", False),
        ("boolean", "perhaps", "perhaps"),
        ("lookup", "42", 42),
        ("text", 12, "12"),
        ("text", 1.5, "1.5"),
        ("text", True, True),
    ],
)
def test_coerce(type_: str, raw: Any, value: Any) -> None:
    assert coerce(_fd(type_), raw) == value


def test_names() -> None:
    assert mdm_name("company_rating") == "CompanyRating" and normalize("Company_Rating ") == "companyrating"
    assert COMPANY.name == "Company" and COMPANY.attribute("companyrating") is not None
    assert COMPANY.attribute("state") is None  # a record member, not an attribute
    assert [f.name for f in COMPANY.data_attributes()] == [
        "name", "address", "street", "website", "rating", "company_source", "company_rating",
    ]  # fmt: skip


def test_parse_attributes_with_another_lookup() -> None:
    cols = {c.name: c for c in CUSTOMER.rt}
    changes, problems = parse_attributes(
        [{"name": "cust_rating", "value": "4"}], cols.get, lambda f: f.name, None
    )
    assert [c.op for c in changes] == [FieldOp("cust_rating", "set", 4)] and problems == []
