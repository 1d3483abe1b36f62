"""keyed_text: one line of text per option key; f.key ops; RFC 7396 merge."""

from __future__ import annotations

from typing import Any

import pytest

from cardfile.fieldtypes.base import InvalidValue
from tests.unit.fieldtypes.helpers import apply, apply_fails, fd, ft, parse, parse_fails, validate


def field(**attrs: Any) -> Any:
    return fd("keyed_text", options=["linkedin", "twitter", "github"], **attrs)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ({}, {}),
        ({"github": "acme"}, {"github": "acme"}),
        ({"github": "acme", "linkedin": "acme-inc"}, {"linkedin": "acme-inc", "github": "acme"}),
        ({"github": "acme", "twitter": None}, {"github": "acme"}),
        ({"github": "acme", "twitter": ""}, {"github": "acme"}),
    ],
)
def test_parse_valid(raw: Any, stored: Any) -> None:
    value = parse(field(), raw)
    assert value == stored
    assert list(value) == list(stored)  # keys in option order


@pytest.mark.parametrize(
    ("raw", "result"),
    [
        ("acme", [("f", "NOT_AN_OBJECT")]),
        (["acme"], [("f", "NOT_AN_OBJECT")]),
        ({"facebook": "acme"}, [("f.facebook", "UNKNOWN_KEY")]),
        ({"github": 5}, [("f.github", "NOT_A_STRING")]),
        ({"github": "two\nlines"}, [("f.github", "INVALID_TEXT")]),
        (
            {"facebook": "x", "github": 5, "twitter": "ok"},
            [("f.facebook", "UNKNOWN_KEY"), ("f.github", "NOT_A_STRING")],
        ),
    ],
)
def test_parse_invalid(raw: Any, result: list[tuple[str, str]]) -> None:
    assert parse_fails(field(), raw) == result


def test_unknown_key_message_lists_the_keys() -> None:
    with pytest.raises(InvalidValue) as info:
        parse(field(), {"facebook": "x"})
    assert "'linkedin', 'twitter', 'github'" in info.value.message


CURRENT = {"linkedin": "acme-inc", "github": "acme"}


@pytest.mark.parametrize(
    ("current", "kind", "value", "key", "result"),
    [
        # one key
        (None, "set", "acme", "github", {"github": "acme"}),
        (CURRENT, "set", "@acme", "twitter", {"linkedin": "acme-inc", "twitter": "@acme", "github": "acme"}),
        (CURRENT, "set", "acme2", "github", {"linkedin": "acme-inc", "github": "acme2"}),
        (CURRENT, "set", None, "github", {"linkedin": "acme-inc"}),
        (CURRENT, "set", "", "github", {"linkedin": "acme-inc"}),
        (CURRENT, "clear", None, "github", {"linkedin": "acme-inc"}),
        (CURRENT, "clear", None, "twitter", CURRENT),
        (None, "clear", None, "twitter", {}),
        # merge (RFC 7396)
        (
            CURRENT,
            "set",
            {"twitter": "@acme"},
            None,
            {"linkedin": "acme-inc", "twitter": "@acme", "github": "acme"},
        ),
        (CURRENT, "set", {"github": None}, None, {"linkedin": "acme-inc"}),
        (CURRENT, "set", {"github": "new", "linkedin": None}, None, {"github": "new"}),
        (CURRENT, "set", {}, None, CURRENT),
        (None, "set", {"github": "acme"}, None, {"github": "acme"}),
        # whole value
        (CURRENT, "clear", None, None, {}),
        (None, "clear", None, None, {}),
        (CURRENT, "replace", {"twitter": "@acme"}, None, {"twitter": "@acme"}),
    ],
)
def test_ops(current: Any, kind: str, value: Any, key: str | None, result: Any) -> None:
    assert apply(field(), current, kind, value, key) == result


@pytest.mark.parametrize(
    ("kind", "value", "key", "result"),
    [
        ("set", "x", "facebook", [("f.facebook", "UNKNOWN_KEY")]),
        ("clear", None, "facebook", [("f.facebook", "UNKNOWN_KEY")]),
        ("set", 5, "github", [("f.github", "NOT_A_STRING")]),
        ("set", {"a": 1}, "github", [("f.github", "NOT_A_STRING")]),
        ("set", "a\tb", "github", [("f.github", "INVALID_TEXT")]),
        ("set", {"facebook": "x"}, None, [("f.facebook", "UNKNOWN_KEY")]),
        ("set", "acme", None, [("f", "NOT_AN_OBJECT")]),
        ("set", ["acme"], None, [("f", "NOT_AN_OBJECT")]),
        ("add", {"github": "x"}, None, [("f", "OP_NOT_SUPPORTED")]),
        ("remove", ["github"], None, [("f", "OP_NOT_SUPPORTED")]),
        ("update", {"github": "x"}, None, [("f", "OP_NOT_SUPPORTED")]),
        ("add", "x", "github", [("f.github", "OP_NOT_SUPPORTED")]),
    ],
)
def test_ops_invalid(kind: str, value: Any, key: str | None, result: list[tuple[str, str]]) -> None:
    assert apply_fails(field(), CURRENT, kind, value, key) == result


def test_ops_do_not_change_current() -> None:
    current = dict(CURRENT)
    apply(field(), current, "set", "x", "twitter")
    apply(field(), current, "set", {"github": None})
    apply(field(), current, "clear", None, "github")
    assert current == CURRENT


@pytest.mark.parametrize(
    ("attrs", "value", "result"),
    [
        ({}, {"github": "a" * 255}, []),
        ({}, {"github": "a" * 256}, [("f.github", "TOO_LONG")]),
        ({"max_length": 3}, {"github": "abcd", "twitter": "abc"}, [("f.github", "TOO_LONG")]),
        ({}, {"myspace": "x"}, [("f.myspace", "UNKNOWN_KEY")]),
        ({}, {}, []),
        ({}, None, []),
    ],
)
def test_validate(attrs: dict[str, Any], value: Any, result: list[tuple[str, str]]) -> None:
    assert validate(field(**attrs), value) == result


def test_hooks() -> None:
    f = field()
    t = ft("keyed_text")
    assert t.empty(f) == {}
    assert t.is_empty({})
    assert not t.is_empty({"github": "x"})
    assert t.to_json(None, f) == {}
    assert t.to_json(CURRENT, f) == CURRENT
    assert t.unique_key(CURRENT, f) is None
    assert t.sql_kind is None
    assert not t.multi
