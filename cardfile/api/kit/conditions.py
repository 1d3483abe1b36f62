"""Conditional requests: ``If-Match`` and ``If-Unmodified-Since`` parsed strictly, and the
``ETag`` / ``Last-Modified`` of a record."""

from __future__ import annotations

import email.utils
from datetime import datetime
from typing import Any, Literal

from starlette.requests import Request

from cardfile.errors import BadRequest, PreconditionRequired

__all__ = ["Conditions", "etag", "parse_http_time", "record_headers"]

Precision = Literal["second", "microsecond"]


def etag(version: int) -> str:
    return f'"{version}"'


def record_headers(record: dict[str, Any]) -> dict[str, str]:
    return {
        "ETag": etag(int(record["version"])),
        "Last-Modified": email.utils.format_datetime(
            datetime.fromisoformat(record["modified_at"]), usegmt=True
        ),
    }


class Conditions:
    """If-Match and If-Unmodified-Since, parsed strictly."""

    def __init__(self, request: Request, *, required: bool) -> None:
        self.expected_version: int | None = None
        self.unmodified_since: datetime | None = None
        self.precision: Precision = "second"
        if_match = request.headers.get("if-match")
        ius = request.headers.get("if-unmodified-since")
        if required and if_match is None and ius is None:
            raise PreconditionRequired("send If-Match (the record's ETag) or If-Unmodified-Since")
        if if_match is not None and if_match.strip() != "*":
            tags = [t.strip() for t in if_match.split(",") if t.strip()]
            if len(tags) != 1:
                raise BadRequest("If-Match takes one ETag (or *)", field="If-Match")
            tag = tags[0].removeprefix("W/").strip('"')
            if not tag.isdigit():
                raise BadRequest(f"If-Match {tags[0]!r} is not an ETag of this server", field="If-Match")
            self.expected_version = int(tag)
        if ius is not None:
            self.unmodified_since, self.precision = parse_http_time(ius)


def parse_http_time(value: str) -> tuple[datetime, Precision]:
    """An HTTP-date (whole seconds) or, as an extension, ISO 8601 with fractions."""
    try:
        dt = email.utils.parsedate_to_datetime(value)
        if dt is not None and dt.tzinfo is not None:
            return dt, "second"
    except (TypeError, ValueError, IndexError):
        pass
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"If-Unmodified-Since {value!r} is not an HTTP-date", field="If-Unmodified-Since"
        ) from None
    if dt.tzinfo is None:
        raise BadRequest("If-Unmodified-Since needs a time zone", field="If-Unmodified-Since")
    return dt, ("microsecond" if dt.microsecond else "second")
