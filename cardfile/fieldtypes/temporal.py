"""Date and time types, stored as fixed-width ISO 8601 strings (text order == time order)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from cardfile.fieldtypes.base import InvalidValue, SingleValueFieldType
from cardfile.fieldtypes.registry import registry
from cardfile.schema.model import FieldDef

__all__ = ["Date", "DateTime", "format_datetime"]

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_DATETIME = re.compile(
    r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]"
    r"(?P<h>[0-9]{2}):(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<frac>[0-9]{1,9}))?)?"
    r"(?P<tz>[Zz]|[+-][0-9]{2}:?[0-9]{2})?$"
)


def format_datetime(dt: datetime) -> str:
    """UTC, millisecond precision, fixed width: ``2024-05-01T12:30:00.000Z``."""
    u = dt.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
        f".{u.microsecond // 1000:03d}Z"
    )


@registry.register
class Date(SingleValueFieldType):
    """A calendar date, ``YYYY-MM-DD``."""

    name = "date"

    def parse(self, raw: Any, field: FieldDef) -> str:
        expected = "expected a date as 'YYYY-MM-DD', e.g. '2024-05-01'"
        if not isinstance(raw, str) or not _DATE.match(raw):
            raise InvalidValue("INVALID_DATE", expected)
        try:
            date.fromisoformat(raw)
        except ValueError:
            raise InvalidValue("INVALID_DATE", f"{raw!r} is not a calendar date; {expected}") from None
        return raw


@registry.register
class DateTime(SingleValueFieldType):
    """An instant: ISO 8601 with an offset in, UTC with milliseconds out.

    Digits beyond the millisecond are dropped (truncated, never rounded up).
    """

    name = "datetime"

    def parse(self, raw: Any, field: FieldDef) -> str:
        expected = "expected an ISO 8601 date-time with an offset, e.g. '2024-05-01T12:30:00Z' or '...+02:00'"
        m = _DATETIME.match(raw) if isinstance(raw, str) else None
        if m is None:
            raise InvalidValue("INVALID_DATETIME", expected)
        if m["tz"] is None:
            raise InvalidValue(
                "INVALID_DATETIME",
                f"an offset is required ('Z' for UTC or '+02:00'), so the instant is unambiguous; {expected}",
            )
        tz = m["tz"]
        frac = (m["frac"] or "").ljust(6, "0")[:6]
        try:
            if tz in ("Z", "z"):
                tzinfo: timezone = UTC
            else:
                hh, mm = int(tz[1:3]), int(tz[-2:])
                if mm > 59:
                    raise ValueError("offset minutes")
                sign = -1 if tz[0] == "-" else 1
                tzinfo = timezone(sign * timedelta(hours=hh, minutes=mm))
            d = date.fromisoformat(m["date"])
            dt = datetime(
                d.year, d.month, d.day, int(m["h"]), int(m["m"]), int(m["s"] or 0), int(frac), tzinfo=tzinfo
            )
            return format_datetime(dt)
        except (ValueError, OverflowError):
            raise InvalidValue(
                "INVALID_DATETIME", f"{raw[:40]!r} is not a valid date-time; {expected}"
            ) from None
