"""single_select, radio, multi_select, checkbox."""

from __future__ import annotations

from typing import Any

import pytest

from cardfile.fieldtypes.base import InvalidValue, InvalidValues
from tests.unit.fieldtypes.helpers import apply, apply_fails, fd, ft, parse, parse_fails, validate

OPTIONS = [{"key": "lead", "label": "Lead"}, {"key": "customer", "label": "Paying customer"}, "churn-risk"]
SINGLE = ["single_select", "radio"]
MULTI = ["multi_select", "checkbox"]


def field(type_: str) -> Any:
    return fd(type_, options=OPTIONS)


# -- single ------------------------------------------------------------------------------


@pytest.mark.parametrize("type_", SINGLE)
@pytest.mark.parametrize("raw", ["lead", "customer", "churn-risk"])
def test_single_valid(type_: str, raw: str) -> None:
    assert parse(field(type_), raw) == raw


@pytest.mark.parametrize("type_", SINGLE)
@pytest.mark.parametrize(
    "raw", ["Lead", "LEAD", "paying customer", "Churn Risk", "nope", "", 1, True, ["lead"]]
)
def test_single_invalid(type_: str, raw: Any) -> None:
    assert parse_fails(field(type_), raw) == [("f", "INVALID_OPTION")]


@pytest.mark.parametrize("type_", SINGLE + MULTI)
@pytest.mark.parametrize(("label", "key"), [("Paying Customer", "customer"), (" lead ", "lead")])
def test_label_gets_a_hint_naming_the_key(type_: str, label: str, key: str) -> None:
    raw: Any = label if type_ in SINGLE else [label]
    with pytest.raises(InvalidValue) as info:
        parse(field(type_), raw)
    assert f"use the option key {key!r}, not its label" in info.value.message


@pytest.mark.parametrize("type_", SINGLE + MULTI)
def test_unknown_option_lists_the_keys(type_: str) -> None:
    raw: Any = "prospect" if type_ in SINGLE else ["prospect"]
    with pytest.raises(InvalidValue) as info:
        parse(field(type_), raw)
    assert "'lead', 'customer', 'churn-risk'" in info.value.message


def test_a_key_wins_over_a_label_of_another_option() -> None:
    f = fd("single_select", options=[{"key": "a", "label": "B"}, {"key": "b", "label": "A"}])
    assert parse(f, "a") == "a"
    assert parse(f, "b") == "b"


@pytest.mark.parametrize("type_", SINGLE)
def test_single_ops(type_: str) -> None:
    f = field(type_)
    assert apply(f, None, "set", "lead") == "lead"
    assert apply(f, "lead", "set", "customer") == "customer"
    assert apply(f, "lead", "clear") is None
    assert apply_fails(f, "lead", "add", ["customer"]) == [("f", "OP_NOT_SUPPORTED")]
    assert apply_fails(f, "lead", "set", "x", key="k") == [("f.k", "NOT_A_KEYED_FIELD")]
    assert ft(type_).unique_key("lead", f) == "lead"
    assert ft(type_).sql_kind == "text"


@pytest.mark.parametrize("type_", SINGLE)
def test_single_validate(type_: str) -> None:
    f = field(type_)
    assert validate(f, "lead") == []
    assert validate(f, None) == []
    assert validate(f, "retired-option") == [("f", "INVALID_OPTION")]


# -- multi -------------------------------------------------------------------------------


@pytest.mark.parametrize("type_", MULTI)
@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ([], []),
        (["lead"], ["lead"]),
        (["customer", "lead"], ["customer", "lead"]),
        (["lead", "lead", "customer", "lead"], ["lead", "customer"]),
    ],
)
def test_multi_valid(type_: str, raw: list[str], stored: list[str]) -> None:
    assert parse(field(type_), raw) == stored


@pytest.mark.parametrize("type_", MULTI)
@pytest.mark.parametrize(
    ("raw", "result"),
    [
        ("lead", [("f", "NOT_A_LIST")]),
        ({"lead": True}, [("f", "NOT_A_LIST")]),
        (["nope"], [("f[0]", "INVALID_OPTION")]),
        (["lead", "Lead"], [("f[1]", "INVALID_OPTION")]),
        (
            ["x", "lead", 3, None],
            [("f[0]", "INVALID_OPTION"), ("f[2]", "INVALID_OPTION"), ("f[3]", "INVALID_OPTION")],
        ),
    ],
)
def test_multi_invalid(type_: str, raw: Any, result: list[tuple[str, str]]) -> None:
    assert parse_fails(field(type_), raw) == result


def test_multi_reports_every_bad_item_as_invalid_values() -> None:
    with pytest.raises(InvalidValues) as info:
        parse(field("multi_select"), ["x", "y"])
    assert [e.path for e in info.value.errors] == ["[0]", "[1]"]
    assert info.value.code == "INVALID_OPTION"
    assert info.value.path == "[0]"
    assert "1 more error" in info.value.message


def test_multi_single_bad_item_is_a_plain_invalid_value() -> None:
    with pytest.raises(InvalidValue) as info:
        parse(field("multi_select"), ["lead", "x"])
    assert type(info.value) is InvalidValue
    assert info.value.path == "[1]"


@pytest.mark.parametrize("type_", MULTI)
@pytest.mark.parametrize(
    ("current", "kind", "value", "result"),
    [
        (None, "set", ["lead"], ["lead"]),
        (["lead"], "set", ["customer"], ["customer"]),
        (["lead"], "replace", ["customer", "lead"], ["customer", "lead"]),
        (["lead"], "replace", [], []),
        (None, "add", ["lead"], ["lead"]),
        (["lead"], "add", ["customer", "lead"], ["lead", "customer"]),
        (["lead"], "add", ["customer", "customer"], ["lead", "customer"]),
        (["lead"], "add", [], ["lead"]),
        (["lead", "customer"], "remove", ["lead"], ["customer"]),
        (["lead", "customer"], "remove", ["churn-risk"], ["lead", "customer"]),
        (["lead"], "remove", ["lead", "customer"], []),
        (None, "remove", ["lead"], []),
        (["lead", "customer"], "clear", None, []),
        (None, "clear", None, []),
        (
            ["retired", "lead"],
            "remove",
            ["retired"],
            ["lead"],
        ),  # a held key is removable after it stopped being an option
    ],
)
def test_multi_ops(type_: str, current: Any, kind: str, value: Any, result: list[str]) -> None:
    assert apply(field(type_), current, kind, value) == result


@pytest.mark.parametrize("type_", MULTI)
@pytest.mark.parametrize(
    ("kind", "value", "result"),
    [
        ("add", ["Lead"], [("f[0]", "INVALID_OPTION")]),
        ("add", "lead", [("f", "NOT_A_LIST")]),
        ("remove", ["lead", "nope"], [("f[1]", "INVALID_OPTION")]),
        ("remove", "lead", [("f", "NOT_A_LIST")]),
        ("replace", ["x", "y"], [("f[0]", "INVALID_OPTION"), ("f[1]", "INVALID_OPTION")]),
        ("update", ["lead"], [("f", "OP_NOT_SUPPORTED")]),
    ],
)
def test_multi_ops_invalid(type_: str, kind: str, value: Any, result: list[tuple[str, str]]) -> None:
    assert apply_fails(field(type_), ["lead"], kind, value) == result


@pytest.mark.parametrize("type_", MULTI)
def test_multi_keyed_op_not_supported(type_: str) -> None:
    assert apply_fails(field(type_), [], "set", "lead", key="k") == [("f.k", "NOT_A_KEYED_FIELD")]


def test_multi_does_not_change_current() -> None:
    current = ["lead"]
    apply(field("multi_select"), current, "add", ["customer"])
    apply(field("multi_select"), current, "remove", ["lead"])
    assert current == ["lead"]


@pytest.mark.parametrize("type_", MULTI)
def test_multi_hooks(type_: str) -> None:
    f = field(type_)
    t = ft(type_)
    assert t.multi
    assert t.sql_kind == "list"
    assert t.empty(f) == []
    assert t.to_json(None, f) == []
    assert t.to_json(["lead"], f) == ["lead"]
    assert t.is_empty([])
    assert t.unique_key(["lead"], f) is None
    assert validate(f, ["lead", "retired", "customer", "gone"]) == [
        ("f[1]", "INVALID_OPTION"),
        ("f[3]", "INVALID_OPTION"),
    ]
    assert validate(f, ["lead"]) == []
