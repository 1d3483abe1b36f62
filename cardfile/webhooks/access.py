"""Who may manage webhooks (admins whose token carries ``webhooks.ALL``), and the one way an
API manages them: ``WebhookAdmin``, bound to a unit of work and its caller.

The native ``/api/webhooks`` routes and Tracker v1's ``/api/v1/Webhook`` run on it, through
the API kit (``api/kit/units.run_read_with`` / ``run_write_with``), so neither holds the
connection and every call checks the caller first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from cardfile.auth import scopes as scope_rules
from cardfile.auth.principal import Principal
from cardfile.errors import PermissionDenied, ScopeMissing
from cardfile.webhooks import subscriptions, worker
from cardfile.webhooks.subscriptions import Subscription

__all__ = ["WebhookAdmin", "require_webhook_admin"]


def require_webhook_admin(principal: Principal | None) -> None:
    """Subscriptions and dead letters are the admin's (a subscription sees every record)."""
    if principal is None:
        return
    if not scope_rules.allows(principal.scopes, "webhooks", None, "ALL"):
        raise ScopeMissing("managing webhooks needs the scope webhooks.ALL", required_scope="webhooks.ALL")
    if principal.role != "admin":
        raise PermissionDenied("only admins manage webhooks")


class WebhookAdmin:
    """Webhook subscriptions and deliveries in one unit of work, as its caller manages them:
    every call first checks ``require_webhook_admin`` (the connection stays private).

    Args:
        conn: The unit of work's connection.
        principal: The caller; None is the system itself.
    """

    __slots__ = ("_conn", "principal")

    def __init__(self, conn: Connection, principal: Principal | None) -> None:
        self._conn = conn
        self.principal = principal

    def _checked(self) -> Connection:
        require_webhook_admin(self.principal)
        return self._conn

    def check(self) -> None:
        """Only the caller's check: before a URL is resolved (nobody else learns how names resolve)."""
        self._checked()

    # -- subscriptions (see ``subscriptions.py``) ---------------------------------------
    def subscriptions(self) -> list[Subscription]:
        """Every subscription, by id."""
        return subscriptions.list_subscriptions(self._checked())

    def get(self, sub_id: int) -> Subscription:
        """One subscription; NotFound when there is none."""
        return subscriptions.get(self._checked(), sub_id)

    def create(self, values: Mapping[str, Any]) -> tuple[Subscription, str]:
        """A new subscription and its secret (shown once)."""
        return subscriptions.create(self._checked(), values)

    def update(self, sub_id: int, values: Mapping[str, Any]) -> Subscription:
        """Change the columns in ``values``; NotFound when there is no such subscription."""
        return subscriptions.update_subscription(self._checked(), sub_id, values)

    def delete(self, sub_id: int) -> None:
        """Delete it and its undelivered deliveries; NotFound when there is none."""
        subscriptions.delete_subscription(self._checked(), sub_id)

    def rotate_secret(self, sub_id: int, overlap_s: float) -> tuple[Subscription, str]:
        """A new secret; the current ones keep signing for ``overlap_s``."""
        return subscriptions.rotate_secret(self._checked(), sub_id, overlap_s)

    # -- deliveries (see ``worker.py``) --------------------------------------------------
    def deliveries(
        self, *, status: str | None, subscription_id: int | None, after_id: int, limit: int
    ) -> list[dict[str, Any]]:
        """The delivery log, oldest first, a page after ``after_id``."""
        return worker.list_deliveries(
            self._checked(), status=status, subscription_id=subscription_id, after_id=after_id, limit=limit
        )

    def replay(self, ids: Sequence[int] | None, *, subscription_id: int | None) -> int:
        """Dead letters (all, these ids, or one subscription's) sent again; how many."""
        return worker.replay(self._checked(), ids, subscription_id=subscription_id)
