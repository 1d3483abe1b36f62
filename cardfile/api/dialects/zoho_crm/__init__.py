"""The Zoho CRM v7 dialect (seed 002), a sub-application mounted at ``/zoho``.

A Zoho client configured with ``http://HOST:PORT/zoho`` as its API domain calls
``/zoho/crm/v7/{module}`` and gets Zoho's shapes; its OAuth calls go to
``/zoho/oauth/v2/token``. Errors of any kind, unknown paths (``INVALID_URL_PATTERN``) and
wrong methods (``INVALID_REQUEST_METHOD``) answer in Zoho's ``{code, details, message,
status}``. See ``docs/dialects/zoho-crm.md``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from cardfile.api.dialects.zoho_crm import oauth, routes
from cardfile.api.dialects.zoho_crm.errors import InvalidMethod, InvalidUrl
from cardfile.errors import BadRequest, CardfileError
from cardfile.services import Services

__all__ = ["DEFAULT_RATE_LIMIT", "create_app"]

DEFAULT_RATE_LIMIT = "300/minute"


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="cardfile: Zoho CRM v7",
        description="Zoho CRM v7's records API on cardfile's engine.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.services = services
    limiter = services.rate_limiter
    if routes.RATE_GROUP not in limiter.groups:
        limiter.register_group(
            routes.RATE_GROUP, services.settings.rate_limits.get(routes.RATE_GROUP, DEFAULT_RATE_LIMIT)
        )
    app.include_router(oauth.router)
    app.include_router(routes.router)

    async def cardfile_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CardfileError)
        return routes.error_response(exc)

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            return routes.error_response(InvalidMethod("this URL does not take this method"))
        if exc.status_code == 404:
            return routes.error_response(InvalidUrl("no such URL"))
        return routes.error_response(BadRequest(str(exc.detail)))

    async def invalid_request(_request: Request, _exc: Exception) -> Response:
        return routes.error_response(BadRequest("the request is malformed"))

    app.add_exception_handler(CardfileError, cardfile_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    return app
