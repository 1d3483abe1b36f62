"""The "UPDATE-over-HTTP" floor: the least an HTTP record update can cost.

A raw ASGI app (no framework) that parses the JSON body and runs sqlite3 UPDATEs,
WAL + synchronous=FULL, one commit per request. It serves the same paths and body
shapes as cardfile so the same wrk scripts hit both:

    PATCH /api/records/contacts/{id}   {"score": 1, "title": "x"}        -> one UPDATE
    PATCH /api/records/contacts        {"records": [{"id": 1, "score": 2}, ...],
                                        "all_or_none": true}           -> one transaction

Serve with: CARDFILE_FLOOR_DB=/path/floor.db uvicorn --app-dir bench floor_app:app --workers 1
(run.py creates the database with ``create_db``).
"""

import json
import os
import sqlite3

PREFIX = "/api/records/contacts"
COLUMNS = frozenset({"name", "email", "title", "score"})


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def create_db(path: str, n: int) -> None:
    """Create a contacts table with ids 1..n (same table for the ASGI and raw-sqlite floors)."""
    conn = connect(path)
    conn.execute(
        "CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,"
        " title TEXT, score INTEGER NOT NULL DEFAULT 0)"
    )
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO contacts (id, name, email, title, score) VALUES (?, ?, ?, ?, ?)",
        ((i, f"Contact {i}", f"contact{i}@example.com", "Member", i % 1000) for i in range(1, n + 1)),
    )
    conn.execute("COMMIT")
    conn.close()


def update(conn: sqlite3.Connection, record_id: int, fields: dict[str, object]) -> int:
    """UPDATE one row (inside the caller's transaction, if any); returns the row count."""
    cols = [c for c in fields if c in COLUMNS]
    if not cols:
        raise ValueError("no updatable field")
    sql = f"UPDATE contacts SET {', '.join(c + ' = ?' for c in cols)} WHERE id = ?"
    return conn.execute(sql, [fields[c] for c in cols] + [record_id]).rowcount


def handle(conn: sqlite3.Connection, path: str, body: bytes) -> tuple[int, dict[str, object]]:
    try:
        data = json.loads(body)
        if path == PREFIX:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for rec in data["records"]:
                    if update(conn, int(rec["id"]), rec) != 1:
                        raise LookupError(rec["id"])
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return 200, {"updated": len(data["records"])}
        if path.startswith(PREFIX + "/"):
            record_id = int(path[len(PREFIX) + 1 :])
            if update(conn, record_id, data) != 1:  # autocommit: one committed UPDATE
                return 404, {"error": "not found"}
            return 200, {"id": record_id}
        return 404, {"error": "not found"}
    except LookupError:
        return 404, {"error": "not found"}
    except (ValueError, TypeError, KeyError):
        return 422, {"error": "bad request"}


_conn: sqlite3.Connection | None = None


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    global _conn
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _conn = connect(os.environ["CARDFILE_FLOOR_DB"])
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if _conn is not None:
                    _conn.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    assert scope["type"] == "http" and _conn is not None
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] == "PATCH":
        status, payload = handle(_conn, scope["path"], body)
    else:
        status, payload = 405, {"error": "method not allowed"}
    out = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": out})
