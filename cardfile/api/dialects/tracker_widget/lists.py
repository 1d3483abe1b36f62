"""getSettings: the settings lists, whose entry ids the "id" columns of updateRecord take.

Every entry of the ``setting`` type (``docs/dialects/tracker-pack.md``), in list order:
``{"id", "list", "name", "recordtype", "order", "code", "active"}`` plus ``columns``, the
updateRecord columns that take the list's ids or names (``resourcestatusid`` for
``resource_status``). The caller needs read access to settings.
"""

from __future__ import annotations

from typing import Any

from cardfile.api.dialects.tracker_widget.columns import RECORD_TYPES, SETTING, columns_of
from cardfile.engine.query import Query
from cardfile.engine.session import Session

__all__ = ["settings"]


def _columns_by_list(session: Session) -> dict[str, list[str]]:
    """Each list -> the columns that take it, as ``<letter>.<column>`` (``R.resourcestatusid``)."""
    out: dict[str, list[str]] = {}
    schema = session.schema
    for letter, type_name in RECORD_TYPES.items():
        rt = schema.get(type_name)
        if rt is None:
            continue
        for name, col in columns_of(rt).items():
            if col.setting_list is not None:
                out.setdefault(col.setting_list, []).append(f"{letter}.{name}")
    return out


def settings(session: Session) -> list[dict[str, Any]]:
    items = list(session.all_records(Query(SETTING)))
    columns = _columns_by_list(session)
    items.sort(key=lambda e: (str(e.get("list") or ""), e.get("order") is None, e.get("order") or 0, e["id"]))
    return [
        {
            "id": e["id"],
            "list": e.get("list"),
            "name": e.get("name"),
            "recordtype": e.get("record_type"),
            "order": e.get("order"),
            "code": e.get("code"),
            "active": e.get("active"),
            "columns": columns.get(str(e.get("list")), []),
        }
        for e in items
    ]
