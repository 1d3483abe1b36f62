"""Engine records and errors -> TIBCO MDM JSON, as pure functions (tibco_mdm/render.py, errors.py).

Only the functions that take no database connection: the service message of a write, a
record as the read calls return it (the target of a relationship named by a given
function), and every ``CardfileError`` class as ``{responseMessages, records, success}``
with its HTTP status. No server, no database.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cardfile.api.dialects.tibco_mdm.errors import MdmRejected, error_body, error_response, status_of
from cardfile.api.dialects.tibco_mdm.parse import Problem, RecordRef
from cardfile.api.dialects.tibco_mdm.render import identity_json, record_json, service_name, success_body
from cardfile.api.dialects.tibco_mdm.repository import Repository, find_repository
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
from tests.unit.dialects.helpers import ERROR_CLASSES, error_instance, ids, schema


def _repo(name: str) -> Repository:
    repo = find_repository(schema("mdm"), name)
    assert repo is not None
    return repo


COMPANY = _repo("Company")

RECORD: dict[str, Any] = {
    "id": 12,
    "version": 3,
    "product_id": "record1",
    "product_id_ext": "record1",
    "state": "CONFIRMED",
    "deleted": False,
    "name": "TIBCO",
    "address": None,
    "street": ["11th St", "Rockford"],
    "website": "https://in.yahoo.com/",
    "rating": "10.10",
    "company_source": "IT SOURCE",
    "company_rating": 9,
    "company_customer": [{"id": 1, "target": 30, "r_customer_type": "Gold", "r_company_type": None}],
}


def _target(type_name: str, rid: int) -> dict[str, Any] | None:
    return {
        "repositoryName": "Customer",
        "productId": f"c{rid}",
        "productIdExt": None,
        "productKeyId": str(rid),
    }


@pytest.mark.parametrize(
    ("validate", "process", "name"),
    [(None, True, "VALIDATE_PROCESS"), (True, True, "VALIDATE_PROCESS"), (False, True, "NOVALIDATE_PROCESS"),
     (None, False, "VALIDATE_NOPROCESS"), (False, False, "NOVALIDATE_NOPROCESS")],
)  # fmt: skip
def test_service_name(validate: bool | None, process: bool, name: str) -> None:
    assert service_name(validate, process) == name


def test_the_success_body() -> None:
    assert success_body("VALIDATE_PROCESS", [("SVC-1", "validated only")]) == {
        "responseMessages": [
            {
                "code": "SVC-11025",
                "message": "Service 'VALIDATE_PROCESS' executed successfully.",
                "type": "Info",
            },
            {"code": "SVC-1", "message": "validated only", "type": "Info"},
        ],
        "records": [],
        "success": True,
    }


def test_identity() -> None:
    assert identity_json(COMPANY, RECORD) == {
        "repositoryName": "Company", "productId": "record1", "productIdExt": "record1", "productKeyId": "12",
    }  # fmt: skip
    assert identity_json(COMPANY, None, RecordRef("Company", 7, None, None)) == {
        "repositoryName": "Company", "productId": "7", "productIdExt": None, "productKeyId": None,
    }  # fmt: skip


def test_a_record_as_read() -> None:
    out = record_json(COMPANY, RECORD, allowed=None, target_identity=_target)
    assert {k: out[k] for k in ("repositoryName", "productId", "productIdExt", "productKeyId", "version", "state",
                                "deleted")} == {
        "repositoryName": "Company", "productId": "record1", "productIdExt": "record1", "productKeyId": "12",
        "version": "3", "state": "CONFIRMED", "deleted": False,
    }  # fmt: skip
    assert out["attributes"] == [
        {"name": "Name", "displayName": "Name", "multivalue": False, "value": "TIBCO"},
        {"name": "Address", "displayName": "Address", "multivalue": False, "value": None},
        {
            "name": "Street",
            "displayName": "Street",
            "multivalue": True,
            "multivalues": ["11th St", "Rockford"],
        },
        {"name": "Website", "displayName": "Website", "multivalue": False, "value": "https://in.yahoo.com/"},
        {"name": "Rating", "displayName": "Rating", "multivalue": False, "value": "10.10"},
        {"name": "CompanySource", "displayName": "Company source", "multivalue": False, "value": "IT SOURCE"},
        {"name": "CompanyRating", "displayName": "Company rating", "multivalue": False, "value": "9"},
    ]
    (rel,) = out["relationships"]["CompanyCustomer"]
    assert rel["targetRecord"] == _target("customer", 30)
    assert [(a["name"], a["value"]) for a in rel["relationshipAttributes"]] == [
        ("RCustomerType", "Gold"), ("RCompanyType", None),
    ]  # fmt: skip


def test_a_perspective_limits_the_record() -> None:
    out = record_json(
        COMPANY, RECORD, allowed=frozenset({"rating", "company_rating"}), target_identity=_target
    )
    assert [a["name"] for a in out["attributes"]] == ["Rating", "CompanyRating"]
    assert out["relationships"] == {}


def test_values_go_out_as_strings() -> None:
    rec = {**RECORD, "company_rating": None, "street": None, "deleted": None, "company_customer": None}
    out = record_json(COMPANY, rec, allowed=None, target_identity=_target)
    by_name = {a["name"]: a for a in out["attributes"]}
    assert by_name["CompanyRating"]["value"] is None and by_name["Street"]["multivalues"] == []
    assert out["deleted"] is False and out["relationships"] == {"CompanyCustomer": []}


# -- errors: every class ------------------------------------------------------------------------------
DETAIL = "something went wrong"
# class -> (HTTP status, the first message's code)
SHAPES: dict[type[CardfileError], tuple[int, str]] = {
    CardfileError: (500, "INTERNAL_ERROR"),
    BadRequest: (400, "BAD_REQUEST"),
    MalformedBody: (400, "MALFORMED_JSON"),
    LimitExceeded: (400, "LIMIT_EXCEEDED"),
    Unauthenticated: (401, "UNAUTHENTICATED"),
    PermissionDenied: (403, "PERMISSION_DENIED"),
    ScopeMissing: (403, "INSUFFICIENT_SCOPE"),
    UserInactive: (403, "USER_INACTIVE"),
    NotFound: (404, "NOT_FOUND"),
    UnknownRecordType: (400, "UNKNOWN_RECORD_TYPE"),  # an unknown repository
    Conflict: (400, "CONFLICT"),
    Duplicate: (400, "DUPLICATE_VALUE"),  # a duplicate identity is a validation error of the record
    IdempotencyKeyReused: (400, "IDEMPOTENCY_KEY_REUSED"),
    RecordLocked: (400, "RECORD_LOCKED"),
    LinkedRecordLocked: (400, "LINKED_RECORD_LOCKED"),
    RecordFrozen: (400, "NOT_FOUND"),  # the code clients handled before the engine owned the rule
    PreconditionFailed: (409, "PRECONDITION_FAILED"),
    PreconditionRequired: (428, "PRECONDITION_REQUIRED"),
    PayloadTooLarge: (413, "PAYLOAD_TOO_LARGE"),
    UnsupportedMediaType: (415, "UNSUPPORTED_MEDIA_TYPE"),
    ValidationFailed: (400, "VALIDATION_FAILED"),
    RateLimited: (429, "RATE_LIMITED"),
    Locked: (503, "DATABASE_LOCKED"),
    # not in the status table: CardfileError's 500 (MDM's calls write one record, so no batch fails)
    BatchFailed: (500, "BATCH_FAILED"),
}


def test_the_table_names_every_error_class() -> None:
    assert set(ERROR_CLASSES) <= set(SHAPES)


@pytest.mark.parametrize("cls", list(SHAPES), ids=ids)
def test_every_error_class(cls: type[CardfileError]) -> None:
    status, code = SHAPES[cls]
    exc = error_instance(cls, DETAIL)
    assert status_of(exc) == status == status_of(cls)
    body = error_body(exc)
    assert body["success"] is False and body["records"] == []
    assert body["responseMessages"][0] == {"code": code, "message": exc.detail, "type": "Error"}
    r = error_response(exc)
    assert r.status_code == status and orjson.loads(r.body) == body
    assert ("retry-after" in r.headers) == (status in (429, 503))
    assert (r.headers.get("www-authenticate") == 'Bearer realm="cardfile"') == (status == 401)


def test_not_found_in_a_modify_body_is_a_bad_request() -> None:
    assert status_of(NotFound("no record"), not_found=400) == 400
    assert status_of(UnknownRecordType("no repo"), not_found=400) == 400
    assert error_response(NotFound("no record"), not_found=400).status_code == 400


def test_a_rejected_record_lists_every_failing_attribute() -> None:
    record = {"repositoryName": "Company", "productId": "record1", "productIdExt": None, "productKeyId": None}
    rel = {"relationshipName": "CompanyCustomer", "sourceRepositoryName": "Company",
           "targetRepositoryName": "Customer", "recordId": "c1", "recordIdExt": None, "productKeyId": None,
           "responseAttributes": []}  # fmt: skip
    problems = [
        Problem("UNKNOWN_ATTRIBUTE", "there is no attribute 'Colour'", "Colour", "Colour", ("red",)),
        Problem("NOT_A_LIST", "'attributes' must be a list of attributes"),  # of the record: a message
    ]
    exc = MdmRejected(record, problems, [rel])
    assert exc.detail == "3 errors; nothing was saved" and status_of(exc) == 400
    assert error_body(exc) == {
        "responseMessages": [
            {"code": "VALIDATION_FAILED", "message": "3 errors; nothing was saved", "type": "Error"},
            {"code": "NOT_A_LIST", "message": "'attributes' must be a list of attributes", "type": "Error"},
        ],
        "records": [
            {
                **record,
                "responseAttributes": [
                    {"attributeName": "Colour", "attributeDisplayName": "Colour", "values": ["red"],
                     "errorCode": "UNKNOWN_ATTRIBUTE", "errorMessage": "there is no attribute 'Colour'",
                     "errorType": "Error"},
                ],
                "responseRelationships": [rel],
            }
        ],
        "success": False,
    }  # fmt: skip


MESSAGES: list[tuple[str, CardfileError, list[dict[str, str]]]] = [
    ("every field error", ValidationFailed([FieldError("name", "REQUIRED", "required"),
     FieldError("company_rating", "TOO_LARGE", "at most 10")]),
     [{"code": "VALIDATION_FAILED", "message": "2 field errors", "type": "Error"},
      {"code": "REQUIRED", "message": "name: required", "type": "Error"},
      {"code": "TOO_LARGE", "message": "company_rating: at most 10", "type": "Error"}]),
    ("a duplicate's fields", Duplicate("duplicate identity", errors=[FieldError("product_id", "DUPLICATE_VALUE", "taken")]),
     [{"code": "DUPLICATE_VALUE", "message": "duplicate identity", "type": "Error"},
      {"code": "DUPLICATE_VALUE", "message": "product_id: taken", "type": "Error"}]),
    ("a request problem names its parameter", BadRequest("must be true or false", field="process"),
     [{"code": "BAD_REQUEST", "message": "process: must be true or false", "type": "Error"}]),
]  # fmt: skip


@pytest.mark.parametrize(("exc", "messages"), [r[1:] for r in MESSAGES], ids=[r[0] for r in MESSAGES])
def test_messages(exc: CardfileError, messages: list[dict[str, str]]) -> None:
    assert error_body(exc)["responseMessages"] == messages
