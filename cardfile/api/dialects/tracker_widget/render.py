"""Widget response bodies: ``{"status", "message", "count"}``, plus ``detail`` on errors.

``count`` is always present. For updateRecord it is 0, as in the seed's sample, which
updates one record and still answers 0: it counts returned rows, and updateRecord returns
none. getSettings counts the settings it returns. ``detail`` (an extension member) says
what was wrong, in a sentence, so a status 99 can be acted upon.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from cardfile.api.dialects.tracker_widget.errors import (
    MESSAGES,
    SUCCESS,
    InternalError,
    UnknownMethod,
    outcome_of,
)
from cardfile.api.kit.responses import json_response
from cardfile.errors import BadRequest, CardfileError, Duplicate, Locked, RateLimited, ValidationFailed
from cardfile.ratelimit import rate_limit_headers

__all__ = ["SHAPE", "WidgetShape", "error_response", "internal_response", "success_response"]


def success_response(count: int = 0, **extra: Any) -> Response:
    return json_response({"status": SUCCESS, "message": MESSAGES[SUCCESS], "count": count, **extra})


def _detail(exc: CardfileError) -> str:
    errors = exc.errors if isinstance(exc, ValidationFailed | Duplicate) else []
    if not errors:
        return exc.detail
    return "; ".join(f"{e.field}: {e.message}" for e in errors)


def error_response(exc: CardfileError) -> Response:
    out = outcome_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, Locked | RateLimited):
        headers["Retry-After"] = str(max(1, exc.retry_after))
    if isinstance(exc, RateLimited) and exc.policy is not None and exc.limit is not None:
        headers.update(rate_limit_headers(exc.policy, exc.limit, exc.remaining, exc.reset))
    body = {"status": out.status, "message": MESSAGES[out.status], "count": 0, "detail": _detail(exc)}
    return json_response(body, out.http_status, headers)


def internal_response() -> Response:
    return error_response(InternalError("an unexpected error occurred; it has been logged"))


class WidgetShape:
    """The widget's body for every error of the dialect's application (kit/guard.py): an
    unknown path or a wrong method is status 99 with its HTTP status."""

    log = logging.getLogger("cardfile.api.tracker_widget")

    def error(self, _request: Request, exc: CardfileError) -> Response:
        return error_response(exc)

    def invalid_parameters(self, _request: Request, _exc: RequestValidationError) -> Response:
        return error_response(BadRequest("the request is malformed"))

    def http_error(self, request: Request, exc: StarletteHTTPException) -> Response:
        method = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        response = error_response(
            UnknownMethod(
                f"no widget method {request.method} {method[:60]!r} here; POST updateRecord and getSettings are"
            )
        )
        response.status_code = exc.status_code
        return response

    def unexpected(self, _request: Request) -> Response:
        return internal_response()


SHAPE = WidgetShape()
