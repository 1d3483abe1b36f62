"""Engine records and errors -> HighLevel JSON, as pure functions (highlevel/render.py, errors.py).

Only the functions that take no database connection: a record (the engine's record JSON,
with the users' HighLevel ids given as a mapping), an object and its fields, and every
``CardfileError`` class as ``{statusCode, message, error, code}``. No server, no database.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cardfile.api.dialects.highlevel.errors import engine_paths, error_json, error_response, status_of
from cardfile.api.dialects.highlevel.ids import NotSupported
from cardfile.api.dialects.highlevel.render import (
    field_json,
    object_json,
    primary_property,
    properties,
    record_json,
    timestamp,
    user_ids,
)
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
from tests.unit.dialects.helpers import ERROR_CLASSES, error_instance, fd, ids, record_type

TICKET = record_type("highlevel", "event_ticket")
T0 = "2024-07-11T09:30:00.123456Z"
T1 = "2024-07-12T10:00:00.654321Z"

RECORD: dict[str, Any] = {
    "id": 42,
    "version": 2,
    "created_at": T0,
    "created_by": "jo@example.com",
    "modified_at": T1,
    "modified_by": "jo@example.com",
    "ticket_name": "Customer not able to login",
    "owners": [1],
    "followers": [1, 7],
    "description": None,
    "my_textbox_list": {"option_a": "Value 1"},
    "customer_number": 1424,
    "phone_number": "+917000000000",
    "money": {"currency": "USD", "value": 100},
    "type_of_ticket": "option_1_internal_key",
    "section_of_app": [],
    "checklist": ["reproduced"],
    "my_files": [],
}


def test_a_record_as_highlevel_shows_it() -> None:
    out = record_json(TICKET, RECORD, {1: "v5cEPM428h8vShlRW1KT"})
    assert out == {
        "id": "00000000000000000000002a",
        "objectKey": "custom_objects.event_ticket",
        "owner": ["v5cEPM428h8vShlRW1KT"],
        "followers": ["v5cEPM428h8vShlRW1KT", "7"],  # an unmapped user: the cardfile id
        "properties": {
            "ticket_name": "Customer not able to login",
            "my_textbox_list": {"option_a": "Value 1"},
            "customer_number": 1424,
            "phone_number": "+917000000000",
            "money": {"currency": "default", "value": 100},  # the field's own currency
            "type_of_ticket": "option_1_internal_key",
            "checklist": ["reproduced"],
        },
        "createdAt": "2024-07-11T09:30:00.123Z",
        "updatedAt": "2024-07-12T10:00:00.654Z",
        "dateAdded": "2024-07-11T09:30:00.123Z",
        "dateUpdated": "2024-07-12T10:00:00.654Z",
    }


def test_money_in_another_currency_names_it() -> None:
    assert properties(TICKET, {"money": {"currency": "EUR", "value": 5}}) == {
        "money": {"currency": "EUR", "value": 5}
    }


def test_the_users_a_response_names() -> None:
    assert user_ids([RECORD, {"owners": [3], "followers": None}]) == {1, 3, 7}


@pytest.mark.parametrize(
    ("iso", "hl"), [("2024-07-11T09:30:00.123456Z", "2024-07-11T09:30:00.123Z"), ("2024-07-11", "2024-07-11")]
)
def test_timestamp(iso: str, hl: str) -> None:
    assert timestamp(iso) == hl


def test_an_object() -> None:
    out = object_json(TICKET)
    assert out["key"] == "custom_objects.event_ticket" and out["standard"] is False
    assert out["labels"] == {
        "singular": TICKET.label or "event_ticket",
        "plural": TICKET.label or "event_ticket",
    }
    assert out["primaryDisplayProperty"] == "custom_objects.event_ticket.ticket_name"
    assert len(out["id"]) == 24 and out["id"] == object_json(TICKET)["id"]  # stable
    assert primary_property(TICKET) == fd(TICKET, "ticket_name")


FIELDS = [
    ("ticket_name", "TEXT", None),
    ("description", "LARGE_TEXT", None),
    ("my_textbox_list", "TEXTBOX_LIST", ["option_a", "option_b", "option_c"]),
    ("customer_number", "NUMERICAL", None),
    ("phone_number", "PHONE", None),
    ("money", "MONETORY", None),  # HighLevel's spelling
    (
        "type_of_ticket",
        "SINGLE_OPTIONS",
        ["option_1_internal_key", "option_2_internal_key", "option_3_internal_key"],
    ),
    ("section_of_app", "MULTIPLE_OPTIONS", [f"option_{i}_internal_key" for i in (1, 2, 3, 4)]),
    ("priority", "RADIO", ["low", "medium", "high"]),
    ("checklist", "CHECKBOX", ["reproduced", "customer_notified", "escalated"]),
    ("recieved_on", "DATE", None),
    ("my_files", "FILE_UPLOAD", None),
    ("owners", "MULTI_USER", None),  # no HighLevel type: cardfile's, upper-cased
]


@pytest.mark.parametrize(("name", "data_type", "options"), FIELDS)
def test_a_field(name: str, data_type: str, options: list[str] | None) -> None:
    field = fd(TICKET, name)
    out = field_json(TICKET, field)
    assert (
        out["fieldKey"] == f"custom_objects.event_ticket.{name}"
        and out["objectKey"] == "custom_objects.event_ticket"
    )
    assert out["name"] == (field.label or name) and out["dataType"] == data_type
    assert [o["key"] for o in out.get("options", [])] == (options or [])
    assert out.get("currency") == ("USD" if name == "money" else None)


# -- errors: every class ------------------------------------------------------------------------------
DETAIL = "something went wrong"
# class -> (HTTP status, "error", code)
SHAPES: dict[type[CardfileError], tuple[int, str, str]] = {
    CardfileError: (500, "Internal Server Error", "INTERNAL_ERROR"),
    BadRequest: (400, "Bad Request", "BAD_REQUEST"),
    MalformedBody: (400, "Bad Request", "MALFORMED_JSON"),
    LimitExceeded: (400, "Bad Request", "LIMIT_EXCEEDED"),
    Unauthenticated: (401, "Unauthorized", "UNAUTHENTICATED"),
    PermissionDenied: (403, "Forbidden", "PERMISSION_DENIED"),
    ScopeMissing: (401, "Unauthorized", "INSUFFICIENT_SCOPE"),  # 401, as HighLevel answers it
    UserInactive: (403, "Forbidden", "USER_INACTIVE"),
    NotFound: (404, "Not Found", "NOT_FOUND"),
    UnknownRecordType: (404, "Not Found", "UNKNOWN_RECORD_TYPE"),
    Conflict: (409, "Conflict", "CONFLICT"),
    Duplicate: (409, "Conflict", "DUPLICATE_VALUE"),
    IdempotencyKeyReused: (422, "Unprocessable Entity", "IDEMPOTENCY_KEY_REUSED"),
    RecordLocked: (423, "Locked", "RECORD_LOCKED"),
    LinkedRecordLocked: (423, "Locked", "LINKED_RECORD_LOCKED"),
    RecordFrozen: (409, "Conflict", "RECORD_FROZEN"),
    PreconditionFailed: (412, "Precondition Failed", "PRECONDITION_FAILED"),
    PreconditionRequired: (428, "Precondition Required", "PRECONDITION_REQUIRED"),
    PayloadTooLarge: (413, "Request Entity Too Large", "PAYLOAD_TOO_LARGE"),
    UnsupportedMediaType: (415, "Unsupported Media Type", "UNSUPPORTED_MEDIA_TYPE"),
    ValidationFailed: (400, "Bad Request", "VALIDATION_FAILED"),  # 400, as HighLevel documents
    RateLimited: (429, "Too Many Requests", "RATE_LIMITED"),
    Locked: (503, "Service Unavailable", "DATABASE_LOCKED"),
    BatchFailed: (422, "Unprocessable Entity", "BATCH_FAILED"),
    NotSupported: (400, "Bad Request", "NOT_SUPPORTED"),
}


def test_the_table_names_every_error_class() -> None:
    assert set(ERROR_CLASSES) <= set(SHAPES)


@pytest.mark.parametrize("cls", list(SHAPES), ids=ids)
def test_every_error_class(cls: type[CardfileError]) -> None:
    status, reason, code = SHAPES[cls]
    exc = error_instance(cls, DETAIL)
    body = error_json(exc)
    assert status_of(exc) == status
    assert (body["statusCode"], body["error"], body["code"]) == (status, reason, code)
    if cls is ValidationFailed:
        assert body["message"] == ["name: bad"]
        assert body["errors"] == [{"property": "name", "code": "INVALID_TEXT", "message": "bad"}]
    elif cls is ScopeMissing:
        assert body["message"] == "The token is not authorized for this scope." and body["detail"] == DETAIL
    else:
        assert body["message"] == exc.detail and "errors" not in body
    r = error_response(exc)
    assert r.status_code == status and orjson.loads(r.body) == body
    assert ("retry-after" in r.headers) == (status in (429, 503))
    assert (r.headers.get("www-authenticate") == 'Bearer realm="cardfile"') == (status == 401)


ERRORS: list[tuple[str, CardfileError, dict[str, Any]]] = [
    ("several field errors, every one", ValidationFailed([FieldError("properties.phone_number", "INVALID_PHONE", "bad"),
     FieldError("owners.add[0]", "USER_NOT_FOUND", "no user")]),
     {"message": ["properties.phone_number: bad", "owners.add[0]: no user"],
      "errors": [{"property": "properties.phone_number", "code": "INVALID_PHONE", "message": "bad"},
                 {"property": "owners.add[0]", "code": "USER_NOT_FOUND", "message": "no user"}]}),
    ("a duplicate names its property", Duplicate("dup", errors=[FieldError("properties.ticket_name", "DUPLICATE_VALUE",
     "taken")]), {"message": ["properties.ticket_name: taken"],
                  "errors": [{"property": "properties.ticket_name", "code": "DUPLICATE_VALUE", "message": "taken"}]}),
    ("admin-only fields, by engine field", PermissionDenied("admin only", errors=[{"field": "money", "code": "ADMIN_ONLY",
     "message": "admins only"}]), {"message": "admin only",
                                   "errors": [{"property": "properties.money", "code": "ADMIN_ONLY", "message": "admins only"}]}),
    ("an error naming its input", BadRequest("not a key", property="customObjectKey"),
     {"message": "not a key", "errors": [{"property": "customObjectKey", "code": "BAD_REQUEST", "message": "not a key"}]}),
    ("the scope that grants a write", ScopeMissing("no", required_scope="records.event_ticket.UPDATE"),
     {"message": "The token is not authorized for this scope.", "detail": "no",
      "requiredScopes": ["objects/record.write", "records.event_ticket.UPDATE"]}),
    ("the scope that grants reading metadata", ScopeMissing("no", required_scope="metadata.READ"),
     {"message": "The token is not authorized for this scope.", "detail": "no",
      "requiredScopes": ["objects/schema.readonly", "metadata.READ"]}),
]  # fmt: skip


@pytest.mark.parametrize(("exc", "expected"), [r[1:] for r in ERRORS], ids=[r[0] for r in ERRORS])
def test_what_failed(exc: CardfileError, expected: dict[str, Any]) -> None:
    body = error_json(exc)
    assert {k: body[k] for k in expected} == expected


def test_engine_field_errors_get_highlevel_paths() -> None:
    with pytest.raises(ValidationFailed) as info, engine_paths():
        raise ValidationFailed(
            [FieldError("phone_number", "INVALID_PHONE", "bad"), FieldError("owners", "X", "y")]
        )
    assert [e.field for e in info.value.errors] == ["properties.phone_number", "owners"]
    with pytest.raises(Duplicate) as dup, engine_paths():
        raise Duplicate("dup", errors=[FieldError("ticket_name", "DUPLICATE_VALUE", "taken")])
    assert [e.field for e in dup.value.errors] == ["properties.ticket_name"]


def test_rate_limited_headers() -> None:
    r = error_response(RateLimited("slow", retry_after=0, limit=10, remaining=0, reset=5, policy="10;w=60"))
    assert r.headers["retry-after"] == "1" and "ratelimit-policy" in r.headers
