"""One delivery: a signed POST to the address the SSRF guard checked, bounded in time and size.

The name is resolved and checked at connect time (``ssrf.resolve``) and the request goes
to that address, with the name in ``Host`` and, for HTTPS, in SNI and the certificate
check, so DNS cannot switch the address between check and connect. Redirects are not
followed (a redirect could point anywhere); environment proxies are not used (a proxy
would connect to the name itself). Only a 2xx answer counts as delivered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

import cardfile
from cardfile.webhooks import signing, ssrf
from cardfile.webhooks.config import WebhookConfig

__all__ = ["Outcome", "Sender", "message_body", "message_id"]


def message_id(event_id: int, subscription_id: int) -> str:
    """The ``webhook-id``: the same for every attempt of one event to one subscription."""
    return f"msg_{event_id}_{subscription_id}"


def message_body(event_id: int, event_type: str, payload: Mapping[str, Any]) -> bytes:
    """``{"type", "timestamp", "data"}``, the Standard Webhooks envelope, same bytes on every attempt."""
    data = {k: v for k, v in payload.items() if k not in ("type", "record_id")}
    data = {
        "event_id": event_id,
        "record_type": payload.get("record_type"),
        "id": payload.get("record_id"),
        **data,
    }
    return orjson.dumps({"type": event_type, "timestamp": payload.get("at"), "data": data})


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None


class Sender:
    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.policy = ssrf.OutboundPolicy.parse(config.outbound_allow)
        self.client = self._new_client()
        # HTTPS: one pool per host name, so a connection whose TLS session was verified for
        # one name is never reused for another name at the same address
        self._tls_clients: dict[str, httpx.Client] = {}
        self._lock = threading.Lock()

    def _new_client(self) -> httpx.Client:
        return httpx.Client(
            timeout=httpx.Timeout(self.config.timeout_s, connect=self.config.connect_timeout_s),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(
                max_connections=max(4, self.config.concurrency * 2),
                max_keepalive_connections=self.config.concurrency,
            ),
        )

    def _client_for(self, target: ssrf.Target) -> httpx.Client:
        if target.scheme != "https":
            return self.client
        with self._lock:
            client = self._tls_clients.get(target.host)
            if client is None:
                if len(self._tls_clients) >= 256:  # bounded: drop the idle pools of old hosts
                    for c in self._tls_clients.values():
                        c.close()
                    self._tls_clients.clear()
                client = self._tls_clients[target.host] = self._new_client()
            return client

    def close(self) -> None:
        self.client.close()
        with self._lock:
            for c in self._tls_clients.values():
                c.close()
            self._tls_clients.clear()

    def post(self, url: str, msg_id: str, body: bytes, secrets: list[str]) -> Outcome:
        if not secrets:
            return Outcome(False, error="the subscription has no live secret")
        try:
            target = ssrf.resolve(url, self.policy)
        except ssrf.UrlNotAllowed as exc:
            return Outcome(False, error=f"{ssrf.UrlNotAllowed.code}: {exc}")
        headers = {
            **signing.headers(secrets, msg_id, int(time.time()), body),
            "content-type": "application/json",
            "user-agent": f"cardfile-webhooks/{cardfile.__version__}",
            "host": target.host_header,
        }
        extensions: dict[str, Any] = {}
        if target.scheme == "https" and target.host != str(target.ip):
            extensions["sni_hostname"] = target.host
        deadline = time.monotonic() + self.config.timeout_s
        try:
            with self._client_for(target).stream(
                "POST", target.url(url), content=body, headers=headers, extensions=extensions
            ) as resp:
                size = 0
                head = b""
                for chunk in resp.iter_bytes():
                    if len(head) < 200:
                        head += chunk[: 200 - len(head)]
                    size += len(chunk)
                    if size >= self.config.max_response_bytes or time.monotonic() > deadline:
                        break  # the answer's status is all that counts; stop reading
                if 200 <= resp.status_code < 300:
                    return Outcome(True, resp.status_code)
                text = head.decode("utf-8", "replace").strip()
                return Outcome(
                    False, resp.status_code, f"HTTP {resp.status_code}" + (f": {text}" if text else "")
                )
        except httpx.HTTPError as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:500])
