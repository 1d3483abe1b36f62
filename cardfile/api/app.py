"""The ASGI application: the native API under /api; each vendor dialect gets its own prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.responses import Response

import cardfile
from cardfile.api import oauth2
from cardfile.api.dialects import highlevel, tibco_mdm, tracker_widget, zoho_crm
from cardfile.api.dialects.tracker_v1.routes import create_app as tracker_v1_app
from cardfile.api.kit.guard import install_guard
from cardfile.api.kit.mount import include_flat
from cardfile.api.kit.problems import PROBLEMS
from cardfile.api.kit.ratelimit import RateLimitHeaders
from cardfile.api.kit.responses import json_response
from cardfile.api.native import automation, records, types, webhooks
from cardfile.services import Services

__all__ = ["create_app"]


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if services.settings.webhooks.in_server:  # off: separate `cardfile worker` processes
            from cardfile.webhooks.worker import DeliveryWorker

            worker = DeliveryWorker(services.db, services.settings.webhooks, name="server-worker")
            worker.start()
        yield
        if worker is not None:
            worker.stop()
        services.close()

    app = FastAPI(
        title="cardfile",
        version=cardfile.__version__,
        description="A records server. Native API under /api; vendor dialects under their own prefixes.",
        lifespan=lifespan,
    )
    app.state.services = services
    install_guard(app, PROBLEMS)  # the native API's errors; each dialect's app has its own guard
    app.add_middleware(RateLimitHeaders)

    # The native routes at the top level (kit/mount.include_flat): every nesting of routers
    # is another matching pass per request; records first, as most requests are for records.
    # The single-record PATCH, the hot path, is matched first (no other PATCH route has its path).
    include_flat(app, records.router, prefix="/api", first=[("PATCH", "/records/{type_name}/{record_id}")])
    for router in (webhooks.router, automation.router, types.router):
        include_flat(app, router, prefix="/api")
    app.include_router(oauth2.router)
    # Every dialect the same way: its own application (kit/mount.py) with its error guard.
    app.mount(tracker_widget.PREFIX, tracker_widget.create_app(services))  # /tracker/api/widget/...
    app.mount("/mdm", tibco_mdm.create_app(services))
    app.mount(highlevel.PREFIX, highlevel.create_app(services))
    app.mount("/zoho", zoho_crm.create_app(services))  # Zoho CRM v7: /zoho/crm/v7/..., /zoho/oauth/v2/token
    app.mount("/tracker", tracker_v1_app(services))  # Tracker REST v1; after the widget's /tracker/api/widget

    @app.get("/api/health", tags=["health"], summary="Liveness (no authentication)")
    async def health() -> Response:
        return json_response({"status": "ok", "version": cardfile.__version__})

    return app
