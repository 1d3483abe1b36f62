"""The HTTP kit on its own (cardfile/api/kit): body limits, media types, malformed JSON, a file
sent in a body, and which routes the plain route class serves without FastAPI's dependency solving."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import JSONResponse, Response

from cardfile.api.kit.body import (
    ANY_MEDIA_TYPE,
    NATIVE_JSON,
    MediaTypes,
    check_declared,
    media_type,
    parse_json,
    read_bounded,
    read_json,
)
from cardfile.api.kit.files import checked_kind, decode_file
from cardfile.api.kit.plain import plain_form
from cardfile.api.kit.routes import PlainRoute, plain_plan
from cardfile.api.native import records
from cardfile.errors import BadRequest, MalformedBody, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from cardfile.files import kept_name


def _request(body: bytes, *, headers: dict[str, str] | None = None, chunk: int = 3) -> Request:
    """A Request whose body arrives in chunks of ``chunk`` bytes."""
    parts = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    messages = [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw}, receive)


# -- media types ---------------------------------------------------------------------------------
def test_media_type_is_lower_case_without_parameters() -> None:
    assert media_type("Application/JSON; charset=utf-8") == "application/json"
    assert media_type(None) == media_type("") == ""


def test_native_json_takes_json_and_merge_patch_and_no_content_type() -> None:
    for ctype in ("application/json", "application/merge-patch+json", ""):
        NATIVE_JSON.check(ctype)
    with pytest.raises(UnsupportedMediaType) as info:
        NATIVE_JSON.check("text/plain")
    assert info.value.detail == "send application/json or application/merge-patch+json, not 'text/plain'"


def test_a_pattern_with_a_hint_and_a_cut() -> None:
    accept = MediaTypes(pattern=re.compile(r"^application/([a-z.+-]*\+)?json$"), hint="JSON", shown=5)
    accept.check("application/vnd.x+json")
    with pytest.raises(UnsupportedMediaType) as info:
        accept.check("text/html")
    assert info.value.detail == "send JSON, not 'text/'"
    ANY_MEDIA_TYPE.check("text/html")  # a dialect whose clients send anything


# -- sizes ---------------------------------------------------------------------------------------
def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    check_declared("10", 10)
    check_declared(None, 10)
    check_declared("not a number", 10)  # the streamed size still counts
    with pytest.raises(PayloadTooLarge) as info:
        check_declared("11", 10)
    assert info.value.extra == {"limit": 10}


def test_read_bounded_stops_at_the_limit_streamed_or_declared() -> None:
    assert asyncio.run(read_bounded(_request(b"0123456789"), 10)) == b"0123456789"
    assert asyncio.run(read_bounded(_request(b"0123456789x"), 10)) is None
    assert asyncio.run(read_bounded(_request(b"", headers={"content-length": "11"}), 10)) is None


def test_read_json_checks_media_type_then_size_then_syntax() -> None:
    assert asyncio.run(read_json(_request(b'{"a": [1, 2]}'), limit=100)) == {"a": [1, 2]}
    with pytest.raises(UnsupportedMediaType):  # before the (oversized) body is read
        asyncio.run(read_json(_request(b"x" * 200, headers={"content-type": "text/csv"}), limit=100))
    with pytest.raises(PayloadTooLarge):
        asyncio.run(read_json(_request(b"{" * 200), limit=100))
    with pytest.raises(MalformedBody):
        asyncio.run(read_json(_request(b"{nope"), limit=100))
    assert asyncio.run(read_json(_request(b""), limit=100, required=False)) is None
    text = asyncio.run(
        read_json(_request(b'"x"', headers={"content-type": "text/plain"}), accept=ANY_MEDIA_TYPE, limit=9)
    )
    assert text == "x"


# -- malformed JSON ------------------------------------------------------------------------------
def test_parse_json_errors_say_what_is_wrong() -> None:
    with pytest.raises(MalformedBody) as info:
        parse_json(b"  \n")
    assert info.value.detail == "the request needs a JSON body"
    assert parse_json(b" ", required=False) is None
    with pytest.raises(MalformedBody) as info:
        parse_json(b'{"a": 1,}')
    assert info.value.detail.startswith("the body is not valid JSON: ")
    assert info.value.code == "MALFORMED_JSON" and info.value.status == 400
    assert parse_json(b"[1, null]") == [1, None]


# -- the plain route class -----------------------------------------------------------------------
def test_the_single_record_patch_is_served_plainly() -> None:
    (route,) = [
        r
        for r in records.router.routes
        if r.path == "/records/{type_name}/{record_id}" and "PATCH" in r.methods
    ]  # type: ignore[attr-defined]
    assert isinstance(route, PlainRoute)
    plan = plain_plan(route.dependant, route.endpoint)
    assert (
        plan is not None
        and plan.ints == ("record_id",)
        and plan.queries == (("validate_only", "validate_only"),)
    )
    assert [name for name, _form in plan.steps] == [None, "creds"]  # the router's rate limit first


def test_a_dependency_without_a_plain_form_is_never_skipped() -> None:
    calls: list[str] = []

    async def known(request: Request) -> None:
        calls.append("known by FastAPI")

    plain_form(known, lambda request: calls.append("known plainly"))

    def unknown() -> None:
        calls.append("unknown")

    router = APIRouter(dependencies=[Depends(known)], route_class=PlainRoute)

    @router.get("/x/{n}")
    async def endpoint(n: int, request: Request, q: str | None = None) -> Response:
        return JSONResponse({"n": n, "q": q})

    app = FastAPI()
    app.include_router(router, prefix="/plain")
    app.include_router(router, prefix="/solved", dependencies=[Depends(unknown)])

    async def run() -> list[tuple[int, Any, list[str]]]:
        out = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            for path in ("/plain/x/7?q=a", "/plain/x/abc", "/solved/x/7"):
                r = await client.get(path)
                out.append((r.status_code, r.json().get("n"), list(calls)))
                calls.clear()
        return out

    plain, not_digits, solved = asyncio.run(run())
    assert plain == (200, 7, ["known plainly"])
    assert not_digits[0] == 422 and not_digits[2] == ["known by FastAPI"]  # FastAPI parses what is not digits
    assert solved == (200, 7, ["unknown", "known by FastAPI"])  # an include's dependency makes it FastAPI's


# -- a file in a JSON body -----------------------------------------------------------------------
class _Svc:
    class settings:  # noqa: N801 - what decode_file reads of Services
        max_file_bytes = 8


def test_decode_file_takes_either_base64_alphabet_a_data_url_and_no_padding() -> None:
    svc: Any = _Svc()
    for raw in ("/+8=", "_-8", "data:text/plain;base64,/+8=", " /+ 8= "):
        assert decode_file(svc, raw, "fileData") == b"\xff\xef"
    for raw in (None, "", "not base64!"):
        with pytest.raises(BadRequest) as info:
            decode_file(svc, raw, "fileData")
        assert info.value.extra == {"field": "fileData"}
    with pytest.raises(PayloadTooLarge):
        decode_file(svc, "YWJjZGVmZ2hp", "fileData")  # nine bytes


def test_a_file_is_checked_by_its_bytes_and_kept_under_a_name_with_its_extension() -> None:
    kind = checked_kind(b"%PDF-1.4 ...", "cv", "fileData")
    assert (kind.ext, kept_name(" cv ", kind), kept_name("cv.PDF", kind)) == ("pdf", "cv.pdf", "cv.PDF")
    assert kept_name("x" * 300, kind) == "x" * 255
    with pytest.raises(ValidationFailed) as info:
        checked_kind(b"%PDF-1.4 ...", "cv.docx", "fileData")
    assert [(e.field, e.code) for e in info.value.errors] == [("fileData", "FILE_TYPE_MISMATCH")]
