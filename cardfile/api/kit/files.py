"""A file sent in a JSON body: its bytes base64-encoded in one member, decoded within the
server's file size limit, checked by what the bytes are (``cardfile/files``), and kept in
the file store off the event loop."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.concurrency import run_in_threadpool

from cardfile.errors import BadRequest, FieldError, PayloadTooLarge, ValidationFailed
from cardfile.files import FileKind, FileRefused, check_file, open_store
from cardfile.services import Services

__all__ = ["body_limit", "checked_kind", "decode_file", "load_file", "store_file"]


def body_limit(svc: Services) -> int:
    """A JSON body carrying a file of the largest allowed size, base64-encoded."""
    n = svc.settings.max_file_bytes
    return 4 * ((n + 2) // 3) + 64 * 1024


def decode_file(svc: Services, raw: Any, key: str) -> bytes:
    """Base64 (standard or URL-safe, padding optional) into bytes, within the size limit."""
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest(f"{key} must be the file's bytes, base64-encoded", field=key)
    text = "".join(raw.split())
    if text.startswith("data:") and "," in text:  # a data: URL; the bytes decide the type
        text = text.split(",", 1)[1]
    text = text.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{key} is not valid base64", field=key) from None
    limit = svc.settings.max_file_bytes
    if len(data) > limit:
        raise PayloadTooLarge(f"a file may be at most {limit} bytes; this one has {len(data)}", limit=limit)
    return data


def checked_kind(data: bytes, filename: str, key: str) -> FileKind:
    """What the bytes are (``check_file``); a file cardfile does not keep fails on ``key``."""
    try:
        return check_file(data, filename)
    except FileRefused as exc:
        raise ValidationFailed([FieldError(key, exc.code, exc.message)], exc.message) from None


async def store_file(svc: Services, data: bytes) -> str:
    """Keep the bytes in the file store; their key (hex SHA-256)."""
    return await run_in_threadpool(open_store(svc.settings).put, data)


async def load_file(svc: Services, key: str) -> bytes:
    """The bytes of ``key``; ``FileMissing`` when the store lost them."""
    return await run_in_threadpool(open_store(svc.settings).get, key)
