"""Scopes: what a token may do, independent of who holds it.

``records.ALL`` grants everything on records; ``records.{type}.{ALL|READ|WRITE|CREATE|
UPDATE|DELETE}`` grants one type, where WRITE covers CREATE, UPDATE and DELETE.
``metadata.READ`` / ``metadata.WRITE`` cover record types and custom fields, and
``automation.SKIP`` lets an update skip automation. Dialects map their vendor's scope
names onto these.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ACTIONS", "ALL_SCOPES_API_KEY", "allows", "normalize", "parse", "valid_scope"]

ACTIONS = ("READ", "CREATE", "UPDATE", "DELETE")
_WRITE = {"CREATE", "UPDATE", "DELETE"}
GLOBAL = ("records.ALL", "metadata.READ", "metadata.WRITE", "automation.SKIP")
# What an API key of the core issue may do: everything, as before scopes existed.
ALL_SCOPES_API_KEY = frozenset(GLOBAL)


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


def allows(scopes: frozenset[str], area: str, type_name: str | None, action: str) -> bool:
    """Does this scope set allow ``action`` (READ/CREATE/UPDATE/DELETE) on ``area``?"""
    if area == "metadata":
        return f"metadata.{action}" in scopes or (action == "READ" and "metadata.WRITE" in scopes)
    if area == "automation":
        return "automation.SKIP" in scopes
    if "records.ALL" in scopes:
        return True
    prefix = f"records.{type_name}."
    return (
        prefix + "ALL" in scopes
        or prefix + action in scopes
        or (action in _WRITE and prefix + "WRITE" in scopes)
    )
