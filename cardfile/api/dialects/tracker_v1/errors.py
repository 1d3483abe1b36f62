"""cardfile errors as Tracker answers them: RFC 9457 problem details.

The body is the native API's problem (``type``, ``title``, ``status``, ``detail``, a stable
``code`` and, for field problems, ``errors``) plus ``instance``, the request path. Statuses
follow the seed's table: a malformed request is 400, a missing or bad JWT 401, a refused
permission 403, an unknown path 404, a conflict 409, an unsupported media type 415, values
the store refuses (validation, a link to a missing record, an unknown custom field) 422,
too many requests 429. "Record not found" is not an error in Tracker: the handlers answer
204 for it themselves (``routes.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from cardfile.api.kit.guard import install_guard
from cardfile.api.kit.problems import problem_json, problem_response
from cardfile.errors import CardfileError, Conflict, Duplicate

__all__ = ["duplicate_as_conflict", "install_handlers", "problem"]

log = logging.getLogger("cardfile.api.tracker_v1")
PROBLEM = "application/problem+json"
_HTTP = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 400: "BAD_REQUEST", 415: "UNSUPPORTED_MEDIA_TYPE"}


def _with_instance(body: dict[str, Any], request: Request) -> bytes:
    body["instance"] = request.url.path
    return orjson.dumps(body)


def problem(exc: CardfileError, request: Request) -> Response:
    base = problem_response(exc)  # the status and headers (Retry-After, RateLimit, WWW-Authenticate)
    headers = {k: v for k, v in base.headers.items() if k.lower() not in ("content-length", "content-type")}
    if exc.status == 401:  # Tracker's realm, in place of the native API's (one header, not two)
        headers["www-authenticate"] = 'Bearer realm="tracker"'
    return Response(
        _with_instance(problem_json(exc), request),
        status_code=exc.status,
        media_type=PROBLEM,
        headers=headers,
    )


@contextmanager
def duplicate_as_conflict(detail: str) -> Iterator[None]:
    """The engine's ``Duplicate`` (a ``unique_together`` of the pack) as Tracker answers a
    second list entry: 409 ``CONFLICT`` with ``detail``."""
    try:
        yield
    except Duplicate:
        raise Conflict(detail) from None


def _plain(request: Request, status: int, code: str, title: str, detail: str, **extra: Any) -> Response:
    body = {
        "type": "urn:cardfile:problem:" + code.lower().replace("_", "-"),
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return Response(_with_instance(body, request), status_code=status, media_type=PROBLEM)


class TrackerShape:
    """Tracker's problem details for every error of the dialect's application (kit/guard.py)."""

    log = log

    def error(self, request: Request, exc: CardfileError) -> Response:
        return problem(exc, request)

    def invalid_parameters(self, request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "request", "code": "INVALID_PARAMETER",
             "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]  # fmt: skip
        return _plain(
            request, 400, "BAD_REQUEST", "Bad request", "invalid path or query parameter", errors=errors
        )

    def http_error(self, request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP.get(exc.status_code, "HTTP_ERROR")
        return _plain(request, exc.status_code, code, str(exc.detail), str(exc.detail))

    def unexpected(self, request: Request) -> Response:
        return _plain(
            request,
            500,
            "INTERNAL_ERROR",
            "Internal error",
            "an unexpected error occurred; it has been logged",
        )


SHAPE = TrackerShape()


def install_handlers(app: FastAPI) -> None:
    install_guard(app, SHAPE)
