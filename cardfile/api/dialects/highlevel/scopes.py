"""HighLevel's scope names and cardfile's: the one place the dialect maps them.

| HighLevel scope           | cardfile scope it stands for            |
|---------------------------|-----------------------------------------|
| ``objects/record.readonly`` | ``records.<type>.READ`` (any object)    |
| ``objects/record.write``    | ``records.<type>.WRITE`` (create, update, delete) |
| ``objects/schema.readonly`` | ``metadata.READ``                       |
| ``objects/schema.write``    | ``metadata.WRITE``                      |

A token that carries a HighLevel name gets the cardfile scope for the object the request
is about; the engine then checks scopes as for every channel. An API key (HighLevel's
private-integration token) may do everything. Going the other way, an ``INSUFFICIENT_SCOPE``
error names the HighLevel scope that would have allowed the call.
"""

from __future__ import annotations

from dataclasses import replace

from cardfile.auth.principal import Principal

__all__ = ["SCOPES", "expand", "highlevel_scope"]

# HighLevel scope -> cardfile scope; "{type}" is the record type of the object at hand.
SCOPES: dict[str, str] = {
    "objects/record.readonly": "records.{type}.READ",
    "objects/record.write": "records.{type}.WRITE",
    "objects/schema.readonly": "metadata.READ",
    "objects/schema.write": "metadata.WRITE",
}


def expand(principal: Principal, type_name: str | None = None) -> Principal:
    """The principal with the cardfile scopes its HighLevel scopes stand for."""
    extra = {
        target.format(type=type_name)
        for name, target in SCOPES.items()
        if name in principal.scopes and ("{type}" not in target or type_name is not None)
    }
    if not extra or extra <= principal.scopes:
        return principal
    return replace(principal, scopes=principal.scopes | extra)


def highlevel_scope(required: str) -> str | None:
    """The HighLevel scope that grants a cardfile scope such as ``records.event_ticket.UPDATE``."""
    parts = required.split(".")
    if parts[0] == "metadata" and len(parts) == 2:
        return "objects/schema.readonly" if parts[1] == "READ" else "objects/schema.write"
    if parts[0] == "records" and len(parts) == 3:
        return "objects/record.readonly" if parts[2] == "READ" else "objects/record.write"
    return None
