"""The ASGI application: the native API under /api; each vendor dialect gets its own prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.responses import Response

import cardfile
from cardfile.api.native import records, types
from cardfile.api.native.http import json_response
from cardfile.api.native.problems import install_problem_handlers
from cardfile.services import Services

__all__ = ["create_app"]


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    app = FastAPI(
        title="cardfile",
        version=cardfile.__version__,
        description="A records server. Native API under /api; vendor dialects under their own prefixes.",
        lifespan=lifespan,
    )
    app.state.services = services
    install_problem_handlers(app)

    native = APIRouter(prefix="/api")
    native.include_router(types.router)
    native.include_router(records.router)

    @native.get("/health", tags=["health"], summary="Liveness (no authentication)")
    async def health() -> Response:
        return json_response({"status": "ok", "version": cardfile.__version__})

    app.include_router(native)
    return app
