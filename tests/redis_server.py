"""A real, throwaway Redis server for the rate-limit tests.

Started from the installed ``redis-server`` on a free loopback port, without persistence,
and stopped by its PID. When the binary is missing the test fails (never skips) and says
how to get it: ``scripts/test`` installs it with apt-get.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["RedisServer", "start_redis"]


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(workdir: Path) -> RedisServer:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail(
            "redis-server is not installed: run scripts/test, which installs it "
            "(or apt-get install redis-server)",
            pytrace=False,
        )
    port = _free_port()
    argv = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(workdir), "--daemonize", "no"]  # fmt: skip
    with open(workdir / f"redis-{port}.log", "wb") as log:
        server = RedisServer(port, subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 10
    while not _pong(port):
        if time.monotonic() > deadline or server.process.poll() is not None:
            server.stop()
            raise RuntimeError(f"redis-server did not start on port {port}; log in {workdir}")
        time.sleep(0.02)
    return server
