"""Zoho's names for cardfile's things: modules, field API names, ids, field kinds.

- **Modules.** Every record type of the ``zoho`` pack whose name starts with ``zoho_`` is a
  module. The seed's standard modules have fixed API names (``Deals`` is ``zoho_deals``,
  ``Price_Books`` is ``zoho_price_books``, ``Appointments__s`` is ``zoho_appointments``);
  any other type of the pack is a custom module named by its title-cased type name
  (``zoho_listings`` is ``Listings``). Module names in scopes are Zoho's lower-case ones
  (``pricebooks``; ``custom`` for every custom module).
- **Fields.** A field's cardfile name is its Zoho API name in lower case (``Deal_Name`` is
  ``deal_name``, ``File_Id__s`` is ``file_id__s``); the API name is rebuilt by title-casing
  each ``_``-separated word, keeping Zoho's ``__s`` system suffix, plus a short table of
  names that do not follow that rule (``AssociatedUser``).
- **Ids.** A Zoho id is the record's integer id as a decimal string: record 42 is ``"42"``,
  so ``/api/records/zoho_deals/42`` and ``/zoho/crm/v7/Deals/42`` are one record. Row ids of
  subforms and of the linking rows of multi-select lookups, multi-user lookups and image
  uploads are the sub-record row ids, as strings, unique within their field.
- **Kinds of sub-records.** A ``sub_records`` field with one ``lookup`` column is a
  multi-select lookup, with one ``user`` column a multi-user lookup, with a ``file_id__s``
  column an image upload; any other is a subform.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cardfile.errors import BadRequest
from cardfile.schema.model import FieldDef, RecordType, Schema

__all__ = [
    "PACK",
    "TYPE_PREFIX",
    "InvalidModule",
    "layout_id",
    "UnsupportedModule",
    "api_name",
    "column_api_name",
    "column_by_api_name",
    "field_by_api_name",
    "field_id",
    "field_kind",
    "module_api_name",
    "module_of",
    "module_scope_name",
    "modules",
    "parse_id",
    "zoho_id",
]

PACK = "zoho"
TYPE_PREFIX = "zoho_"
_INT64_MAX = 2**63 - 1

# The seed's standard modules: API name -> (record type, module name in scopes).
STANDARD: dict[str, tuple[str, str]] = {
    "Leads": ("zoho_leads", "leads"),
    "Accounts": ("zoho_accounts", "accounts"),
    "Contacts": ("zoho_contacts", "contacts"),
    "Deals": ("zoho_deals", "deals"),
    "Campaigns": ("zoho_campaigns", "campaigns"),
    "Tasks": ("zoho_tasks", "tasks"),
    "Cases": ("zoho_cases", "cases"),
    "Events": ("zoho_events", "events"),
    "Calls": ("zoho_calls", "calls"),
    "Solutions": ("zoho_solutions", "solutions"),
    "Products": ("zoho_products", "products"),
    "Vendors": ("zoho_vendors", "vendors"),
    "Price_Books": ("zoho_price_books", "pricebooks"),
    "Quotes": ("zoho_quotes", "quotes"),
    "Sales_Orders": ("zoho_sales_orders", "salesorders"),
    "Purchase_Orders": ("zoho_purchase_orders", "purchaseorders"),
    "Invoices": ("zoho_invoices", "invoices"),
    "Appointments__s": ("zoho_appointments", "appointments"),
    "Appointments_Rescheduled_History__s": (
        "zoho_appointments_rescheduled_history",
        "appointments_rescheduled_history",
    ),
    "Services__s": ("zoho_services", "services"),
}
# Also accepted in URLs: the names without Zoho's system suffix.
ALIASES = {"Appointments": "Appointments__s", "Services": "Services__s",
           "Appointments_Rescheduled_History": "Appointments_Rescheduled_History__s"}  # fmt: skip
_BY_TYPE = {t: name for name, (t, _s) in STANDARD.items()}
_SCOPE_BY_TYPE = {t: s for _n, (t, s) in STANDARD.items()}
# Zoho modules that exist but that the records API does not serve.
UNSUPPORTED = frozenset(
    {"Documents", "Projects", "Visits", "Social", "Feeds", "Reports", "Dashboards", "Forecasts", "Home",
     "Approvals", "Activities", "Analytics", "Notes", "Attachments"}
)  # fmt: skip
# Field API names that do not follow the title-case rule (cardfile name -> API name).
IRREGULAR = {
    "associateduser": "AssociatedUser",
    "start_datetime": "Start_DateTime",
    "end_datetime": "End_DateTime",
    # columns, as "field.column": an event's participants are written in lower case
    "participants.type": "type",
    "participants.participant": "participant",
    "participants.name": "name",
}
_SUFFIXES = ("__s",)


class InvalidModule(BadRequest):
    code = "INVALID_MODULE"
    title = "The module name given seems to be invalid"


class UnsupportedModule(InvalidModule):
    title = "The given module is not supported in API"


def modules(schema: Schema) -> dict[str, RecordType]:
    """Every module of the schema by its API name."""
    out: dict[str, RecordType] = {}
    for rt in schema.types.values():
        if rt.pack == PACK and rt.name.startswith(TYPE_PREFIX):
            out[module_api_name(rt)] = rt
    return out


def module_api_name(rt: RecordType) -> str:
    if rt.name in _BY_TYPE:
        return _BY_TYPE[rt.name]
    return "_".join(w[:1].upper() + w[1:] for w in rt.name.removeprefix(TYPE_PREFIX).split("_"))


def module_scope_name(rt: RecordType) -> str:
    return _SCOPE_BY_TYPE.get(rt.name, "custom")


def module_of(schema: Schema, name: str) -> RecordType:
    """The record type of a module API name (case-insensitive, as Zoho's); INVALID_MODULE otherwise."""
    by_name = modules(schema)
    wanted = ALIASES.get(name, name)
    for api, rt in by_name.items():
        if api.lower() == wanted.lower():
            return rt
    if any(name.lower() == u.lower() for u in UNSUPPORTED):
        raise UnsupportedModule(f"the module {name[:60]!r} is not supported in the API")
    raise InvalidModule(f"no module {name[:60]!r}")


def api_name(fd: FieldDef) -> str:
    if fd.name in IRREGULAR:
        return IRREGULAR[fd.name]
    base, suffix = fd.name, ""
    for s in _SUFFIXES:
        if base.endswith(s):
            base, suffix = base[: -len(s)], s
    return "_".join(w[:1].upper() + w[1:] for w in base.split("_")) + suffix


def field_by_api_name(rt: RecordType) -> dict[str, FieldDef]:
    return {api_name(fd): fd for fd in rt}


def column_api_name(parent: FieldDef, col: FieldDef) -> str:
    return IRREGULAR.get(f"{parent.name}.{col.name}") or api_name(col)


def column_by_api_name(fd: FieldDef) -> dict[str, FieldDef]:
    return {column_api_name(fd, c): c for c in fd.fields}


def field_kind(fd: FieldDef) -> str:
    """Zoho's kind of a sub_records field: subform, multiselectlookup, multiuserlookup, imageupload."""
    cols = fd.fields
    if any(c.name == "file_id__s" for c in cols):
        return "imageupload"
    if len(cols) == 1 and cols[0].type == "lookup":
        return "multiselectlookup"
    if len(cols) == 1 and cols[0].type == "user":
        return "multiuserlookup"
    return "subform"


def zoho_id(n: int | None) -> str | None:
    return None if n is None else str(int(n))


def parse_id(raw: Any) -> int | None:
    """A Zoho id (a decimal string, or a JSON integer) as cardfile's integer; None when malformed."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        n = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        n = int(raw)
    else:
        return None
    return n if 1 <= n <= _INT64_MAX else None


def layout_id(rt: RecordType, name: str) -> str:
    """A stable numeric id for a layout of a type (Zoho's ``Layout.id``)."""
    digest = hashlib.sha256(f"{rt.name}#layout#{name}".encode()).digest()
    return str(int.from_bytes(digest[:7], "big"))


def field_id(rt: RecordType, fd: FieldDef) -> str:
    """A stable numeric id for a field, for the fields metadata API."""
    digest = hashlib.sha256(f"{rt.name}.{fd.name}".encode()).digest()
    return str(int.from_bytes(digest[:7], "big"))
