"""The identity CLI contract, used while the server runs on the same data directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import orjson

from cardfile.services import open_services
from cardfile.settings import Settings
from tests.conftest import start_live


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cardfile", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_users_clients_and_tokens_from_the_cli(tmp_path: Path) -> None:
    data = str(tmp_path)
    svc = open_services(Settings(data_dir=tmp_path, packs=("demo",)))
    server, thread, url = start_live(svc)
    try:
        out = _cli("user", "add", "--data", data, "--email", "Eve@Example.com", "--name", "Eve", "--role", "admin",
                   "--password-stdin", stdin="a long password\n")  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert orjson.loads(out.stdout) == {"id": 1, "email": "eve@example.com", "name": "Eve", "role": "admin",
                                            "active": True}  # fmt: skip
        assert "a long password" not in out.stdout + out.stderr
        out = _cli("client", "add", "--data", data, "--name", "Sync", "--redirect-uri", "https://app.example.com/cb",
                   "--scopes", "records.ALL metadata.READ")  # fmt: skip
        client = orjson.loads(out.stdout)
        assert set(client) == {"client_id", "client_secret"} and client["client_secret"]
        token = _cli("token", "create", "--data", data, "--user", "eve@example.com", "--client", "Sync",
                     "--scopes", "records.contacts.ALL", "--ttl", "120").stdout.strip()  # fmt: skip
        assert token.count(".") == 2 and "\n" not in token
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
            r = api.post("/api/records/contacts", json={"last_name": "From CLI token"})
            assert r.status_code == 201, r.text
            assert r.json()["actor"] == "eve@example.com"
            assert api.get("/api/records/companies").status_code == 403
        refused = _cli("token", "create", "--data", data, "--user", "eve@example.com", "--client", "Sync",
                       "--scopes", "metadata.WRITE")  # fmt: skip
        assert refused.returncode != 0 and refused.stdout == ""
        assert _cli("user", "disable", "--data", data, "--email", "eve@example.com").returncode == 0
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
            assert api.get("/api/records/contacts").json()["code"] == "USER_INACTIVE"
        listed = [orjson.loads(line) for line in _cli("user", "list", "--data", data).stdout.splitlines()]
        assert [(u["email"], u["active"]) for u in listed] == [("eve@example.com", False)]
        short = _cli(
            "user", "add", "--data", data, "--email", "x@example.com", "--password-stdin", stdin="short\n"
        )
        assert short.returncode != 0 and "at least" in short.stderr
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        svc.close()
