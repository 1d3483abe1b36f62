"""Engine outcomes -> Tracker widget bodies, as pure functions (tracker_widget/render.py, errors.py).

Every outcome is ``{"status", "message", "count"}`` (plus ``detail`` on errors) with HTTP
200 for the seed's outcomes; transport-level refusals keep their own HTTP status. Every
``CardfileError`` class maps to one outcome. No server, no database.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cardfile.api.dialects.tracker_widget.errors import (
    COLUMN_NOT_FOUND,
    INVALID_REQUEST,
    MESSAGES,
    RECORD_NOT_FOUND,
    SUCCESS,
    USER_NOT_ACTIVE,
    USER_NOT_FOUND,
    InternalError,
    Outcome,
    UnknownMethod,
    outcome_of,
)
from cardfile.api.dialects.tracker_widget.render import error_response, internal_response, success_response
from cardfile.errors import (
    BadRequest,
    BatchFailed,
    CardfileError,
    Conflict,
    Duplicate,
    FieldError,
    IdempotencyKeyReused,
    LimitExceeded,
    LinkedRecordLocked,
    Locked,
    MalformedBody,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    PreconditionFailed,
    PreconditionRequired,
    RateLimited,
    RecordFrozen,
    RecordLocked,
    ScopeMissing,
    Unauthenticated,
    UnknownRecordType,
    UnsupportedMediaType,
    UserInactive,
    ValidationFailed,
)
from tests.unit.dialects.helpers import ERROR_CLASSES, error_instance, ids


def _body(response: Any) -> dict[str, Any]:
    return orjson.loads(response.body)


def test_the_seeds_success_body() -> None:
    r = success_response()
    assert (r.status_code, r.media_type) == (200, "application/json")
    assert _body(r) == {"status": 0, "message": "success", "count": 0}
    assert _body(success_response(3, settings=[{"id": 1}])) == {
        "status": 0, "message": "success", "count": 3, "settings": [{"id": 1}],
    }  # fmt: skip


def test_the_seeds_messages() -> None:
    assert MESSAGES == {
        SUCCESS: "success",
        USER_NOT_FOUND: "user not found",
        USER_NOT_ACTIVE: "user not active",
        RECORD_NOT_FOUND: "record not found",
        COLUMN_NOT_FOUND: "column not found",
        INVALID_REQUEST: "Invalid request",
    }


# class -> (the widget's status, HTTP status)
OUTCOMES: dict[type[CardfileError], tuple[int, int]] = {
    CardfileError: (99, 200),
    BadRequest: (99, 200),
    MalformedBody: (99, 200),
    LimitExceeded: (99, 200),
    Unauthenticated: (1, 200),
    PermissionDenied: (99, 200),
    ScopeMissing: (99, 200),
    UserInactive: (2, 200),
    NotFound: (3, 200),
    UnknownRecordType: (99, 200),
    Conflict: (99, 200),
    Duplicate: (99, 200),
    IdempotencyKeyReused: (99, 200),
    RecordLocked: (99, 200),
    LinkedRecordLocked: (99, 200),
    RecordFrozen: (99, 200),
    PreconditionFailed: (99, 200),
    PreconditionRequired: (99, 200),
    PayloadTooLarge: (99, 413),
    UnsupportedMediaType: (99, 200),
    ValidationFailed: (99, 200),
    RateLimited: (99, 429),
    Locked: (99, 503),
    BatchFailed: (99, 200),
    # the dialect's own
    InternalError: (99, 500),
    UnknownMethod: (99, 404),
}


def test_the_table_names_every_error_class() -> None:
    assert set(ERROR_CLASSES) <= set(OUTCOMES)


@pytest.mark.parametrize("cls", list(OUTCOMES), ids=ids)
def test_every_error_class(cls: type[CardfileError]) -> None:
    status, http_status = OUTCOMES[cls]
    exc = error_instance(cls, "what was wrong")
    assert outcome_of(exc) == Outcome(status, http_status)
    r = error_response(exc)
    assert r.status_code == http_status and r.media_type == "application/json"
    detail = "name: bad" if cls is ValidationFailed else exc.detail
    assert _body(r) == {"status": status, "message": MESSAGES[status], "count": 0, "detail": detail}
    assert ("retry-after" in r.headers) == (http_status in (429, 503))


def test_an_unknown_column_is_outcome_4() -> None:
    exc = ValidationFailed(
        [FieldError("x", "NOT_A_NUMBER", "bad"), FieldError("shoesize", "UNKNOWN_FIELD", "no column")]
    )
    assert outcome_of(exc) == Outcome(COLUMN_NOT_FOUND)
    assert _body(error_response(exc)) == {
        "status": 4, "message": "column not found", "count": 0, "detail": "x: bad; shoesize: no column",
    }  # fmt: skip


def test_a_duplicate_lists_its_fields() -> None:
    exc = Duplicate("dup", errors=[FieldError("email", "DUPLICATE_VALUE", "taken")])
    assert _body(error_response(exc))["detail"] == "email: taken"


def test_retry_after_and_rate_limit_headers() -> None:
    r = error_response(
        RateLimited("slow down", retry_after=0, limit=100, remaining=0, reset=30, policy="100;w=60")
    )
    assert r.headers["retry-after"] == "1"  # at least a second
    assert "ratelimit" in r.headers and r.headers["ratelimit-policy"]
    assert error_response(Locked("busy", retry_after=4)).headers["retry-after"] == "4"


def test_an_internal_error() -> None:
    r = internal_response()
    assert r.status_code == 500
    assert _body(r) == {"status": 99, "message": "Invalid request", "count": 0,
                        "detail": "an unexpected error occurred; it has been logged"}  # fmt: skip
