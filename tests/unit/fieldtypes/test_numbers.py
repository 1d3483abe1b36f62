"""integer, decimal, money, boolean."""

from __future__ import annotations

from typing import Any

import pytest

from cardfile.fieldtypes.base import InvalidValue
from tests.unit.fieldtypes.helpers import apply, apply_fails, fd, ft, parse, parse_fails, validate

# -- integer ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (0, 0),
        (42, 42),
        (-7, -7),
        (3.0, 3),
        (-0.0, 0),
        (2**63 - 1, 2**63 - 1),
        (-(2**63), -(2**63)),
    ],
)
def test_integer_valid(raw: Any, stored: int) -> None:
    value = parse(fd("integer"), raw)
    assert value == stored
    assert type(value) is int


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (3.5, "NOT_AN_INTEGER"),
        ("3", "NOT_AN_INTEGER"),
        ("abc", "NOT_AN_INTEGER"),
        (True, "NOT_AN_INTEGER"),
        (False, "NOT_AN_INTEGER"),
        ([1], "NOT_AN_INTEGER"),
        ({"v": 1}, "NOT_AN_INTEGER"),
        (float("nan"), "NOT_AN_INTEGER"),
        (float("inf"), "NOT_AN_INTEGER"),
        (2**63, "TOO_LARGE"),
        (1e300, "TOO_LARGE"),
        (-(2**63) - 1, "TOO_SMALL"),
    ],
)
def test_integer_invalid(raw: Any, code: str) -> None:
    assert parse_fails(fd("integer"), raw) == [("f", code)]


# -- decimal ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (0, 0),
        (12.5, 12.5),
        ("12.50", 12.5),
        ("12.00", 12),
        (12.0, 12),
        ("-3", -3),
        ("+3.25", 3.25),
        (" 7.5 ", 7.5),
        (".5", 0.5),
        ("5.", 5),
        ("1e3", 1000),
        ("1.5E-3", 0.0015),
        (0.1, 0.1),
        ("0.1", 0.1),
        ("123456789012.345", 123456789012.345),
        ("999999999999999", 999999999999999),
        (10**20, 1e20),
        ("-0", 0),
        ("1e15", 10**15),
        ("1e16", 1e16),  # integral, but beyond 2**53: kept a float
    ],
)
def test_decimal_valid(raw: Any, stored: Any) -> None:
    value = parse(fd("decimal"), raw)
    assert value == stored
    assert type(value) is type(stored)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("abc", "NOT_A_NUMBER"),
        ("", "NOT_A_NUMBER"),
        ("12,5", "NOT_A_NUMBER"),
        ("1_000", "NOT_A_NUMBER"),
        ("0x10", "NOT_A_NUMBER"),
        ("NaN", "NOT_A_NUMBER"),
        ("Infinity", "NOT_A_NUMBER"),
        ("-inf", "NOT_A_NUMBER"),
        ("١٢", "NOT_A_NUMBER"),  # non-ASCII digits
        (float("nan"), "NOT_A_NUMBER"),
        (float("inf"), "NOT_A_NUMBER"),
        (True, "NOT_A_NUMBER"),
        (None, "NOT_A_NUMBER"),
        ([1], "NOT_A_NUMBER"),
        ("1234567890123456", "TOO_PRECISE"),
        ("0.1234567890123456", "TOO_PRECISE"),
        ("1.0000000000000000000000000000001", "TOO_PRECISE"),
        (0.30000000000000004, "TOO_PRECISE"),
        (2**53 + 1, "TOO_PRECISE"),
        ("1e-400", "TOO_PRECISE"),
        ("1e400", "TOO_LARGE"),
        ("-1e400", "TOO_LARGE"),
    ],
)
def test_decimal_invalid(raw: Any, code: str) -> None:
    assert parse_fails(fd("decimal"), raw) == [("f", code)]


def test_decimal_trailing_zeros_are_not_significant() -> None:
    assert parse(fd("decimal"), "1.50000000000000000000") == 1.5
    assert parse(fd("decimal"), "100000000000000000000") == 1e20


# -- min / max -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "attrs", "value", "result"),
    [
        ("integer", {"min": 0}, 0, []),
        ("integer", {"min": 0}, -1, [("f", "TOO_SMALL")]),
        ("integer", {"max": 10}, 10, []),
        ("integer", {"max": 10}, 11, [("f", "TOO_LARGE")]),
        ("integer", {"min": 1, "max": 5}, 3, []),
        ("integer", {}, -(10**18), []),
        ("decimal", {"min": 0, "max": 100}, 100, []),
        ("decimal", {"min": 0, "max": 100}, 100.5, [("f", "TOO_LARGE")]),
        ("decimal", {"min": 0}, -0.01, [("f", "TOO_SMALL")]),
        ("decimal", {"max": "0.1"}, 0.1, []),  # 0.1 is compared as written, not as its binary value
        ("decimal", {"min": "0.1"}, 0.1, []),
        ("decimal", {"min": 0.5}, 0.49, [("f", "TOO_SMALL")]),
        ("decimal", {}, 1e20, []),
        ("money", {"min": 0}, {"currency": "USD", "value": -1}, [("f.value", "TOO_SMALL")]),
        ("money", {"max": 10}, {"currency": "USD", "value": 10.5}, [("f.value", "TOO_LARGE")]),
        ("money", {"min": 0, "max": 10}, {"currency": "USD", "value": 5}, []),
        ("integer", {"min": 0}, None, []),
        ("money", {"min": 0}, None, []),
    ],
)
def test_range(type_: str, attrs: dict[str, Any], value: Any, result: list[tuple[str, str]]) -> None:
    assert validate(fd(type_, **attrs), value) == result


def test_range_message_gives_the_bound() -> None:
    (err,) = ft("decimal").validate(101, fd("decimal", max=100))
    assert err.message == "must be at most 100"
    (err,) = ft("decimal").validate(0.1, fd("decimal", min="0.25"))
    assert err.message == "must be at least 0.25"


# -- money -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "raw", "stored"),
    [
        ({}, {"currency": "USD", "value": 12.5}, {"currency": "USD", "value": 12.5}),
        ({}, {"currency": "EUR", "value": "12.50"}, {"currency": "EUR", "value": 12.5}),
        ({}, {"currency": "JPY", "value": 1000}, {"currency": "JPY", "value": 1000}),
        ({}, {"currency": "USD", "value": 0}, {"currency": "USD", "value": 0}),
        ({"default_currency": "USD"}, {"value": 3}, {"currency": "USD", "value": 3}),
        ({"default_currency": "USD"}, {"value": 3, "currency": None}, {"currency": "USD", "value": 3}),
        ({"default_currency": "USD"}, {"value": 3, "currency": "GBP"}, {"currency": "GBP", "value": 3}),
        ({"default_currency": "USD"}, 9.99, {"currency": "USD", "value": 9.99}),
        ({"default_currency": "USD"}, "9.99", {"currency": "USD", "value": 9.99}),
    ],
)
def test_money_valid(attrs: dict[str, Any], raw: Any, stored: Any) -> None:
    assert parse(fd("money", **attrs), raw) == stored


@pytest.mark.parametrize(
    ("attrs", "raw", "result"),
    [
        ({}, 12.5, [("f", "INVALID_MONEY")]),
        ({}, "12.5", [("f", "INVALID_MONEY")]),
        ({}, [12.5], [("f", "INVALID_MONEY")]),
        ({"default_currency": "USD"}, True, [("f", "INVALID_MONEY")]),
        ({}, {"currency": "USD", "value": 1, "extra": 2}, [("f", "INVALID_MONEY")]),
        ({}, {"value": 1}, [("f.currency", "INVALID_MONEY")]),
        ({}, {"currency": "usd", "value": 1}, [("f.currency", "INVALID_MONEY")]),
        ({}, {"currency": "US", "value": 1}, [("f.currency", "INVALID_MONEY")]),
        ({}, {"currency": 840, "value": 1}, [("f.currency", "INVALID_MONEY")]),
        ({}, {"currency": "USD"}, [("f.value", "INVALID_MONEY")]),
        ({}, {"currency": "USD", "value": "abc"}, [("f.value", "NOT_A_NUMBER")]),
        ({}, {"currency": "USD", "value": "1234567890123456"}, [("f.value", "TOO_PRECISE")]),
        ({}, {"currency": "USD", "value": float("nan")}, [("f.value", "NOT_A_NUMBER")]),
        (
            {},
            {"currency": "usd", "value": "x"},
            [("f.currency", "INVALID_MONEY"), ("f.value", "NOT_A_NUMBER")],
        ),
        ({"default_currency": "USD"}, "abc", [("f.value", "NOT_A_NUMBER")]),
    ],
)
def test_money_invalid(attrs: dict[str, Any], raw: Any, result: list[tuple[str, str]]) -> None:
    assert parse_fails(fd("money", **attrs), raw) == result


def test_money_hooks() -> None:
    f = fd("money")
    t = ft("money")
    value = {"currency": "USD", "value": 1}
    assert t.unique_key(value, f) is None
    assert t.sql_kind is None
    assert t.to_json(value, f) == value
    assert t.to_json(None, f) is None


# -- boolean ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [True, False])
def test_boolean_valid(raw: bool) -> None:
    assert parse(fd("boolean"), raw) is raw


@pytest.mark.parametrize("raw", [0, 1, "true", "false", "yes", None, [], 1.0])
def test_boolean_invalid(raw: Any) -> None:
    assert parse_fails(fd("boolean"), raw) == [("f", "NOT_A_BOOLEAN")]


def test_false_is_a_value_not_empty() -> None:
    t = ft("boolean")
    assert not t.is_empty(False)
    assert t.to_json(False, fd("boolean")) is False
    assert t.unique_key(False, fd("boolean")) == "False"


# -- ops and hooks shared by the number types ------------------------------------------------

SAMPLE: dict[str, Any] = {
    "integer": 5,
    "decimal": "2.5",
    "boolean": True,
    "money": {"currency": "USD", "value": 2},
}


@pytest.mark.parametrize("type_", list(SAMPLE))
def test_set_and_clear(type_: str) -> None:
    f = fd(type_)
    value = apply(f, None, "set", SAMPLE[type_])
    assert value is not None
    assert not ft(type_).is_empty(value)
    assert apply(f, value, "clear") is None


@pytest.mark.parametrize("type_", list(SAMPLE))
@pytest.mark.parametrize("kind", ["add", "remove", "replace", "update"])
def test_multi_ops_not_supported(type_: str, kind: str) -> None:
    assert apply_fails(fd(type_), None, kind, [SAMPLE[type_]]) == [("f", "OP_NOT_SUPPORTED")]


@pytest.mark.parametrize("type_", list(SAMPLE))
def test_keyed_op_not_supported(type_: str) -> None:
    assert apply_fails(fd(type_), None, "set", 1, key="value") == [("f.value", "NOT_A_KEYED_FIELD")]


@pytest.mark.parametrize(
    ("type_", "kind"), [("integer", "number"), ("decimal", "number"), ("boolean", "bool")]
)
def test_sql_kind(type_: str, kind: str) -> None:
    assert ft(type_).sql_kind == kind


@pytest.mark.parametrize(
    ("type_", "value", "key"), [("integer", 0, "0"), ("decimal", 12.5, "12.5"), ("decimal", 12, "12")]
)
def test_unique_key(type_: str, value: Any, key: str) -> None:
    assert ft(type_).unique_key(value, fd(type_)) == key


def test_zero_is_not_empty() -> None:
    assert not ft("integer").is_empty(0)
    assert not ft("decimal").is_empty(0.0)


def test_error_message_says_what_was_expected() -> None:
    with pytest.raises(InvalidValue, match="whole number"):
        parse(fd("integer"), "3")
    with pytest.raises(InvalidValue, match="expected a number"):
        parse(fd("decimal"), "x")
    with pytest.raises(InvalidValue, match="15 significant digits"):
        parse(fd("decimal"), "1.234567890123456")
    with pytest.raises(InvalidValue, match="true or false"):
        parse(fd("boolean"), 1)
