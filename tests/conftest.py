"""Fixtures: fresh databases on SQLite and on a real PostgreSQL server, and a live HTTP server.

``backend`` runs a test on both engines: SQLite always, PostgreSQL under the
``postgres`` marker (skip those with ``-m "not postgres"``).
"""

from __future__ import annotations

import itertools
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text

from cardfile.api.app import create_app
from cardfile.auth.apikeys import create_key
from cardfile.services import Services, open_services
from cardfile.settings import Settings
from cardfile.store.database import Database
from tests.pg import PostgresServer, start_postgres

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    """A migrated database that each test copies (CREATE DATABASE ... TEMPLATE is fast)."""
    admin = create_engine(
        pg_server.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS cardfile_template"))
        conn.execute(text("CREATE DATABASE cardfile_template"))
    admin.dispose()
    db = Database(pg_server.database_url("cardfile_template"))
    db.migrate()
    db.dispose()
    return "cardfile_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cardfile.db"
    db = Database(f"sqlite+pysqlite:///{path}")
    db.migrate()
    db.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings for a fresh, migrated, empty database on the chosen backend."""
    if backend == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "cardfile.db")
        yield Settings(data_dir=tmp_path, packs=("demo",))
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("pg_template")
    name = f"t_{next(_counter)}_{int(time.time() * 1000) % 10**8}"
    admin = create_engine(
        server.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE {template}'))
    yield Settings(data_dir=tmp_path, database_url=server.database_url(name), packs=("demo",))
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    services = open_services(settings)
    yield services
    services.close()


@dataclass
class LiveServer:
    url: str
    key: str
    services: Services

    def client(self, **kw: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_live(services: Services) -> tuple[uvicorn.Server, threading.Thread, str]:
    """uvicorn in a thread of this process, on a free loopback port: real HTTP."""
    port = _free_port()
    config = uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def live(svc: Services) -> Iterator[LiveServer]:
    server, thread, url = start_live(svc)
    yield LiveServer(url=url, key=create_key(svc.db, "tester"), services=svc)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def api(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client() as client:
        yield client


__all__ = ["LiveServer", "replace", "start_live"]


# --- Redis, for the rate-limit tests (tests/redis_server.py) -----------------------------

from tests.redis_server import RedisServer, start_redis  # noqa: E402


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real Redis server for the whole session, on a free loopback port; fails (never
    skips) when redis-server is not installed."""
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()
