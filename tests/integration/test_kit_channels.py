"""The HTTP kit through every API: one body limit, one malformed-JSON rule and one error
guard per mounted application, each answered in the API's own shape (the drift table of
the plumbing: the same request gets the same outcome on every channel)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cardfile.auth.apikeys import create_key
from cardfile.services import open_services
from cardfile.settings import Settings
from tests.conftest import start_live

LIMIT = 2048
Check = Callable[[dict[str, Any]], bool]


def _problem(code: str) -> Check:
    return lambda body: body.get("code") == code and "type" in body


def _highlevel(status: int) -> Check:
    return lambda body: body.get("statusCode") == status


def _zoho(code: str) -> Check:
    return lambda body: body.get("code") == code and body.get("status") == "error"


def _mdm(code: str) -> Check:
    return lambda body: body.get("success") is False and body["responseMessages"][0]["code"] == code


def _widget(body: dict[str, Any]) -> bool:
    return body.get("status") == 99 and body.get("message") == "Invalid request"


# (channel, method, path, Authorization scheme) of a route that reads a JSON body
WRITES = [
    ("native", "PATCH", "/api/records/contacts/1", "Bearer"),
    ("highlevel", "PUT", "/highlevel/objects/custom_objects.things/records/1", "Bearer"),
    ("zoho", "PUT", "/zoho/crm/v7/Deals", "Zoho-oauthtoken"),
    ("mdm", "PUT", "/mdm/records/Company/modifyRecord", "Bearer"),
    ("tracker_v1", "POST", "/tracker/api/v1/TimesheetEntries/bulk", "Bearer"),
    ("tracker_widget", "POST", "/tracker/api/widget/updateRecord", None),
]
TOO_LARGE: dict[str, tuple[int, Check]] = {
    "native": (413, _problem("PAYLOAD_TOO_LARGE")),
    "highlevel": (413, _highlevel(413)),
    "zoho": (413, _zoho("LIMIT_EXCEEDED")),
    "mdm": (413, _mdm("PAYLOAD_TOO_LARGE")),
    "tracker_v1": (413, _problem("PAYLOAD_TOO_LARGE")),
    "tracker_widget": (413, _widget),
}
MALFORMED: dict[str, tuple[int, Check]] = {
    "native": (400, _problem("MALFORMED_JSON")),
    "highlevel": (400, _highlevel(400)),
    "zoho": (400, _zoho("INVALID_DATA")),
    "mdm": (400, _mdm("MALFORMED_JSON")),
    "tracker_v1": (400, _problem("MALFORMED_JSON")),
    "tracker_widget": (200, _widget),
}
# an unknown path under each prefix answers in that API's shape, never another's
UNKNOWN: list[tuple[str, str, int, Check]] = [
    ("native", "/api/no/such/path", 404, _problem("NOT_FOUND")),
    ("highlevel", "/highlevel/no/such/path", 404, _highlevel(404)),
    ("zoho", "/zoho/no/such/path", 404, _zoho("INVALID_URL_PATTERN")),
    ("mdm", "/mdm/no/such/path", 404, _mdm("NOT_FOUND")),
    ("tracker_v1", "/tracker/no/such/path", 404, lambda b: b.get("instance") == "/tracker/no/such/path"),
    ("tracker_widget", "/tracker/api/widget/no/such/path", 404, _widget),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp: Path = tmp_path_factory.mktemp("kit")
    svc = open_services(
        Settings(data_dir=tmp, packs=("demo", "highlevel", "tracker", "zoho", "mdm"), max_body_bytes=LIMIT)
    )
    live, thread, url = start_live(svc)
    yield url, create_key(svc.db, "kit")
    live.should_exit = True
    thread.join(timeout=10)
    svc.close()


def _send(
    server: tuple[str, str], method: str, path: str, scheme: str | None, content: bytes
) -> httpx.Response:
    url, key = server
    headers = {"Content-Type": "application/json"}
    if scheme is not None:
        headers["Authorization"] = f"{scheme} {key}"
    with httpx.Client(base_url=url, timeout=30) as client:
        return client.request(method, path, content=content, headers=headers)


@pytest.mark.parametrize(("channel", "method", "path", "scheme"), WRITES, ids=[w[0] for w in WRITES])
def test_a_body_over_the_limit_is_refused_on_every_channel(
    server: tuple[str, str], channel: str, method: str, path: str, scheme: str | None
) -> None:
    r = _send(server, method, path, scheme, b'{"x": "' + b"a" * (2 * LIMIT) + b'"}')
    status, check = TOO_LARGE[channel]
    assert r.status_code == status and check(r.json()), r.text


@pytest.mark.parametrize(("channel", "method", "path", "scheme"), WRITES, ids=[w[0] for w in WRITES])
def test_malformed_json_is_refused_on_every_channel(
    server: tuple[str, str], channel: str, method: str, path: str, scheme: str | None
) -> None:
    r = _send(server, method, path, scheme, b'{"x": ')
    status, check = MALFORMED[channel]
    assert r.status_code == status and check(r.json()), r.text


@pytest.mark.parametrize(("channel", "path", "status", "check"), UNKNOWN, ids=[u[0] for u in UNKNOWN])
def test_an_unknown_path_answers_in_its_apis_shape(
    server: tuple[str, str], channel: str, path: str, status: int, check: Check
) -> None:
    r = _send(server, "POST", path, "Bearer", b"{}")
    assert r.status_code == status and check(r.json()), (channel, r.text)
