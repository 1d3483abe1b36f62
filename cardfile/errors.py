"""The one error hierarchy of cardfile.

Every error a client can cause or see is a ``CardfileError`` with a stable ``code``
(``UPPER_SNAKE``, part of the API, never renamed) and an HTTP ``status`` that the native
API uses; dialects map the classes onto their vendor's shapes by walking the MRO.

    CardfileError
     +-- BadRequest              400 BAD_REQUEST
     |    +-- MalformedBody      400 MALFORMED_JSON
     |    +-- LimitExceeded      400 LIMIT_EXCEEDED
     +-- Unauthenticated         401 UNAUTHENTICATED
     +-- PermissionDenied        403 PERMISSION_DENIED   (role, ownership or protected field)
     |    +-- ScopeMissing       403 INSUFFICIENT_SCOPE  (the token's scopes)
     |    +-- UserInactive       403 USER_INACTIVE
     +-- NotFound                404 NOT_FOUND
     |    +-- UnknownRecordType  404 UNKNOWN_RECORD_TYPE
     +-- Conflict                409 CONFLICT
     |    +-- Duplicate          409 DUPLICATE_VALUE
     |    +-- IdempotencyKeyReused 422 IDEMPOTENCY_KEY_REUSED
     |    +-- RecordLocked       423 RECORD_LOCKED       (locked by an automation rule)
     |    +-- LinkedRecordLocked 423 LINKED_RECORD_LOCKED (a new link to a locked record)
     |    +-- RecordFrozen       409 RECORD_FROZEN       (the record's state refuses the change)
     +-- PreconditionFailed      412 PRECONDITION_FAILED
     +-- PreconditionRequired    428 PRECONDITION_REQUIRED
     +-- PayloadTooLarge         413 PAYLOAD_TOO_LARGE
     +-- UnsupportedMediaType    415 UNSUPPORTED_MEDIA_TYPE
     +-- ValidationFailed        422 VALIDATION_FAILED   (carries every FieldError)
     +-- RateLimited             429 RATE_LIMITED
     +-- BatchFailed             422 BATCH_FAILED        (one error per failed record)
     +-- Locked                  503 DATABASE_LOCKED     (retry_after seconds)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "ALL_ERRORS",
    "BadRequest",
    "BatchFailed",
    "CardfileError",
    "Conflict",
    "Duplicate",
    "FieldError",
    "IdempotencyKeyReused",
    "LimitExceeded",
    "LinkedRecordLocked",
    "Locked",
    "MalformedBody",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "PreconditionFailed",
    "PreconditionRequired",
    "RateLimited",
    "RecordFrozen",
    "RecordLocked",
    "ScopeMissing",
    "Unauthenticated",
    "UnknownRecordType",
    "UnsupportedMediaType",
    "UserInactive",
    "ValidationFailed",
]


@dataclass(frozen=True)
class FieldError:
    """One problem with one field (or sub-value ``field.key`` / ``field[row].col``)."""

    field: str
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class CardfileError(Exception):
    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class BadRequest(CardfileError):
    code = "BAD_REQUEST"
    status = 400
    title = "Bad request"


class MalformedBody(BadRequest):
    code = "MALFORMED_JSON"
    title = "Malformed JSON body"


class LimitExceeded(BadRequest):
    code = "LIMIT_EXCEEDED"
    title = "Limit exceeded"


class Unauthenticated(CardfileError):
    code = "UNAUTHENTICATED"
    status = 401
    title = "Authentication required"


class PermissionDenied(CardfileError):
    code = "PERMISSION_DENIED"
    status = 403
    title = "Permission denied"


class ScopeMissing(PermissionDenied):
    """The token lacks a scope; distinct from a missing permission (Zoho: OAUTH_SCOPE_MISMATCH)."""

    code = "INSUFFICIENT_SCOPE"
    title = "The token's scopes do not allow this"


class UserInactive(PermissionDenied):
    code = "USER_INACTIVE"
    title = "This user is disabled"


class NotFound(CardfileError):
    code = "NOT_FOUND"
    status = 404
    title = "Not found"


class UnknownRecordType(NotFound):
    code = "UNKNOWN_RECORD_TYPE"
    title = "Unknown record type"


class Conflict(CardfileError):
    code = "CONFLICT"
    status = 409
    title = "Conflict"


class Duplicate(Conflict):
    """A unique field already holds this value on another record."""

    code = "DUPLICATE_VALUE"
    title = "Duplicate value"

    def __init__(self, detail: str = "", *, errors: list[FieldError] | None = None, **extra: Any):
        super().__init__(detail, **extra)
        self.errors = list(errors or [])


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"
    status = 422
    title = "Idempotency key reused with a different request"


class RecordLocked(Conflict):
    """An automation rule locked the record: no update or delete until an admin unlocks it."""

    code = "RECORD_LOCKED"
    status = 423
    title = "Record locked"


class LinkedRecordLocked(Conflict):
    """A write would add a link, from a field marked ``refuse_locked``, to a record an
    automation rule locked; ``errors`` names each such link."""

    code = "LINKED_RECORD_LOCKED"
    status = 423
    title = "Linked record locked"

    def __init__(self, detail: str = "", *, errors: list[FieldError] | None = None, **extra: Any):
        super().__init__(detail, **extra)
        self.errors = list(errors or [])


class RecordFrozen(Conflict):
    """The record is in a state of its type's ``frozen_states`` that refuses this update or
    delete; ``extra`` carries ``state`` (the state's name from the schema), ``record_type``
    and ``record_id``, and the detail is the state's message when the schema gives one."""

    code = "RECORD_FROZEN"
    status = 409
    title = "The record's state refuses this change"


class PreconditionFailed(CardfileError):
    code = "PRECONDITION_FAILED"
    status = 412
    title = "Precondition failed"


class PreconditionRequired(CardfileError):
    code = "PRECONDITION_REQUIRED"
    status = 428
    title = "Precondition required"


class PayloadTooLarge(CardfileError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(CardfileError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415
    title = "Unsupported media type"


class ValidationFailed(CardfileError):
    """Carries every field error of the request, never just the first."""

    code = "VALIDATION_FAILED"
    status = 422
    title = "Validation failed"

    def __init__(self, errors: list[FieldError], detail: str = "", **extra: Any) -> None:
        n = len(errors)
        super().__init__(detail or f"{n} field error{'s' if n != 1 else ''}", **extra)
        self.errors = list(errors)


class RateLimited(CardfileError):
    """The caller's budget is spent: retry after ``retry_after`` seconds. ``limit``,
    ``remaining``, ``reset`` (seconds) and ``policy`` (e.g. ``"100;w=60"``) describe the
    budget, for the ``RateLimit`` and ``RateLimit-Policy`` headers, when known."""

    code = "RATE_LIMITED"
    status = 429
    title = "Too many requests"

    def __init__(
        self,
        detail: str = "",
        *,
        retry_after: int = 1,
        limit: int | None = None,
        remaining: int | None = None,
        reset: int | None = None,
        policy: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
        self.policy = policy


class Locked(CardfileError):
    """The database stayed locked past the busy timeout; the client should retry."""

    code = "DATABASE_LOCKED"
    status = 503
    title = "Database busy"

    def __init__(self, detail: str = "", *, retry_after: int = 1, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


ALL_ERRORS: tuple[type[CardfileError], ...] = tuple(
    c for c in list(globals().values()) if isinstance(c, type) and issubclass(c, CardfileError)
)


class BatchFailed(CardfileError):
    """An all-or-none batch with at least one bad record: nothing was committed."""

    code = "BATCH_FAILED"
    status = 422
    title = "Batch failed; nothing was changed"

    def __init__(self, failures: Sequence[tuple[int, object, CardfileError]], detail: str = "") -> None:
        n = len(failures)
        super().__init__(detail or f"{n} record{'s' if n != 1 else ''} failed; nothing was changed")
        self.failures = list(failures)


ALL_ERRORS = (*ALL_ERRORS, BatchFailed)
