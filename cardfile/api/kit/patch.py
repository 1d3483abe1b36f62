"""A JSON Patch (RFC 6902) body read as the partial object it stands for, for an API whose
PATCH takes either (Tracker's ``application/json-patch+json``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cardfile.errors import BadRequest

__all__ = ["json_patch_object"]


def json_patch_object(ops: Any) -> dict[str, Any]:
    """An RFC 6902 operations array as the partial object it stands for: ``add`` and
    ``replace`` set the value at the path, ``remove`` sets null (clears). Paths name keys
    of objects only (``/contactDetails/email``); array positions are refused."""
    out: dict[str, Any] = {}
    for i, op in enumerate(ops):
        if not isinstance(op, Mapping) or op.get("op") not in ("add", "replace", "remove"):
            raise BadRequest(f"operation {i}: only add, replace and remove are supported", field=f"[{i}].op")
        path = op.get("path")
        if not isinstance(path, str) or not path.startswith("/") or path == "/":
            raise BadRequest(f"operation {i}: 'path' must be a JSON pointer like /name", field=f"[{i}].path")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
        if any(p == "" or p.isdigit() or p == "-" for p in parts):
            raise BadRequest(
                f"operation {i}: paths into arrays are not supported; send the whole list",
                field=f"[{i}].path",
            )
        if op["op"] != "remove" and "value" not in op:
            raise BadRequest(f"operation {i}: 'value' is required", field=f"[{i}].value")
        target = out
        for p in parts[:-1]:
            nxt = target.setdefault(p, {})
            if not isinstance(nxt, dict):
                raise BadRequest(
                    f"operation {i}: {path} goes inside a value set earlier", field=f"[{i}].path"
                )
            target = nxt
        target[parts[-1]] = None if op["op"] == "remove" else op["value"]
    return out
