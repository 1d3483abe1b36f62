"""cardfile update benchmark: cardfile vs. a minimal ASGI app vs. raw sqlite3.

Run from the repo root:  .venv/bin/python bench/run.py [--records 100000] [--duration 10]
See bench/README.md for what the numbers mean.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from floor_app import connect, create_db, update  # bench/ is sys.path[0] when run as a script

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BATCH = 100
TARGET = 2.0  # cardfile single PATCH may cost at most 2x the floor ASGI app


class BenchError(Exception):
    pass


class Target(NamedTuple):
    label: str  # "floor" or "cardfile"
    base: str  # http://127.0.0.1:PORT
    key: str  # API key ("" for the floor)
    log: Path  # server stdout+stderr


# name, wrk script, threads, connections, records per request
SCENARIOS = [
    ("single_c1", "patch_one.lua", 1, 1, 1),
    ("single_c32", "patch_one.lua", 2, 32, 1),
    ("bulk_c1", "patch_bulk.lua", 1, 1, BATCH),
    ("bulk_c4", "patch_bulk.lua", 2, 4, BATCH),
]


# --- machine facts ----------------------------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    def version(*cmd: str) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    cpu = "?"
    with contextlib.suppress(OSError):
        cpu = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            "?",
        )
    mods = {}
    for mod in ("uvicorn", "uvloop", "httptools"):
        try:
            mods[mod] = __import__(mod).__version__
        except ImportError:
            mods[mod] = None
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "wrk": version("wrk", "--version").split(" [")[0],
        "git_commit": version("git", "rev-parse", "--short", "HEAD"),
        **mods,
    }


def cpu_busy(seconds: float = 1.0) -> float:
    """Fraction of all CPUs busy over `seconds` (from /proc/stat): is something else running?"""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # total, idle + iowait

    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
    except OSError:
        return 0.0
    return 1 - (i1 - i0) / max(1, t1 - t0)


# --- HTTP helpers -------------------------------------------------------------------------------

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method: str, url: str, key: str = "", body: Any = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with _opener.open(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log_tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(errors="replace").splitlines() if log.exists() else []
    return "\n".join(text[-lines:])


@contextlib.contextmanager
def server(
    name: str, cmd: list[str], log: Path, ready_url: str, key: str = "", env: Any = None
) -> Iterator[None]:
    """Start a server, wait until ready_url answers 200 (keyless: anything but 5xx); stop it by PID."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise BenchError(f"{name} exited with {proc.returncode} during startup:\n{log_tail(log)}")
            with contextlib.suppress(OSError):
                status, body = http("GET", ready_url, key)
                if status == 200 or (not key and status < 500):
                    break
                raise BenchError(f"{name}: GET {ready_url} -> {status}: {body[:500]!r}\n{log_tail(log)}")
            if time.monotonic() > deadline:
                raise BenchError(f"{name} not ready after 60 s:\n{log_tail(log)}")
            time.sleep(0.2)
        print(f"  {name} up (pid {proc.pid})", flush=True)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ProcessLookupError):  # anything the server itself spawned
            os.killpg(proc.pid, signal.SIGKILL)


# --- wrk ----------------------------------------------------------------------------------------

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise BenchError(f"cannot parse wrk latency {text!r}")
    return float(m[1]) * _UNITS_MS[m[2]]


def parse_wrk(out: str) -> dict[str, Any]:
    def find(pattern: str) -> re.Match[str]:
        m = re.search(pattern, out, re.M)
        if not m:
            raise BenchError(f"unexpected wrk output (no {pattern!r}):\n{out}")
        return m

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": float(find(r"^Requests/sec:\s+([\d.]+)")[1]),
        "p50_ms": _ms(find(r"^\s+50%\s+(\S+)")[1]),
        "p99_ms": _ms(find(r"^\s+99%\s+(\S+)")[1]),
        "requests": int(find(r"^\s+(\d+) requests in")[1]),
        "non_2xx": int(non2xx[1]) if non2xx else 0,
        "socket_errors": dict(
            zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True)
        )
        if errors
        else {},
    }


def wrk(url: str, script: str, threads: int, conns: int, seconds: int, n: int, key: str) -> dict[str, Any]:
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", "30s", "--latency"]
    cmd += ["-s", str(BENCH / script), url, "--", str(n), key or "-"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return parse_wrk(proc.stdout)


def measure(
    target: Target, scenario: tuple[str, str, int, int, int], args: argparse.Namespace
) -> dict[str, Any]:
    name, script, threads, conns, per_req = scenario
    if args.warmup > 0:
        wrk(target.base, script, threads, conns, args.warmup, args.records, target.key)
    r = wrk(target.base, script, threads, conns, args.duration, args.records, target.key)
    r["records_per_s"] = r["requests_per_s"] * per_req
    print(
        f"  {target.label:8} {name:11} {r['requests_per_s']:9.1f} req/s  p50 {r['p50_ms']:7.2f} ms"
        f"  p99 {r['p99_ms']:7.2f} ms  ({r['requests']} requests)",
        flush=True,
    )
    if r["non_2xx"] or any(r["socket_errors"].values()):
        raise BenchError(
            f"{target.label} {name}: {r['non_2xx']} non-2xx responses, socket errors {r['socket_errors']}"
            f" out of {r['requests']} requests; server log tail:\n{log_tail(target.log)}"
        )
    return r


def probe(label: str, base: str, n: int, key: str) -> None:
    """One single and one bulk PATCH before the load, so a broken setup fails with its response body."""
    checks = [
        ("PATCH", f"{base}/api/records/contacts/{n}", {"score": 1, "title": "probe"}),
        (
            "PATCH",
            f"{base}/api/records/contacts",
            {"records": [{"id": 1, "score": 2}, {"id": n, "score": 3}], "all_or_none": True},
        ),
    ]
    for method, url, body in checks:
        status, resp = http(method, url, key, body)
        if not 200 <= status < 300:
            raise BenchError(f"{label}: {method} {url} {json.dumps(body)} -> {status}: {resp[:1000]!r}")


# --- floors -------------------------------------------------------------------------------------


def _word(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 12)))


def _percentile(sorted_s: list[float], q: float) -> float:
    return sorted_s[min(len(sorted_s) - 1, int(q * len(sorted_s)))] * 1e3


def raw_sqlite(path: str, n: int, seconds: int, batch: int) -> dict[str, Any]:
    """In-process floor: one committed UPDATE per op (batch=1), or `batch` UPDATEs per transaction."""
    conn = connect(path)
    rng = random.Random(42)
    ids = range(1, n + 1)
    lat: list[float] = []
    start = time.perf_counter()
    end = start + seconds
    while (t0 := time.perf_counter()) < end:
        if batch == 1:
            update(conn, rng.randint(1, n), {"score": rng.randint(0, 1000), "title": _word(rng)})
        else:
            conn.execute("BEGIN")
            for i in rng.sample(ids, batch):
                update(conn, i, {"score": rng.randint(0, 1000)})
            conn.execute("COMMIT")
        lat.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    conn.close()
    lat.sort()
    ops = len(lat) / elapsed
    return {
        "ops_per_s": ops,
        "records_per_s": ops * batch,
        "p50_ms": _percentile(lat, 0.5),
        "p99_ms": _percentile(lat, 0.99),
        "ops": len(lat),
    }


# --- cardfile -----------------------------------------------------------------------------------


def cardfile_exe() -> str:
    exe = Path(sys.executable).parent / "cardfile"
    found = str(exe) if exe.exists() else shutil.which("cardfile")
    if not found:
        raise BenchError("cardfile CLI not found (install the package into this venv: pip install -e .)")
    return found


def cli(*argv: str) -> str:
    proc = subprocess.run([cardfile_exe(), *argv], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise BenchError(
            f"cardfile {' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout


@contextlib.contextmanager
def cardfile_server(work: Path, n: int, info: dict[str, Any]) -> Iterator[Target]:
    data, log = work / "cardfile-data", work / "cardfile.log"
    t0 = time.perf_counter()
    cli("init", "--data", str(data), "--pack", "demo", "--seed-contacts", str(n))
    info["seed_seconds"] = time.perf_counter() - t0
    key = cli("apikey", "create", "--data", str(data), "--name", "bench").strip()
    if not key or any(c.isspace() for c in key):
        raise BenchError(f"`cardfile apikey create` should print the key alone, got {key!r}")
    print(f"  seeded {n} contacts in {info['seed_seconds']:.1f} s", flush=True)
    base = f"http://127.0.0.1:{free_port()}"
    cmd = [
        cardfile_exe(),
        "serve",
        "--data",
        str(data),
        "--host",
        "127.0.0.1",
        "--port",
        base.rsplit(":", 1)[1],
    ]
    # the benchmark is one key doing thousands of writes a second: measure the work, not the 429s
    env = {**os.environ, "CARDFILE_RATE_LIMITS_ENABLED": "0"}
    with server("cardfile", cmd + ["--pack", "demo"], log, f"{base}/api/types", key, env=env):
        for rid in (1, n):
            status, body = http("GET", f"{base}/api/records/contacts/{rid}", key)
            if status != 200:
                raise BenchError(
                    f"expected contact ids 1..{n} after seeding, GET /api/records/contacts/{rid}"
                    f" -> {status}: {body[:500]!r}"
                )
        probe("cardfile", base, n, key)
        yield Target("cardfile", base, key, log)


@contextlib.contextmanager
def floor_server(work: Path, n: int) -> Iterator[Target]:
    db, log = work / "floor.db", work / "floor.log"
    create_db(str(db), n)
    base = f"http://127.0.0.1:{free_port()}"
    cmd = [sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH), "floor_app:app"]
    cmd += ["--host", "127.0.0.1", "--port", base.rsplit(":", 1)[1], "--workers", "1", "--no-access-log"]
    with server("floor", cmd, log, f"{base}/", env={**os.environ, "CARDFILE_FLOOR_DB": str(db)}):
        probe("floor", base, n, "")
        yield Target("floor", base, "", log)


# --- report -------------------------------------------------------------------------------------


def ratios(report: dict[str, Any]) -> dict[str, Any]:
    """cost = floor throughput / cardfile throughput (per-request cost multiple); latency ratios likewise."""
    out = {}
    cf = report.get("cardfile", {}).get("scenarios", {})
    fl = report["floor_asgi"]["scenarios"]
    for name, *_, per_req in SCENARIOS:
        if name not in cf:
            continue
        raw = report["raw_sqlite"]["single" if per_req == 1 else "bulk"]
        c, f = cf[name], fl[name]
        out[name] = {
            "cost_vs_floor": f["requests_per_s"] / c["requests_per_s"],
            "p50_vs_floor": c["p50_ms"] / f["p50_ms"],
            "p99_vs_floor": c["p99_ms"] / f["p99_ms"],
            "cost_vs_sqlite": raw["ops_per_s"] / c["requests_per_s"],
            "p50_vs_sqlite": c["p50_ms"] / raw["p50_ms"],
        }
    return out


def print_report(report: dict[str, Any]) -> None:
    m, cfg = report["machine"], report["config"]
    print(
        f"\nmachine: nproc={m['nproc']} cpu={m['cpu']!r} python={m['python']} sqlite={m['sqlite']}"
        f" uvicorn={m['uvicorn']} uvloop={m['uvloop']} httptools={m['httptools']} {m['wrk']}"
    )
    busy = report["cpu_busy_before"]
    note = " -- something else was running: expect noisy numbers" if busy > 0.2 else ""
    print(f"CPU busy in the second before the run: {busy:.0%}{note}")
    print(f"records={cfg['records']} duration={cfg['duration']}s warmup={cfg['warmup']}s; latencies in ms")
    print(
        "cost/X = X's req/s / cardfile's req/s (per-request cost multiple); p50/X = cardfile p50 / X's p50\n"
    )
    cols = [("cardfile req/s", 14), ("p50", 7), ("p99", 7), ("floor req/s", 11), ("p50", 7), ("p99", 7)]
    cols += [("sqlite op/s", 11), ("p50", 7), ("cost/floor", 10), ("p50/floor", 9), ("p99/floor", 9)]
    cols += [("cost/sqlite", 11)]
    print(f"{'scenario':<11}", *(f"{h:>{w}}" for h, w in cols))
    cf = report.get("cardfile", {}).get("scenarios", {})
    for name, *_, per_req in SCENARIOS:
        f, c, r = report["floor_asgi"]["scenarios"][name], cf.get(name), report["ratios"].get(name)
        raw = report["raw_sqlite"]["single" if per_req == 1 else "bulk"]
        cells = [f"{c[k]:.2f}" for k in ("requests_per_s", "p50_ms", "p99_ms")] if c else ["-"] * 3
        cells += [f"{f[k]:.2f}" for k in ("requests_per_s", "p50_ms", "p99_ms")]
        cells += [f"{raw['ops_per_s']:.2f}", f"{raw['p50_ms']:.2f}"]
        ratio_keys = ("cost_vs_floor", "p50_vs_floor", "p99_vs_floor", "cost_vs_sqlite")
        cells += [f"{r[k]:.2f}x" for k in ratio_keys] if r else ["-"] * 4
        print(f"{name:<11}", *(f"{x:>{w}}" for x, (_, w) in zip(cells, cols, strict=True)))
    print("(sqlite = one in-process writer: the same figure serves c1 and c32 / c1 and c4)")
    print(f"\nbulk records/s ({BATCH} records per request; sqlite: {BATCH} UPDATEs per transaction):")
    for name in ("bulk_c1", "bulk_c4"):
        c_rec = f"{cf[name]['records_per_s']:.0f}" if name in cf else "-"
        f_rec = report["floor_asgi"]["scenarios"][name]["records_per_s"]
        s_rec = report["raw_sqlite"]["bulk"]["records_per_s"]
        print(f"  {name:8} cardfile {c_rec:>8}   floor {f_rec:8.0f}   sqlite {s_rec:8.0f}")
    if report.get("target"):
        print(
            f"\ntarget: cardfile single-record PATCH costs <= {TARGET}x the floor ASGI app (throughput, p50)"
        )
        for name, t in report["target"].items():
            verdict = "MET" if t["met"] else "NOT MET"
            print(f"  {name:11} cost {t['cost_vs_floor']:.2f}x, p50 {t['p50_vs_floor']:.2f}x -> {verdict}")
    else:
        print("\ncardfile not measured (--floor-only)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000, help="seeded contacts / floor table rows")
    ap.add_argument("--duration", type=int, default=10, help="seconds per measured scenario")
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured seconds before each scenario")
    ap.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json")
    ap.add_argument("--workdir", help="parent for the temp data dirs (default: system temp; use a real disk)")
    ap.add_argument("--floor-only", action="store_true", help="skip cardfile (floors only)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (data, server logs)")
    args = ap.parse_args()
    if args.records < BATCH:
        ap.error(f"--records must be at least {BATCH}")
    if not shutil.which("wrk"):
        print("wrk not found: install it with `apt-get install -y wrk`", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="cardfile-bench-", dir=args.workdir))
    report: dict[str, Any] = {
        "machine": machine_facts(),
        "config": {
            "records": args.records,
            "duration": args.duration,
            "warmup": args.warmup,
            "batch": BATCH,
            "workdir": str(work),
            "scenarios": {
                s[0]: {"threads": s[2], "connections": s[3], "records_per_request": s[4]} for s in SCENARIOS
            },
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpu_busy_before": cpu_busy(),
    }
    ok = False
    try:
        print(f"workdir {work}\nraw sqlite3 floor ({args.duration:g} s each)", flush=True)
        create_db(str(work / "raw.db"), args.records)
        report["raw_sqlite"] = {
            "single": raw_sqlite(str(work / "raw.db"), args.records, args.duration, 1),
            "bulk": raw_sqlite(str(work / "raw.db"), args.records, args.duration, BATCH),
        }
        for kind, r in report["raw_sqlite"].items():
            print(
                f"  sqlite   {kind:11} {r['ops_per_s']:9.1f} op/s   p50 {r['p50_ms']:7.2f} ms"
                f"  p99 {r['p99_ms']:7.2f} ms"
            )
        # Both servers up at once, scenarios interleaved (floor, then cardfile), so drift in
        # machine load or disk speed hits both sides of each ratio alike.
        with contextlib.ExitStack() as stack:
            targets = []
            if not args.floor_only:
                print("cardfile", flush=True)
                report["cardfile"] = {"scenarios": {}}
                targets.append(stack.enter_context(cardfile_server(work, args.records, report["cardfile"])))
            print("floor ASGI app", flush=True)
            report["floor_asgi"] = {"scenarios": {}}
            targets.insert(0, stack.enter_context(floor_server(work, args.records)))
            print(f"load ({args.warmup} s warm-up + {args.duration} s per scenario and server)", flush=True)
            for scenario in SCENARIOS:
                for t in targets:
                    section = report["cardfile" if t.label == "cardfile" else "floor_asgi"]
                    section["scenarios"][scenario[0]] = measure(t, scenario, args)
        report["ratios"] = ratios(report)
        report["target"] = {
            name: {
                **{k: r[k] for k in ("cost_vs_floor", "p50_vs_floor")},
                "met": r["cost_vs_floor"] <= TARGET and r["p50_vs_floor"] <= TARGET,
            }
            for name, r in report["ratios"].items()
            if name.startswith("single")
        }
        print_report(report)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.out}")
        ok = True
        return 0
    except BenchError as exc:
        print(f"\nBENCHMARK FAILED: {exc}\n(temp dir kept: {work})", file=sys.stderr)
        return 1
    finally:
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
