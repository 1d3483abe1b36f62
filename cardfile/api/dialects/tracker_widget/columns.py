"""Which widget column is which field: record-type letters and column names.

The record types are the ``tracker`` pack's (``docs/dialects/tracker-pack.md``), shared
with the Tracker REST v1 dialect, so a change through one API reads back through the
other. A widget column is the name of a pack field without its underscores
(``first_name`` → ``firstname``, ``job_title`` → ``jobtitle``), matched without regard
to case. On top of that:

- a ``lookup`` (or ``user``) field also answers to ``<column>id`` and, for the type's own
  lists, ``<entity><column>id`` (``status`` of a resource → ``statusid`` and
  ``resourcestatusid``; of a placement → ``opportunityresourcestatusid``): these are
  "id" columns and take integers only (a settings entry's id from getSettings, or a
  record's id; 0 clears, as Tracker's integer ids do);
- a lookup into the settings lists also answers to its bare name with the entries' names
  (``territory``); a multi-lookup into them (``client_types``, ``contact_type``)
  answers to its name and its singular (``clienttypes``, ``clienttype``, ``contacttype``)
  with comma-separated names that replace the set, and to ``<singular>id``
  (``contacttypeid``, ``clienttypeid``) as an "id" column: one entry's id, which the set
  becomes (0 empties it);
- the fields that are not single values a column could hold (sub-records such as owners
  and skills, the quick-skill set, custom fields ``cf_<id>``) and ``owner`` (kept in step
  with ``owners``) are not columns: skills and custom fields have their own arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

from cardfile.schema.model import FieldDef, RecordType
from cardfile.tracker import RECORD_TYPES

__all__ = ["ENTITIES", "RECORD_TYPES", "SETTING", "Column", "columns_of", "setting_list"]

# the entity word the vendor's id columns start with (resourcestatusid, ...)
ENTITIES = {
    "client": "client",
    "contact": "contact",
    "lead": "lead",
    "opportunity": "opportunity",
    "project": "project",
    "ticket": "ticket",
    "resource": "resource",
    "opportunity_resource": "opportunityresource",
}
SETTING = "setting"  # the pack type of the settings lists
SKILL = "skill"

# a settings-list field -> the `list` its entries belong to; `status` is per type
_LISTS = {
    "territory": "territory",
    "department": "department",
    "rank": "rank",
    "vertical": "vertical",
    "client_types": "client_type",
    "sectors": "sector",
    "work_types": "work_type",
    "work_type": "work_type",
    "contact_type": "contact_type",
    "contact_role": "contact_role",
    "lead_type": "lead_type",
    "opportunity_type": "opportunity_type",
    "project_type": "project_type",
    "opportunity_resource_type": "opportunity_resource_type",
    "priority": "priority",
    "ticket_type": "ticket_type",
}
_NOT_COLUMNS = frozenset({"owner"})
# Tracker's own spellings of a few columns, as further names of a derived column
_ALIASES = {
    "opportunity_resource": {"assignedbyuserid": "assignedbyid"},
    "resource": {"createdby": "createdbyname"},
}
_SCALAR_TYPES = frozenset(
    {
        "text", "long_text", "email", "url", "phone", "integer", "decimal", "money", "boolean",
        "date", "datetime", "single_select", "radio", "multi_select", "checkbox", "lookup",
        "multi_lookup", "user",
    }
)  # fmt: skip


def setting_list(type_name: str, field: FieldDef) -> str | None:
    """The settings list a lookup into ``setting`` takes its entries from."""
    if field.target != SETTING or field.type not in ("lookup", "multi_lookup"):
        return None
    declared = dict(field.target_where).get("list")
    if isinstance(declared, str):
        return declared
    if field.name == "status":
        return f"{type_name}_status"
    return _LISTS.get(
        field.name, field.name.removesuffix("s") if field.type == "multi_lookup" else field.name
    )


@dataclass(frozen=True)
class Column:
    """A widget column: the field it sets and how its value is read."""

    field: str
    id_column: bool = False  # integers only
    names: bool = False  # settings entries by name (comma-separated for a multi-lookup)
    multi: bool = False  # the value replaces a set
    setting_list: str | None = None  # lookups into `setting`: the list the entries belong to


def _is_column_field(fd: FieldDef) -> bool:
    if fd.name in _NOT_COLUMNS or fd.custom or fd.name.startswith("cf_"):
        return False
    if fd.type not in _SCALAR_TYPES:
        return False
    return not (fd.type == "multi_lookup" and fd.target != SETTING)  # quick_skills: the skills array


def columns_of(rt: RecordType) -> dict[str, Column]:
    """Every column of a record type, by lower-case name; the first claim of a name wins."""
    entity = ENTITIES.get(rt.name, rt.name.replace("_", ""))
    out: dict[str, Column] = {}

    def claim(name: str, col: Column) -> None:
        out.setdefault(name, col)

    for fd in rt:
        if not _is_column_field(fd):
            continue
        base = fd.name.replace("_", "")
        lst = setting_list(rt.name, fd)
        multi = fd.type in ("multi_lookup", "multi_select", "checkbox")
        if fd.type in ("lookup", "user"):
            if lst is not None:
                claim(base, Column(fd.name, names=True, setting_list=lst))
            idcol = Column(fd.name, id_column=True, setting_list=lst)
            claim(base + "id", idcol)
            if not base.startswith(entity):
                claim(entity + base + "id", idcol)
        elif fd.type == "multi_lookup":
            col = Column(fd.name, names=True, multi=True, setting_list=lst)
            claim(base, col)
            claim(base.removesuffix("s"), col)
            # one entry by id (Tracker v1's `type: {id}` of a contact is the same write)
            claim(
                base.removesuffix("s") + "id", Column(fd.name, id_column=True, multi=True, setting_list=lst)
            )
        else:
            # an integer field named like an id (last_activity_id) is an "id" column too
            claim(base, Column(fd.name, id_column=fd.name.endswith("_id"), multi=multi))
    for alias, name in _ALIASES.get(rt.name, {}).items():
        if name in out:
            claim(alias, out[name])
    return out
