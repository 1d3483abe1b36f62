"""One way to mount an API: a sub-application with its own error guard.

The native API and every dialect are built here and mounted by ``cardfile/api/app.py``
under their prefix, so each has its exception handlers (its ``ErrorShape``), its rate-limit
groups and, for the native API, its OpenAPI document, in the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI

from cardfile.api.kit.guard import ErrorShape, install_guard
from cardfile.api.kit.ratelimit import ensure_group
from cardfile.services import Services

__all__ = ["api_app"]


def api_app(
    services: Services,
    shape: ErrorShape,
    routers: Sequence[APIRouter],
    *,
    rate_groups: Mapping[str, str] | None = None,
    **fastapi: Any,
) -> FastAPI:
    """A FastAPI application of ``routers`` whose errors answer in ``shape``.

    ``rate_groups``: the API's own rate-limit groups with their default limits (the
    settings' ``rate_limits`` override them); ``fastapi``: title, docs and OpenAPI paths."""
    for group, default in (rate_groups or {}).items():
        ensure_group(services, group, default)
    app = FastAPI(**fastapi)
    app.state.services = services
    install_guard(app, shape)
    for router in routers:
        app.include_router(router)
    return app
