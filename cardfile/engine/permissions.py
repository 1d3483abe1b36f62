"""Who may do what, checked by the engine for every channel.

Three questions, in this order, each with its own error so dialects can tell them apart:
1. scope: does the token allow this action on this type? (``ScopeMissing``)
2. role: admin does anything; standard changes records; read-only only reads
   (``PermissionDenied``); admin-only fields are written by admins alone.
3. ownership: on a type with ``restrict_to_owners``, a standard user sees and changes only
   records whose owner field is them or whose follower field holds them. A record they
   may not see answers as if it did not exist (``NotFound``), so guessing ids leaks nothing.
4. system records: on a type with a ``system_flag``, a record holding the flag is the
   system's own; every caller is refused it (``PermissionDenied``) and listings leave it out.

A context without a principal is the system itself (CLI, imports) and passes every check.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cardfile.auth import scopes as scope_rules
from cardfile.auth.principal import Principal
from cardfile.errors import FieldError, NotFound, PermissionDenied, ScopeMissing
from cardfile.schema.model import RecordType

__all__ = [
    "owner_filter",
    "require",
    "require_fields",
    "require_metadata",
    "require_visible",
    "restricted",
    "system_hidden",
]


def require(principal: Principal | None, rt: RecordType, action: str) -> None:
    """Scope, then role, for ``action`` in READ / CREATE / UPDATE / DELETE on a type."""
    if principal is None:
        return
    if not scope_rules.allows(principal.scopes, "records", rt.name, action):
        raise ScopeMissing(
            f"the token's scopes do not allow {action} on {rt.name}; it needs records.{rt.name}.{action} or wider",
            required_scope=f"records.{rt.name}.{action}",
        )
    if action != "READ" and principal.role == "read-only":
        raise PermissionDenied("read-only users cannot change records")


def require_automation_skip(principal: Principal | None) -> None:
    if principal is not None and not scope_rules.allows(principal.scopes, "automation", None, "SKIP"):
        raise ScopeMissing(
            "skipping automation needs the scope automation.SKIP", required_scope="automation.SKIP"
        )


def require_metadata(principal: Principal | None, action: str) -> None:
    if principal is None:
        return
    if not scope_rules.allows(principal.scopes, "metadata", None, action):
        raise ScopeMissing(f"this needs the scope metadata.{action}", required_scope=f"metadata.{action}")
    if action != "READ" and principal.role != "admin":
        raise PermissionDenied("only admins change record types")


def require_fields(principal: Principal | None, rt: RecordType, names: Iterable[str]) -> None:
    """Admin-only fields: every one a non-admin tries to write is reported."""
    if principal is None or principal.role == "admin":
        return
    errors = [
        FieldError(n, "ADMIN_ONLY_FIELD", f"only admins may change {n!r}")
        for n in dict.fromkeys(names)
        if (fd := rt.get(n)) is not None and fd.admin_only
    ]
    if errors:
        raise PermissionDenied(
            f"{len(errors)} field(s) may be changed by admins only", errors=[e.to_json() for e in errors]
        )


def restricted(principal: Principal | None, rt: RecordType) -> bool:
    """Is this caller limited to the records they own or follow on this type?"""
    return (
        principal is not None
        and rt.restrict_to_owners
        and principal.role != "admin"
        and principal.kind == "user"
        and principal.user_id is not None
    )


def require_visible(
    principal: Principal | None, rt: RecordType, record_id: int, data: dict[str, Any]
) -> None:
    if principal is not None and rt.system_flag and data.get(rt.system_flag) is True:
        what = rt.system_flag.replace("_", " ")  # Tracker: "cannot access system user"
        raise PermissionDenied(f"Access denied - cannot access {what} ({rt.name} {record_id})")
    if not restricted(principal, rt):
        return
    assert principal is not None and principal.user_id is not None
    uid = principal.user_id
    owner = data.get(rt.owner_field) if rt.owner_field else None
    followers = data.get(rt.follower_field) if rt.follower_field else None
    if owner != uid and uid not in (followers or []):
        raise NotFound(f"no {rt.name} record with id {record_id}")


def system_hidden(principal: Principal | None, rt: RecordType) -> str | None:
    """The boolean field whose true records a listing must leave out for this caller."""
    return rt.system_flag if principal is not None else None


def owner_filter(principal: Principal | None, rt: RecordType) -> tuple[str | None, str | None, int] | None:
    """(owner field, follower field, user id) to filter a listing by, or None."""
    if not restricted(principal, rt):
        return None
    assert principal is not None and principal.user_id is not None
    return rt.owner_field, rt.follower_field, principal.user_id
