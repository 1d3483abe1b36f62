"""sub_records: child rows with typed columns, stable row ids, add / update / remove / replace."""

from __future__ import annotations

from typing import Any

import pytest

from cardfile.fieldtypes.base import InvalidValue
from cardfile.fieldtypes.sub_records import InvalidValues
from cardfile.schema.model import FieldDef, SchemaError
from tests.unit.fieldtypes.helpers import apply, apply_fails, fd, ft, parse, validate

COLUMNS = [
    {"name": "product", "type": "text", "required": True, "max_length": 20},
    {"name": "quantity", "type": "integer", "min": 1},
    {"name": "unit_price", "type": "decimal", "min": 0},
    {"name": "tags", "type": "multi_select", "options": ["a", "b", "c"]},
    {"name": "company", "type": "lookup", "target": "companies"},
    {"name": "links", "type": "keyed_text", "options": ["spec", "quote"]},
]


def field() -> FieldDef:
    return fd("sub_records", name="items", fields=COLUMNS)


def stored(*rows: dict[str, Any], next_id: int | None = None) -> dict[str, Any]:
    return {"rows": list(rows), "next_id": next_id or max([0, *(r["id"] for r in rows)]) + 1}


ONE = {"id": 1, "product": "bolt", "quantity": 2}
TWO = {"id": 2, "product": "nut", "tags": ["a"], "company": 7}
CURRENT = stored(ONE, TWO, next_id=5)  # rows 3 and 4 were deleted earlier


def run(current: Any, kind: str, value: Any = None) -> Any:
    return apply(field(), current, kind, value)


def fails(current: Any, kind: str, value: Any = None) -> list[tuple[str, str]]:
    return apply_fails(field(), current, kind, value)


# -- add ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "value", "result"),
    [
        (None, [{"product": "bolt"}], stored({"id": 1, "product": "bolt"})),
        (
            None,
            [{"product": "bolt", "quantity": 2.0}, {"product": "nut", "unit_price": "0.25"}],
            stored(
                {"id": 1, "product": "bolt", "quantity": 2}, {"id": 2, "product": "nut", "unit_price": 0.25}
            ),
        ),
        (CURRENT, [{"product": "washer"}], stored(ONE, TWO, {"id": 5, "product": "washer"})),
        (CURRENT, [], CURRENT),
        (None, [{"product": "x", "quantity": None}], stored({"id": 1, "product": "x"})),
        (None, [{"product": "x", "id": None}], stored({"id": 1, "product": "x"})),
        (
            None,
            [{"product": "x", "tags": ["b", "a", "b"]}],
            stored({"id": 1, "product": "x", "tags": ["b", "a"]}),
        ),
        (None, [{"product": "x", "tags": {"add": ["c"]}}], stored({"id": 1, "product": "x", "tags": ["c"]})),
        (
            None,
            [{"product": "x", "links": {"spec": "s"}}],
            stored({"id": 1, "product": "x", "links": {"spec": "s"}}),
        ),
        (
            None,
            [{"product": "x", "links.quote": "q"}],
            stored({"id": 1, "product": "x", "links": {"quote": "q"}}),
        ),
        (stored(next_id=9), [{"product": "x"}], stored({"id": 9, "product": "x"})),
    ],
)
def test_add(current: Any, value: Any, result: Any) -> None:
    assert run(current, "add", value) == result


@pytest.mark.parametrize(
    ("value", "result"),
    [
        ({"product": "x"}, [("items", "NOT_A_LIST")]),
        (["x"], [("items[0]", "INVALID_ROW")]),
        ([{"id": 9, "product": "x"}], [("items[0].id", "INVALID_ROW")]),
        ([{}], [("items[0].product", "REQUIRED")]),
        ([{"quantity": 1}], [("items[0].product", "REQUIRED")]),
        ([{"product": ""}], [("items[0].product", "REQUIRED")]),
        ([{"product": "x", "colour": "red"}], [("items[0].colour", "UNKNOWN_FIELD")]),
        ([{"product": "x", "quantity": "2"}], [("items[0].quantity", "NOT_AN_INTEGER")]),
        ([{"product": "x", "quantity": 0}], [("items[0].quantity", "TOO_SMALL")]),
        ([{"product": "x" * 21}], [("items[0].product", "TOO_LONG")]),
        ([{"product": "x", "unit_price": -1}], [("items[0].unit_price", "TOO_SMALL")]),
        (
            [{"product": "x", "tags": ["z", "y"]}],
            [("items[0].tags[0]", "INVALID_OPTION"), ("items[0].tags[1]", "INVALID_OPTION")],
        ),
        ([{"product": "x", "links": {"other": "x"}}], [("items[0].links.other", "UNKNOWN_KEY")]),
        ([{"product": "x", "links.other": "x"}], [("items[0].links.other", "UNKNOWN_KEY")]),
        ([{"product": "x", "company": "7"}], [("items[0].company", "NOT_A_RECORD_ID")]),
        (
            [{"product": "ok"}, {"quantity": 0, "colour": "red"}, {"product": "a\nb"}],
            [
                ("items[1].colour", "UNKNOWN_FIELD"),
                ("items[1].product", "REQUIRED"),
                ("items[1].quantity", "TOO_SMALL"),
                ("items[2].product", "INVALID_TEXT"),
            ],
        ),
    ],
)
def test_add_invalid(value: Any, result: list[tuple[str, str]]) -> None:
    assert fails(CURRENT, "add", value) == result


def test_all_row_errors_come_as_invalid_values() -> None:
    with pytest.raises(InvalidValues) as info:
        run(None, "add", [{"quantity": 0}, {"product": 5}])
    assert [(e.path, e.code) for e in info.value.errors] == [
        ("[0].product", "REQUIRED"),
        ("[0].quantity", "TOO_SMALL"),
        ("[1].product", "NOT_A_STRING"),
    ]
    assert isinstance(info.value, InvalidValue)  # old-style callers still get the first error
    assert info.value.path == "[0].product"


# -- update ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "result"),
    [
        ([{"id": 1, "quantity": 5}], stored({**ONE, "quantity": 5}, TWO, next_id=5)),
        ([{"id": 1, "quantity": None}], stored({"id": 1, "product": "bolt"}, TWO, next_id=5)),
        ([{"id": 2, "tags": {"add": ["b"]}}], stored(ONE, {**TWO, "tags": ["a", "b"]}, next_id=5)),
        ([{"id": 2, "tags": ["c"]}], stored(ONE, {**TWO, "tags": ["c"]}, next_id=5)),
        ([{"id": 2, "tags": None}], stored(ONE, {**TWO, "tags": []}, next_id=5)),
        ([{"id": 2, "company": None}], stored(ONE, {"id": 2, "product": "nut", "tags": ["a"]}, next_id=5)),
        ([{"id": 1}], CURRENT),
        ([], CURRENT),
        (
            [{"id": 2, "product": "nut2"}, {"id": 1, "product": "bolt2"}],
            stored({**ONE, "product": "bolt2"}, {**TWO, "product": "nut2"}, next_id=5),
        ),
        ([{"id": 1, "links": {"spec": "s"}}], stored({**ONE, "links": {"spec": "s"}}, TWO, next_id=5)),
    ],
)
def test_update(value: Any, result: Any) -> None:
    assert run(CURRENT, "update", value) == result


def test_update_merges_keyed_columns() -> None:
    current = stored({"id": 1, "product": "x", "links": {"spec": "s"}})
    assert run(current, "update", [{"id": 1, "links": {"quote": "q"}}])["rows"][0]["links"] == {
        "spec": "s",
        "quote": "q",
    }
    assert run(current, "update", [{"id": 1, "links.spec": None}])["rows"][0]["links"] == {}


@pytest.mark.parametrize(
    ("value", "result"),
    [
        ({"id": 1}, [("items", "NOT_A_LIST")]),
        ([{"product": "x"}], [("items[0].id", "NOT_A_ROW_ID")]),
        ([{"id": "1", "product": "x"}], [("items[0].id", "NOT_A_ROW_ID")]),
        ([{"id": True}], [("items[0].id", "NOT_A_ROW_ID")]),
        ([3], [("items[0].id", "NOT_A_ROW_ID")]),
        ([{"id": 3, "product": "x"}], [("items[0]", "ROW_NOT_FOUND")]),
        ([{"id": 1, "product": None}], [("items[0].product", "REQUIRED")]),
        ([{"id": 1, "quantity": 0}], [("items[0].quantity", "TOO_SMALL")]),
        ([{"id": 1, "nope": 1}], [("items[0].nope", "UNKNOWN_FIELD")]),
        ([{"id": 1, "tags": {"update": ["a"]}}], [("items[0].tags", "OP_NOT_SUPPORTED")]),
        ([{"id": 1, "quantity": 2}, {"id": 99}], [("items[1]", "ROW_NOT_FOUND")]),
    ],
)
def test_update_invalid(value: Any, result: list[tuple[str, str]]) -> None:
    assert fails(CURRENT, "update", value) == result


def test_update_checks_only_the_columns_it_touches() -> None:
    legacy = stored({"id": 1, "quantity": 0})  # stored before product became required, and quantity min 1
    assert run(legacy, "update", [{"id": 1, "unit_price": 3}]) == stored(
        {"id": 1, "quantity": 0, "unit_price": 3}
    )


# -- remove ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "result"),
    [
        ([1], stored(TWO, next_id=5)),
        ([2, 1], stored(next_id=5)),
        ([], CURRENT),
        ([1, 1], stored(TWO, next_id=5)),
    ],
)
def test_remove(value: Any, result: Any) -> None:
    assert run(CURRENT, "remove", value) == result


@pytest.mark.parametrize(
    ("value", "result"),
    [
        (1, [("items", "NOT_A_LIST")]),
        ([3], [("items[0]", "ROW_NOT_FOUND")]),
        (["1"], [("items[0]", "NOT_A_ROW_ID")]),
        ([{"id": 1}], [("items[0]", "NOT_A_ROW_ID")]),
        ([True], [("items[0]", "NOT_A_ROW_ID")]),
        ([1, 7, "x"], [("items[1]", "ROW_NOT_FOUND"), ("items[2]", "NOT_A_ROW_ID")]),
    ],
)
def test_remove_invalid(value: Any, result: list[tuple[str, str]]) -> None:
    assert fails(CURRENT, "remove", value) == result


def test_a_removed_row_id_is_never_reused() -> None:
    value = run(None, "add", [{"product": "a"}, {"product": "b"}])
    value = run(value, "remove", [2])
    value = run(value, "add", [{"product": "c"}])
    assert [r["id"] for r in value["rows"]] == [1, 3]
    value = run(value, "clear")
    value = run(value, "add", [{"product": "d"}])
    assert [r["id"] for r in value["rows"]] == [4]


# -- replace / set ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["replace", "set"])
@pytest.mark.parametrize(
    ("value", "result"),
    [
        ([], stored(next_id=5)),
        # a row with an id is replaced wholly (quantity dropped), a row without one is added, row 2 goes
        (
            [{"id": 1, "product": "bolt2"}, {"product": "new"}],
            stored({"id": 1, "product": "bolt2"}, {"id": 5, "product": "new"}),
        ),
        (
            [{"product": "new"}, {"id": 2, "product": "nut"}],
            stored({"id": 5, "product": "new"}, {"id": 2, "product": "nut"}),
        ),
        ([ONE, TWO], CURRENT),
    ],
)
def test_replace(kind: str, value: Any, result: Any) -> None:
    assert run(CURRENT, kind, value) == result


@pytest.mark.parametrize(
    ("value", "result"),
    [
        ({"id": 1}, [("items", "NOT_A_LIST")]),
        ([{"id": 3, "product": "x"}], [("items[0]", "ROW_NOT_FOUND")]),
        ([{"id": "1", "product": "x"}], [("items[0].id", "NOT_A_ROW_ID")]),
        ([{"id": 1, "product": "x"}, {"id": 1, "product": "y"}], [("items[1].id", "DUPLICATE_ROW")]),
        ([{"id": 1, "quantity": 3}], [("items[0].product", "REQUIRED")]),  # replaced wholly: product is gone
        ([{"product": "x"}, 5], [("items[1]", "INVALID_ROW")]),
        ([{"product": "x", "bad": 1}], [("items[0].bad", "UNKNOWN_FIELD")]),
    ],
)
def test_replace_invalid(value: Any, result: list[tuple[str, str]]) -> None:
    assert fails(CURRENT, "replace", value) == result


# -- clear and other ops ---------------------------------------------------------------------


def test_clear_keeps_the_id_counter() -> None:
    assert run(CURRENT, "clear") == stored(next_id=5)
    assert run(None, "clear") == stored(next_id=1)


@pytest.mark.parametrize(
    ("kind", "value", "key", "result"),
    [
        ("set", [], "x", [("items.x", "NOT_A_KEYED_FIELD")]),
        ("frobnicate", [], None, [("items", "OP_NOT_SUPPORTED")]),
    ],
)
def test_other_ops_invalid(kind: str, value: Any, key: str | None, result: list[tuple[str, str]]) -> None:
    assert apply_fails(field(), CURRENT, kind, value, key) == result


def test_ops_do_not_change_current() -> None:
    current = stored({"id": 1, "product": "x", "tags": ["a"]})
    snapshot = repr(current)
    run(current, "update", [{"id": 1, "product": "y", "tags": {"add": ["b"]}}])
    run(current, "add", [{"product": "z"}])
    run(current, "remove", [1])
    run(current, "replace", [{"id": 1, "product": "q"}])
    assert repr(current) == snapshot


def test_parse_builds_rows_from_nothing() -> None:
    assert parse(field(), [{"product": "a"}, {"product": "b"}]) == stored(
        {"id": 1, "product": "a"}, {"id": 2, "product": "b"}
    )


# -- output and hooks ------------------------------------------------------------------------


def test_to_json_gives_every_column() -> None:
    assert ft("sub_records").to_json(CURRENT, field()) == [
        {
            "id": 1,
            "product": "bolt",
            "quantity": 2,
            "unit_price": None,
            "tags": [],
            "company": None,
            "links": {},
        },
        {
            "id": 2,
            "product": "nut",
            "quantity": None,
            "unit_price": None,
            "tags": ["a"],
            "company": 7,
            "links": {},
        },
    ]


@pytest.mark.parametrize("value", [None, stored(), stored(next_id=4)])
def test_empty(value: Any) -> None:
    t = ft("sub_records")
    assert t.is_empty(value)
    assert t.to_json(value, field()) == []


def test_hooks() -> None:
    t = ft("sub_records")
    f = field()
    assert t.empty(f) == {"rows": [], "next_id": 1}
    assert t.empty(f) is not t.empty(f)
    assert not t.is_empty(CURRENT)
    assert t.multi
    assert t.sql_kind is None
    assert t.unique_key(CURRENT, f) is None


def test_references_come_from_lookup_columns() -> None:
    value = stored(
        {"id": 1, "product": "a", "company": 3}, {"id": 2, "product": "b"}, {"id": 3, "company": 4}
    )
    assert list(ft("sub_records").references(value, field())) == [("companies", 3), ("companies", 4)]
    assert list(ft("sub_records").references(None, field())) == []


def test_references_of_multi_and_user_columns() -> None:
    f = fd(
        "sub_records",
        name="items",
        fields=[
            {"name": "people", "type": "multi_user"},
            {"name": "docs", "type": "multi_lookup", "target": "docs"},
        ],
    )
    value = parse(f, [{"people": [1, 2], "docs": [9]}])
    assert list(ft("sub_records").references(value, f)) == [("users", 1), ("users", 2), ("docs", 9)]


def test_validate_checks_column_constraints_with_paths() -> None:
    value = stored(
        {"id": 1, "product": "ok", "quantity": 0},
        {"id": 5, "product": "x" * 30, "tags": ["a", "gone"], "links": {"spec": "s" * 300}},
    )
    assert validate(field(), value) == [
        ("items[0].quantity", "TOO_SMALL"),
        ("items[1].product", "TOO_LONG"),
        ("items[1].tags[1]", "INVALID_OPTION"),
        ("items[1].links.spec", "TOO_LONG"),
    ]
    assert validate(field(), CURRENT) == []
    assert validate(field(), None) == []


def test_nested_sub_records_are_refused() -> None:
    f = fd(
        "sub_records",
        name="items",
        fields=[{"name": "inner", "type": "sub_records", "fields": [{"name": "a", "type": "text"}]}],
    )
    with pytest.raises(SchemaError):
        apply(f, None, "add", [{"inner": []}])
