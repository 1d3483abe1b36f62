"""Tracker ``searchTerm`` over 100,000 records: time per search, end to end over HTTP.

Run from the repo root:

    .venv/bin/python bench/tracker_search.py [--records 100000] [--repeat 30] [--postgres]

Loads ``--records`` Resource records (candidates) into a fresh database with the tracker
pack (SQLite in a temporary directory; with ``--postgres`` a throwaway PostgreSQL server
from ``tests/pg.py``, or the server of ``CARDFILE_TEST_PG_URL``), starts the server, and
times ``POST /tracker/api/v1/Resource/Search`` for a set of terms (median and p95 of
``--repeat`` runs each, in ms, client-side over loopback HTTP). For comparison it times
the same match done as a ``contains`` filter (a scan of every record's JSON) through the
native API.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cardfile.api.app import create_app  # noqa: E402
from cardfile.auth.apikeys import create_key  # noqa: E402
from cardfile.engine.commands import Context  # noqa: E402
from cardfile.engine.importer import import_records  # noqa: E402
from cardfile.services import open_services  # noqa: E402
from cardfile.settings import DEFAULT_RATE_LIMITS, Settings  # noqa: E402

FIRST = ["Anna", "Ben", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam",
         "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara"]  # fmt: skip
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
        "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke"]  # fmt: skip
TITLES = ["Developer", "Analyst", "Engineer", "Designer", "Manager", "Consultant", "Architect", "Tester"]


def resources(n: int, seed: int = 11) -> Iterator[dict[str, Any]]:
    rnd = random.Random(seed)
    for i in range(n):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        yield {
            "first_name": first,
            "surname": last if i % 50 else f"Unique{i}",
            "job_title": rnd.choice(TITLES),
            "email": f"{first}.{last}.{i}@example.com".lower(),
            "town": rnd.choice(["Leeds", "York", "Bath", "Hull"]),
        }


def timed(client: httpx.Client, method: str, path: str, body: Any, repeat: int) -> tuple[float, float, int]:
    times: list[float] = []
    count = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = client.request(method, path, json=body) if body is not None else client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code in (200, 204), r.text
        count = len(r.json()) if r.status_code == 200 and isinstance(r.json(), list) else (
            len(r.json()["items"]) if r.status_code == 200 else 0)  # fmt: skip
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--postgres", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    pg = None
    limits = {**DEFAULT_RATE_LIMITS, "tracker": "1000000/minute", "records.read": "1000000/minute"}
    if args.postgres:
        sys.path.insert(0, str(ROOT))
        from tests.pg import start_postgres

        pg = start_postgres()
        url = pg.database_url("postgres")
        settings = Settings(data_dir=tmp, database_url=url, packs=("tracker",), rate_limits=limits)
    else:
        settings = Settings(data_dir=tmp, packs=("tracker",), rate_limits=limits, sqlite_sync="normal")
    svc = open_services(settings)
    t0 = time.perf_counter()
    import_records(svc.engine, "resource", resources(args.records), Context("bench"), chunk=5000)
    print(f"backend {'postgresql' if pg else 'sqlite'}: loaded {args.records} resources in "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    key = create_key(svc.db, "bench")
    config = uvicorn.Config(create_app(svc), host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    email_4951 = next(r["email"] for i, r in enumerate(resources(4952)) if i == 4951)
    cases: list[tuple[str, str, str, Any]] = [
        ("searchTerm rare surname (1 hit)", "POST", "/tracker/api/v1/Resource/Search",
         {"searchTerm": "unique99950", "maxResults": 10}),
        ("searchTerm two words (~0.25%)", "POST", "/tracker/api/v1/Resource/Search",
         {"searchTerm": "anna smith", "maxResults": 10}),
        ("searchTerm one common word (~5%)", "POST", "/tracker/api/v1/Resource/Search",
         {"searchTerm": "grace", "maxResults": 10}),
        ("searchTerm prefix 'gra' (~5%)", "POST", "/tracker/api/v1/Resource/Search",
         {"searchTerm": "gra", "maxResults": 10}),
        ("searchTerm 'grace' sorted by surname", "POST", "/tracker/api/v1/Resource/Search",
         {"searchTerm": "grace", "maxResults": 10, "sortBy": "surname"}),
        ("searchTerm 'grace' page 100", "POST", "/tracker/api/v1/Resource/Search",
         {"searchTerm": "grace", "maxResults": 10, "pageNumber": 100}),
        ("searchTerm email (1 hit)", "POST", "/tracker/api/v1/Resource/Search",
         {"searchTerm": email_4951, "maxResults": 10}),
        ("no match", "POST", "/tracker/api/v1/Resource/Search", {"searchTerm": "zzqx", "maxResults": 10}),
        ("compare: scan (native contains filter)", "GET",
         "/api/records/resource?surname__contains=unique99950&_limit=10", None),
    ]  # fmt: skip
    print(f"{'query':44} {'median ms':>10} {'p95 ms':>8} {'rows':>5}")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        for label, method, path, body in cases:
            timed(c, method, path, body, 2)  # warm up
            med, p95, rows = timed(c, method, path, body, args.repeat)
            print(f"{label:44} {med:10.1f} {p95:8.1f} {rows:5d}")
    server.should_exit = True
    thread.join(timeout=10)
    svc.close()
    if pg is not None:
        pg.stop()


if __name__ == "__main__":
    main()
