"""The ``Services`` of the application that serves a request."""

from __future__ import annotations

from starlette.requests import Request

from cardfile.services import Services

__all__ = ["services_of"]


def services_of(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc
