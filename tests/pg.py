"""A real, throwaway PostgreSQL server for the test session.

Started from the installed server binaries (initdb + pg_ctl) in a temporary directory,
on a free loopback port, and stopped at the end. When the tests run as root the server
runs as the ``postgres`` system user, because PostgreSQL refuses to run as root.
Set ``CARDFILE_TEST_PG_URL`` to use an existing server instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PostgresServer", "find_bindir", "start_postgres"]


def find_bindir() -> Path | None:
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(os.path.realpath(pg_ctl)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    url: str  # postgresql://postgres@127.0.0.1:PORT/postgres
    port: int
    datadir: Path | None
    _as_user: list[str]
    _bindir: Path | None

    def database_url(self, name: str) -> str:
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        if self.datadir is None or self._bindir is None:
            return
        subprocess.run(
            [
                *self._as_user,
                str(self._bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-m",
                "immediate",
                "stop",
            ],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def start_postgres() -> PostgresServer:
    existing = os.environ.get("CARDFILE_TEST_PG_URL")
    if existing:
        return PostgresServer(existing, 0, None, [], None)
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found: install them (apt-get install postgresql) "
            "or set CARDFILE_TEST_PG_URL; ./scripts/test installs them for you"
        )
    root = Path(tempfile.mkdtemp(prefix="cardfile-pg-"))
    datadir = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        os.chmod(root, 0o700)
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--no-sync"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    port = _free_port()
    # durability off: a test server needs speed, not crash safety
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-o",
            opts,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    return PostgresServer(f"postgresql://postgres@127.0.0.1:{port}/postgres", port, datadir, as_user, bindir)
