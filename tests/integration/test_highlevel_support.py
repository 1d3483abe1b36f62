"""Helpers of the HighLevel dialect tests: one live server per test module and backend
(each test makes its own records and users), HighLevel error checks. No tests live here."""

from __future__ import annotations

import itertools
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from cardfile.auth.apikeys import create_key
from cardfile.services import Services, open_services
from cardfile.settings import Settings
from tests.conftest import start_live
from tests.integration.test_api_support import add_user

__all__ = ["HL", "KEY", "assert_hl_error", "hl", "properties_of", "property_errors"]

KEY = "custom_objects.event_ticket"
PACKS = ("demo", "highlevel")
_counter = itertools.count()


@dataclass
class HL:
    url: str
    key: str
    services: Services
    api: httpx.Client

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def records(self, key: str = KEY) -> str:
        return f"/highlevel/objects/{key}/records"

    def create(self, body: dict[str, Any] | None = None, key: str = KEY) -> dict[str, Any]:
        r = self.api.post(self.records(key), json=body if body is not None else {"properties": {}})
        assert r.status_code == 201, r.text
        record: dict[str, Any] = r.json()["record"]
        return record

    def put(self, record_id: str, body: dict[str, Any], key: str = KEY) -> httpx.Response:
        return self.api.put(f"{self.records(key)}/{record_id}", json=body)

    def get(self, record_id: str, key: str = KEY) -> dict[str, Any]:
        r = self.api.get(f"{self.records(key)}/{record_id}")
        assert r.status_code == 200, r.text
        record: dict[str, Any] = r.json()["record"]
        return record

    def user(self, hl_id: str | None = None) -> tuple[str, int]:
        """A new cardfile user mapped onto a HighLevel user id: (HighLevel id, cardfile id)."""
        hl_id = hl_id or uuid.uuid4().hex[:20]
        uid = add_user(self.services, f"hl-{hl_id}")
        r = self.api.post("/api/records/highlevel_users", json={"hl_id": hl_id, "user": uid})
        assert r.status_code == 201, r.text
        return hl_id, uid


def _settings(request: pytest.FixtureRequest, backend: str, tmp: Any) -> tuple[Settings, Any]:
    if backend == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp / "cardfile.db")
        return Settings(data_dir=tmp, packs=PACKS, rate_limits_enabled=False), None
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template")
    name = f"hl_{next(_counter)}_{int(time.time() * 1000) % 10**8}"
    admin = create_engine(
        server.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE {template}'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = server.database_url(name)
    return Settings(data_dir=tmp, database_url=url, packs=PACKS, rate_limits_enabled=False), drop


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hl(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HL]:
    settings, drop = _settings(request, str(request.param), tmp_path_factory.mktemp("hl"))
    svc = open_services(settings)
    server, thread, url = start_live(svc)
    key = create_key(svc.db, "tester")
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as api:
        yield HL(url=url, key=key, services=svc, api=api)
    server.should_exit = True
    thread.join(timeout=10)
    svc.close()
    if drop is not None:
        drop()


def assert_hl_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """HighLevel's error JSON: statusCode, message, error; plus cardfile's code."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["statusCode"] == status
    assert body["code"] == code, body
    assert body["message"], body
    assert isinstance(body["error"], str) and body["error"]
    return body


def property_errors(body: dict[str, Any]) -> set[tuple[str, str]]:
    """The (property, code) pairs of an error."""
    return {(e["property"], e["code"]) for e in body.get("errors", [])}


def properties_of(record: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = record["properties"]
    return props
