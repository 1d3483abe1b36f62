"""cardfile errors as Tracker answers them: RFC 9457 problem details.

The body is the native API's problem (``type``, ``title``, ``status``, ``detail``, a stable
``code`` and, for field problems, ``errors``) plus ``instance``, the request path. Statuses
follow the seed's table: a malformed request is 400, a missing or bad JWT 401, a refused
permission 403, an unknown path 404, a conflict 409, an unsupported media type 415, values
the store refuses (validation, a link to a missing record, an unknown custom field) 422,
too many requests 429. "Record not found" is not an error in Tracker: the handlers answer
204 for it themselves (``routes.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.requests import Request
from starlette.responses import Response

from cardfile.api.kit.problems import ProblemShape
from cardfile.errors import CardfileError, Conflict, Duplicate

__all__ = ["SHAPE", "duplicate_as_conflict", "problem"]

# the kit's problem details, with Tracker's 401 realm and the request path as ``instance``
SHAPE = ProblemShape(logging.getLogger("cardfile.api.tracker_v1"), realm="tracker", instance=True)


def problem(exc: CardfileError, request: Request) -> Response:
    return SHAPE.error(request, exc)


@contextmanager
def duplicate_as_conflict(detail: str) -> Iterator[None]:
    """The engine's ``Duplicate`` (a ``unique_together`` of the pack) as Tracker answers a
    second list entry: 409 ``CONFLICT`` with ``detail``."""
    try:
        yield
    except Duplicate:
        raise Conflict(detail) from None
