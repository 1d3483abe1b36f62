"""The HighLevel dialect: custom-object records under ``/highlevel``.

A sub-application with its own error handler (HighLevel's error JSON) on the one engine.
See ``docs/dialects/highlevel.md`` and, for names and ids, ``ids.py``.
"""

from __future__ import annotations

from fastapi import FastAPI

from cardfile.api.dialects.highlevel.errors import SHAPE
from cardfile.api.dialects.highlevel.routes import RATE_GROUP, router
from cardfile.api.kit.mount import api_app
from cardfile.services import Services

__all__ = ["DEFAULT_RATE_LIMIT", "PREFIX", "create_app"]

PREFIX = "/highlevel"
# HighLevel's burst limit: 100 requests per 10 seconds per app and location.
DEFAULT_RATE_LIMIT = "100/10 seconds"


def create_app(services: Services) -> FastAPI:
    """The dialect's ASGI app, to mount at ``PREFIX``; registers its rate-limit group
    ``highlevel`` (``CARDFILE_RATE_LIMITS="highlevel=..."`` overrides the default)."""
    return api_app(
        services,
        SHAPE,
        [router],
        rate_groups={RATE_GROUP: DEFAULT_RATE_LIMIT},
        title="cardfile: HighLevel dialect",
        description="HighLevel's custom-object records API on cardfile's engine.",
    )
