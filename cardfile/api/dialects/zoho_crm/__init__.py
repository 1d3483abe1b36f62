"""The Zoho CRM v7 dialect (seed 002), a sub-application mounted at ``/zoho``.

A Zoho client configured with ``http://HOST:PORT/zoho`` as its API domain calls
``/zoho/crm/v7/{module}`` and gets Zoho's shapes; its OAuth calls go to
``/zoho/oauth/v2/token``. Errors of any kind, unknown paths (``INVALID_URL_PATTERN``) and
wrong methods (``INVALID_REQUEST_METHOD``) answer in Zoho's ``{code, details, message,
status}``. See ``docs/dialects/zoho-crm.md``.
"""

from __future__ import annotations

from fastapi import FastAPI

from cardfile.api.dialects.zoho_crm import oauth, routes
from cardfile.api.dialects.zoho_crm.errors import SHAPE
from cardfile.api.kit.mount import api_app
from cardfile.services import Services

__all__ = ["DEFAULT_RATE_LIMIT", "create_app"]

DEFAULT_RATE_LIMIT = "300/minute"


def create_app(services: Services) -> FastAPI:
    return api_app(
        services,
        SHAPE,
        [oauth.router, routes.router],
        rate_groups={routes.RATE_GROUP: DEFAULT_RATE_LIMIT},
        title="cardfile: Zoho CRM v7",
        description="Zoho CRM v7's records API on cardfile's engine.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
