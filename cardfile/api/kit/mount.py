"""One way to mount an API: a sub-application with its own error guard.

The native API and every dialect are built here and mounted by ``cardfile/api/app.py``
under their prefix, so each has its exception handlers (its ``ErrorShape``), its rate-limit
groups and, for the native API, its OpenAPI document, in the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from cardfile.api.kit.guard import ErrorShape, install_guard
from cardfile.api.kit.ratelimit import ensure_group
from cardfile.services import Services

__all__ = ["api_app", "include_flat"]


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


def include_flat(
    app: FastAPI, router: APIRouter, *, prefix: str = "", first: Sequence[tuple[str, str]] = ()
) -> None:
    """The routes of ``router`` as routes of ``app`` itself, under ``prefix``.

    FastAPI's ``include_router`` nests the router: each request that reaches it pays a
    second matching pass (about as much as the engine's work on a single-record PATCH).
    Each route is re-created as ``include_router`` did before it nested: its own path,
    dependencies (the router's included), tags and documentation, and its route class
    (``PlainRoute`` keeps serving what it can plainly).

    ``first``: ``(method, path)`` of routes matched ahead of the others (a hot path: each
    route tried before it costs a match); only for a path no other route of that method
    matches, so the order changes no answer."""
    hot = set(first)
    routes = sorted(
        router.routes,
        key=lambda r: not (isinstance(r, APIRoute) and any((m, r.path) in hot for m in r.methods or ())),
    )
    for route in routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"include_flat takes API routes only, not {route!r}")
        app.router.add_api_route(
            prefix + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=list(route.tags),
            dependencies=list(route.dependencies),
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=dict(route.responses),
            deprecated=route.deprecated,
            methods=list(route.methods or ()),
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            route_class_override=type(route),
        )
