"""Plain forms of the kit's dependencies: what each does, given only the request.

A dependency of the kit (counting a request, requiring credentials) registers its plain
form here; the kit's route class (``routes.py``) then serves a route whose dependencies
all have one without FastAPI's dependency solving. A dependency without a plain form is
never skipped: its route is solved by FastAPI as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request

__all__ = ["PlainForm", "plain_form", "plain_of"]

PlainForm = Callable[[Request], Any]
D = TypeVar("D", bound=Callable[..., Any])

_FORMS: dict[Callable[..., Any], PlainForm] = {}


def plain_form(dependency: D, form: PlainForm) -> D:
    """Register ``form(request)`` as doing what ``dependency`` does; returns ``dependency``."""
    _FORMS[dependency] = form
    return dependency


def plain_of(dependency: Callable[..., Any] | None) -> PlainForm | None:
    return _FORMS.get(dependency) if dependency is not None else None
