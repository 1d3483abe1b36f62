"""text, long_text, email, url, phone."""

from __future__ import annotations

from typing import Any

import pytest

from cardfile.fieldtypes.base import InvalidValue
from tests.unit.fieldtypes.helpers import apply, apply_fails, fd, ft, parse, parse_fails, validate

# -- parse: valid ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "raw", "stored"),
    [
        ("text", "hello", "hello"),
        ("text", "", ""),
        ("text", "  spaced  ", "  spaced  "),
        ("text", "Ünïcödé ✓ 日本", "Ünïcödé ✓ 日本"),
        ("long_text", "line 1\nline 2\r\n\tindented", "line 1\nline 2\r\n\tindented"),
        ("email", "ada@example.com", "ada@example.com"),
        ("email", "Ada.Lovelace@EXAMPLE.com", "Ada.Lovelace@example.com"),
        ("email", "  ada@example.com ", "ada@example.com"),
        ("email", "ünï@exämple.com", "ünï@exämple.com"),
        ("url", "https://example.com", "https://example.com"),
        ("url", "http://example.com/a/b?q=1#frag", "http://example.com/a/b?q=1#frag"),
        ("url", "HTTPS://Example.com:8443/x", "HTTPS://Example.com:8443/x"),
        ("url", " https://example.com/ ", "https://example.com/"),
        ("url", "https://[2001:db8::1]/", "https://[2001:db8::1]/"),
        ("phone", "+14155552671", "+14155552671"),
        ("phone", "+44 20 7946 0958", "+442079460958"),
        ("phone", "+44-20-7946-0958", "+442079460958"),
        ("phone", "+1 (415) 555-2671", "+14155552671"),
        ("phone", "+49 30 901820", "+4930901820"),
        ("phone", " +14155552671 ", "+14155552671"),
    ],
)
def test_parse_valid(type_: str, raw: Any, stored: str) -> None:
    assert parse(fd(type_), raw) == stored


# -- parse: invalid ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "raw", "code"),
    [
        ("text", 12, "NOT_A_STRING"),
        ("text", 1.5, "NOT_A_STRING"),
        ("text", True, "NOT_A_STRING"),
        ("text", ["a"], "NOT_A_STRING"),
        ("text", {"a": 1}, "NOT_A_STRING"),
        ("text", "two\nlines", "INVALID_TEXT"),
        ("text", "cr\r", "INVALID_TEXT"),
        ("text", "tab\there", "INVALID_TEXT"),
        ("text", "nul\x00", "INVALID_TEXT"),
        ("text", "del\x7f", "INVALID_TEXT"),
        ("text", "c1\x85", "INVALID_TEXT"),
        ("text", "surrogate\ud800", "INVALID_TEXT"),
        ("long_text", 3, "NOT_A_STRING"),
        ("long_text", "nul\x00", "INVALID_TEXT"),
        ("long_text", "bell\x07", "INVALID_TEXT"),
        ("email", 5, "NOT_A_STRING"),
        ("email", "not-an-email", "INVALID_EMAIL"),
        ("email", "a@b", "INVALID_EMAIL"),
        ("email", "a@@example.com", "INVALID_EMAIL"),
        ("email", "a b@example.com", "INVALID_EMAIL"),
        ("email", "", "INVALID_EMAIL"),
        ("url", 3, "NOT_A_STRING"),
        ("url", "example.com", "INVALID_URL"),
        ("url", "/relative/path", "INVALID_URL"),
        ("url", "ftp://example.com/file", "INVALID_URL"),
        ("url", "javascript:alert(1)", "INVALID_URL"),
        ("url", "mailto:a@example.com", "INVALID_URL"),
        ("url", "https://", "INVALID_URL"),
        ("url", "https:///path", "INVALID_URL"),
        ("url", "https://exa mple.com", "INVALID_URL"),
        ("url", "https://example.com/a\nb", "INVALID_URL"),
        ("url", "https://example.com/a\tb", "INVALID_URL"),
        ("url", "https://example.com:99999/", "INVALID_URL"),
        ("url", "https://example.com:port/", "INVALID_URL"),
        ("url", "http://[::1/", "INVALID_URL"),
        ("url", "https://example.com/" + "a" * 2048, "TOO_LONG"),
        ("phone", 14155552671, "NOT_A_STRING"),
        ("phone", "4155552671", "INVALID_PHONE"),
        ("phone", "020 7946 0958", "INVALID_PHONE"),
        ("phone", "0044 20 7946 0958", "INVALID_PHONE"),
        ("phone", "+0 20 7946 0958", "INVALID_PHONE"),
        ("phone", "+1 555", "INVALID_PHONE"),
        ("phone", "+1 415 555 2671 ext 5", "INVALID_PHONE"),
        ("phone", "+", "INVALID_PHONE"),
        ("phone", "", "INVALID_PHONE"),
        ("phone", "+999 123456", "INVALID_PHONE"),
    ],
)
def test_parse_invalid(type_: str, raw: Any, code: str) -> None:
    assert parse_fails(fd(type_), raw) == [("f", code)]


def test_text_newline_message_points_to_long_text() -> None:
    with pytest.raises(InvalidValue, match="long_text"):
        parse(fd("text"), "a\nb")


@pytest.mark.parametrize("raw", ["020 7946 0958", "4155552671"])
def test_phone_without_country_code_says_international_format(raw: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse(fd("phone"), raw)
    assert "international format" in info.value.message
    assert "+" in info.value.message and "country code" in info.value.message


def test_email_error_says_what_is_expected() -> None:
    with pytest.raises(InvalidValue, match="email address"):
        parse(fd("email"), "nope")


# -- validate: length limits -----------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "attrs", "value", "result"),
    [
        ("text", {}, "a" * 255, []),
        ("text", {}, "a" * 256, [("f", "TOO_LONG")]),
        ("text", {"max_length": 3}, "abc", []),
        ("text", {"max_length": 3}, "abcd", [("f", "TOO_LONG")]),
        ("text", {"max_length": 1000}, "a" * 1000, []),
        ("long_text", {}, "a" * 65535, []),
        ("long_text", {}, "a" * 65536, [("f", "TOO_LONG")]),
        ("long_text", {"max_length": 10}, "a\n" * 6, [("f", "TOO_LONG")]),
        ("url", {}, "https://example.com/", []),
        ("url", {"max_length": 20}, "https://example.com/long", [("f", "TOO_LONG")]),
        ("email", {"max_length": 10}, "ada@example.com", [("f", "TOO_LONG")]),
        ("text", {}, None, []),
    ],
)
def test_validate_length(
    type_: str, attrs: dict[str, Any], value: Any, result: list[tuple[str, str]]
) -> None:
    assert validate(fd(type_, **attrs), value) == result


def test_too_long_message_gives_the_limit() -> None:
    (err,) = ft("text").validate("abcd", fd("text", max_length=3))
    assert "3" in err.message


# -- ops -----------------------------------------------------------------------------

TYPES = ["text", "long_text", "email", "url", "phone"]
SAMPLE = {
    "text": "x",
    "long_text": "x\ny",
    "email": "a@example.com",
    "url": "https://example.com/",
    "phone": "+14155552671",
}


@pytest.mark.parametrize("type_", TYPES)
def test_set_and_clear(type_: str) -> None:
    f = fd(type_)
    value = apply(f, None, "set", SAMPLE[type_])
    assert value == SAMPLE[type_]
    assert apply(f, value, "clear") is None
    assert ft(type_).is_empty(None)
    assert ft(type_).to_json(None, f) is None
    assert ft(type_).to_json(value, f) == value


@pytest.mark.parametrize("type_", TYPES)
@pytest.mark.parametrize("kind", ["add", "remove", "replace", "update"])
def test_multi_ops_not_supported(type_: str, kind: str) -> None:
    assert apply_fails(fd(type_), None, kind, [SAMPLE[type_]]) == [("f", "OP_NOT_SUPPORTED")]


@pytest.mark.parametrize("type_", TYPES)
def test_keyed_op_not_supported(type_: str) -> None:
    assert apply_fails(fd(type_), None, "set", "x", key="sub") == [("f.sub", "NOT_A_KEYED_FIELD")]


def test_set_invalid_raises() -> None:
    assert apply_fails(fd("text"), "old", "set", 5) == [("f", "NOT_A_STRING")]


# -- hooks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "value", "key"),
    [
        ("text", "Hello", "Hello"),
        ("text", None, None),
        ("text", "", None),
        ("email", "Ada@example.com", "ada@example.com"),
        ("phone", "+14155552671", "+14155552671"),
        ("url", "https://example.com/A", "https://example.com/A"),
    ],
)
def test_unique_key(type_: str, value: Any, key: str | None) -> None:
    assert ft(type_).unique_key(value, fd(type_)) == key


@pytest.mark.parametrize("type_", TYPES)
def test_kind_and_no_references(type_: str) -> None:
    t = ft(type_)
    assert t.sql_kind == "text"
    assert not t.multi
    assert list(t.references(SAMPLE[type_], fd(type_))) == []


# -- multi_text ---------------------------------------------------------------------


def test_multi_text_parses_distinct_lines_in_order() -> None:
    assert parse(fd("multi_text"), ["11th St", "Rockford", "11th St"]) == ["11th St", "Rockford"]


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        ("11th St", [("f", "NOT_A_LIST")]),
        (
            ["ok", 7, "", "two\nlines"],
            [("f[1]", "NOT_A_STRING"), ("f[2]", "INVALID_TEXT"), ("f[3]", "INVALID_TEXT")],
        ),
    ],
)
def test_multi_text_refuses_each_bad_item(raw: Any, found: list[tuple[str, str]]) -> None:
    assert parse_fails(fd("multi_text"), raw) == found


def test_multi_text_ops_and_item_length() -> None:
    f = fd("multi_text", max_length=5)
    assert apply(f, ["a", "b"], "add", ["c", "a"]) == ["a", "b", "c"]
    assert apply(f, ["a", "b"], "remove", ["a"]) == ["b"]
    assert validate(f, ["short", "too long"]) == [("f[1]", "TOO_LONG")]
