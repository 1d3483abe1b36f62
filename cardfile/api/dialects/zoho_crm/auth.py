"""Zoho's ``Authorization: Zoho-oauthtoken <token>`` and its scope names, in one place.

The token is any cardfile credential (an access token of the OAuth2 server, one from
``cardfile token create``, or an API key); ``Bearer`` is accepted too. Zoho's scope names
map onto cardfile's (``to_cardfile_scopes``); the Zoho OAuth paths translate a request's
scopes with it, so the tokens they issue carry cardfile scopes that the engine checks:

| Zoho scope | cardfile scopes |
|---|---|
| ``ZohoCRM.modules.ALL`` | ``records.ALL``, ``automation.SKIP`` |
| ``ZohoCRM.modules.{module}.{ALL,WRITE,READ,CREATE,UPDATE,DELETE}`` | ``records.{type}.{same}`` for the module's type (every custom module's for ``custom``), plus ``automation.SKIP`` unless READ |
| ``ZohoCRM.settings.ALL``, ``ZohoCRM.settings.READ``, ``ZohoCRM.settings.fields.{ALL,READ}``, ``ZohoCRM.settings.modules.{ALL,READ}`` | ``metadata.READ`` |
| a cardfile scope (``records.ALL`` ...) | itself |

Other Zoho scopes (users, org, ...) grant nothing here and are dropped. ``automation.SKIP``
comes with write scopes because Zoho lets any writer send ``skip_feature_execution``.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request

from cardfile.api.dialects.zoho_crm.modules import module_scope_name, modules
from cardfile.auth import scopes as scope_rules
from cardfile.errors import Unauthenticated
from cardfile.schema.model import Schema

__all__ = ["MissingToken", "split_scopes", "to_cardfile_scopes", "token_of"]

_SCHEMES = ("zoho-oauthtoken", "bearer")
_SETTINGS_READ = frozenset(
    {"ZohoCRM.settings.ALL", "ZohoCRM.settings.READ", "ZohoCRM.settings.fields.ALL",
     "ZohoCRM.settings.fields.READ", "ZohoCRM.settings.modules.ALL", "ZohoCRM.settings.modules.READ"}
)  # fmt: skip
_OPS = ("ALL", "WRITE", "READ", "CREATE", "UPDATE", "DELETE")


class MissingToken(Unauthenticated):
    code = "AUTHENTICATION_FAILURE"
    title = "Authentication failed"


def token_of(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in _SCHEMES or not value.strip():
        raise MissingToken("send 'Authorization: Zoho-oauthtoken <access token>'")
    return value.strip()


def split_scopes(text: str) -> list[str]:
    """Zoho separates scopes with commas; OAuth with spaces. Both are read."""
    return [s for s in text.replace(",", " ").split() if s]


def to_cardfile_scopes(requested: Iterable[str], schema: Schema) -> frozenset[str]:
    out: set[str] = set()
    by_scope_name: dict[str, list[str]] = {}
    for rt in modules(schema).values():
        by_scope_name.setdefault(module_scope_name(rt), []).append(rt.name)
    for scope in requested:
        if scope_rules.valid_scope(scope):
            out.add(scope)
            continue
        if scope in _SETTINGS_READ:
            out.add("metadata.READ")
            continue
        parts = scope.split(".")
        if parts[:2] != ["ZohoCRM", "modules"]:
            continue
        if len(parts) == 3 and parts[2] == "ALL":
            out.update({"records.ALL", "automation.SKIP"})
        elif len(parts) == 4 and parts[3] in _OPS:
            types = by_scope_name.get(parts[2].lower(), [])
            out.update(f"records.{t}.{parts[3]}" for t in types)
            if types and parts[3] != "READ":
                out.add("automation.SKIP")
    return frozenset(out)
