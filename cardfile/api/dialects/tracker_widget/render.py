"""Widget response bodies: ``{"status", "message", "count"}``, plus ``detail`` on errors.

``count`` is always present. For updateRecord it is 0, as in the seed's sample, which
updates one record and still answers 0: it counts returned rows, and updateRecord returns
none. getSettings counts the settings it returns. ``detail`` (an extension member) says
what was wrong, in a sentence, so a status 99 can be acted upon.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from cardfile.api.dialects.tracker_widget.errors import MESSAGES, SUCCESS, outcome_of
from cardfile.errors import CardfileError, Duplicate, Locked, RateLimited, ValidationFailed
from cardfile.ratelimit import rate_limit_headers

__all__ = ["error_response", "success_response"]


def _response(
    body: dict[str, Any], http_status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body), status_code=http_status, media_type="application/json", headers=headers
    )


def success_response(count: int = 0, **extra: Any) -> Response:
    return _response({"status": SUCCESS, "message": MESSAGES[SUCCESS], "count": count, **extra})


def _detail(exc: CardfileError) -> str:
    errors = exc.errors if isinstance(exc, ValidationFailed | Duplicate) else []
    if not errors:
        return exc.detail
    return "; ".join(f"{e.field}: {e.message}" for e in errors)


def error_response(exc: CardfileError) -> Response:
    out = outcome_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, Locked | RateLimited):
        headers["Retry-After"] = str(max(1, exc.retry_after))
    if isinstance(exc, RateLimited) and exc.policy is not None and exc.limit is not None:
        headers.update(rate_limit_headers(exc.policy, exc.limit, exc.remaining, exc.reset))
    body = {"status": out.status, "message": MESSAGES[out.status], "count": 0, "detail": _detail(exc)}
    return _response(body, out.http_status, headers)
