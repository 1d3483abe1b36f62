"""Records → Tracker JSON: GET bodies, search rows, and the small result bodies.

A record arrives as ``engine.records.record_json`` (system fields plus every field); the
names of linked records (``{id, name}``) and of users come from ``Names``, which reads
them through the engine's ``Names`` in one query per kind and response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from cardfile.api.dialects.tracker_v1.parse import custom_field_id
from cardfile.api.dialects.tracker_v1.spec import Key, Resource
from cardfile.engine.names import Names as EngineNames
from cardfile.schema.model import RecordType

__all__ = ["Names", "custom_fields", "first", "render_record", "render_row", "result", "tracker_time"]

Rec = dict[str, Any]


def tracker_time(iso: str | None) -> str | None:
    """cardfile's microsecond UTC time in Tracker's millisecond form."""
    if not iso or len(iso) < 24 or iso[10] != "T":
        return iso
    return iso[:23] + "Z"


def display_name(type_name: str, data: Rec) -> str | None:
    if type_name in ("contact", "resource", "lead") and not data.get("name"):
        if data.get("display_as"):
            return str(data["display_as"])
        first = data.get("preferred_name") or data.get("first_name") or ""
        full = f"{first} {data.get('surname') or ''}".strip()
        return full or None
    for k in ("name", "subject", "full_name", "activity_name", "invoice_number"):
        if data.get(k):
            return str(data[k])
    return None


class Names:
    """The engine's ``Names`` (only what the caller may see, each read once per response)
    as the renderers ask for them: a linked record, its Tracker name, a user's name, the
    user id of an actor."""

    def __init__(self, names: EngineNames) -> None:
        self._names = names

    def load(self, records: Iterable[Rec], rt: RecordType) -> None:
        """Fetch every record and user the given records link to, in one query each."""
        self._names.load(rt, records)

    def fetch(self, ids: Iterable[int]) -> None:
        self._names.fetch(ids)

    def record(self, rid: Any) -> tuple[str, Rec] | None:
        return self._names.record(rid) if isinstance(rid, int) else None

    def name(self, rid: Any) -> str | None:
        found = self.record(rid)
        return display_name(*found) if found else None

    def data(self, rid: Any) -> Rec:
        found = self.record(rid)
        return found[1] if found else {}

    def user(self, uid: Any) -> str | None:
        who = self._names.person(uid) if isinstance(uid, int) else None
        return who.name if who else None

    def user_id(self, actor: str | None) -> int | None:
        who = self._names.actor(actor) if actor else None
        return who.id if who else None


def first(v: Any) -> Any:
    """The first id of a multi-lookup's list (None when empty): what a ``firstref`` shows."""
    return (v[0] if v else None) if isinstance(v, list) else v


def ref_json(names: Names, rid: Any) -> dict[str, Any] | None:
    return {"id": rid, "name": names.name(rid)} if isinstance(rid, int) else None


def _key_json(key: Key, rec: Rec, names: Names) -> Any:
    v = rec.get(key.field)
    match key.kind:
        case "scalar":
            return tracker_time(v) if key.type == "datetime" else v
        case "ref":
            out = ref_json(names, v)
            if out is not None and key.key == "rank":
                out["order"] = names.data(v).get("order")
            return out
        case "refs":
            return [ref_json(names, x) for x in v or ()]
        case "firstref":
            return ref_json(names, first(v))
        case "idref":
            return v
        case "obj":
            return {c.key: _key_json(c, rec, names) for c in key.children}
        case "rows":
            return [{c.key: row.get(c.field) for c in key.children} for row in v or ()]
    raise AssertionError(key.kind)


def custom_fields(rt: RecordType, rec: Rec, *, only_set: bool = False) -> list[dict[str, Any]]:
    out = []
    for fd in rt:
        fid = custom_field_id(fd.name)
        if fid is None:
            continue
        v = rec.get(fd.name)
        if only_set and v in (None, "", []):
            continue
        if isinstance(v, list):
            v = ",".join(str(x) for x in v)
        elif isinstance(v, bool):
            v = "true" if v else "false"
        elif v is not None:
            v = str(v)
        out.append({"id": fid, "name": fd.label or fd.name, "value": v})
    return out


def owners_json(rec: Rec, names: Names) -> list[dict[str, Any]]:
    return [
        {
            "ownerId": row.get("user"),
            "rank": row.get("rank"),
            "name": names.user(row.get("user")),
            "percent": row.get("percent"),
            "role": row.get("role"),
        }
        for row in rec.get("owners") or ()
    ]


def _type_name(res: Resource, rec: Rec, names: Names) -> str | None:
    for k in ("contact_type", "project_type", "opportunity_type", "lead_type"):
        v = first(rec.get(k))  # contact_type holds a list: its first entry
        if v is not None:
            return names.name(v)
    if rec.get("client_types"):
        return names.name(rec["client_types"][0])
    return None


def history_json(res: Resource, rec: Rec, names: Names) -> dict[str, Any]:
    out: dict[str, Any] = {
        "created": tracker_time(rec.get("created_at")),
        "updated": tracker_time(rec.get("modified_at")),
        "updatedBy": names.user_id(rec.get("modified_by")),
    }
    for hk, field in res.history:
        v = rec.get(field)
        out[hk] = tracker_time(v) if isinstance(v, str) else v
    return out


def render_record(res: Resource, rt: RecordType, rec: Rec, names: Names) -> dict[str, Any]:
    """The GET body of one record, keys in the seed's order."""
    out: dict[str, Any] = {}
    if res.base:
        out["id"] = rec["id"]
        out["name"] = display_name(rt.name, rec)
        if res.name == "OpportunityResource":  # an entry is named after its candidate
            out["name"] = names.name(rec.get("resource"))
        out["typeName"] = _type_name(res, rec, names)
    else:
        out[res.id_key] = rec["id"]
    for key in res.keys:
        out[key.key] = _key_json(key, rec, names)
    if res.custom_fields:
        out["customFields"] = custom_fields(rt, rec)
    if res.owners:
        out["owners"] = owners_json(rec, names)
    if res.name == "OpportunityResource":
        out["opportunityResourceId"] = str(rec["id"])
    if res.name == "Resource":
        out["resourceId"] = rec["id"]
    if res.base or res.history:
        out["history"] = history_json(res, rec, names)
    return out


# -- search rows ---------------------------------------------------------------------------
# Each row key is read with a getter: "f:<field>" the value, "n:<field>" the linked record's
# name, "u:<field>" the user's name, "t:<field>" a time in Tracker's form, "b:<field>" a
# boolean as a string, "@id" / "@created" / "@updated" / "@updatedBy" system values.
Getter = str | Callable[[Rec, Names], Any]

ROWS: dict[str, tuple[tuple[str, Getter], ...]] = {
    "Client": (
        ("clientId", "@id"),
        ("creationDate", "@created"),
        ("clientName", "f:name"),
        ("addressLine1", "f:address_line1"),
        ("addressLine2", "f:address_line2"),
        ("town", "f:town"),
        ("county", "f:county"),
        ("postcode", "f:postcode"),
        ("country", "f:country"),
        ("email", "f:email"),
        ("website", "f:website"),
        ("telephone", "f:telephone"),
        ("internalRef", "f:internal_reference"),
        ("clientSource", "f:source"),
        ("departmentName", "n:department"),
        ("clientVerticalName", "n:vertical"),
        ("clientRankName", "n:rank"),
        ("territory", "n:territory"),
        ("clientOwner", "u:owner"),
    ),
    "Contact": (
        ("contactId", "@id"),
        ("clientName", "n:client"),
        ("clientId", "f:client"),
        ("salutation", "f:salutation"),
        ("firstName", "f:first_name"),
        ("surname", "f:surname"),
        ("displayAs", lambda r, n: display_name("contact", r)),
        ("jobTitle", "f:job_title"),
        ("company", "f:company"),
        ("addressLine1", "f:address_line1"),
        ("addressLine2", "f:address_line2"),
        ("town", "f:town"),
        ("county", "f:county"),
        ("postcode", "f:postcode"),
        ("country", "f:country"),
        ("businessPhone", "f:telephone"),
        ("homePhone", "f:home_phone"),
        ("mobilePhone", "f:mobile_phone"),
        ("otherPhone", "f:other_phone"),
        ("fax", "f:fax"),
        ("pager", "f:pager"),
        ("email", "f:email"),
        ("website", "f:website"),
        ("department", "n:department"),
        ("office", "f:office"),
        ("contactRole", "n:contact_role"),
        ("contactType", lambda r, n: n.name(first(r.get("contact_type")))),
        ("referralFrom", "f:referral_from"),
        ("territory", "n:territory"),
        ("contactSource", "f:source"),
        ("marketing", "f:marketing_preference"),
        ("businessUnit", "f:business_unit"),
        ("managerContactId", "f:manager"),
        ("contactRoleId", "f:contact_role"),
        ("contactTypeId", lambda r, n: first(r.get("contact_type"))),
        ("lastUpdatedDateTime", "@updated"),
        ("lastUpdatedUserId", "@updatedBy"),
        ("creationDate", "@created"),
        ("departmentId", "f:department"),
        ("territoryId", "f:territory"),
        ("contactStatusId", "f:status"),
    ),
    "Resource": (
        ("resourceId", "@id"),
        ("dateApplied", "t:date_applied"),
        ("clientName", "n:current_client"),
        ("firstname", "f:first_name"),
        ("surname", "f:surname"),
        ("displayAs", lambda r, n: display_name("resource", r)),
        ("jobTitle", "f:job_title"),
        ("addressLine1", "f:address_line1"),
        ("addressLine2", "f:address_line2"),
        ("town", "f:town"),
        ("county", "f:county"),
        ("postcode", "f:postcode"),
        ("country", "f:country"),
        ("email", "f:email"),
        ("otherEmail", "f:other_email"),
        ("linkedInUrl", "f:linked_in_url"),
        ("workTelephone", "f:telephone"),
        ("homeTelephone", "f:home_phone"),
        ("mobilePhone", "f:mobile_phone"),
        ("nissNumber", "f:niss_number"),
        ("payrollNumber", "f:payroll_number"),
        ("whereDidYouHear", "f:where_did_you_hear"),
        ("departmentName", "n:department"),
        ("territory", "n:territory"),
        ("resourceOwner", "u:owner"),
        ("resourceStatusName", "n:status"),
        ("availableForWork", "b:available_for_work"),
        ("availableFrom", "t:available_from"),
        ("availability", "f:availability"),
        ("lastUpdatedDateTime", "@updated"),
        ("lastUpdatedUserId", "@updatedBy"),
    ),
    "Project": (
        ("projectId", "@id"),
        ("opportunityId", "f:opportunity"),
        ("clientId", "f:client"),
        ("contactId", "f:contact"),
        ("projectCode", "f:project_code"),
        ("projectName", "f:name"),
        ("projectStatus", "n:status"),
        ("projectOwnerId", "f:owner"),
        ("projectType", "n:project_type"),
        ("startDate", "t:start_date"),
        ("endDate", "t:end_date"),
        ("activitySetId", ""),
        ("territory", "n:territory"),
        ("systemProject", "b:is_system_project"),
        ("comments", "f:comments"),
        ("active", lambda r, n: "false" if r.get("closed") else "true"),
        ("lastUpdatedDateTime", "@updated"),
        ("lastUpdatedUserId", "@updatedBy"),
        ("projectHealth", "f:health"),
        ("projectPriority", "f:priority"),
        ("workingFolder", "f:working_folder"),
        ("creationDate", "@created"),
        ("projectStatusId", "f:status"),
        ("projectTypeId", "f:project_type"),
        ("projectPriorityId", ""),
        ("secondaryContactId", "f:secondary_contact"),
        ("tagText", "f:tag_text"),
        ("projectNotification", "f:project_notification"),
        ("territoryId", "f:territory"),
        ("clientName", "n:client"),
        ("projectStatusName", "n:status"),
        ("projectTypeName", "n:project_type"),
    ),
    "OpportunityResource": (
        ("opportunityResourceId", "@id"),
        ("opportunityId", "f:opportunity"),
        ("resourceId", "f:resource"),
        ("clientId", "f:client"),
        ("contactId", "f:contact"),
        ("opportunityName", "n:opportunity"),
        ("opportunityResourceStatus", "n:status"),
        ("workType", "n:work_type"),
        ("dateAssigned", "f:date_assigned"),
        ("dateConfirmed", "f:date_confirmed"),
        ("note", "f:note"),
        ("startDate", "f:start_date"),
        ("endDate", "f:end_date"),
        ("startTime", "f:start_time"),
        ("endTime", "f:end_time"),
        ("hoursInWorkingDay", "f:hours_in_working_day"),
        ("payRate", "f:pay_rate"),
        ("chargeRate", "f:charge_rate"),
        ("chargePeriod", "f:charge_period"),
        ("overtimeRate", "f:overtime_rate"),
        ("rejectionReason", "f:rejection_reason"),
        ("opportunityWorkTypeId", "f:work_type"),
        ("overtimeChargeRate", "f:overtime_charge_rate"),
        ("activeRecord", "b:active_record"),
        ("timesheetEntry", "f:timesheet_entry"),
        ("opportunityResourceStatusId", "f:status"),
        ("opportunityResourceTypeId", "f:opportunity_resource_type"),
        ("territory", "n:territory"),
        ("assignedByUserId", "f:assigned_by"),
        ("currencyCode", "f:currency_code"),
        ("portalViewDateTime", "t:portal_view_date_time"),
        ("daysOfWeek", "f:days_of_week"),
        ("territoryId", "f:territory"),
        ("weekStarts", "f:week_starts"),
        ("placementSource", "f:placement_source"),
        ("clientName", "n:client"),
        ("contactDisplayAs", "n:contact"),
        ("resourceDisplayAs", "n:resource"),
        ("opportunityStatusDesc", lambda r, n: n.name(n.data(r.get("opportunity")).get("status"))),
        ("opportunityResourceStatusName", "n:status"),
        ("opportunityResourceTypeName", "n:opportunity_resource_type"),
    ),
    "TimesheetEntries": (
        ("projectId", "f:project"),
        ("resourceId", "f:resource"),
        ("clientId", "f:client"),
        ("entryId", "@id"),
        ("taskId", "f:project_activity"),
        ("taskName", "n:project_activity"),
        ("entryDate", "f:entry_date"),
        ("timeBooked", "f:hours"),
        ("status", "f:approval_status"),
        ("checkInTime", "f:start_time1"),
        ("checkOutTime", "f:end_time1"),
        ("firstBreakInTime", "f:start_time2"),
        ("firstBreakOutTime", "f:end_time2"),
        ("secondBreakInTime", "f:start_time3"),
        ("secondBreakOutTime", "f:end_time3"),
        ("note", "f:entry_note"),
        ("billed", "f:billed"),
        ("billReference", lambda r, n: _num(r.get("bill_reference"))),
        ("paid", "f:paid"),
        ("paidReference", lambda r, n: _num(r.get("pay_reference"))),
        ("entryType", "f:entry_type"),
        ("approvalContactId", "f:approval_contact"),
        ("approvalReport", "f:approval_report"),
        ("approvalRequestDate", "f:approval_request_date"),
        ("approvalRequestTime", "f:approval_request_time"),
        ("approvalStatus", "f:approval_status"),
        ("rateToUse", "f:rate_to_use"),
        ("taskPayRate", "f:task_pay_rate"),
        ("placementPayRate", "f:placement_pay_rate"),
    ),
    "PartnerRecord": (
        ("partnerRecordTypeId", "@id"),
        ("partnerId", "f:partner_id"),
        ("partnerTypeId", "f:partner_type_id"),
        ("internalRecordTypeId", "f:record_type"),
        ("id", "@id"),
        ("partnerRecordId", "f:partner_record_id"),
        ("recordType", "f:record_type"),
        ("recordId", "f:record_id"),
    ),
    "User": (
        ("userId", "f:user"),
        ("username", "f:username"),
        ("fullName", "f:full_name"),
        ("email", "f:email"),
        ("departmentName", "n:department"),
        ("userGroupName", "n:user_group"),
        ("territoryName", "n:territory"),
        ("userTeamName", "n:user_team"),
        ("timezoneOffset", "f:timezone_offset"),
        ("lastLogon", "t:last_logon"),
    ),
}
# The full key list of each row, in the seed's order (keys without a getter are null).
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "OpportunityResource": (
        "opportunityResourceId", "opportunityId", "resourceId", "clientId", "contactId", "opportunityName",
        "opportunityResourceStatus", "workType", "dateAssigned", "dateConfirmed", "note", "startDate",
        "endDate", "startTime", "endTime", "hoursInWorkingDay", "fee", "feeValue", "payRate", "chargeRate",
        "chargePeriod", "overtimeRate", "enterTimesheet", "arrivalInstructions", "rejectionReason",
        "assignmentValue", "percentEffort", "opportunityWorkTypeId", "feeTaxValue", "feeTotalValue", "tax",
        "suppliment", "overtimeChargeRate", "activeRecord", "timesheetEntry", "searchStatus",
        "awrEffectiveDate", "awrPayRate", "awrOvertimePayRate", "awrChargeRate", "awrOvertimeChargeRate",
        "awrDayOneRightsDate", "awrTermsDate", "awrWorkingHours", "awrRestBreaks", "awrHoliday",
        "awrSickness", "awrBonus", "awrOvertime", "awrExpenses", "awrMaternity", "awrOtherEntitlements",
        "awrReport", "orderId", "opportunityResourceStatusId", "opportunityResourceTypeId", "territory",
        "assignedByUserId", "currencyCode", "portalShare", "portalWhyShortlisted", "portalRating",
        "portalFeedback", "portalViewDateTime", "portalDocumentId", "daysOfWeek", "territoryId", "weekStarts",
        "firstOwnerId", "firstOwnerPercent", "firstOwnerRoleId", "secondOwnerId", "secondOwnerPercent",
        "secondOwnerRoleId", "thirdOwnerId", "thirdOwnerPercent", "thirdOwnerRoleId", "fourthOwnerId",
        "fourthOwnerPercent", "fourthOwnerRoleId", "fifthOwnerId", "fifthOwnerPercent", "fifthOwnerRoleId",
        "portalVideoResumeId", "placementSource", "portalInterviewId", "clientName", "contactDisplayAs",
        "resourceDisplayAs", "opportunityStatusDesc", "opportunityResourceStatusName",
        "opportunityResourceTypeName",
    ),
    "PartnerRecord": ("partnerRecordTypeId", "partnerId", "partnerTypeId", "internalRecordTypeId"),
}  # fmt: skip
_ORDINALS = ("first", "second", "third", "fourth", "fifth")


def _num(v: Any) -> Any:
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    return v if isinstance(v, int | float) else None


def _get(getter: Getter, rec: Rec, names: Names) -> Any:
    if callable(getter):
        return getter(rec, names)
    if not getter:
        return None
    kind, _, field = getter.partition(":")
    match kind:
        case "f":
            return rec.get(field)
        case "n":
            return names.name(rec.get(field))
        case "u":
            return names.user(rec.get(field))
        case "t":
            return tracker_time(rec.get(field))
        case "b":
            v = rec.get(field)
            return None if v is None else ("true" if v else "false")
        case "@id":
            return rec["id"]
        case "@created":
            return tracker_time(rec.get("created_at"))
        case "@updated":
            return tracker_time(rec.get("modified_at"))
        case "@updatedBy":
            return names.user_id(rec.get("modified_by"))
    raise AssertionError(getter)


def render_row(
    res: Resource, rt: RecordType, rec: Rec, names: Names, *, include_custom: bool
) -> dict[str, Any]:
    """One search row; resources the seed shows no row for get their GET body."""
    spec = ROWS.get(res.name)
    if spec is None:
        out = render_record(res, rt, rec, names)
        if not include_custom:
            out["customFields"] = []
        return out
    getters = dict(spec)
    keys = ROW_KEYS.get(res.name) or tuple(getters)
    row = {k: _get(getters.get(k, ""), rec, names) for k in keys}
    if res.name == "OpportunityResource":
        for i, owner in enumerate((rec.get("owners") or ())[:5]):
            row[f"{_ORDINALS[i]}OwnerId"] = owner.get("user")
            row[f"{_ORDINALS[i]}OwnerPercent"] = owner.get("percent")
    if res.custom_fields:
        row["customFields"] = custom_fields(rt, rec, only_set=True) if include_custom else []
    return row


def result(rid: int | None, message: str, success: bool = True) -> dict[str, Any]:
    """Tracker's ``{id, success, message}``."""
    return {"id": rid, "success": success, "message": message}
