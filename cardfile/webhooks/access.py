"""Who may manage webhooks: admins whose token carries ``webhooks.ALL``."""

from __future__ import annotations

from cardfile.auth import scopes as scope_rules
from cardfile.auth.principal import Principal
from cardfile.errors import PermissionDenied, ScopeMissing

__all__ = ["require_webhook_admin"]


def require_webhook_admin(principal: Principal | None) -> None:
    """Subscriptions and dead letters are the admin's (a subscription sees every record)."""
    if principal is None:
        return
    if not scope_rules.allows(principal.scopes, "webhooks", None, "ALL"):
        raise ScopeMissing("managing webhooks needs the scope webhooks.ALL", required_scope="webhooks.ALL")
    if principal.role != "admin":
        raise PermissionDenied("only admins manage webhooks")
