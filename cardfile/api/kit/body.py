"""Reading a request body: bounded size, accepted media types, JSON with clear errors.

Every API reads its bodies here, so a body limit, a media-type check or a JSON error means
the same on every channel; a dialect only says which media types it takes (``MediaTypes``)
and renders the error in its own shape. The pure functions (``media_type``,
``check_declared``, ``parse_json``) hold the rules; the readers only stream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from cardfile.api.kit.services import services_of
from cardfile.errors import MalformedBody, PayloadTooLarge, UnsupportedMediaType

__all__ = [
    "ANY_MEDIA_TYPE",
    "JSON_BODY_DOC",
    "JSON_TYPES",
    "MediaTypes",
    "NATIVE_JSON",
    "check_declared",
    "media_type",
    "parse_json",
    "read_bounded",
    "read_json",
    "read_raw",
]

JSON_TYPES = ("application/json", "application/merge-patch+json")

# ``openapi_extra`` of a route that reads its JSON body itself (read_json), so /docs shows one.
JSON_BODY_DOC = {
    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}
}


@dataclass(frozen=True, slots=True)
class MediaTypes:
    """The media types a route takes; a request without ``Content-Type`` is always taken.

    ``names`` are exact types, ``pattern`` matches more (``application/*+json``), ``hint``
    is what the 415 asks for, and ``shown`` cuts the refused type in the message (``None``:
    the whole of it). With neither names nor pattern, any media type is taken.
    """

    names: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    hint: str = ""
    shown: int | None = None

    def check(self, ctype: str) -> None:
        """Raise ``UnsupportedMediaType`` unless ``ctype`` (lower case, no parameters) is taken."""
        if not ctype or not (self.names or self.pattern) or ctype in self.names:
            return
        if self.pattern is not None and self.pattern.match(ctype):
            return
        shown = ctype if self.shown is None else ctype[: self.shown]
        raise UnsupportedMediaType(f"send {self.hint or ' or '.join(self.names)}, not {shown!r}")


NATIVE_JSON = MediaTypes(JSON_TYPES)
ANY_MEDIA_TYPE = MediaTypes()


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` header: lower case, without its parameters."""
    return (content_type or "").split(";")[0].strip().lower()


def check_declared(content_length: str | None, limit: int) -> None:
    """A declared ``Content-Length`` over ``limit`` is refused before anything is read."""
    if content_length and content_length.isdigit() and int(content_length) > limit:
        raise PayloadTooLarge(f"the body may be at most {limit} bytes", limit=limit)


def parse_json(raw: bytes, *, required: bool = True) -> Any:
    """``raw`` as JSON; an empty body is ``None``, or ``MalformedBody`` when ``required``."""
    if not raw.strip():
        if required:
            raise MalformedBody("the request needs a JSON body")
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"the body is not valid JSON: {exc}") from None


async def read_bounded(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` as soon as it exceeds ``limit`` bytes (declared or streamed).

    For callers that answer an oversized body in a shape of their own (the OAuth forms)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def read_raw(request: Request, *, limit: int | None = None) -> bytes:
    """The body, at most ``limit`` bytes (the server's ``max_body_bytes`` unless given),
    else ``PayloadTooLarge`` (413)."""
    if limit is None:
        limit = services_of(request).settings.max_body_bytes
    raw = await read_bounded(request, limit)
    if raw is None:
        raise PayloadTooLarge(f"the body may be at most {limit} bytes", limit=limit)
    return raw


async def read_json(
    request: Request,
    *,
    accept: MediaTypes = NATIVE_JSON,
    required: bool = True,
    limit: int | None = None,
) -> Any:
    """The body as JSON: its media type checked first (415), then its size (413), then its
    syntax (400 ``MALFORMED_JSON``); ``None`` for an empty body that is not ``required``."""
    accept.check(media_type(request.headers.get("content-type")))
    return parse_json(await read_raw(request, limit=limit), required=required)
