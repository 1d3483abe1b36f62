"""Engine results -> Zoho CRM JSON, as pure functions (zoho_crm/render.py, zoho_crm/errors.py).

Records (the engine's record JSON) and ``WriteResult``s render through ``Renderer``, whose
names of linked records and users come from a fake of ``cardfile.engine.names.Names``;
every ``CardfileError`` class renders as Zoho's ``{code, details, message, status}`` with
its HTTP status. No server, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import pytest

from cardfile.api.dialects.zoho_crm.auth import MissingToken
from cardfile.api.dialects.zoho_crm.errors import (
    ALREADY_MODIFIED,
    InvalidId,
    InvalidMethod,
    InvalidUrl,
    MandatoryMissing,
    NotApproved,
    error_of,
    error_response,
    privilege_error,
)
from cardfile.api.dialects.zoho_crm.modules import InvalidModule, UnsupportedModule
from cardfile.api.dialects.zoho_crm.render import Renderer, primary_field, zoho_time
from cardfile.engine.names import Person
from cardfile.engine.results import WriteResult
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
from cardfile.schema.model import Schema
from tests.unit.dialects.helpers import ERROR_CLASSES, error_instance, ids, record_type, schema

DEALS = record_type("zoho", "zoho_deals")
EVENTS = record_type("zoho", "zoho_events")
T0 = "2021-05-02T05:47:33.123456Z"
T1 = "2021-05-03T08:00:00.000000Z"


class FakeNames:
    """``engine.names.Names`` without a database: names by (type, id), people by id or email;
    every read is recorded, to count the queries a response costs."""

    def __init__(self, records: dict[tuple[str, int], str], people: list[Person]) -> None:
        self.schema: Schema = schema("zoho")
        self._records = records
        self._people = people
        self.reads: list[tuple[str, ...]] = []

    def record_values(self, type_name: str, ids: Iterable[int], field: str) -> dict[int, Any]:
        wanted = sorted(ids)
        if wanted:  # as Names: nothing wanted, no query
            self.reads.append(("records", type_name, field))
        return {i: self._records[(type_name, i)] for i in wanted if (type_name, i) in self._records}

    def people(self, ids: Iterable[int], emails: Iterable[str]) -> list[Person]:
        ids, emails = set(ids), set(emails)
        self.reads.append(("people",))
        return [p for p in self._people if p.id in ids or p.email in emails]


PATRICIA = Person(554023000000235011, "Patricia Boyle", "patricia@example.com")
SMITH = Person(3652397000000281001, "J Smith", "smith@example.com")


def _names() -> FakeNames:
    return FakeNames(
        {("zoho_accounts", 5): "Zylker", ("zoho_listings", 9): "Harbour view"},
        [PATRICIA, SMITH],
    )


DEAL: dict[str, Any] = {
    "id": 554023000000527003,
    "version": 3,
    "created_at": T0,
    "created_by": "patricia@example.com",
    "modified_at": T1,
    "modified_by": "import@example.com",  # an actor who is no user: named by the actor
    "deal_name": "v7 Update",
    "stage": "Closed Won",
    "amount": 1200.5,
    "account_name": 5,
    "contact_name": 6,  # a record the caller may not read (or gone): its id, no name
    "foreign_languages": ["Korean", "Spanish"],
    "regions": [],
    "listings": [{"id": 1, "interested_listings": 9}],
    "associateduser": [{"id": 2, "user": SMITH.id}],
    "image_upload": [{"id": 3, "file_id__s": "2cxx2fa", "file_name__s": None}],
    "products_subform": [{"id": 4, "product_name": None, "quantity": 2}],
    "owner": PATRICIA.id,
}


def test_a_record_as_zoho_answers_it() -> None:
    names = _names()
    r = Renderer(names)
    r.load([(DEALS, DEAL)])
    out = r.record(DEALS, DEAL)
    assert out["id"] == "554023000000527003"
    assert out["Deal_Name"] == "v7 Update" and out["Stage"] == "Closed Won" and out["Amount"] == 1200.5
    assert out["Account_Name"] == {"name": "Zylker", "id": "5"}
    assert out["Contact_Name"] == {"name": None, "id": "6"}
    assert out["Foreign_Languages"] == ["Korean", "Spanish"] and out["Regions"] == []
    assert out["Listings"] == [{"Interested_Listings": {"name": "Harbour view", "id": "9"}, "id": "1"}]
    assert out["AssociatedUser"] == [
        {"User": {"name": "J Smith", "id": str(SMITH.id), "email": "smith@example.com"}, "id": "2"}
    ]
    # an image upload leaves out empty columns; a subform shows every column
    assert out["Image_Upload"] == [{"File_Id__s": "2cxx2fa", "id": "3"}]
    assert out["Products_Subform"] == [
        {"Product_Name": None, "Quantity": 2, "Unit_Price": None, "Notes": None, "id": "4"}
    ]
    assert out["Owner"] == {"name": "Patricia Boyle", "id": str(PATRICIA.id), "email": "patricia@example.com"}
    assert out["Created_Time"] == "2021-05-02T05:47:33+00:00"
    assert out["Modified_Time"] == "2021-05-03T08:00:00+00:00"
    assert out["Created_By"] == {"name": "Patricia Boyle", "id": str(PATRICIA.id)}
    assert out["Modified_By"] == {"name": "import@example.com", "id": None}
    assert out["Description"] is None and out["Closing_Date"] is None
    # one read per linked type, one for every user and actor
    assert sorted(names.reads) == [
        ("people",),
        ("records", "zoho_accounts", "account_name"),
        ("records", "zoho_contacts", "last_name"),
        ("records", "zoho_listings", "name"),
    ]


def test_fields_limits_what_is_shown() -> None:
    r = Renderer(_names())
    r.load([(DEALS, DEAL)])
    assert r.record(DEALS, DEAL, {"Deal_Name", "Modified_By"}) == {
        "Deal_Name": "v7 Update",
        "Modified_By": {"name": "import@example.com", "id": None},
        "id": "554023000000527003",
    }


def test_names_are_read_once_per_response() -> None:
    names = _names()
    r = Renderer(names)
    r.load([(DEALS, DEAL)])
    reads = len(names.reads)
    r.load([(DEALS, DEAL)])  # everything known: no query
    assert len(names.reads) == reads


def test_without_links_only_the_actors_are_read() -> None:
    names = _names()
    r = Renderer(names)
    r.load([(DEALS, DEAL)], links=False)
    assert names.reads == [("people",)]
    assert r.link(5) == {"name": None, "id": "5"}  # not loaded: the id alone


def test_an_events_participants_keep_their_lower_case_names() -> None:
    event = {"id": 8, "created_at": T0, "modified_at": T0, "participants": [
        {"id": 1, "type": "email", "participant": "a@example.com", "name": "A"}]}  # fmt: skip
    r = Renderer(_names())
    r.load([(EVENTS, event)])
    assert r.record(EVENTS, event)["Participants"] == [
        {"type": "email", "participant": "a@example.com", "name": "A", "id": "1"}
    ]


def test_the_details_of_a_write() -> None:
    """The seed's success element: modified by the caller at the time of its change."""
    result = WriteResult(
        "zoho_deals", DEAL["id"], 3, DEAL, actor="patricia@example.com", at="2021-05-02T11:17:33.000000Z"
    )
    names = _names()
    r = Renderer(names)
    r.load([(DEALS, result.record)], links=False, actors=[result.actor])
    patricia = {"name": "Patricia Boyle", "id": str(PATRICIA.id)}
    assert r.details(result) == {
        "Modified_Time": "2021-05-02T11:17:33+00:00",
        "Modified_By": patricia,
        "Created_Time": "2021-05-02T05:47:33+00:00",
        "id": "554023000000527003",
        "Created_By": patricia,
    }
    # without the write's own time and actor: the record's
    bare = WriteResult("zoho_deals", DEAL["id"], 3, DEAL)
    assert r.details(bare)["Modified_Time"] == "2021-05-03T08:00:00+00:00"
    assert r.details(bare)["Modified_By"] == {"name": "import@example.com", "id": None}


@pytest.mark.parametrize(
    ("iso", "zoho"),
    [
        ("2024-05-01T12:30:00.000000Z", "2024-05-01T12:30:00+00:00"),
        ("2024-05-01T12:30:00.999999Z", "2024-05-01T12:30:00+00:00"),
        ("2024-05-01T14:30:00+02:00", "2024-05-01T12:30:00+00:00"),
        (None, None),
        ("", None),
    ],
)
def test_zoho_time(iso: str | None, zoho: str | None) -> None:
    assert zoho_time(iso) == zoho


def test_the_primary_field_names_a_record() -> None:
    s = schema("zoho")
    assert {n: getattr(primary_field(s.types[n]), "name", None) for n in ("zoho_accounts", "zoho_deals",
            "zoho_contacts")} == {"zoho_accounts": "account_name", "zoho_deals": "deal_name",
                                  "zoho_contacts": "last_name"}  # fmt: skip


# -- errors: every class, as Zoho answers it -------------------------------------------------------
DETAIL = "something went wrong"
LOCKED = "You cannot perform this operation as the record is locked."
# class -> (HTTP status, Zoho code, message, details) for error_instance(cls)
SHAPES: dict[type[CardfileError], tuple[int, str, str, dict[str, Any]]] = {
    CardfileError: (500, "INTERNAL_ERROR", "Internal Server Error", {}),
    BadRequest: (400, "INVALID_DATA", DETAIL, {}),
    MalformedBody: (400, "INVALID_DATA", "the body is not valid JSON", {}),
    LimitExceeded: (400, "LIMIT_EXCEEDED", DETAIL, {}),
    Unauthenticated: (401, "INVALID_TOKEN", "invalid oauth token", {}),
    PermissionDenied: (403, "NO_PERMISSION", "Permission denied to update", {}),
    ScopeMissing: (401, "OAUTH_SCOPE_MISMATCH", "Unauthorized", {}),
    UserInactive: (403, "NO_PERMISSION", "Permission denied to update", {}),
    NotFound: (400, "INVALID_DATA", "the id given seems to be invalid", {"api_name": "id"}),
    UnknownRecordType: (400, "INVALID_MODULE", "The module name given seems to be invalid", {"api_name": "id"}),
    Conflict: (400, "INVALID_DATA", DETAIL, {}),
    Duplicate: (400, "DUPLICATE_DATA", "duplicate data", {"api_name": "id", "json_path": "$.id"}),
    IdempotencyKeyReused: (400, "INVALID_DATA", DETAIL, {}),
    RecordLocked: (400, "RECORD_LOCKED", LOCKED, {"id": ""}),
    LinkedRecordLocked: (400, "RECORD_LOCKED", "Sorry, you cannot perform this operation as the record is locked.", {}),
    RecordFrozen: (400, "RECORD_LOCKED", DETAIL, {}),  # the frozen state's own message
    PreconditionFailed: (412, "ALREADY_MODIFIED", ALREADY_MODIFIED, {}),
    PreconditionRequired: (428, "MANDATORY_NOT_FOUND", "send If-Unmodified-Since", {}),
    PayloadTooLarge: (413, "LIMIT_EXCEEDED", "the request body is too large", {}),
    UnsupportedMediaType: (400, "INVALID_DATA", "send the body as application/json", {}),
    ValidationFailed: (400, "INVALID_DATA", "invalid data", {"api_name": "name", "json_path": "$.name", "reason": "bad"}),
    RateLimited: (429, "TOO_MANY_REQUESTS", "too many requests; retry later", {"retry_after": 1}),
    Locked: (503, "INTERNAL_ERROR", "the server is busy; retry later", {"retry_after": 1}),
    BatchFailed: (400, "INVALID_DATA", "0 records failed; nothing was changed", {}),
    # the dialect's own
    InvalidId: (400, "INVALID_DATA", "the id given seems to be invalid", {"api_name": "id", "json_path": "$.id"}),
    MandatoryMissing: (400, "MANDATORY_NOT_FOUND", "Required field not found", {"api_name": "id", "json_path": "$.id"}),
    InvalidUrl: (404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one", {}),
    InvalidMethod: (400, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one", {}),
    NotApproved: (400, "NOT_APPROVED", "Cannot update record that is not approved yet", {}),
    MissingToken: (401, "AUTHENTICATION_FAILURE", "Authentication failed", {}),
    InvalidModule: (400, "INVALID_MODULE", "The module name given seems to be invalid", {}),
    UnsupportedModule: (400, "INVALID_MODULE", "The given module is not supported in API", {}),
}  # fmt: skip


def test_the_table_names_every_error_class() -> None:
    assert set(ERROR_CLASSES) <= set(SHAPES)


@pytest.mark.parametrize("cls", list(SHAPES), ids=ids)
def test_every_error_class(cls: type[CardfileError]) -> None:
    status, code, message, details = SHAPES[cls]
    err = error_of(error_instance(cls, DETAIL))
    assert (err.status, err.code, err.message, err.details) == (status, code, message, details)
    assert err.element() == {"code": code, "details": details, "message": message, "status": "error"}
    response = error_response(error_instance(cls, DETAIL))
    assert response.status_code == status and orjson.loads(response.body) == err.element()
    assert ("retry-after" in response.headers) == (status in (429, 503))


def _name(path: str) -> str:
    return {"deal_name": "Deal_Name", "participants": "Participants"}.get(path.split("[")[0], path)


VALIDATION: list[tuple[str, FieldError, int | None, str, dict[str, Any], str]] = [
    ("a required field", FieldError("deal_name", "REQUIRED", "required"), 0, "MANDATORY_NOT_FOUND",
     {"api_name": "Deal_Name", "json_path": "$.data[0].Deal_Name"}, "required field not found"),
    ("too long", FieldError("deal_name", "TOO_LONG", "at most 120 characters"), 1, "INVALID_DATA",
     {"api_name": "Deal_Name", "json_path": "$.data[1].Deal_Name", "maximum_length": 120,
      "reason": "at most 120 characters"}, "invalid data"),
    ("too many participants", FieldError("participants", "TOO_MANY_ITEMS", "at most 50 items"), None,
     "LIMIT_EXCEEDED", {"api_name": "Participants", "json_path": "$.Participants", "limit": 50},
     "Only 50 participants can be added to an event."),
    ("too many items elsewhere", FieldError("deal_name", "TOO_MANY_ITEMS", "at most 3 items"), 0,
     "LIMIT_EXCEEDED", {"api_name": "Deal_Name", "json_path": "$.data[0].Deal_Name", "limit": 3},
     "at most 3 items"),
    ("a pack check with a Zoho code", FieldError("call_duration", "DEPENDENT_MISMATCH",
     "Call Duration can not be zero."), 0, "DEPENDENT_MISMATCH",
     {"api_name": "call_duration", "json_path": "$.data[0].call_duration"}, "Call Duration can not be zero."),
    ("not approved", FieldError("image_upload", "NOT_APPROVED", "Cannot update record that is not approved yet"),
     0, "NOT_APPROVED", {"api_name": "image_upload", "json_path": "$.data[0].image_upload"},
     "Cannot update record that is not approved yet"),
    ("a link to no record", FieldError("account_name", "RECORD_NOT_FOUND", "no record 5"), 0, "INVALID_DATA",
     {"api_name": "account_name", "json_path": "$.data[0].account_name"}, "the id given seems to be invalid"),
    ("a row id of no row", FieldError("listings[0].id", "ROW_NOT_FOUND", "no row"), 0, "INVALID_DATA",
     {"api_name": "listings[0].id", "json_path": "$.data[0].listings[0].id"}, "the id given seems to be invalid"),
    ("any other code", FieldError("deal_name", "INVALID_TEXT", "bad text"), 0, "INVALID_DATA",
     {"api_name": "Deal_Name", "json_path": "$.data[0].Deal_Name", "reason": "bad text"}, "invalid data"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("error", "index", "code", "details", "message"),
    [r[1:] for r in VALIDATION],
    ids=[r[0] for r in VALIDATION],
)
def test_a_validation_failure_by_its_first_field_error(
    error: FieldError, index: int | None, code: str, details: dict[str, Any], message: str
) -> None:
    second = FieldError("amount", "NOT_A_NUMBER", "not a number")
    err = error_of(ValidationFailed([error, second]), namer=_name, index=index)
    assert (err.status, err.code, err.details, err.message) == (400, code, details, message)


EXTRAS: list[tuple[str, CardfileError, dict[str, Any]]] = [
    ("a bad id names it", InvalidId("bad", id="12x"), {"api_name": "id", "json_path": "$.id", "id": "12x"}),
    ("a scope names the one required", ScopeMissing("no", required_scope="ZohoCRM.modules.deals.UPDATE"),
     {"required_scope": "ZohoCRM.modules.deals.UPDATE"}),
    ("If-Unmodified-Since passed", PreconditionFailed("late", modified_time="2021-05-02T11:17:33+05:30"),
     {"Modified_Time": "2021-05-02T11:17:33+05:30"}),
    ("a limit", LimitExceeded("at most 100", limit=100), {"limit": 100}),
    ("a bad request names its field", BadRequest("bad", api_name="skip_feature_execution"),
     {"api_name": "skip_feature_execution"}),
    ("an engine lock names the record", RecordLocked("locked", record_id=42), {"id": "42"}),
    ("rate limited: when to retry", RateLimited("slow down", retry_after=30), {"retry_after": 30}),
    ("a duplicate names its field", Duplicate("dup", errors=[FieldError("deal_name", "DUPLICATE_VALUE", "taken")]),
     {"api_name": "Deal_Name", "json_path": "$.Deal_Name"}),
]  # fmt: skip


@pytest.mark.parametrize(("exc", "details"), [r[1:] for r in EXTRAS], ids=[r[0] for r in EXTRAS])
def test_details_from_the_error(exc: CardfileError, details: dict[str, Any]) -> None:
    assert error_of(exc, namer=_name).details == details


def test_fields_the_user_may_not_write_are_authorization_failed() -> None:
    exc = PermissionDenied("admin only", errors=[{"field": "Approved_Discount", "code": "ADMIN_ONLY"}])
    err = error_of(exc, action="create")
    assert (err.status, err.code, err.message, err.details) == (
        400, "AUTHORIZATION_FAILED", "User does not have sufficient privilege to create records",
        {"api_name": "Approved_Discount"},
    )  # fmt: skip
    assert privilege_error(ScopeMissing("no", errors=[{"field": "x"}]), "update") is None
    assert privilege_error(PermissionDenied("no"), "update") is None
    assert error_of(PermissionDenied("no"), action="delete").message == "Permission denied to delete"


def test_retry_after_on_429_and_503() -> None:
    assert error_response(RateLimited("slow", retry_after=7)).headers["retry-after"] == "7"
    assert error_response(Locked("busy", retry_after=2)).headers["retry-after"] == "2"
