"""The widget's outcome codes, and every ``CardfileError`` mapped onto one of them.

The widget answers in the body: ``{"status": <code>, "message": <text>, "count": 0}``
with HTTP 200 for every outcome the seed names (the seed's "response status codes" are
the body's ``status``). Transport-level refusals keep an HTTP status of their own (429
rate limited, 503 database busy, 500 a bug, 413 a body over the size limit), still with a
widget body, so a client that reads only the body sees status 99.

The class is looked up along the MRO, so a new subclass of a mapped error maps like its
parent; ``CardfileError`` itself maps to 99, so every error has an outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

from cardfile.errors import (
    CardfileError,
    LinkedRecordLocked,
    Locked,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RecordFrozen,
    Unauthenticated,
    UnknownRecordType,
    UserInactive,
    ValidationFailed,
)

__all__ = [
    "COLUMN_NOT_FOUND",
    "InternalError",
    "UnknownMethod",
    "INVALID_REQUEST",
    "MESSAGES",
    "RECORD_NOT_FOUND",
    "SUCCESS",
    "USER_NOT_ACTIVE",
    "USER_NOT_FOUND",
    "Outcome",
    "UNKNOWN_COLUMN",
    "outcome_of",
]

SUCCESS = 0
USER_NOT_FOUND = 1
USER_NOT_ACTIVE = 2
RECORD_NOT_FOUND = 3
COLUMN_NOT_FOUND = 4
INVALID_REQUEST = 99

# the seed's texts, verbatim
MESSAGES = {
    SUCCESS: "success",
    USER_NOT_FOUND: "user not found",
    USER_NOT_ACTIVE: "user not active",
    RECORD_NOT_FOUND: "record not found",
    COLUMN_NOT_FOUND: "column not found",
    INVALID_REQUEST: "Invalid request",
}

# The FieldError code the dialect (and the engine) use for a column, custom field or
# skill that the record type does not have: outcome 4 rather than 99.
UNKNOWN_COLUMN = "UNKNOWN_FIELD"


class InternalError(CardfileError):
    """A bug (logged by the route); the client gets status 99 with HTTP 500."""

    code = "INTERNAL_ERROR"


class UnknownMethod(CardfileError):
    """A widget method this server does not serve: status 99 with HTTP 404."""

    code = "NOT_FOUND"


@dataclass(frozen=True)
class Outcome:
    status: int  # the widget's code in the body
    http_status: int = 200


_BY_CLASS: dict[type, Outcome] = {
    CardfileError: Outcome(INVALID_REQUEST),
    Unauthenticated: Outcome(USER_NOT_FOUND),
    UserInactive: Outcome(USER_NOT_ACTIVE),
    NotFound: Outcome(RECORD_NOT_FOUND),
    UnknownRecordType: Outcome(INVALID_REQUEST),
    ValidationFailed: Outcome(INVALID_REQUEST),
    RecordFrozen: Outcome(INVALID_REQUEST),  # the record's state refuses the change
    LinkedRecordLocked: Outcome(INVALID_REQUEST),
    PayloadTooLarge: Outcome(INVALID_REQUEST, 413),
    RateLimited: Outcome(INVALID_REQUEST, 429),
    Locked: Outcome(INVALID_REQUEST, 503),
    InternalError: Outcome(INVALID_REQUEST, 500),
    UnknownMethod: Outcome(INVALID_REQUEST, 404),
}


def outcome_of(exc: CardfileError) -> Outcome:
    """The widget outcome of an error: its class's, or its nearest mapped parent's."""
    if isinstance(exc, ValidationFailed) and any(e.code == UNKNOWN_COLUMN for e in exc.errors):
        return Outcome(COLUMN_NOT_FOUND)
    for cls in type(exc).__mro__:
        found = _BY_CLASS.get(cls)
        if found is not None:
            return found
    return _BY_CLASS[CardfileError]  # pragma: no cover - every CardfileError has CardfileError in its MRO
