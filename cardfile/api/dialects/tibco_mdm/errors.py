"""cardfile errors in the MDM response shape: ``responseMessages``, ``records``, ``success``.

Each ``CardfileError`` class maps (along its MRO) to an HTTP status; the message code is
the error's stable cardfile code. A validation failure is 400 with every failing attribute
in ``records[].responseAttributes`` (and relationship attributes in
``responseRelationships``). ``MdmShape`` is the error guard of the dialect's application,
so nothing under ``/mdm`` answers in the native API's problem shape.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from cardfile.api.dialects.tibco_mdm.parse import Problem
from cardfile.errors import (
    ALL_ERRORS,
    BadRequest,
    CardfileError,
    Conflict,
    LinkedRecordLocked,
    Locked,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    PreconditionFailed,
    PreconditionRequired,
    RateLimited,
    RecordFrozen,
    Unauthenticated,
    UnknownRecordType,
    UnsupportedMediaType,
    ValidationFailed,
)
from cardfile.ratelimit import rate_limit_headers

__all__ = ["SHAPE", "MdmRejected", "MdmShape", "error_body", "status_of"]

log = logging.getLogger("cardfile.api.mdm")

# HTTP status by error class, looked up along the MRO (most specific first).
_STATUS: dict[type[CardfileError], int] = {
    CardfileError: 500,
    BadRequest: 400,
    ValidationFailed: 400,
    Conflict: 400,  # a duplicate productId/productIdExt is a validation error of the record
    RecordFrozen: 400,  # e.g. a record marked deleted, modified without being restored
    LinkedRecordLocked: 400,
    UnknownRecordType: 400,  # an unknown repository
    NotFound: 404,
    Unauthenticated: 401,
    PermissionDenied: 403,
    PreconditionFailed: 409,  # changed by another request meanwhile: retry
    PreconditionRequired: 428,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    RateLimited: 429,
    Locked: 503,
}


class MdmRejected(ValidationFailed):
    """A record request with failing attributes; nothing was changed."""

    def __init__(self, record: dict[str, Any], problems: list[Problem], relationships: list[dict[str, Any]]):
        n = len(problems) + sum(len(r["responseAttributes"]) or 1 for r in relationships)
        super().__init__([], f"{n} error{'s' if n != 1 else ''}; nothing was saved")
        self.record = record
        self.problems = problems
        self.relationships = relationships


def status_of(exc: CardfileError | type[CardfileError], *, not_found: int = 404) -> int:
    cls = exc if isinstance(exc, type) else type(exc)
    for c in cls.__mro__:
        if c is NotFound and not issubclass(cls, UnknownRecordType):
            return not_found
        if c in _STATUS:
            return _STATUS[c]
    return 500


def _message(code: str, message: str, kind: str = "Error") -> dict[str, str]:
    return {"code": code, "message": message, "type": kind}


def attribute_json(p: Problem) -> dict[str, Any]:
    return {
        "attributeName": p.attribute,
        "attributeDisplayName": p.display or p.attribute,
        "values": list(p.values),
        "errorCode": p.code,
        "errorMessage": p.message,
        "errorType": "Error",
    }


# Codes MDM answered before the engine owned the rule: a record marked deleted is not found
# as a modifiable record, so its refusal keeps the code clients already handle.
_CODES: dict[type[CardfileError], str] = {RecordFrozen: "NOT_FOUND"}


def error_body(exc: CardfileError) -> dict[str, Any]:
    messages = [_message(_CODES.get(type(exc), exc.code), exc.detail)]
    records: list[dict[str, Any]] = []
    if isinstance(exc, MdmRejected):
        attrs = [attribute_json(p) for p in exc.problems if p.attribute]
        messages += [_message(p.code, p.message) for p in exc.problems if not p.attribute]
        records.append(
            {**exc.record, "responseAttributes": attrs, "responseRelationships": exc.relationships}
        )
    elif isinstance(exc, ValidationFailed):
        messages += [_message(e.code, f"{e.field}: {e.message}") for e in exc.errors]
    elif (errors := getattr(exc, "errors", None)) and isinstance(errors, list):
        for e in errors:
            if hasattr(e, "code"):
                messages.append(_message(e.code, f"{e.field}: {e.message}"))
            elif isinstance(e, dict):
                messages.append(_message(str(e.get("code")), f"{e.get('field')}: {e.get('message')}"))
    elif (field := exc.extra.get("field")) is not None:
        messages[0]["message"] = f"{field}: {exc.detail}"
    return {"responseMessages": messages, "records": records, "success": False}


def error_response(exc: CardfileError, *, not_found: int = 404) -> Response:
    status = status_of(exc, not_found=not_found)
    headers: dict[str, str] = {}
    if isinstance(exc, Locked | RateLimited):
        headers["Retry-After"] = str(max(1, exc.retry_after))
    if isinstance(exc, RateLimited) and exc.policy is not None and exc.limit is not None:
        headers.update(rate_limit_headers(exc.policy, exc.limit, exc.remaining, exc.reset))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="cardfile"'
    return Response(orjson.dumps(error_body(exc)), status, headers, media_type="application/json")


def _not_found(request: Request) -> int:
    # a record named in a modify/add body that is not there is a bad request of that body
    return 400 if request.url.path.endswith(("/modifyRecord", "/addRecord")) else 404


class MdmShape:
    """Every error under ``/mdm`` in the MDM shape (kit/guard.py): cardfile errors, bad
    parameters, unknown paths and anything unexpected (500, logged)."""

    log = log

    def error(self, request: Request, exc: CardfileError) -> Response:
        return error_response(exc, not_found=_not_found(request))

    def invalid_parameters(self, _request: Request, exc: RequestValidationError) -> Response:
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return error_response(BadRequest(f"invalid parameter: {where}"))

    def http_error(self, request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(NotFound(f"no endpoint {request.method} {request.url.path}"))
        response = error_response(BadRequest(str(exc.detail)))
        response.status_code = exc.status_code
        return response

    def unexpected(self, _request: Request) -> Response:
        return error_response(CardfileError("Invalid Request: an unexpected error; it has been logged"))


SHAPE = MdmShape()


def mapped_errors() -> dict[str, int]:
    """Every cardfile error code with the HTTP status this dialect gives it."""
    return {cls.code: status_of(cls) for cls in ALL_ERRORS}
