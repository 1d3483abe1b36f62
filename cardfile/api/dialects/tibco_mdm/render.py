"""Responses in the MDM shape: the service message of a write, and a record as read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cardfile.api.dialects.tibco_mdm.repository import DELETED, ID, ID_EXT, STATE, Repository, mdm_name
from cardfile.fieldtypes import registry
from cardfile.schema.model import FieldDef

__all__ = ["identity_json", "record_json", "service_name", "success_body"]

SERVICE_OK = "SVC-11025"  # the seed's code for a service that ran


def service_name(validate: bool | None, process: bool) -> str:
    """``VALIDATE_PROCESS`` for the default (flags left out), as in the seed's example."""
    return f"{'NOVALIDATE' if validate is False else 'VALIDATE'}_{'PROCESS' if process else 'NOPROCESS'}"


def success_body(service: str, notes: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    messages = [
        {"code": SERVICE_OK, "message": f"Service '{service}' executed successfully.", "type": "Info"}
    ]
    messages += [{"code": code, "message": msg, "type": "Info"} for code, msg in notes or ()]
    return {"responseMessages": messages, "records": [], "success": True}


def identity_json(repo: Repository, record: Mapping[str, Any] | None, fallback: Any = None) -> dict[str, Any]:
    """repositoryName, productId, productIdExt, productKeyId of a record (or of the request)."""
    if record is None:
        ref = fallback
        return {
            "repositoryName": repo.name,
            "productId": _s(getattr(ref, "product_id", None)),
            "productIdExt": _s(getattr(ref, "product_id_ext", None)),
            "productKeyId": _s(getattr(ref, "product_key_id", None)),
        }
    return {
        "repositoryName": repo.name,
        "productId": _s(record.get(ID)),
        "productIdExt": _s(record.get(ID_EXT)),
        "productKeyId": _s(record.get("id")),
    }


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


def attribute_json(fd: FieldDef, value: Any, display: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": mdm_name(fd.name), "displayName": display}
    if registry.get(fd.type).multi:
        out.update(multivalue=True, multivalues=[_text(v) for v in value or ()])
    else:
        out.update(multivalue=False, value=_text(value))
    return out


def _text(v: Any) -> Any:
    """Values go out as strings, as the vendor sends them (objects as JSON objects)."""
    if v is None or isinstance(v, dict | list):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def record_json(
    repo: Repository,
    record: Mapping[str, Any],
    *,
    allowed: frozenset[str] | None,
    target_identity: Callable[[str, int], dict[str, Any] | None],
) -> dict[str, Any]:
    """A record as the MDM read calls return it; ``allowed`` limits it to a perspective."""
    attrs = [
        attribute_json(fd, record.get(fd.name), repo.display_name(fd))
        for fd in repo.data_attributes()
        if allowed is None or fd.name in allowed
    ]
    rels: dict[str, list[dict[str, Any]]] = {}
    for rel in repo.relationships.values():
        if allowed is not None and rel.field not in allowed:
            continue
        items = []
        for row in record.get(rel.field) or ():
            target = row.get(rel.target_column)
            items.append(
                {
                    "relationshipAttributes": [
                        attribute_json(c, row.get(c.name), c.label or mdm_name(c.name))
                        for c in rel.attributes
                    ],
                    "targetRecord": target_identity(rel.target_type, target) if target else None,
                }
            )
        rels[rel.name] = items
    out = {
        **identity_json(repo, record),
        "version": str(record.get("version")),
        "state": record.get(STATE) if repo.has(STATE) else None,
        "deleted": bool(record.get(DELETED)) if repo.has(DELETED) else False,
        "attributes": attrs,
        "relationships": rels,
    }
    return out
