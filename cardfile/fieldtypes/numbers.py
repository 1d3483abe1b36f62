"""Number types: integer, decimal, money, boolean.

Numbers are stored as JSON numbers: an ``int`` when integral (and exactly representable
everywhere, |n| <= 2**53 for decimals), else a ``float``. Decimals carry at most 15
significant digits, so a float holds them exactly and prints them back unchanged.
"""

from __future__ import annotations

import math
import re
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from cardfile.errors import FieldError
from cardfile.fieldtypes.base import InvalidValue, InvalidValues, SingleValueFieldType
from cardfile.fieldtypes.registry import registry
from cardfile.schema.model import FieldDef

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_SIGNIFICANT_DIGITS",
    "Boolean",
    "DecimalType",
    "Integer",
    "Money",
    "check_range",
    "parse_decimal",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_SIGNIFICANT_DIGITS = 15
_SAFE_INT = 2**53
# beyond this the float would overflow or lose digits (subnormal): keep well inside
_MAX_EXPONENT = 300
_NUMERIC = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_CTX = Context(prec=60)

Number = int | float


def _as_decimal(v: Number | Decimal) -> Decimal:
    """Exact decimal of a stored number (floats by their shortest repr, not binary value)."""
    if isinstance(v, Decimal):
        return v
    return Decimal(repr(v)) if isinstance(v, float) else Decimal(v)


def _fmt(d: Decimal) -> str:
    return str(int(d)) if d == d.to_integral_value() else format(d.normalize(_CTX), "f")


def _significant_digits(d: Decimal) -> int:
    digits = "".join(map(str, d.as_tuple().digits)).strip("0")
    return max(len(digits), 1)


def parse_decimal(raw: Any) -> Number:
    """A JSON number or numeric string to its stored form; raises InvalidValue."""
    expected = 'expected a number, e.g. 12.5 or "12.50"'
    if isinstance(raw, bool):
        raise InvalidValue("NOT_A_NUMBER", f"{expected}, got a boolean")
    if isinstance(raw, int):
        d = Decimal(raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise InvalidValue("NOT_A_NUMBER", f"{expected}; NaN and Infinity are not numbers")
        d = Decimal(repr(raw))
    elif isinstance(raw, str):
        s = raw.strip()
        if not _NUMERIC.match(s):
            raise InvalidValue("NOT_A_NUMBER", f"{expected}; {raw[:40]!r} is not a number")
        try:
            d = Decimal(s)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            raise InvalidValue("NOT_A_NUMBER", expected) from None
    else:
        raise InvalidValue("NOT_A_NUMBER", expected)
    if _significant_digits(d) > MAX_SIGNIFICANT_DIGITS:
        raise InvalidValue(
            "TOO_PRECISE", f"a number can have at most {MAX_SIGNIFICANT_DIGITS} significant digits"
        )
    if d and d.adjusted() > _MAX_EXPONENT:
        raise InvalidValue("TOO_LARGE", f"a number must be less than 1e{_MAX_EXPONENT + 1} in magnitude")
    if d and d.adjusted() < -_MAX_EXPONENT:
        raise InvalidValue(
            "TOO_PRECISE", f"a non-zero number must be at least 1e-{_MAX_EXPONENT} in magnitude"
        )
    if d == d.to_integral_value() and abs(d) <= _SAFE_INT:
        return int(d)
    return float(d)


def check_range(value: Number, field: FieldDef, path: str = "") -> list[FieldError]:
    """``field.min`` / ``field.max`` against a stored number."""
    d = _as_decimal(value)
    if field.min is not None and d < field.min:
        return [FieldError(field.name + path, "TOO_SMALL", f"must be at least {_fmt(field.min)}")]
    if field.max is not None and d > field.max:
        return [FieldError(field.name + path, "TOO_LARGE", f"must be at most {_fmt(field.max)}")]
    return []


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


@registry.register
class Integer(SingleValueFieldType):
    """A whole number within signed 64 bits; 3.0 is taken as 3."""

    name = "integer"
    sql_kind = "number"

    def parse(self, raw: Any, field: FieldDef) -> int:
        if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int):
            got = "a boolean" if isinstance(raw, bool) else repr(raw)[:40]
            raise InvalidValue("NOT_AN_INTEGER", f"expected a whole number (a JSON integer), got {got}")
        if raw < INT64_MIN:
            raise InvalidValue("TOO_SMALL", f"must be at least {INT64_MIN} (64-bit integer)")
        if raw > INT64_MAX:
            raise InvalidValue("TOO_LARGE", f"must be at most {INT64_MAX} (64-bit integer)")
        return raw

    def validate(self, value: Any, field: FieldDef) -> list[FieldError]:
        return check_range(value, field) if _is_number(value) else []


@registry.register
class DecimalType(SingleValueFieldType):
    """A number with up to 15 significant digits; a JSON number or a numeric string."""

    name = "decimal"
    sql_kind = "number"

    def parse(self, raw: Any, field: FieldDef) -> Number:
        return parse_decimal(raw)

    def validate(self, value: Any, field: FieldDef) -> list[FieldError]:
        return check_range(value, field) if _is_number(value) else []


@registry.register
class Boolean(SingleValueFieldType):
    name = "boolean"
    sql_kind = "bool"

    def parse(self, raw: Any, field: FieldDef) -> bool:
        if not isinstance(raw, bool):
            raise InvalidValue("NOT_A_BOOLEAN", "expected true or false")
        return raw


_CURRENCY = re.compile(r"^[A-Z]{3}$")


@registry.register
class Money(SingleValueFieldType):
    """An amount in a currency: ``{"currency": "USD", "value": 12.5}``.

    ``currency`` (ISO 4217 style, three upper-case letters) may be left out when the
    field has a ``default_currency``; then a bare number is accepted too.
    ``value`` follows the decimal rules; ``min`` / ``max`` apply to it.
    """

    name = "money"
    sql_kind = None

    def parse(self, raw: Any, field: FieldDef) -> dict[str, Any]:
        shape = 'expected an object like {"currency": "USD", "value": 12.5}'
        if field.default_currency and (_is_number(raw) or isinstance(raw, str)):
            raw = {"value": raw}
        if not isinstance(raw, dict):
            raise InvalidValue("INVALID_MONEY", shape)
        unknown = sorted(set(raw) - {"currency", "value"})
        if unknown:
            raise InvalidValue("INVALID_MONEY", f"unknown key(s) {', '.join(map(repr, unknown))}; {shape}")
        errors: list[InvalidValue] = []
        currency = raw.get("currency")
        if currency is None:
            currency = field.default_currency
            if currency is None:
                errors.append(
                    InvalidValue("INVALID_MONEY", "a currency code is required, e.g. 'USD'", ".currency")
                )
        elif not isinstance(currency, str) or not _CURRENCY.match(currency):
            errors.append(
                InvalidValue(
                    "INVALID_MONEY",
                    "expected a currency code of three upper-case letters, e.g. 'USD'",
                    ".currency",
                )
            )
        value: Number | None = None
        if raw.get("value") is None:
            errors.append(InvalidValue("INVALID_MONEY", "an amount is required", ".value"))
        else:
            try:
                value = parse_decimal(raw["value"])
            except InvalidValue as exc:
                errors.append(exc.under(".value"))
        if errors:
            raise InvalidValues.of(errors)
        return {"currency": currency, "value": value}

    def validate(self, value: Any, field: FieldDef) -> list[FieldError]:
        if isinstance(value, dict) and _is_number(value.get("value")):
            return check_range(value["value"], field, ".value")
        return []

    def unique_key(self, value: Any, field: FieldDef) -> str | None:
        return None
