"""RFC 9457 problem details with a stable ``code``: the native API's error shape, which
Tracker v1 shares with its own 401 realm and the request path as ``instance``."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from cardfile.api.kit.guard import install_guard
from cardfile.errors import (
    BatchFailed,
    CardfileError,
    Duplicate,
    LinkedRecordLocked,
    Locked,
    RateLimited,
    ValidationFailed,
)
from cardfile.ratelimit import rate_limit_headers

__all__ = ["PROBLEMS", "ProblemShape", "install_problem_handlers", "problem_json", "problem_response"]

log = logging.getLogger("cardfile.api")

_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 400: "BAD_REQUEST", 415: "UNSUPPORTED_MEDIA_TYPE"}


def problem_json(exc: CardfileError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "urn:cardfile:problem:" + exc.code.lower().replace("_", "-"),
        "title": exc.title,
        "status": exc.status,
        "code": exc.code,
        "detail": exc.detail,
    }
    if isinstance(exc, ValidationFailed | Duplicate | LinkedRecordLocked):
        body["errors"] = [e.to_json() for e in exc.errors]
    if isinstance(exc, BatchFailed):
        body["failures"] = [
            {
                "index": i,
                "id": key,
                **{k: v for k, v in problem_json(err).items() if k not in ("type", "title")},
            }
            for i, key, err in exc.failures
        ]
    for k, v in exc.extra.items():
        body.setdefault(k, v)
    return body


def problem_response(exc: CardfileError, *, realm: str = "cardfile", instance: str | None = None) -> Response:
    """The problem of ``exc``; a 401 names ``realm``; ``instance`` (the request path) is
    added to the body when given."""
    headers = {}
    if isinstance(exc, Locked | RateLimited):
        headers["Retry-After"] = str(max(1, exc.retry_after))
    if isinstance(exc, RateLimited) and exc.policy is not None and exc.limit is not None:
        headers.update(rate_limit_headers(exc.policy, exc.limit, exc.remaining, exc.reset))
    if exc.status == 401:
        headers["WWW-Authenticate"] = f'Bearer realm="{realm}"'
    body = problem_json(exc)
    if instance is not None:
        body["instance"] = instance
    return Response(
        orjson.dumps(body),
        status_code=exc.status,
        media_type="application/problem+json",
        headers=headers,
    )


def _plain(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    instance: str | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "urn:cardfile:problem:" + code.lower().replace("_", "-"),
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    if instance is not None:
        body["instance"] = instance
    return Response(orjson.dumps(body), status_code=status, media_type="application/problem+json")


class ProblemShape:
    """Problem details for every error of an API (kit/guard.py): the native API's, or a
    dialect's that answers a 401 in its own ``realm`` and, with ``instance``, adds the
    request path to each body (Tracker v1)."""

    def __init__(self, log: logging.Logger, *, realm: str = "cardfile", instance: bool = False) -> None:
        self.log = log
        self.realm = realm
        self.instance = instance

    def _instance(self, request: Request) -> str | None:
        return request.url.path if self.instance else None

    def error(self, request: Request, exc: CardfileError) -> Response:
        return problem_response(exc, realm=self.realm, instance=self._instance(request))

    def invalid_parameters(self, request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "request", "code": "INVALID_PARAMETER",
             "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]  # fmt: skip
        detail = "invalid path or query parameter"
        return _plain(400, "BAD_REQUEST", "Bad request", detail, errors, self._instance(request))

    def http_error(self, request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        return _plain(exc.status_code, code, str(exc.detail), str(exc.detail), None, self._instance(request))

    def unexpected(self, request: Request) -> Response:
        detail = "an unexpected error occurred; it has been logged"
        return _plain(500, "INTERNAL_ERROR", "Internal error", detail, None, self._instance(request))


PROBLEMS = ProblemShape(log)


def install_problem_handlers(app: FastAPI) -> None:
    install_guard(app, PROBLEMS)
