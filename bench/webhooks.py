"""Webhook delivery benchmark: throughput (events/s) and commit-to-delivery latency.

Run from the repo root:  .venv/bin/python bench/webhooks.py [--events 5000] [--database URL]

A real HTTP receiver on loopback (a threading http.server answering 200 at once, in its own process) and the
delivery worker of cardfile (``DeliveryWorker``, the one ``cardfile serve`` runs in-process)
on a fresh database (SQLite in a temp dir unless ``--database`` names an empty
PostgreSQL database). Two measurements:

The receiver runs in a process of its own and reports arrival times (wall clock).

1. **throughput**: ``--events`` record creations committed while no worker runs (100 per
   transaction), then one worker started; events/s = events / time until the receiver
   has every one (dispatch, claim, signed POST, recording the outcome included).
2. **latency**: the worker running and idle, ``--latency-events`` single creates committed
   one after another at ``--rate`` per second; latency = arrival at the receiver minus
   the moment the commit returned. p50 / p99 / max. The worker runs in the committing
   process, as inside ``cardfile serve``, so each commit wakes it; a separate
   ``cardfile worker`` process would see commits at its next poll (``CARDFILE_WEBHOOK_POLL_S``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cardfile.engine.commands import Context, CreateCommand, FieldOp  # noqa: E402
from cardfile.services import open_services  # noqa: E402
from cardfile.settings import Settings  # noqa: E402
from cardfile.webhooks import subscriptions  # noqa: E402
from cardfile.webhooks.config import WebhookConfig  # noqa: E402
from cardfile.webhooks.worker import DeliveryWorker  # noqa: E402

RECEIVER = r"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        now = time.time()
        data = json.loads(body)["data"]
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()
        sys.stdout.write(f"{data['id']} {data['version']} {now}\n")
        sys.stdout.flush()

    def log_message(self, *a):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""


class Arrivals:
    """The receiver runs in its own process (as a real one would) and reports each arrival."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at: dict[tuple[int, int], float] = {}  # (record id, version) -> first arrival (time.time)
        self.count = 0
        self.proc = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            rid, version, when = line.split()
            with self.lock:
                self.count += 1
                self.at.setdefault((int(rid), int(version)), float(when))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def wait(self, n: int, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.at) >= n:
                    return max(self.at.values())
            time.sleep(0.002)
        raise SystemExit(f"only {len(self.at)} of {n} events arrived in {timeout}s")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--latency-events", type=int, default=300)
    ap.add_argument("--rate", type=float, default=50.0, help="commits per second in the latency run")
    ap.add_argument("--database", help="an empty PostgreSQL database URL (default: SQLite in a temp dir)")
    ap.add_argument("--concurrency", type=int, default=None, help="deliveries in flight (default: setting)")
    args = ap.parse_args()

    arrivals = Arrivals()
    url = f"http://127.0.0.1:{arrivals.port}/hook"
    tmp = tempfile.TemporaryDirectory(prefix="cardfile-bench-webhooks-")
    config = WebhookConfig(in_server=False, outbound_allow="127.0.0.1/32")
    if args.concurrency:
        config = replace(config, concurrency=args.concurrency)
    svc = open_services(
        Settings(data_dir=Path(tmp.name), database_url=args.database, packs=("demo",), webhooks=config)
    )
    ctx = Context("bench", "bench")
    with svc.db.write() as conn:
        subscriptions.create(conn, {"url": url})

    def creates(start: int, n: int) -> list[tuple[FieldOp, ...]]:
        return [
            (FieldOp("last_name", "set", f"B{i}"), FieldOp("email", "set", f"b{i}@example.com"))
            for i in range(start, start + n)
        ]

    # 1. throughput: a backlog, then one worker drains it
    made = 0
    while made < args.events:
        n = min(100, args.events - made)
        svc.engine.run_batch(
            creates(made, n),
            lambda c, ops: svc.engine.create(CreateCommand("contacts", ops), ctx, c),
            all_or_none=True,
        )
        made += n
    worker = DeliveryWorker(svc.db, config, name="bench")
    t0 = time.time()
    worker.start()
    last = arrivals.wait(args.events, timeout=600)
    throughput = args.events / (last - t0)

    # 2. latency: the worker idles between commits
    time.sleep(1)
    committed: dict[tuple[int, int], float] = {}
    interval = 1 / args.rate
    for i in range(args.latency_events):
        tick = time.time()
        r = svc.engine.create(CreateCommand("contacts", creates(args.events + i, 1)[0]), ctx)
        committed[(r.id, r.version)] = time.time()
        time.sleep(max(0.0, interval - (time.time() - tick)))
    arrivals.wait(args.events + args.latency_events, timeout=120)
    lat = [(arrivals.at[k] - t) * 1000 for k, t in committed.items()]
    worker.stop()
    svc.close()
    arrivals.stop()
    tmp.cleanup()

    result = {
        "database": "postgresql" if args.database else "sqlite",
        "events": args.events,
        "throughput_events_per_s": round(throughput, 1),
        "latency_ms": {"p50": round(pct(lat, 50), 1), "p99": round(pct(lat, 99), 1), "max": round(max(lat), 1),
                       "mean": round(statistics.fmean(lat), 1)},
        "latency_events": args.latency_events,
        "rate_per_s": args.rate,
        "poll_s": config.poll_s,
        "concurrency": config.concurrency,
        "deliveries_received": arrivals.count,
    }  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
