"""Every ``CardfileError`` as Zoho's error element ``{code, details, message, status}``.

The class is looked up along the MRO, so a new subclass of a mapped error maps like its
parent; ``CardfileError`` itself maps to ``INTERNAL_ERROR``. A ``ValidationFailed`` is
rendered by its first field error, whose engine code picks Zoho's (``REQUIRED`` is
``MANDATORY_NOT_FOUND``, ``TOO_MANY_ITEMS`` is ``LIMIT_EXCEEDED``, a dependent-field check
is ``DEPENDENT_MISMATCH``, any other is ``INVALID_DATA``); ``details`` names the field by
its API name and JSON path, as Zoho does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from cardfile.api.dialects.zoho_crm.auth import MissingToken
from cardfile.api.dialects.zoho_crm.modules import InvalidModule, UnsupportedModule
from cardfile.api.kit.responses import json_response
from cardfile.errors import (
    BadRequest,
    BatchFailed,
    CardfileError,
    Conflict,
    Duplicate,
    FieldError,
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
    ScopeMissing,
    Unauthenticated,
    UnknownRecordType,
    UnsupportedMediaType,
    ValidationFailed,
)

__all__ = [
    "ALREADY_MODIFIED",
    "InvalidId",
    "InvalidUrl",
    "InvalidMethod",
    "MandatoryMissing",
    "NotApproved",
    "ZohoError",
    "SHAPE",
    "ZohoShape",
    "error_of",
    "error_response",
]

# Zoho codes that checks of the zoho pack give their field errors.
PACK_CODES = frozenset({"DEPENDENT_MISMATCH", "NOT_APPROVED"})
# The seed's messages, verbatim (they are API: clients match on them).
ALREADY_MODIFIED = "Record updated time has already passed if-unmodified-since time"
LOCKED = "You cannot perform this operation as the record is locked."
DEPENDENT_LOCKED = "Sorry, you cannot perform this operation as the record is locked."
NOT_APPROVED = "Cannot update record that is not approved yet"
PARTICIPANTS = "Only 50 participants can be added to an event."


class InvalidId(BadRequest):
    """A record id that is malformed or names no record of the module."""

    code = "INVALID_DATA"
    title = "the id given seems to be invalid"


class MandatoryMissing(BadRequest):
    code = "MANDATORY_NOT_FOUND"
    title = "Required field not found"


class InvalidUrl(NotFound):
    code = "INVALID_URL_PATTERN"
    title = "Please check if the URL trying to access is a correct one"


class InvalidMethod(BadRequest):
    code = "INVALID_REQUEST_METHOD"
    title = "The http request method type is not a valid one"


class NotApproved(BadRequest):
    code = "NOT_APPROVED"
    title = NOT_APPROVED


@dataclass(frozen=True)
class ZohoError:
    status: int
    code: str
    message: str
    details: dict[str, Any]

    def element(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "message": self.message, "status": "error"}


Namer = Callable[[str], str]  # a cardfile field path -> its Zoho API name


def _field_details(e: FieldError, namer: Namer, index: int | None) -> dict[str, Any]:
    name = namer(e.field)
    path = f"$.data[{index}].{name}" if index is not None else f"$.{name}"
    return {"api_name": name, "json_path": path}


def _validation(exc: ValidationFailed, namer: Namer, index: int | None, action: str) -> ZohoError:
    e = exc.errors[0]
    details = _field_details(e, namer, index)
    if e.code == "REQUIRED":
        return ZohoError(400, "MANDATORY_NOT_FOUND", "required field not found", details)
    if e.code == "TOO_MANY_ITEMS":
        message = PARTICIPANTS if e.field.split("[")[0] == "participants" else e.message
        return ZohoError(400, "LIMIT_EXCEEDED", message, {**details, "limit": _limit(e.message)})
    if e.code in PACK_CODES:  # a pack's check that names a Zoho code (DEPENDENT_MISMATCH, NOT_APPROVED)
        return ZohoError(400, e.code, e.message, details)
    if e.code in ("RECORD_NOT_FOUND", "USER_NOT_FOUND", "ROW_NOT_FOUND", "NOT_A_ROW_ID", "NOT_A_RECORD_ID"):
        return ZohoError(400, "INVALID_DATA", "the id given seems to be invalid", details)
    if e.code in ("TOO_LONG",):
        details["maximum_length"] = _limit(e.message)
    return ZohoError(400, "INVALID_DATA", "invalid data", {**details, "reason": e.message})


def _limit(message: str) -> int | None:
    digits = [int(w) for w in message.replace("(", " ").split() if w.isdigit()]
    return digits[0] if digits else None


def error_of(
    exc: CardfileError, *, namer: Namer = str, index: int | None = None, action: str = "update"
) -> ZohoError:
    """Zoho's element for ``exc``; ``index`` is the record's place in ``data`` (None: the request)."""
    if isinstance(exc, ValidationFailed) and exc.errors:
        return _validation(exc, namer, index, action)
    if exc.code == "RECORD_LOCKED":
        # the engine's lock (an automation rule locked the record); matched by code, not class
        return ZohoError(400, "RECORD_LOCKED", LOCKED, {"id": str(exc.extra.get("record_id", ""))})
    if isinstance(exc, PermissionDenied):
        privileged = privilege_error(exc, action)
        if privileged is not None:
            return privileged
    if isinstance(exc, Duplicate):
        first = exc.errors[0] if exc.errors else FieldError("id", "DUPLICATE_VALUE", "")
        dup = _field_details(first, namer, index)
        return ZohoError(400, "DUPLICATE_DATA", "duplicate data", dup)
    for cls in type(exc).__mro__:
        found = _TABLE.get(cls)
        if found is not None:
            status, code, message = found
            message = message.replace("{action}", action)
            details: dict[str, Any] = {}
            if isinstance(exc, InvalidId | MandatoryMissing):
                details = {
                    "api_name": "id",
                    "json_path": f"$.data[{index}].id" if index is not None else "$.id",
                }
                if isinstance(exc, InvalidId) and exc.extra.get("id") is not None:
                    details["id"] = exc.extra["id"]
            elif isinstance(exc, NotFound) and not isinstance(exc, InvalidUrl):
                details = {"api_name": "id"}
            elif isinstance(exc, ScopeMissing) and exc.extra.get("required_scope"):
                details = {"required_scope": exc.extra["required_scope"]}
            elif isinstance(exc, PreconditionFailed) and exc.extra.get("modified_time"):
                details = {"Modified_Time": exc.extra["modified_time"]}
            elif isinstance(exc, LimitExceeded) and exc.extra.get("limit") is not None:
                details = {"limit": exc.extra["limit"]}
            elif isinstance(exc, BadRequest | InvalidModule) and exc.extra.get("api_name"):
                details = {"api_name": exc.extra["api_name"]}
            elif isinstance(exc, RateLimited | Locked):
                details = {"retry_after": exc.retry_after}
            return ZohoError(status, code, message if message else exc.detail, details)
    return ZohoError(500, "INTERNAL_ERROR", "Internal Server Error", {})


# class -> (HTTP status, Zoho code, message; "" keeps the error's own detail)
_TABLE: dict[type[CardfileError], tuple[int, str, str]] = {
    UnsupportedModule: (400, "INVALID_MODULE", "The given module is not supported in API"),
    InvalidModule: (400, "INVALID_MODULE", "The module name given seems to be invalid"),
    UnknownRecordType: (400, "INVALID_MODULE", "The module name given seems to be invalid"),
    InvalidId: (400, "INVALID_DATA", "the id given seems to be invalid"),
    MandatoryMissing: (400, "MANDATORY_NOT_FOUND", "Required field not found"),
    InvalidUrl: (404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"),
    InvalidMethod: (400, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one"),
    # a new multi-select lookup link to a locked record; a frozen state (e.g. `processing`),
    # whose message the pack gives verbatim
    LinkedRecordLocked: (400, "RECORD_LOCKED", DEPENDENT_LOCKED),
    RecordFrozen: (400, "RECORD_LOCKED", ""),
    NotApproved: (400, "NOT_APPROVED", NOT_APPROVED),
    NotFound: (400, "INVALID_DATA", "the id given seems to be invalid"),
    MissingToken: (401, "AUTHENTICATION_FAILURE", "Authentication failed"),
    Unauthenticated: (401, "INVALID_TOKEN", "invalid oauth token"),
    ScopeMissing: (401, "OAUTH_SCOPE_MISMATCH", "Unauthorized"),
    PermissionDenied: (403, "NO_PERMISSION", "Permission denied to {action}"),
    PreconditionFailed: (412, "ALREADY_MODIFIED", ALREADY_MODIFIED),
    LimitExceeded: (400, "LIMIT_EXCEEDED", ""),
    MalformedBody: (400, "INVALID_DATA", "the body is not valid JSON"),
    PayloadTooLarge: (413, "LIMIT_EXCEEDED", "the request body is too large"),
    UnsupportedMediaType: (400, "INVALID_DATA", "send the body as application/json"),
    RateLimited: (429, "TOO_MANY_REQUESTS", "too many requests; retry later"),
    Locked: (503, "INTERNAL_ERROR", "the server is busy; retry later"),
    PreconditionRequired: (428, "MANDATORY_NOT_FOUND", "send If-Unmodified-Since"),
    BatchFailed: (400, "INVALID_DATA", ""),
    Conflict: (400, "INVALID_DATA", ""),
    BadRequest: (400, "INVALID_DATA", ""),
}


def privilege_error(exc: PermissionDenied, action: str) -> ZohoError | None:
    """A refusal for fields the user may not write: AUTHORIZATION_FAILED (400), not NO_PERMISSION."""
    if exc.extra.get("errors") and not isinstance(exc, ScopeMissing):
        fields = [e.get("field") for e in exc.extra["errors"] if isinstance(e, dict)]
        return ZohoError(
            400,
            "AUTHORIZATION_FAILED",
            f"User does not have sufficient privilege to {action} records",
            {"api_name": fields[0] if fields else None},
        )
    return None


def error_response(exc: CardfileError, action: str = "update") -> Response:
    """``exc`` as Zoho answers it: the element with its status (and ``Retry-After`` on 429/503)."""
    err = error_of(exc, action=action)
    headers = (
        {"Retry-After": str(exc.extra.get("retry_after") or getattr(exc, "retry_after", 1))}
        if err.status in (429, 503)
        else None
    )
    return json_response(err.element(), err.status, headers)


def internal_error() -> Response:
    return json_response(ZohoError(500, "INTERNAL_ERROR", "Internal Server Error", {}).element(), 500)


class ZohoShape:
    """Zoho's ``{code, details, message, status}`` for every error of the dialect's
    application (kit/guard.py): an unknown path is ``INVALID_URL_PATTERN``, a wrong method
    ``INVALID_REQUEST_METHOD``."""

    log = logging.getLogger("cardfile.api.zoho_crm")

    def error(self, _request: Request, exc: CardfileError) -> Response:
        return error_response(exc)

    def invalid_parameters(self, _request: Request, _exc: RequestValidationError) -> Response:
        return error_response(BadRequest("the request is malformed"))

    def http_error(self, _request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return error_response(InvalidMethod("this URL does not take this method"))
        if exc.status_code == 404:
            return error_response(InvalidUrl("no such URL"))
        return error_response(BadRequest(str(exc.detail)))

    def unexpected(self, _request: Request) -> Response:
        return internal_error()


SHAPE = ZohoShape()
