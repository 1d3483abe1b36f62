"""Server-level behaviour: OpenAPI docs, a locked SQLite database, the CLI contract."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cardfile.auth.apikeys import create_key
from cardfile.services import open_services
from cardfile.settings import Settings
from tests.conftest import start_live


def test_openapi_docs_are_served(api: httpx.Client) -> None:
    spec = api.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    for path in (
        "/api/records/{type_name}",
        "/api/records/{type_name}/{record_id}",
        "/api/types/{type_name}/fields",
    ):
        assert path in paths
    assert api.get("/docs").status_code == 200


def test_locked_database_answers_503_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, packs=("demo",), busy_timeout_ms=200)
    svc = open_services(settings)
    server, thread, url = start_live(svc)
    key = create_key(svc.db, "tester")
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as api:
            rid = api.post("/api/records/contacts", json={"last_name": "Locked"}).json()["id"]
            other = sqlite3.connect(tmp_path / "cardfile.db", isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
            try:
                r = api.patch(f"/api/records/contacts/{rid}", json={"score": 1})
            finally:
                other.execute("ROLLBACK")
                other.close()
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"] == "1"
            assert r.json()["code"] == "DATABASE_LOCKED"
            again = api.patch(f"/api/records/contacts/{rid}", json={"score": 1})
            assert again.status_code == 200
            assert again.json()["version"] == 2
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        svc.close()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cardfile", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_init_apikey_and_pack_list(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _cli("init", "--data", str(data), "--demo").returncode == 0
    out = _cli("apikey", "create", "--data", str(data), "--name", "ci")
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    assert out.stdout == key + "\n" and key.startswith("cf_")
    packs = _cli("pack", "list")
    assert "demo: companies, contacts, deals" in packs.stdout
    svc = open_services(dataclasses.replace(Settings(data_dir=data)))
    try:
        with svc.db.read() as conn:
            from cardfile.auth.apikeys import authenticate_key

            assert authenticate_key(conn, key).name == "ci"
        assert svc.engine.get("deals", 56)["name"].endswith("renewal")
    finally:
        svc.close()


@pytest.mark.parametrize("bad", ["nope", "Demo"])
def test_cli_refuses_unknown_pack(tmp_path: Path, bad: str) -> None:
    out = _cli("init", "--data", str(tmp_path), "--pack", bad)
    assert out.returncode != 0
    assert "unknown pack" in out.stderr
