"""Every error class has a unique, stable code and renders as problem+json."""

from __future__ import annotations

import inspect

import orjson
import pytest

import cardfile.errors as errors_module
from cardfile.api.native.problems import problem_json, problem_response
from cardfile.errors import (
    ALL_ERRORS,
    BatchFailed,
    CardfileError,
    Duplicate,
    FieldError,
    NotFound,
    ValidationFailed,
)

FIELD_ERROR = FieldError("score", "NOT_AN_INTEGER", "expected a whole number")


def _instance(cls: type[CardfileError]) -> CardfileError:
    if issubclass(cls, ValidationFailed):
        return cls([FIELD_ERROR])
    if issubclass(cls, BatchFailed):
        return cls([(2, 17, NotFound("no contacts record with id 17"))])
    if issubclass(cls, Duplicate):
        return cls(
            "1 unique value(s) already taken", errors=[FieldError("email", "DUPLICATE_VALUE", "taken")]
        )
    return cls(f"something about {cls.__name__}")


def _all_subclasses(cls: type[CardfileError]) -> set[type[CardfileError]]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _all_subclasses(sub)
    return out


def test_all_errors_lists_every_error_class() -> None:
    defined = {
        c for _, c in inspect.getmembers(errors_module, inspect.isclass)
        if issubclass(c, CardfileError) and c.__module__ == errors_module.__name__
    }  # fmt: skip
    assert set(ALL_ERRORS) == defined
    assert {c for c in _all_subclasses(CardfileError) if c.__module__ == errors_module.__name__} <= set(
        ALL_ERRORS
    )
    assert len(ALL_ERRORS) == len(set(ALL_ERRORS))


def test_codes_are_unique() -> None:
    codes = [c.code for c in ALL_ERRORS]
    duplicates = {c for c in codes if codes.count(c) > 1}
    assert duplicates == set()
    assert all(c.code.isupper() and c.code.replace("_", "").isalpha() for c in ALL_ERRORS)
    # a subclass always names its own code, never inherits its parent's
    for cls in ALL_ERRORS:
        if cls is not CardfileError:
            assert "code" in vars(cls), cls


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_renders_as_problem_json(cls: type[CardfileError]) -> None:
    exc = _instance(cls)
    body = problem_json(exc)
    assert body["status"] == cls.status and 400 <= cls.status <= 599
    assert body["code"] == cls.code
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["title"] == cls.title
    assert body["type"] == "urn:cardfile:problem:" + cls.code.lower().replace("_", "-")
    orjson.dumps(body)  # serialisable as is

    resp = problem_response(exc)
    assert resp.status_code == cls.status
    assert resp.media_type == "application/problem+json"
    assert orjson.loads(bytes(resp.body)) == body
    if cls.status == 401:
        assert resp.headers["www-authenticate"].startswith("Bearer")
    if cls.status in (429, 503):
        assert resp.headers["retry-after"] == "1"


def test_field_errors_and_failures_are_rendered() -> None:
    body = problem_json(ValidationFailed([FIELD_ERROR, FieldError("tags[1]", "INVALID_OPTION", "no")]))
    assert body["errors"] == [
        {"field": "score", "code": "NOT_AN_INTEGER", "message": "expected a whole number"},
        {"field": "tags[1]", "code": "INVALID_OPTION", "message": "no"},
    ]
    assert body["detail"] == "2 field errors"

    inner = ValidationFailed([FIELD_ERROR])
    body = problem_json(BatchFailed([(0, 5, inner), (3, 9, NotFound("gone"))]))
    assert body["failures"] == [
        {"index": 0, "id": 5, "status": 422, "code": "VALIDATION_FAILED", "detail": "1 field error",
         "errors": [FIELD_ERROR.to_json()]},
        {"index": 3, "id": 9, "status": 404, "code": "NOT_FOUND", "detail": "gone"},
    ]  # fmt: skip
    assert body["detail"] == "2 records failed; nothing was changed"


def test_extra_members_do_not_override_the_standard_ones() -> None:
    body = problem_json(NotFound("gone", status=200, code="OK", hint="check the id"))
    assert (body["status"], body["code"], body["hint"]) == (404, "NOT_FOUND", "check the id")
