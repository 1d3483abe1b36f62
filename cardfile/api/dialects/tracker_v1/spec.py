"""What each Tracker resource's JSON keys are in the ``tracker`` pack: one table per resource.

A ``Key`` maps one JSON key of the resource's create/update/get bodies onto a pack field:

- ``scalar``: the value as is (``date`` fields also take a date-time and keep its date);
- ``ref``: an ``{id, name}`` object stored as a lookup (``null`` clears; ``id`` 0 sets nothing);
- ``refs``: a list of ``{id, name}`` stored as a multi-lookup;
- ``firstref``: one ``{id, name}`` object stored as a multi-lookup (a Contact's ``type``:
  the widget's ``contacttype`` sets several): GET shows the first entry, a write of
  ``{id: N}`` replaces the set with ``[N]`` (``null`` clears; ``id`` 0 sets nothing);
- ``idref``: a bare id (``parentClientId``, ``projectId``) stored as a lookup;
- ``obj``: a nested object whose keys are fields of their own (``contactDetails``,
  ``address``…); a PATCH merges it key by key;
- ``rows``: a list of objects stored as sub-records (``fullEmploymentHistory``).

``history`` and the ids of the GET bodies are rendered, never written. The pack file
``cardfile/schema/packs/tracker.yaml`` must hold every field named here with the type
given; a test checks it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["RESOURCES", "Key", "Resource", "snake"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


@dataclass(frozen=True)
class Key:
    key: str  # the JSON key
    kind: str  # scalar | ref | refs | firstref | idref | obj | rows
    field: str = ""  # the pack field (obj: unused)
    type: str = "text"  # the pack field's type
    target: str = "setting"  # ref / refs / idref
    children: tuple[Key, ...] = ()  # obj: its keys; rows: the row's columns

    def fields(self) -> Iterator[Key]:
        """The keys that are pack fields (an obj's children, or itself)."""
        if self.kind == "obj":
            for c in self.children:
                yield from c.fields()
        else:
            yield self


def s(key: str, type: str = "text", field: str = "") -> Key:
    return Key(key, "scalar", field or snake(key), type)


def ref(key: str, target: str = "setting", field: str = "") -> Key:
    return Key(key, "ref", field or snake(key), "lookup", target)


def refs(key: str, target: str = "setting", field: str = "") -> Key:
    return Key(key, "refs", field or snake(key), "multi_lookup", target)


def firstref(key: str, target: str = "setting", field: str = "") -> Key:
    return Key(key, "firstref", field or snake(key), "multi_lookup", target)


def idref(key: str, target: str, field: str) -> Key:
    return Key(key, "idref", field, "lookup", target)


def obj(key: str, *children: Key) -> Key:
    return Key(key, "obj", children=children)


def address(key: str, prefix: str) -> Key:
    return obj(
        key,
        s("isPrimary", "boolean", f"{prefix}is_primary"),
        s("addressName", "text", f"{prefix}name"),
        s("addressLine1", "text", f"{prefix}line1"),
        s("addressLine2", "text", f"{prefix}line2"),
        s("town", "text", f"{prefix}town" if prefix != "address_" else "town"),
        s("county", "text", f"{prefix}county" if prefix != "address_" else "county"),
        s("country", "text", f"{prefix}country" if prefix != "address_" else "country"),
        s("postcode", "text", f"{prefix}postcode" if prefix != "address_" else "postcode"),
    )


CONTACT_DETAILS = obj(
    "contactDetails", s("telephone"), s("mobilePhone"), s("fax"), s("email")
)  # fmt: skip
BANKING = obj("bankingDetails", s("bankName"), s("sortCode"), s("accountNumber"), s("bankReference"))
ADDITIONAL = obj(
    "additionalContactDetails",
    s("type", "text", "additional_contact_type"),
    s("value", "text", "additional_contact_value"),
)
MARKETING = obj(
    "marketingPreferences",
    s("marketingPreference"),
    s("textOptIn", "boolean"),
    s("emailOptIn", "boolean"),
    s("telephoneOptIn", "boolean"),
    s("workOptIn", "boolean"),
)
OFF_LIMITS = obj(
    "offLimits",
    s("offLimitsFromDate", "datetime", "off_limits_from"),
    s("offLimitsUntilDate", "datetime", "off_limits_until"),
    s("offLimitsNote", "long_text", "off_limits_note"),
    s("restrictions", "text", "off_limits_restrictions"),
)
# The block Client, Contact, Project, Resource (and OpportunityResource's GET) start with.
BASE = (
    s("source"),
    CONTACT_DETAILS,
    ref("status"),
    ref("territory"),
    ref("department"),
)


@dataclass(frozen=True)
class Resource:
    name: str  # the Tracker resource (URL segment)
    type: str  # the pack type
    keys: tuple[Key, ...]
    id_key: str = "id"  # the GET body's id key
    custom_fields: bool = True
    owners: bool = True
    history: tuple[tuple[str, str], ...] = ()  # history.<key> -> pack field (beyond created/updated)
    extra_fields: tuple[Key, ...] = ()  # pack fields that no body key names (search rows, widget)
    base: bool = True  # GET starts with id, name, typeName

    def all_keys(self) -> Iterator[Key]:
        for k in self.keys:
            yield from k.fields()
        yield from self.extra_fields

    def key(self, name: str) -> Key | None:
        return next((k for k in self.keys if k.key == name), None)


CLIENT = Resource(
    "Client",
    "client",
    (
        *BASE,
        s("name"),
        s("internalReference"),
        s("website"),
        s("linkedInUrl"),
        s("isParentClient", "boolean"),
        idref("parentClientId", "client", "parent_client"),
        s("tagText"),
        s("specialTerms", "long_text"),
        s("note", "long_text"),
        s("background", "long_text"),
        s("targetRevenue", "decimal"),
        s("turnover"),
        s("supportDepartment"),
        s("supportTeam"),
        s("supportResource"),
        s("secondarysupportResource", "text", "secondary_support_resource"),
        s("noticePeriod"),
        s("timesheetApprovals", "boolean"),
        refs("clientTypes"),
        refs("sectors"),
        refs("quickSkills", "skill"),
        BANKING,
        obj(
            "invoicingDetails",
            s("chargeRateTerms"),
            s("invoicingFrequency"),
            s("invoicingDay"),
            s("invoiceTerms"),
            s("invoicingContact"),
            s("invoiceSendCc"),
            s("chargeRate", "decimal"),
            s("discount", "decimal"),
            s("surcharge", "decimal"),
            s("taxRate", "decimal"),
            s("isTaxExempt", "boolean"),
            s("applySurcharge", "boolean"),
            s("creditApproved", "boolean"),
            s("allowOnlinePayments", "boolean"),
        ),
        ref("rank"),
        ref("vertical"),
    ),
    history=(
        ("closed", "closed"),
        ("renewal1", "renewal1"),
        ("renewal2", "renewal2"),
        ("cancelled", "cancelled"),
        ("cancellationReason", "cancellation_reason"),
    ),
    extra_fields=(
        s("addressLine1", "text", "address_line1"),
        s("addressLine2", "text", "address_line2"),
        s("town"),
        s("county"),
        s("postcode"),
        s("country"),
        s("closed", "datetime"),
        s("renewal1", "datetime"),
        s("renewal2", "datetime"),
        s("cancelled", "datetime"),
        s("cancellationReason"),
    ),
)

CONTACT = Resource(
    "Contact",
    "contact",
    (
        *BASE,
        s("preferredName"),
        s("firstName"),
        s("surname"),
        s("nickname"),
        s("jobTitle"),
        s("company"),
        s("website"),
        s("office"),
        s("spousesName"),
        s("birthday"),
        s("anniversary"),
        s("photo"),
        s("note", "long_text"),
        s("isPrimary", "boolean"),
        s("marketingPreference"),
        s("businessUnit"),
        s("internalReference"),
        s("tagText"),
        refs("sectors"),
        refs("quickSkills", "skill"),
        MARKETING,
        ref("client", "client"),
        ref("manager", "contact"),
        ref("assistant", "contact"),
        ref("referralFrom", "contact"),
        firstref("type", "setting", "contact_type"),
        ref("role", "setting", "contact_role"),
        address("address", "address_"),
        OFF_LIMITS,
        ADDITIONAL,
    ),
    history=(
        ("closed", "closed"),
        ("dateLastContacted", "date_last_contacted"),
        ("lastActivityId", "last_activity_id"),
    ),
    extra_fields=(
        s("salutation"),
        s("homePhone"),
        s("otherPhone"),
        s("pager"),
        s("closed", "datetime"),
        s("dateLastContacted", "datetime"),
        s("lastActivityId", "integer"),
    ),
)

RESOURCE = Resource(
    "Resource",
    "resource",
    (
        *BASE,
        s("dateApplied", "datetime"),
        s("preferredName"),
        s("displayAs"),
        s("firstName"),
        s("surname"),
        s("jobTitle"),
        s("linkedInUrl"),
        s("dateOfBirth"),
        s("languages"),
        s("educationSummary", "long_text"),
        s("desiredPayRate", "decimal"),
        s("journeyTime"),
        s("availableForWork", "boolean"),
        s("currentSalary", "decimal"),
        s("currentSalaryNum", "decimal"),
        s("desiredSalary", "decimal"),
        s("desiredSalaryNum", "decimal"),
        s("noticePeriod", "decimal"),
        s("photo"),
        s("interviewResult"),
        s("interviewNote", "long_text"),
        s("note", "long_text"),
        s("currentSituation"),
        s("rating", "decimal"),
        s("payRateNote"),
        s("payRateNum", "decimal"),
        s("chargeRateNote"),
        s("chargeRateNum", "decimal"),
        s("costCentreCode"),
        s("interviewedBy"),
        s("otherEmail"),
        Key(
            "fullEmploymentHistory",
            "rows",
            "full_employment_history",
            "sub_records",
            children=(
                s("organization"),
                s("startDate", "date"),
                s("endDate", "date"),
                s("description", "long_text"),
                s("jobTitle"),
            ),
        ),
        s("employmentHistory", "long_text"),
        s("achievements", "long_text"),
        s("associations", "long_text"),
        s("nissNumber"),
        s("tagText"),
        s("payrollNumber"),
        s("availableFrom", "datetime"),
        s("bonuses"),
        s("contractStartDate", "datetime"),
        s("contractEndDate", "datetime"),
        s("holidayEntitlement", "decimal"),
        s("holidayCarryOver", "decimal"),
        s("maximumCarryOver", "decimal"),
        s("rightToRepresent", "boolean"),
        s("taxApplicable", "boolean"),
        s("agencyName"),
        s("agencyType"),
        s("agencyAccountRef"),
        s("createdBy", "text", "created_by_name"),
        address("agencyAddress", "agency_address_"),
        ref("currentClient", "client"),
        ref("manager", "contact"),
        address("address", "address_"),
        BANKING,
        ADDITIONAL,
        MARKETING,
        refs("quickSkills", "skill"),
        refs("workTypes"),
        OFF_LIMITS,
    ),
    history=(
        ("closed", "closed"),
        ("resumeRecieved", "resume_received"),
        ("registered", "registered"),
        ("applied", "applied"),
        ("interviewed", "interviewed"),
        ("dateLastContacted", "date_last_contacted"),
        ("lastActivityId", "last_activity_id"),
    ),
    extra_fields=(
        s("homePhone"),
        s("whereDidYouHear"),
        s("availability"),
        s("closed", "datetime"),
        s("resumeReceived", "datetime", "resume_received"),
        s("registered", "datetime"),
        s("applied", "datetime"),
        s("interviewed", "datetime"),
        s("dateLastContacted", "datetime"),
        s("lastActivityId", "integer"),
    ),
)

PROJECT = Resource(
    "Project",
    "project",
    (
        *BASE,
        s("name"),
        s("projectCode"),
        s("startDate", "datetime"),
        s("endDate", "datetime"),
        s("isSystemProject", "boolean"),
        s("comments", "long_text"),
        s("health"),
        s("priority"),
        s("tagText"),
        ref("opportunity", "opportunity"),
        ref("client", "client"),
        ref("contact", "contact"),
        ref("secondaryContact", "contact"),
        ref("type", "setting", "project_type"),
    ),
    history=(("closed", "closed"),),
    extra_fields=(s("closed", "datetime"), s("workingFolder"), s("projectNotification")),
)

# Opportunity, Lead and Invoice are documented by summary only: modelled like the
# documented resources (the base block, a name, links to client and contact).
OPPORTUNITY = Resource(
    "Opportunity",
    "opportunity",
    (
        *BASE,
        s("name"),
        s("jobTitle"),
        s("description", "long_text"),
        s("startDate", "datetime"),
        s("endDate", "datetime"),
        s("value", "decimal"),
        s("probability", "decimal"),
        s("numberOfPositions", "integer"),
        s("tagText"),
        s("internalReference"),
        ref("client", "client"),
        ref("contact", "contact"),
        ref("type", "setting", "opportunity_type"),
        refs("sectors"),
        refs("quickSkills", "skill"),
        refs("workTypes"),
        address("address", "address_"),
    ),
    history=(("closed", "closed"),),
    extra_fields=(s("closed", "datetime"),),
)

LEAD = Resource(
    "Lead",
    "lead",
    (
        *BASE,
        s("name"),
        s("firstName"),
        s("surname"),
        s("jobTitle"),
        s("company"),
        s("website"),
        s("description", "long_text"),
        s("value", "decimal"),
        s("tagText"),
        ref("client", "client"),
        ref("contact", "contact"),
        ref("type", "setting", "lead_type"),
        refs("sectors"),
        address("address", "address_"),
    ),
    history=(("closed", "closed"),),
    extra_fields=(s("closed", "datetime"),),
)

INVOICE = Resource(
    "Invoice",
    "invoice",
    (
        ref("status"),
        ref("territory"),
        ref("department"),
        s("invoiceNumber"),
        s("invoiceDate", "date"),
        s("dueDate", "date"),
        s("currencyCode"),
        s("netAmount", "decimal"),
        s("taxAmount", "decimal"),
        s("totalAmount", "decimal"),
        s("paid", "boolean"),
        s("paidDate", "date"),
        s("purchaseOrder"),
        s("note", "long_text"),
        ref("client", "client"),
        ref("contact", "contact"),
        ref("project", "project"),
        ref("opportunity", "opportunity"),
    ),
)

OPPORTUNITY_RESOURCE = Resource(
    "OpportunityResource",
    "opportunity_resource",
    (
        *BASE,
        s("dateAssigned", "date"),
        s("dateConfirmed", "date"),
        s("note", "long_text"),
        s("startDate", "date"),
        s("endDate", "date"),
        s("startTime"),
        s("endTime"),
        s("hoursInWorkingDay", "decimal"),
        s("payRate"),
        s("chargeRate"),
        s("chargePeriod"),
        s("overtimeRate"),
        s("rejectionReason"),
        s("overtimeChargeRate"),
        s("activeRecord", "boolean"),
        s("timesheetEntry"),
        # the status object and opportunityResourceStatusId are one field
        idref("opportunityResourceStatusId", "setting", "status"),
        idref("opportunityResourceTypeId", "setting", "opportunity_resource_type"),
        Key("assignedByUserId", "idref", "assigned_by", "user", "users"),
        s("currencyCode"),
        s("portalViewDateTime", "datetime"),
        s("daysOfWeek"),
        s("weekStarts"),
        s("placementSource"),
        ref("resource", "resource"),
        ref("client", "client"),
        ref("contact", "contact"),
        ref("workType"),
        ref("opportunity", "opportunity"),
    ),
    history=(("closed", "closed"), ("confirmed", "confirmed")),
    extra_fields=(s("closed", "datetime"), s("confirmed", "datetime")),
)

PARTNER_RECORD = Resource(
    "PartnerRecord",
    "partner_record",
    (
        s("partnerId", "integer"),
        s("partnerRecordId"),
        s("recordType"),
        s("recordId", "integer"),
        s("partnerTypeId"),
        s("partnerName"),
    ),
    custom_fields=False,
    owners=False,
    base=False,
)

PROJECT_ACTIVITY = Resource(
    "ProjectActivity",
    "project_activity",
    (
        s("planTaskId", "integer"),
        idref("projectId", "project", "project"),
        s("activityName"),
        s("budgetedDays", "decimal"),
        s("billable", "boolean"),
        s("clientRequired", "boolean"),
        s("activityStatus"),
        s("activityNote", "long_text"),
        s("stopTimesheet", "boolean"),
        s("expectedEndDate", "datetime"),
        s("expectedStartDate", "datetime"),
        s("payRate", "decimal"),
        s("chargePeriod"),
        s("chargeRate", "decimal"),
        s("activityOrderId", "integer"),
        idref("ticketId", "ticket", "ticket"),
        s("activityType"),
        s("rateToUse"),
        s("projectPlanSetId", "integer"),
        s("purchaseOrderId", "integer"),
        s("threshold", "decimal"),
        idref("rolloverActivityId", "project_activity", "rollover_activity"),
        s("rolloverPeriod"),
        s("weekThreshold", "decimal"),
    ),
    id_key="activityId",
    custom_fields=False,
    owners=False,
    base=False,
)

PROJECT_ACTIVITY_RESOURCE = Resource(
    "ProjectActivityResource",
    "project_activity_resource",
    (
        idref("projectId", "project", "project"),
        idref("projectActivityId", "project_activity", "project_activity"),
        idref("resourceId", "resource", "resource"),
        s("payRate", "decimal"),
        s("startDate", "date"),
        s("endDate", "date"),
        s("chargeRate", "decimal"),
    ),
    id_key="projectActivityResourceId",
    custom_fields=False,
    owners=False,
    base=False,
)

TIMESHEET_ENTRY = Resource(
    "TimesheetEntries",
    "timesheet_entry",
    (
        idref("resourceId", "resource", "resource"),
        idref("projectId", "project", "project"),
        idref("projectActivityId", "project_activity", "project_activity"),
        idref("clientId", "client", "client"),
        s("entryDate", "date"),
        s("hours", "decimal"),
        s("billableHours", "decimal"),
        s("entryNote", "long_text"),
        s("approvalStatus"),
        s("billed", "boolean"),
        s("billReference"),
        s("startTime1"),
        s("endTime1"),
        s("startTime2"),
        s("endTime2"),
        s("startTime3"),
        s("endTime3"),
        s("paid", "boolean"),
        s("payReference"),
    ),
    id_key="entryId",
    custom_fields=False,
    owners=False,
    base=False,
    extra_fields=(
        s("entryType"),
        s("rateToUse"),
        idref("approvalContactId", "contact", "approval_contact"),
        s("approvalReport"),
        s("approvalRequestDate", "date"),
        s("approvalRequestTime"),
        s("taskPayRate", "decimal"),
        s("placementPayRate", "decimal"),
    ),
)

USER = Resource(
    "User",
    "user_profile",
    (
        Key("userId", "idref", "user", "user", "users"),
        s("username"),
        s("fullname", "text", "full_name"),
        s("email"),
        ref("userGroup"),
        ref("department"),
        ref("territory"),
        ref("userTeam"),
        ref("timezone"),
        s("timezoneOffset", "decimal"),
        s("lastLogon", "datetime"),
        s("systemUser", "boolean"),
    ),
    custom_fields=False,
    owners=False,
    base=False,
)

RESOURCES: dict[str, Resource] = {
    r.name.lower(): r
    for r in (
        CLIENT,
        CONTACT,
        LEAD,
        OPPORTUNITY,
        OPPORTUNITY_RESOURCE,
        PARTNER_RECORD,
        PROJECT,
        PROJECT_ACTIVITY,
        PROJECT_ACTIVITY_RESOURCE,
        RESOURCE,
        TIMESHEET_ENTRY,
        INVOICE,
        USER,
    )
}
