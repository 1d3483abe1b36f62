"""lookup, multi_lookup, user, multi_user."""

from __future__ import annotations

from typing import Any

import pytest

from cardfile.schema.model import SchemaError
from tests.unit.fieldtypes.helpers import apply, apply_fails, fd, ft, parse, parse_fails

SINGLE = ["lookup", "user"]
MULTI = ["multi_lookup", "multi_user"]


def field(type_: str) -> Any:
    return fd(type_, target="companies")


@pytest.mark.parametrize("type_", SINGLE)
@pytest.mark.parametrize("raw", [1, 42, 2**63 - 1])
def test_single_valid(type_: str, raw: int) -> None:
    assert parse(field(type_), raw) == raw


BAD_IDS = ["1", "abc", True, False, 0, -1, 1.0, 1.5, None, [1], {"id": 1}, 2**63]


@pytest.mark.parametrize("type_", SINGLE)
@pytest.mark.parametrize("raw", BAD_IDS)
def test_single_invalid(type_: str, raw: Any) -> None:
    assert parse_fails(field(type_), raw) == [("f", "NOT_A_RECORD_ID")]


@pytest.mark.parametrize("type_", MULTI)
@pytest.mark.parametrize(("raw", "stored"), [([], []), ([3, 1], [3, 1]), ([1, 2, 1], [1, 2])])
def test_multi_valid(type_: str, raw: list[int], stored: list[int]) -> None:
    assert parse(field(type_), raw) == stored


@pytest.mark.parametrize("type_", MULTI)
@pytest.mark.parametrize(
    ("raw", "result"),
    [
        (1, [("f", "NOT_A_LIST")]),
        (["1"], [("f[0]", "NOT_A_RECORD_ID")]),
        ([1, True, 2, "3"], [("f[1]", "NOT_A_RECORD_ID"), ("f[3]", "NOT_A_RECORD_ID")]),
    ],
)
def test_multi_invalid(type_: str, raw: Any, result: list[tuple[str, str]]) -> None:
    assert parse_fails(field(type_), raw) == result


@pytest.mark.parametrize("type_", SINGLE)
def test_single_ops(type_: str) -> None:
    f = field(type_)
    assert apply(f, None, "set", 5) == 5
    assert apply(f, 5, "clear") is None
    assert apply_fails(f, 5, "add", [6]) == [("f", "OP_NOT_SUPPORTED")]
    assert apply_fails(f, 5, "set", "6") == [("f", "NOT_A_RECORD_ID")]


@pytest.mark.parametrize("type_", MULTI)
@pytest.mark.parametrize(
    ("current", "kind", "value", "result"),
    [
        (None, "set", [1, 2], [1, 2]),
        ([1], "replace", [3], [3]),
        ([1], "add", [2, 1, 3], [1, 2, 3]),
        ([1, 2, 3], "remove", [2, 9], [1, 3]),
        ([1, 2], "clear", None, []),
    ],
)
def test_multi_ops(type_: str, current: Any, kind: str, value: Any, result: list[int]) -> None:
    assert apply(field(type_), current, kind, value) == result


@pytest.mark.parametrize(
    ("type_", "value", "refs"),
    [
        ("lookup", 5, [("companies", 5)]),
        ("lookup", None, []),
        ("user", 7, [("users", 7)]),
        ("user", None, []),
        ("multi_lookup", [1, 2], [("companies", 1), ("companies", 2)]),
        ("multi_lookup", [], []),
        ("multi_lookup", None, []),
        ("multi_user", [3], [("users", 3)]),
    ],
)
def test_references(type_: str, value: Any, refs: list[tuple[str, int]]) -> None:
    assert list(ft(type_).references(value, field(type_))) == refs


@pytest.mark.parametrize("type_", ["user", "multi_user"])
def test_user_needs_no_target(type_: str) -> None:
    f = fd(type_)
    value = parse(f, [4] if type_ == "multi_user" else 4)
    assert list(ft(type_).references(value, f)) == [("users", 4)]


@pytest.mark.parametrize(("type_", "value"), [("lookup", 1), ("multi_lookup", [1])])
def test_lookup_without_target_is_a_schema_error(type_: str, value: Any) -> None:
    with pytest.raises(SchemaError):
        list(ft(type_).references(value, fd(type_)))


def test_hooks() -> None:
    assert ft("lookup").sql_kind == "number"
    assert ft("multi_lookup").sql_kind == "list"
    assert ft("lookup").unique_key(5, field("lookup")) == "5"
    assert ft("multi_lookup").unique_key([5], field("multi_lookup")) is None
    assert ft("multi_user").to_json(None, field("multi_user")) == []
    assert ft("user").to_json(None, field("user")) is None
