"""Managing webhook subscriptions from an API: the native ``/api/webhooks`` and Tracker v1's
``/api/v1/Webhook`` both run their reads and writes on ``webhooks.access.WebhookAdmin``
(``units.run_read_with`` / ``run_write_with``) and check a URL here before saving it."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from cardfile.api.kit.credentials import Authenticates
from cardfile.api.kit.units import run_read_with
from cardfile.services import Services
from cardfile.webhooks import ssrf, subscriptions
from cardfile.webhooks.access import WebhookAdmin

__all__ = ["check_subscription_url"]


async def check_subscription_url(svc: Services, creds: Authenticates, url: str | None) -> None:
    """The caller's check first (nobody else learns how internal names resolve), then the
    save-time SSRF check of ``url`` with DNS, before (never inside) the write transaction;
    ``ValidationFailed`` when the URL is refused."""
    await run_read_with(svc, creds, WebhookAdmin, WebhookAdmin.check)
    if url is not None:
        policy = ssrf.OutboundPolicy.parse(svc.settings.webhooks.outbound_allow)
        await run_in_threadpool(subscriptions.check_url, url, policy)
