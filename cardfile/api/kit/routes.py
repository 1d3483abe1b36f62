"""The kit's route class: a route whose plumbing the kit knows is served without FastAPI's
dependency solving.

Solving a route's dependencies costs FastAPI about 250 µs a request, more than the engine's
work on the hot path (a single-record PATCH). ``PlainRoute`` serves a route *plainly* when
everything it takes is plain: its dependencies are the kit's (each has a plain form,
``plain.py``), its path parameters are ``str`` or ``int``, its query parameters ``str |
None``, it reads its body itself and returns a ``Response``. The steps stay those of
FastAPI: the dependencies in their order (the router's first), then the endpoint. Anything
else, a route or a request (an ``int`` path parameter that is not digits), goes through
FastAPI's handler as usual, so a dependency added later is never skipped: it makes the
route a FastAPI one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

from fastapi import routing
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from cardfile.api.kit.plain import PlainForm, plain_of

__all__ = ["PlainRoute", "plain_plan"]

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True, slots=True)
class Plan:
    """How to call an endpoint plainly."""

    steps: tuple[tuple[str | None, PlainForm], ...]  # (parameter name or None, plain form)
    ints: tuple[str, ...]  # int path parameters
    strs: tuple[str, ...]  # str path parameters
    queries: tuple[tuple[str, str], ...]  # (parameter name, alias): ``str | None`` query parameters
    request: str | None  # the name of the Request parameter


def _optional_str(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, UnionType) and set(get_args(annotation)) == {str, NoneType}


def plain_plan(dependant: Dependant, endpoint: Callable[..., Any]) -> Plan | None:
    """The plan of a route that can be served plainly; ``None`` for one that cannot."""
    if dependant.header_params or dependant.cookie_params or dependant.body_params:
        return None
    if (
        dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    ):
        return None
    returns = get_typed_return_annotation(endpoint)
    if not (inspect.isclass(returns) and issubclass(returns, Response)):
        return None
    steps = []
    for dep in dependant.dependencies:
        form = plain_of(dep.call)
        if form is None:
            return None
        steps.append((dep.name, form))
    ints, strs = [], []
    for field in dependant.path_params:
        if field.field_info.annotation is int:
            ints.append(field.name)
        elif field.field_info.annotation is str:
            strs.append(field.name)
        else:
            return None
    queries = []
    for field in dependant.query_params:
        if not _optional_str(field.field_info.annotation) or field.field_info.default is not None:
            return None
        queries.append((field.name, field.alias))
    return Plan(tuple(steps), tuple(ints), tuple(strs), tuple(queries), dependant.request_param_name)


class PlainRoute(APIRoute):
    """An ``APIRoute`` that serves plainly what it can (see the module)."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        # FastAPI solves an included route with the dependencies of its include (a private
        # context); the plan must see the same ones, or a route's dependency could be skipped.
        context = getattr(routing, "_effective_route_context_var", None)
        effective = context.get() if context is not None else None
        dependant = (
            effective.dependant
            if effective is not None and effective.original_route is self
            else self.dependant
        )
        plan = plain_plan(dependant, self.endpoint)
        if plan is None or not inspect.iscoroutinefunction(self.endpoint):
            return handler
        endpoint = self.endpoint

        async def plain(request: Request) -> Response:
            params = request.path_params
            kwargs: dict[str, Any] = {}
            for name in plan.ints:
                value = params[name]
                if not (isinstance(value, str) and value.isascii() and value.isdigit()):
                    return await handler(request)  # FastAPI's parsing and its errors
                kwargs[name] = int(value)
            for name in plan.strs:
                kwargs[name] = params[name]
            for step_name, form in plan.steps:
                value = form(request)
                if step_name is not None:
                    kwargs[step_name] = value
            query = request.query_params
            for name, alias in plan.queries:
                kwargs[name] = query.get(alias)
            if plan.request is not None:
                kwargs[plan.request] = request
            response: Response = await endpoint(**kwargs)
            return response

        return plain
