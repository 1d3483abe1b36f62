"""One error guard: an error of any kind answers in the shape of the API that was called.

An API (the native one, each dialect) describes its error shape once (``ErrorShape``, in
its ``errors.py``); ``install_guard`` makes it the exception handlers of the API's
application (so even an unknown path or a wrong method answers in the vendor's format),
and ``guarded`` applies it inside one endpoint where an API renders one error per
action (Zoho's ``action`` in ``details``; the widget's outcome numbers).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from cardfile.errors import CardfileError

__all__ = ["ErrorShape", "guarded", "install_guard"]


class ErrorShape(Protocol):
    """How one API renders its errors."""

    log: logging.Logger  # where unexpected errors are logged

    def error(self, request: Request, exc: CardfileError) -> Response:
        """A cardfile error."""

    def invalid_parameters(self, request: Request, exc: RequestValidationError) -> Response:
        """A path or query parameter FastAPI could not read."""

    def http_error(self, request: Request, exc: StarletteHTTPException) -> Response:
        """No such path (404), a wrong method (405)..."""

    def unexpected(self, request: Request) -> Response:
        """A bug: the response of an unexpected exception (logged by the guard)."""


def install_guard(app: FastAPI, shape: ErrorShape) -> None:
    """``shape`` as the exception handlers of ``app``."""

    async def cardfile_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CardfileError)
        return shape.error(request, exc)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return shape.invalid_parameters(request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return shape.http_error(request, exc)

    async def unexpected(request: Request, exc: Exception) -> Response:
        shape.log.exception("unexpected error", exc_info=exc)
        return shape.unexpected(request)

    app.add_exception_handler(CardfileError, cardfile_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


async def guarded(
    work: Callable[[], Awaitable[Response]],
    error: Callable[[CardfileError], Response],
    unexpected: Callable[[], Response],
    *,
    log: logging.Logger,
    what: str,
) -> Response:
    """``work()``, with a cardfile error rendered by ``error`` and anything else logged (as
    an unexpected error in ``what``) and answered by ``unexpected``."""
    try:
        return await work()
    except CardfileError as exc:
        return error(exc)
    except Exception:
        log.exception("unexpected error in %s", what)
        return unexpected()
