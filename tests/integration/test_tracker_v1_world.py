"""A live server with the tracker pack for the Tracker REST v1 tests, one per module and
backend (SQLite, and PostgreSQL under the ``postgres`` marker): settings lists, users,
custom fields and a client registered as ``EvoApi_1.0``."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from cardfile.auth.apikeys import create_key
from cardfile.auth.clients import add_client
from cardfile.auth.users import add_user
from cardfile.engine.commands import Context, CreateCommand, FieldOp
from cardfile.services import Services, open_services
from cardfile.settings import DEFAULT_RATE_LIMITS, Settings
from tests.conftest import start_live

PASSWORD = "correct horse battery staple"
REDIRECT = "https://app.example/callback"
SETUP = Context("setup")
_n = iter(range(10**6))


@dataclass
class World:
    url: str
    key: str
    svc: Services
    ids: dict[str, int] = field(default_factory=dict)
    client_secret: str = ""

    def http(self, token: str | None = None, **kw: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.key}"}
        return httpx.Client(base_url=self.url + "/tracker", headers=headers, timeout=30, **kw)

    def native(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30)

    def create(self, type_name: str, **values: Any) -> int:
        ops = tuple(FieldOp(k, "set", v) for k, v in values.items())
        return self.svc.engine.create(CreateCommand(type_name, ops), SETUP).id


def _settings(request: pytest.FixtureRequest, tmp: Path, backend: str) -> tuple[Settings, Any]:
    limits = {**DEFAULT_RATE_LIMITS, "tracker": "100000/minute", "auth": "100000/minute"}
    if backend == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp / "cardfile.db")
        return Settings(data_dir=tmp, packs=("tracker",), rate_limits=limits), None
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template")
    name = f"trk_{next(_n)}_{int(time.time() * 1000) % 10**8}"
    admin = create_engine(
        server.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE {template}'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    settings = Settings(
        data_dir=tmp, database_url=server.database_url(name), packs=("tracker",), rate_limits=limits
    )
    return settings, drop


def _populate(w: World) -> None:
    svc = w.svc
    with svc.db.write() as conn:
        w.ids["owner"] = add_user(conn, "owner@example.com", role="standard", password=PASSWORD).id
        w.ids["admin"] = add_user(conn, "admin@example.com", role="admin", password=PASSWORD).id
        w.ids["system"] = add_user(conn, "system@example.com", role="standard", password=PASSWORD).id
        _cid, secret = add_client(
            conn, "EvoApi_1.0", redirect_uris=[REDIRECT], scopes="records.ALL metadata.READ"
        )
        w.client_secret = secret or ""
    for key, lst, name, extra in (
        ("active", "client_status", "Active", {}),
        ("closed_status", "client_status", "Closed", {}),
        ("north", "territory", "North", {}),
        ("sales", "department", "Sales", {}),
        ("prospect", "client_type", "Prospect", {}),
        ("it", "sector", "IT", {}),
        ("gold", "rank", "Gold", {"order": 1}),
        ("tech", "vertical", "Tech", {}),
        ("shortlisted", "opportunity_resource_status", "Shortlisted", {}),
        ("employee", "contact_type", "Employee", {}),
        ("avail", "resource_status", "Available", {}),
    ):
        w.ids[key] = w.create("setting", list=lst, name=name, **extra)
    w.ids["python"] = w.create("skill", name="Python", skill_type="quick")
    for type_name, fid, label, ftype, opts in (
        ("client", 101, "Visa status", "text", None),
        ("client", 105, "Tier", "integer", None),
        ("contact", 102, "Newsletter", "text", None),
        ("resource", 103, "Clearance", "single_select", ["none", "sc", "dv"]),
        ("resource", 104, "Years", "integer", None),
    ):
        data: dict[str, Any] = {"name": f"cf_{fid}", "label": label, "type": ftype}
        if opts:
            data["options"] = opts
        svc.catalog.add_field(type_name, data)


def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    backend = str(request.param)
    settings, drop = _settings(request, tmp_path_factory.mktemp("tracker"), backend)
    svc = open_services(settings)
    server, thread, url = start_live(svc)
    w = World(url=url, key=create_key(svc.db, "tracker-tests"), svc=svc)
    _populate(w)
    try:
        yield w
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        svc.close()
        if drop is not None:
            drop()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
