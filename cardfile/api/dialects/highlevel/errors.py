"""cardfile errors -> HighLevel's error JSON.

HighLevel answers errors as ``{"statusCode": 400, "message": ..., "error": "Bad Request"}``;
``message`` is a list of strings when several inputs are wrong. cardfile adds ``code``
(the stable cardfile error code) and, when it knows which input failed, ``errors``:
``[{"property": "properties.phone_number", "code": "INVALID_PHONE", "message": ...}]``,
every one of them, never just the first.

Statuses follow cardfile's error classes, except: a validation failure is 400 (HighLevel
documents 400 for bad record bodies, not 422), and a token without the needed scope is
401, as HighLevel answers it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from cardfile.api.dialects.highlevel.parse import property_path
from cardfile.api.dialects.highlevel.scopes import highlevel_scope
from cardfile.api.kit.guard import install_guard
from cardfile.errors import (
    BadRequest,
    CardfileError,
    Duplicate,
    FieldError,
    LinkedRecordLocked,
    Locked,
    NotFound,
    RateLimited,
    ScopeMissing,
    ValidationFailed,
)
from cardfile.ratelimit import rate_limit_headers

__all__ = ["engine_paths", "error_json", "error_response", "install_error_handlers", "status_of"]

log = logging.getLogger("cardfile.api.highlevel")


def status_of(exc: CardfileError) -> int:
    if isinstance(exc, ValidationFailed):
        return 400
    if isinstance(exc, ScopeMissing):
        return 401
    return exc.status


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_json(exc: CardfileError) -> dict[str, Any]:
    status = status_of(exc)
    body: dict[str, Any] = {
        "statusCode": status,
        "message": exc.detail,
        "error": _reason(status),
        "code": exc.code,
    }
    with_errors = ValidationFailed | Duplicate | LinkedRecordLocked  # RecordFrozen: its status and code
    field_errors: list[FieldError] = list(exc.errors) if isinstance(exc, with_errors) else []
    if field_errors:
        body["message"] = [f"{e.field}: {e.message}" for e in field_errors]
        body["errors"] = [{"property": e.field, "code": e.code, "message": e.message} for e in field_errors]
    elif isinstance(exc.extra.get("errors"), list):  # e.g. admin-only fields
        body["errors"] = [
            {
                "property": property_path(str(e.get("field", ""))),
                "code": e.get("code"),
                "message": e.get("message"),
            }
            for e in exc.extra["errors"]
            if isinstance(e, dict)
        ]
    elif isinstance(exc.extra.get("property"), str):
        body["errors"] = [{"property": exc.extra["property"], "code": exc.code, "message": exc.detail}]
    if isinstance(exc, ScopeMissing):
        required = str(exc.extra.get("required_scope") or "")
        scope = highlevel_scope(required)
        body["message"] = "The token is not authorized for this scope."
        body["detail"] = exc.detail
        body["requiredScopes"] = [s for s in (scope, required) if s]
    return body


def error_response(exc: CardfileError) -> Response:
    status = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, Locked | RateLimited):
        headers["Retry-After"] = str(max(1, exc.retry_after))
    if isinstance(exc, RateLimited) and exc.policy is not None and exc.limit is not None:
        headers.update(rate_limit_headers(exc.policy, exc.limit, exc.remaining, exc.reset))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="cardfile"'
    return Response(
        orjson.dumps(error_json(exc)), status_code=status, media_type="application/json", headers=headers
    )


@contextmanager
def engine_paths() -> Iterator[None]:
    """Engine field errors with HighLevel paths (``properties.<field>``, ``owners``)."""
    try:
        yield
    except ValidationFailed as exc:
        errors = [FieldError(property_path(e.field), e.code, e.message) for e in exc.errors]
        raise ValidationFailed(errors, exc.detail, **exc.extra) from None
    except Duplicate as exc:
        errors = [FieldError(property_path(e.field), e.code, e.message) for e in exc.errors]
        raise Duplicate(exc.detail, errors=errors, **exc.extra) from None


class HighLevelShape:
    """HighLevel's error JSON for every error of the dialect's application (kit/guard.py)."""

    log = log

    def error(self, _request: Request, exc: CardfileError) -> Response:
        return error_response(exc)

    def invalid_parameters(self, _request: Request, exc: RequestValidationError) -> Response:
        errors = [
            FieldError(".".join(str(p) for p in e.get("loc", ())[1:]) or "request", "INVALID_PARAMETER",
                       str(e.get("msg", "")))
            for e in exc.errors()
        ]  # fmt: skip
        return error_response(ValidationFailed(errors, "invalid path or query parameter"))

    def http_error(self, request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(NotFound(f"no endpoint {request.method} {request.url.path}"))
        err = BadRequest(str(exc.detail))
        body = {"statusCode": exc.status_code, "message": str(exc.detail), "error": _reason(exc.status_code),
                "code": "METHOD_NOT_ALLOWED" if exc.status_code == 405 else err.code}  # fmt: skip
        return Response(orjson.dumps(body), status_code=exc.status_code, media_type="application/json")

    def unexpected(self, _request: Request) -> Response:
        body = {"statusCode": 500, "message": "an unexpected error occurred; it has been logged",
                "error": "Internal Server Error", "code": "INTERNAL_ERROR"}  # fmt: skip
        return Response(orjson.dumps(body), status_code=500, media_type="application/json")


SHAPE = HighLevelShape()


def install_error_handlers(app: FastAPI) -> None:
    install_guard(app, SHAPE)
