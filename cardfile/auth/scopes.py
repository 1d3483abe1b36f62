"""Scopes: what a token may do, independent of who holds it.

``records.ALL`` grants everything on records; ``records.{type}.{ALL|READ|WRITE|CREATE|
UPDATE|DELETE}`` grants one type, where WRITE covers CREATE, UPDATE and DELETE.
``metadata.READ`` / ``metadata.WRITE`` cover record types and custom fields, and
``automation.SKIP`` lets an update skip automation; ``webhooks.ALL`` manages webhook
subscriptions and dead letters (admins only). Dialects map their vendor's scope
names onto these.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ACTIONS",
    "ALL_SCOPES_API_KEY",
    "allows",
    "covers",
    "implied",
    "default_for_role",
    "normalize",
    "parse",
    "valid_scope",
]

ACTIONS = ("READ", "CREATE", "UPDATE", "DELETE")
_WRITE = {"CREATE", "UPDATE", "DELETE"}
GLOBAL = ("records.ALL", "metadata.READ", "metadata.WRITE", "automation.SKIP", "webhooks.ALL")
# What an API key of the core issue may do: everything, as before scopes existed.
ALL_SCOPES_API_KEY = frozenset(GLOBAL)


def default_for_role(role: str) -> frozenset[str]:
    """What a token gets when no scopes are asked for: all the role can use."""
    if role == "admin":
        return frozenset(GLOBAL)
    return frozenset({"records.ALL", "metadata.READ"})


def parse(text: str | Iterable[str] | None) -> frozenset[str]:
    if text is None:
        return frozenset()
    items = text.split() if isinstance(text, str) else list(text)
    return frozenset(s for s in items if s)


def normalize(scopes: Iterable[str]) -> str:
    return " ".join(sorted(set(scopes)))


def valid_scope(scope: str) -> bool:
    if scope in GLOBAL:
        return True
    parts = scope.split(".")
    return (
        len(parts) == 3
        and parts[0] == "records"
        and bool(parts[1])
        and parts[2] in (*ACTIONS, "ALL", "WRITE")
    )


def implied(scope: str, by: frozenset[str]) -> bool:
    """Is ``scope`` granted by the set ``by`` (directly or through a wider scope)?"""
    if scope in by:
        return True
    if scope.startswith("records."):
        _, type_name, action = (scope.split(".") + ["", ""])[:3]
        if action in ("ALL", "WRITE"):
            return (
                "records.ALL" in by
                or f"records.{type_name}.ALL" in by
                or (action == "WRITE" and f"records.{type_name}.WRITE" in by)
            )
        return allows(by, "records", type_name, action)
    return scope == "metadata.READ" and "metadata.WRITE" in by


def covers(by: frozenset[str], wanted: frozenset[str]) -> frozenset[str]:
    """The scopes of ``wanted`` that ``by`` does not grant (empty: all granted)."""
    return frozenset(s for s in wanted if not implied(s, by))


def allows(scopes: frozenset[str], area: str, type_name: str | None, action: str) -> bool:
    """Does this scope set allow ``action`` (READ/CREATE/UPDATE/DELETE) on ``area``?"""
    if area == "metadata":
        return f"metadata.{action}" in scopes or (action == "READ" and "metadata.WRITE" in scopes)
    if area == "automation":
        return "automation.SKIP" in scopes
    if area == "webhooks":
        return "webhooks.ALL" in scopes
    if "records.ALL" in scopes:
        return True
    prefix = f"records.{type_name}."
    return (
        prefix + "ALL" in scopes
        or prefix + action in scopes
        or (action in _WRITE and prefix + "WRITE" in scopes)
    )
