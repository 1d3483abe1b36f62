"""A real HTTP receiver on loopback for webhook tests: records every POST it gets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

__all__ = ["Receiver", "Received"]


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() on arrival

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """``status(received) -> int`` decides each answer (200 by default); ``delay_s`` slows it."""

    status: Callable[[Received], int] = lambda _r: 200
    delay_s: float = 0.0
    got: list[Received] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    overlaps: list[str] = field(default_factory=list)  # webhook-ids received while one was in flight
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                r = Received({k.lower(): v for k, v in self.headers.items()}, body, time.time())
                wid = r.headers.get("webhook-id", "")
                with rec.lock:
                    if rec.in_flight.get(wid):
                        rec.overlaps.append(wid)
                    rec.in_flight[wid] = rec.in_flight.get(wid, 0) + 1
                try:
                    if rec.delay_s:
                        time.sleep(rec.delay_s)
                    code = rec.status(r)
                    with rec.lock:
                        rec.got.append(r)
                finally:
                    with rec.lock:
                        rec.in_flight[wid] -= 1
                out = b"ok"
                self.send_response(code)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.got)

    def wait_for(self, pred: Callable[[list[Received]], bool], timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.snapshot()
            if pred(got):
                return got
            time.sleep(0.02)
        raise AssertionError(
            f"receiver: condition not met in {timeout}s; got {len(self.snapshot())} requests"
        )
