"""Text types: text, long_text, multi_text, email, url, phone.

All are stored as a ``str``. ``parse`` checks the shape of the input; the length limit
(``max_length``, or the type's default) is a constraint checked by ``validate``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from cardfile.errors import FieldError
from cardfile.fieldtypes.base import InvalidValue, MultiValueFieldType, SingleValueFieldType
from cardfile.fieldtypes.registry import registry
from cardfile.schema.model import FieldDef

__all__ = [
    "URL_MAX_LENGTH",
    "Email",
    "LongText",
    "MultiText",
    "Phone",
    "Text",
    "TextLike",
    "Url",
    "check_length",
    "check_url",
    "parse_line",
    "require_str",
]

URL_MAX_LENGTH = 2048

# C0 and C1 control characters, DEL, and lone surrogates (which no database can store).
_SINGLE_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# the same, but tab, newline and carriage return are fine
_MULTI_LINE_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_PHONE_CHARS = re.compile(r"^\+[0-9 \-.()]+$")
_WHITESPACE = re.compile(r"\s")


def require_str(raw: Any, what: str = "a string") -> str:
    if not isinstance(raw, str):
        raise InvalidValue("NOT_A_STRING", f"expected {what}, got {_json_kind(raw)}")
    return raw


def _json_kind(raw: Any) -> str:
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, int | float):
        return "a number"
    if isinstance(raw, str):
        return "a string"
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, dict):
        return "an object"
    return type(raw).__name__


def parse_line(raw: Any) -> str:
    """A string of one line: no newlines, tabs or other control characters."""
    s = require_str(raw)
    if _SINGLE_LINE_BAD.search(s):
        raise InvalidValue(
            "INVALID_TEXT",
            "text must be a single line without control characters (no newlines or tabs); "
            "multi-line text needs a long_text field",
        )
    return s


def check_length(value: str, limit: int, field_name: str, path: str = "") -> list[FieldError]:
    if len(value) > limit:
        return [
            FieldError(field_name + path, "TOO_LONG", f"must be at most {limit} characters, got {len(value)}")
        ]
    return []


def check_url(raw: Any) -> str:
    """An absolute http(s) URL with a host, at most 2048 characters; returned as given."""
    s = require_str(raw, "a URL (a string)").strip()
    if len(s) > URL_MAX_LENGTH:
        raise InvalidValue("TOO_LONG", f"a URL must be at most {URL_MAX_LENGTH} characters, got {len(s)}")
    bad = "expected an absolute http:// or https:// URL with a host, e.g. 'https://example.com/page'"
    if _WHITESPACE.search(s) or _SINGLE_LINE_BAD.search(s):
        raise InvalidValue("INVALID_URL", f"a URL cannot contain spaces or control characters; {bad}")
    try:
        parts = urlsplit(s)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise InvalidValue("INVALID_URL", bad) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidValue("INVALID_URL", bad)
    return s


class TextLike(SingleValueFieldType):
    """A string with a length limit: ``field.max_length`` or ``default_max_length``."""

    default_max_length: ClassVar[int | None] = None

    def max_length(self, field: FieldDef) -> int | None:
        return field.max_length if field.max_length is not None else self.default_max_length

    def validate(self, value: Any, field: FieldDef) -> list[FieldError]:
        limit = self.max_length(field)
        if limit is None or not isinstance(value, str):
            return []
        return check_length(value, limit, field.name)


@registry.register
class Text(TextLike):
    """One line of text."""

    name = "text"
    default_max_length = 255

    def parse(self, raw: Any, field: FieldDef) -> str:
        return parse_line(raw)


@registry.register
class LongText(TextLike):
    """Multi-line text: newlines and tabs allowed, other control characters not."""

    name = "long_text"
    default_max_length = 65535

    def parse(self, raw: Any, field: FieldDef) -> str:
        s = require_str(raw)
        if _MULTI_LINE_BAD.search(s):
            raise InvalidValue(
                "INVALID_TEXT", "text cannot contain control characters other than newline, tab and CR"
            )
        return s


@registry.register
class MultiText(MultiValueFieldType):
    """Several distinct lines of text in the order given (street lines, aliases, keywords)."""

    name = "multi_text"
    default_max_length = 255  # per item

    def parse_item(self, raw: Any, field: FieldDef) -> str:
        s = parse_line(raw)
        if not s.strip():
            raise InvalidValue("INVALID_TEXT", "an item cannot be empty")
        return s

    def validate(self, value: Any, field: FieldDef) -> list[FieldError]:
        limit = field.max_length if field.max_length is not None else self.default_max_length
        errors: list[FieldError] = []
        for i, item in enumerate(value if isinstance(value, list) else ()):
            if isinstance(item, str):
                errors.extend(check_length(item, limit, field.name, f"[{i}]"))
        return errors


@registry.register
class Email(TextLike):
    """An email address, stored in the normalised form of ``email_validator``."""

    name = "email"
    default_max_length = 254

    def parse(self, raw: Any, field: FieldDef) -> str:
        s = require_str(raw, "an email address (a string)").strip()
        try:
            return validate_email(s, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise InvalidValue(
                "INVALID_EMAIL", f"expected an email address like 'name@example.com': {exc}"
            ) from None

    def unique_key(self, value: Any, field: FieldDef) -> str | None:
        return None if self.is_empty(value) else str(value).lower()


@registry.register
class Url(TextLike):
    """An absolute http(s) URL; stored as given (surrounding whitespace removed)."""

    name = "url"
    default_max_length = URL_MAX_LENGTH

    def parse(self, raw: Any, field: FieldDef) -> str:
        return check_url(raw)


@registry.register
class Phone(TextLike):
    """A phone number in international format; stored as E.164 ("+14155552671")."""

    name = "phone"

    def parse(self, raw: Any, field: FieldDef) -> str:
        s = require_str(raw, "a phone number (a string)").strip()
        need = "use international format: '+', the country code, then the number, e.g. '+14155552671'"
        if not s.startswith("+"):
            raise InvalidValue("INVALID_PHONE", f"the number has no country code; {need}")
        if not _PHONE_CHARS.match(s):
            raise InvalidValue(
                "INVALID_PHONE",
                f"a phone number may hold only digits, spaces, dashes, dots and parentheses; {need}",
            )
        if s.lstrip("+ (")[:1] == "0":
            raise InvalidValue("INVALID_PHONE", f"a country code never starts with 0; {need}")
        try:
            number = phonenumbers.parse(s, None)
        except phonenumbers.NumberParseException:
            raise InvalidValue("INVALID_PHONE", f"not a phone number; {need}") from None
        if not phonenumbers.is_valid_number(number):
            raise InvalidValue("INVALID_PHONE", f"{s!r} is not a valid phone number for its country code")
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
