"""The delivery worker: from outbox events to signed POSTs, at least once, in order per record.

One round:

1. **Dispatch.** Pending outbox events, in id order, become one delivery row per matching
   subscription (created no earlier than the event), and the event is marked dispatched,
   in one transaction. One dispatcher at a time: PostgreSQL takes a transaction-scoped
   advisory lock (a busy one skips the round), SQLite's write lock serializes anyway.
2. **Claim.** Due deliveries whose record has no earlier undelivered event for that
   subscription are claimed with a lease: PostgreSQL ``FOR UPDATE SKIP LOCKED``, SQLite under
   its write lock. Several workers (threads or processes) never hold one delivery at once;
   a delivery whose worker died is claimed again once its lease has passed.
3. **Deliver** concurrently, then **record** each outcome (only while the claim is still
   ours): delivered; or retried after an exponential backoff with jitter; or, once
   ``retry_for_s`` has passed since the first attempt, parked as a dead letter that an
   admin can list and replay.

A crash between the POST and recording its outcome sends that event again after the
lease: receivers deduplicate on ``webhook-id``, which every attempt shares.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, event, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection

from cardfile.store import tables
from cardfile.store.clock import now_us, to_iso
from cardfile.store.database import Database
from cardfile.webhooks import subscriptions
from cardfile.webhooks.config import WebhookConfig
from cardfile.webhooks.delivery import Outcome, Sender, message_body, message_id

__all__ = ["Claim", "DeliveryWorker", "backoff_s", "list_deliveries", "replay"]

log = logging.getLogger("cardfile.webhooks")

_O = tables.outbox
_D = tables.webhook_deliveries
_S = tables.webhook_subscriptions
_DISPATCH_LOCK = 0x63617264_66696C65 & 0x7FFFFFFFFFFFFFFF  # "cardfile": one dispatcher at a time
_OPEN = ("pending", "delivering")
_WAKE_COALESCE_S = 0.05  # after a local commit, wait this long so a burst makes one round

# Statements built once: a worker runs them many times a second, and building a Core
# statement costs more than running it.
_OLDEST_SUBSCRIPTION = select(func.min(_S.c.created_at)).where(_S.c.active.is_(True))
_ANY_PENDING = select(_O.c.id).where(_O.c.status == "pending").limit(1)
_SKIP_OLDER = (
    update(_O)
    .where(_O.c.status == "pending", _O.c.created_at < bindparam("oldest"))
    .values(status="dispatched")
)
_PENDING = (
    select(_O.c.id, _O.c.event_type, _O.c.record_type, _O.c.record_id, _O.c.created_at, _O.c.payload)
    .where(_O.c.status == "pending")
    .order_by(_O.c.id)
    .limit(bindparam("n"))
)
_MARK_DISPATCHED = update(_O).where(_O.c.id.in_(bindparam("ids", expanding=True))).values(status="dispatched")
_ANY_DUE = (
    select(_D.c.id)
    .where(
        or_(
            and_(_D.c.status == "pending", _D.c.next_attempt_at <= bindparam("now")),
            and_(_D.c.status == "delivering", _D.c.lease_until < bindparam("now")),
        )
    )
    .limit(1)
)
_DISPATCH_LOCK_SQL = text("SELECT pg_try_advisory_xact_lock(:k)")

_CLAIM_SQL = """
SELECT d.id FROM webhook_deliveries d
WHERE ((d.status = 'pending' AND d.next_attempt_at <= :now)
       OR (d.status = 'delivering' AND d.lease_until < :now))
  AND NOT EXISTS (
    SELECT 1 FROM webhook_deliveries e
    WHERE e.subscription_id = d.subscription_id AND e.record_type = d.record_type
      AND e.record_id = d.record_id AND e.event_id < d.event_id
      AND e.status IN ('pending', 'delivering'))
ORDER BY d.id
LIMIT :n
"""


def backoff_s(attempts: int, config: WebhookConfig) -> float:
    """Exponential, capped, with "equal jitter": between half and all of the step."""
    step = float(min(config.backoff_max_s, config.backoff_base_s * 2.0 ** max(0, attempts - 1)))
    return step / 2 + random.uniform(0, step / 2)


@dataclass(frozen=True)
class Claim:
    id: int
    event_id: int
    subscription_id: int
    token: str
    attempts: int
    first_attempt_at: int
    url: str
    secrets: tuple[str, ...]
    event_type: str
    payload: dict[str, Any]

    @property
    def message_id(self) -> str:
        return message_id(self.event_id, self.subscription_id)


class DeliveryWorker:
    """Runs rounds until stopped; ``start()`` runs them in a daemon thread."""

    def __init__(self, db: Database, config: WebhookConfig, *, name: str = "worker") -> None:
        self.db = db
        self.config = config
        self.name = name
        self.sender = Sender(config)
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, config.concurrency), thread_name_prefix="cardfile-hook"
        )
        self._stop = threading.Event()
        self._subscribers = True  # did the last look find an active subscription?
        self._wake = threading.Event()  # a write committed in this process: look now, not at the next poll
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        event.listen(self.db.engine, "commit", self._on_commit)
        self._thread = threading.Thread(target=self.run_forever, name=f"cardfile-{self.name}", daemon=True)
        self._thread.start()

    def _on_commit(self, conn: Connection) -> None:
        if conn.get_execution_options().get("cardfile_write"):  # reads never wake the worker
            self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if event.contains(self.db.engine, "commit", self._on_commit):
            event.remove(self.db.engine, "commit", self._on_commit)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.sender.close()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                busy = self.run_once()
            except Exception:  # a database hiccup must not end delivery for good
                log.exception("webhook worker round failed")
                busy = 0
            if busy:
                continue
            # idle: wait for the poll, or for a write committed in this process (other
            # processes' commits are seen at the next poll)
            deadline = time.monotonic() + self.config.poll_s
            if self._wake.wait(self.config.poll_s):
                if self._subscribers:
                    self._stop.wait(_WAKE_COALESCE_S)  # a burst of commits makes one round
                else:  # nobody to deliver to: commits change nothing before the next poll
                    self._stop.wait(max(0.0, deadline - time.monotonic()))

    def run_once(self) -> int:
        """One dispatch and one claim-deliver-record round; how much work it found."""
        dispatched = self.dispatch()
        claims = self.claim()
        if claims:
            self.record(claims, list(self._pool.map(self._deliver, claims)))
        return dispatched + len(claims)

    # -- 1. dispatch -----------------------------------------------------------------
    def dispatch(self, limit: int = 500) -> int:
        # a look without the write lock first: an idle worker must not queue with writers
        with self.db.read() as conn:
            oldest = conn.execute(_OLDEST_SUBSCRIPTION).scalar()
            self._subscribers = oldest is not None
            if oldest is None:  # nobody subscribes: events wait (and are skipped once someone does)
                return 0
            if conn.execute(_ANY_PENDING).first() is None:
                return 0
        with self.db.write() as conn:
            pg = conn.dialect.name == "postgresql"
            if pg and not conn.execute(_DISPATCH_LOCK_SQL, {"k": _DISPATCH_LOCK}).scalar():
                return 0
            # events older than every subscription go to nobody: one statement, however many
            skipped = conn.execute(_SKIP_OLDER, {"oldest": oldest}).rowcount
            events = conn.execute(_PENDING, {"n": limit}).all()
            if not events:
                return int(skipped)
            subs = subscriptions.list_subscriptions(conn, active_only=True)
            at = now_us()
            rows = [
                {"event_id": e.id, "subscription_id": s.id, "record_type": e.record_type, "record_id": e.record_id,
                 "status": "pending", "attempts": 0, "created_at": at, "next_attempt_at": at}
                for e in events
                for s in subs
                if e.created_at >= s.created_at and s.wants(e.event_type, e.record_type, e.payload)
            ]  # fmt: skip
            if rows:
                conn.execute(insert(_D), rows)
            conn.execute(_MARK_DISPATCHED, {"ids": [e.id for e in events]})
            return len(events) + int(skipped)

    # -- 2. claim --------------------------------------------------------------------
    def claim(self) -> list[Claim]:
        now = now_us()
        token = secrets.token_hex(8)
        with self.db.read() as conn:  # anything due at all? (without the write lock)
            if conn.execute(_ANY_DUE, {"now": now}).first() is None:
                return []
        with self.db.write() as conn:
            sql = _CLAIM_SQL + (" FOR UPDATE OF d SKIP LOCKED" if conn.dialect.name == "postgresql" else "")
            ids = [
                int(i) for i in conn.execute(text(sql), {"now": now, "n": self.config.batch_size}).scalars()
            ]
            if not ids:
                return []
            conn.execute(
                update(_D)
                .where(_D.c.id.in_(ids))
                .values(
                    status="delivering",
                    lease_until=now + int(self.config.lease_s * 1_000_000),
                    claim_token=token,
                    attempts=_D.c.attempts + 1,
                    first_attempt_at=func.coalesce(_D.c.first_attempt_at, now),
                )
            )
            rows = conn.execute(
                select(_D.c.id, _D.c.event_id, _D.c.subscription_id, _D.c.attempts, _D.c.first_attempt_at,
                       _S.c.url, _S.c.secrets, _O.c.event_type, _O.c.payload)
                .join(_S, _S.c.id == _D.c.subscription_id)
                .join(_O, _O.c.id == _D.c.event_id)
                .where(_D.c.id.in_(ids))
                .order_by(_D.c.id)
            ).all()  # fmt: skip
        return [
            Claim(
                id=r.id, event_id=r.event_id, subscription_id=r.subscription_id, token=token, attempts=r.attempts,
                first_attempt_at=r.first_attempt_at, url=r.url,
                secrets=tuple(s["secret"] for s in r.secrets if s.get("expires_at") is None or s["expires_at"] > now),
                event_type=r.event_type, payload=r.payload,
            )
            for r in rows
        ]  # fmt: skip

    # -- 3. deliver and record ---------------------------------------------------------
    def _deliver(self, claim: Claim) -> Outcome:
        body = message_body(claim.event_id, claim.event_type, claim.payload)
        try:
            return self.sender.post(claim.url, claim.message_id, body, list(claim.secrets))
        except Exception as exc:  # never lose the claim's outcome to a bug in one request
            log.exception("webhook delivery %s failed", claim.message_id)
            return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:500])

    def record(self, claims: Sequence[Claim], outcomes: Sequence[Outcome]) -> None:
        now = now_us()
        done: list[dict[str, Any]] = []
        retry: list[dict[str, Any]] = []
        dead: list[dict[str, Any]] = []
        for c, o in zip(claims, outcomes, strict=True):
            key = {"k_id": c.id, "k_token": c.token, "status_code": o.status}
            if o.ok:
                done.append(key)
            elif now - c.first_attempt_at >= int(self.config.retry_for_s * 1_000_000):
                dead.append({**key, "error": o.error})
                log.warning(
                    "webhook %s is a dead letter after %d attempts: %s", c.message_id, c.attempts, o.error
                )
            else:
                due = now + int(backoff_s(c.attempts, self.config) * 1_000_000)
                retry.append({**key, "error": o.error, "due": due})
        mine = and_(_D.c.id == bindparam("k_id"), _D.c.claim_token == bindparam("k_token"))
        released: dict[str, Any] = {
            "lease_until": None,
            "claim_token": None,
            "last_status": bindparam("status_code"),
        }
        with self.db.write() as conn:
            if done:
                conn.execute(
                    update(_D)
                    .where(mine)
                    .values(status="delivered", delivered_at=now, last_error=None, **released),
                    done,
                )
            if retry:
                conn.execute(
                    update(_D).where(mine).values(status="pending", next_attempt_at=bindparam("due"),
                                                  last_error=bindparam("error"), **released),
                    retry,
                )  # fmt: skip
            if dead:
                conn.execute(
                    update(_D)
                    .where(mine)
                    .values(status="dead", dead_at=now, last_error=bindparam("error"), **released),
                    dead,
                )


# -- dead letters and the delivery log ----------------------------------------------
def list_deliveries(
    conn: Connection,
    *,
    status: str | None = None,
    subscription_id: int | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    q = (
        select(_D, _O.c.event_type)
        .join(_O, _O.c.id == _D.c.event_id)
        .where(_D.c.id > after_id)
        .order_by(_D.c.id)
        .limit(limit)
    )
    if status is not None:
        q = q.where(_D.c.status == status)
    if subscription_id is not None:
        q = q.where(_D.c.subscription_id == subscription_id)
    out = []
    for r in conn.execute(q):
        m = r._mapping
        out.append(
            {
                "id": m["id"], "webhook_id": message_id(m["event_id"], m["subscription_id"]),
                "event_id": m["event_id"], "event_type": m["event_type"], "subscription_id": m["subscription_id"],
                "record_type": m["record_type"], "record_id": m["record_id"], "status": m["status"],
                "attempts": m["attempts"], "last_status": m["last_status"], "last_error": m["last_error"],
                "created_at": to_iso(m["created_at"]),
                "next_attempt_at": to_iso(m["next_attempt_at"]) if m["status"] == "pending" else None,
                "delivered_at": to_iso(m["delivered_at"]) if m["delivered_at"] else None,
                "dead_at": to_iso(m["dead_at"]) if m["dead_at"] else None,
            }
        )  # fmt: skip
    return out


def replay(conn: Connection, ids: Sequence[int] | None = None, *, subscription_id: int | None = None) -> int:
    """Dead letters back to pending, due now, with a fresh retry window; how many."""
    cond = [_D.c.status == "dead"]
    if ids is not None:
        cond.append(_D.c.id.in_(list(ids)))
    if subscription_id is not None:
        cond.append(_D.c.subscription_id == subscription_id)
    res = conn.execute(
        update(_D)
        .where(*cond)
        .values(status="pending", next_attempt_at=now_us(), attempts=0, first_attempt_at=None, dead_at=None)
    )
    return int(res.rowcount)


# queried by tests and the API to see what is still open
def open_count(conn: Connection) -> int:
    pending_events = conn.execute(select(func.count()).where(_O.c.status == "pending")).scalar_one()
    open_deliveries = conn.execute(
        select(func.count()).where(or_(*(_D.c.status == s for s in _OPEN)))
    ).scalar_one()
    return int(pending_events) + int(open_deliveries)
