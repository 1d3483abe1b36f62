"""Paths that match their routes whatever their case (``/api/v1/client/search`` is
``/api/v1/Client/Search``), for an API whose vendor routes paths case-insensitively."""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["CaseInsensitivePaths", "case_insensitive"]


def case_insensitive(app: ASGIApp, router: APIRouter) -> CaseInsensitivePaths:
    """``app`` with the paths of ``router``'s API routes matched whatever their case."""
    routes = [(r.path, frozenset(r.methods or ())) for r in router.routes if isinstance(r, APIRoute)]
    return CaseInsensitivePaths(app, routes)


class CaseInsensitivePaths:
    """ASGI wrapper: a path that matches a route template whatever its case is rewritten
    to the template's spelling (path parameters keep theirs), then routed as usual. The
    first template of the request's method wins (``POST /api/v1/user/search`` is the
    search, not ``GET /User/{userId}``); without one, the first of any method (so the
    answer is 405)."""

    def __init__(self, app: ASGIApp, routes: list[tuple[str, frozenset[str]]]) -> None:
        self.app = app
        self.templates: list[tuple[re.Pattern[str], list[str | None], frozenset[str]]] = []
        for path, methods in routes:
            parts: list[str | None] = [None if p.startswith("{") else p for p in path.strip("/").split("/")]
            pattern = "/".join("([^/]+)" if p is None else re.escape(p) for p in parts)
            self.templates.append((re.compile(f"^/{pattern}/?$", re.IGNORECASE), parts, methods))

    def canonical(self, method: str, path: str) -> str:
        fallback: str | None = None
        for pattern, parts, methods in self.templates:
            m = pattern.match(path)
            if m is None:
                continue
            values = iter(m.groups())
            fixed = "/" + "/".join(next(values) if p is None else p for p in parts)
            if method in methods:
                return fixed
            if fallback is None:
                fallback = fixed
        return fallback or path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            root = scope.get("root_path", "")
            path = scope["path"]
            inner = path[len(root) :] if root and path.startswith(root) else path
            fixed = self.canonical(scope.get("method", "GET"), inner)
            if fixed != inner:
                scope = dict(scope)
                scope["path"] = (root if path.startswith(root) else "") + fixed
                scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)
