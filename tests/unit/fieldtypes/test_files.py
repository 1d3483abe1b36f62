"""files: a set of {url, name}, keyed by url."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.fieldtypes.helpers import apply, apply_fails, fd, ft, parse, parse_fails

A = {"url": "https://example.com/docs/a.pdf", "name": "a.pdf"}
B = {"url": "https://example.com/b.png", "name": "Logo"}


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ([], []),
        ([A], [A]),
        ([{"url": "https://example.com/docs/a.pdf"}], [A]),
        (["https://example.com/docs/a.pdf"], [A]),
        ([{"url": "https://example.com/docs/a.pdf", "name": None}], [A]),
        ([{"url": "https://example.com/docs/a.pdf", "name": ""}], [A]),
        ([{"url": "https://example.com/x/", "name": None}], [{"url": "https://example.com/x/", "name": "x"}]),
        (
            ["https://example.com/my%20file.pdf"],
            [{"url": "https://example.com/my%20file.pdf", "name": "my file.pdf"}],
        ),
        (["https://example.com/f.pdf?v=2"], [{"url": "https://example.com/f.pdf?v=2", "name": "f.pdf"}]),
        (["https://example.com"], [{"url": "https://example.com", "name": "example.com"}]),
        (["https://example.com/%0A"], [{"url": "https://example.com/%0A", "name": "example.com"}]),
        ([{"url": "https://example.com/b.png", "name": " Logo "}], [B]),
        ([A, B, {"url": A["url"], "name": "other"}], [A, B]),  # one per url, first wins
    ],
)
def test_parse_valid(raw: Any, stored: Any) -> None:
    assert parse(fd("files"), raw) == stored


@pytest.mark.parametrize(
    ("raw", "result"),
    [
        (A, [("f", "NOT_A_LIST")]),
        ("https://example.com/a.pdf", [("f", "NOT_A_LIST")]),
        ([5], [("f[0]", "INVALID_FILE")]),
        ([{"name": "a.pdf"}], [("f[0].url", "INVALID_FILE")]),
        ([{"url": "https://example.com/a", "size": 3}], [("f[0]", "INVALID_FILE")]),
        ([{"url": "not a url"}], [("f[0].url", "INVALID_URL")]),
        ([{"url": "ftp://example.com/a"}], [("f[0].url", "INVALID_URL")]),
        (["example.com/a.pdf"], [("f[0].url", "INVALID_URL")]),
        ([{"url": 5}], [("f[0].url", "NOT_A_STRING")]),
        ([{"url": "https://example.com/" + "a" * 2100}], [("f[0].url", "TOO_LONG")]),
        ([{"url": "https://example.com/a", "name": 5}], [("f[0].name", "NOT_A_STRING")]),
        ([{"url": "https://example.com/a", "name": "a\nb"}], [("f[0].name", "INVALID_TEXT")]),
        ([{"url": "https://example.com/a", "name": "   "}], [("f[0].name", "INVALID_FILE")]),
        ([{"url": "https://example.com/a", "name": "n" * 256}], [("f[0].name", "INVALID_FILE")]),
        ([A, 5, "nope"], [("f[1]", "INVALID_FILE"), ("f[2].url", "INVALID_URL")]),
    ],
)
def test_parse_invalid(raw: Any, result: list[tuple[str, str]]) -> None:
    assert parse_fails(fd("files"), raw) == result


@pytest.mark.parametrize(
    ("current", "kind", "value", "result"),
    [
        (None, "set", [A], [A]),
        ([A], "replace", [B], [B]),
        ([A], "add", [B], [A, B]),
        ([A], "add", [{"url": A["url"], "name": "renamed"}], [A]),
        ([A, B], "remove", [A["url"]], [B]),
        ([A, B], "remove", [{"url": B["url"]}], [A]),
        ([A, B], "remove", [{"url": B["url"], "name": "whatever"}], [A]),
        ([A], "remove", ["https://example.com/unknown"], [A]),
        ([A, B], "clear", None, []),
    ],
)
def test_ops(current: Any, kind: str, value: Any, result: Any) -> None:
    assert apply(fd("files"), current, kind, value) == result


@pytest.mark.parametrize(
    ("kind", "value", "result"),
    [
        ("remove", ["nope"], [("f[0].url", "INVALID_URL")]),
        ("add", [{"url": "x"}], [("f[0].url", "INVALID_URL")]),
        ("update", [A], [("f", "OP_NOT_SUPPORTED")]),
    ],
)
def test_ops_invalid(kind: str, value: Any, result: list[tuple[str, str]]) -> None:
    assert apply_fails(fd("files"), [A], kind, value) == result


def test_hooks() -> None:
    f = fd("files")
    t = ft("files")
    assert t.multi
    assert t.sql_kind is None
    assert t.to_json(None, f) == []
    assert t.to_json([A], f) == [A]
    assert t.unique_key([A], f) is None
    assert t.item_key(A) == A["url"]  # type: ignore[attr-defined]
