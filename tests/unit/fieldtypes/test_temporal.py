"""date, datetime."""

from __future__ import annotations

from typing import Any

import pytest

from cardfile.fieldtypes.base import InvalidValue
from tests.unit.fieldtypes.helpers import apply, apply_fails, fd, ft, parse, parse_fails


@pytest.mark.parametrize("raw", ["2024-05-01", "2024-02-29", "0001-01-01", "9999-12-31"])
def test_date_valid(raw: str) -> None:
    assert parse(fd("date"), raw) == raw


@pytest.mark.parametrize(
    "raw",
    [
        "2023-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-01-32",
        "2024-5-1",
        "24-05-01",
        "20240501",
        "2024-05-01T00:00:00Z",
        "2024-W18-3",
        " 2024-05-01",
        "2024-05-01\n",
        "",
        20240501,
        None,
        ["2024-05-01"],
        "２０２４-05-01",  # full-width digits
    ],
)
def test_date_invalid(raw: Any) -> None:
    assert parse_fails(fd("date"), raw) == [("f", "INVALID_DATE")]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("2024-05-01T12:30:00Z", "2024-05-01T12:30:00.000Z"),
        ("2024-05-01T12:30:00z", "2024-05-01T12:30:00.000Z"),
        ("2024-05-01t12:30:00Z", "2024-05-01T12:30:00.000Z"),
        ("2024-05-01 12:30:00Z", "2024-05-01T12:30:00.000Z"),
        ("2024-05-01T12:30Z", "2024-05-01T12:30:00.000Z"),
        ("2024-05-01T12:30:00+02:00", "2024-05-01T10:30:00.000Z"),
        ("2024-05-01T12:30:00-0530", "2024-05-01T18:00:00.000Z"),
        ("2024-05-01T12:30:00+00:00", "2024-05-01T12:30:00.000Z"),
        ("2024-05-01T12:30:00-00:00", "2024-05-01T12:30:00.000Z"),
        ("2024-05-01T12:30:00.5Z", "2024-05-01T12:30:00.500Z"),
        ("2024-05-01T12:30:00,25Z", "2024-05-01T12:30:00.250Z"),
        ("2024-05-01T12:30:00.123Z", "2024-05-01T12:30:00.123Z"),
        ("2024-05-01T12:30:00.123999999Z", "2024-05-01T12:30:00.123Z"),  # truncated, not rounded
        ("2024-05-01T01:00:00+02:00", "2024-04-30T23:00:00.000Z"),  # the day changes
        ("2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00.000Z"),  # and the year
        ("0999-01-01T00:00:00Z", "0999-01-01T00:00:00.000Z"),  # fixed width
        ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"),
    ],
)
def test_datetime_valid(raw: str, stored: str) -> None:
    assert parse(fd("datetime"), raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "2024-05-01T12:30:00",
        "2024-05-01T12:30",
        "2024-05-01",
        "2024-05-01T25:00:00Z",
        "2024-05-01T12:60:00Z",
        "2024-05-01T12:30:60Z",
        "2023-02-29T00:00:00Z",
        "2024-05-01T12:30:00+24:00",
        "2024-05-01T12:30:00+02:60",
        "2024-05-01T12:30:00+2",
        "2024-05-01T12:30:00 UTC",
        "2024-05-01T12:30:00.Z",
        "20240501T123000Z",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "now",
        "",
        1714566600,
        None,
    ],
)
def test_datetime_invalid(raw: Any) -> None:
    assert parse_fails(fd("datetime"), raw) == [("f", "INVALID_DATETIME")]


def test_datetime_without_offset_says_the_offset_is_required() -> None:
    with pytest.raises(InvalidValue) as info:
        parse(fd("datetime"), "2024-05-01T12:30:00")
    assert "offset is required" in info.value.message


def test_datetime_text_order_is_time_order() -> None:
    raws = [
        "2024-05-01T12:30:00+02:00",
        "2024-05-01T11:00:00Z",
        "2024-05-01T10:30:00.001Z",
        "2024-04-30T23:59:59.999-05:00",
        "0999-01-01T00:00:00Z",
    ]
    stored = [parse(fd("datetime"), r) for r in raws]
    assert sorted(stored) == [
        "0999-01-01T00:00:00.000Z",
        "2024-05-01T04:59:59.999Z",
        "2024-05-01T10:30:00.000Z",
        "2024-05-01T10:30:00.001Z",
        "2024-05-01T11:00:00.000Z",
    ]


def test_datetime_stored_form_parses_to_itself() -> None:
    f = fd("datetime")
    stored = parse(f, "2024-05-01T12:30:00.25+02:00")
    assert parse(f, stored) == stored


@pytest.mark.parametrize(("type_", "raw"), [("date", "2024-05-01"), ("datetime", "2024-05-01T00:00:00Z")])
def test_set_clear_and_ops(type_: str, raw: str) -> None:
    f = fd(type_)
    value = apply(f, None, "set", raw)
    assert apply(f, value, "clear") is None
    assert ft(type_).to_json(None, f) is None
    assert ft(type_).sql_kind == "text"
    assert ft(type_).validate(value, f) == []
    assert apply_fails(f, value, "add", [raw]) == [("f", "OP_NOT_SUPPORTED")]
    assert apply_fails(f, value, "set", raw, key="x") == [("f.x", "NOT_A_KEYED_FIELD")]
