"""The Tracker REST API v1 dialect over real HTTP, on SQLite and PostgreSQL: the seed's own
example bodies for every record endpoint (status, shape and stored effect), nested PATCH
and custom fields read back through GET and the native API, the special endpoints, each
documented error status, the rate limit, and search on generated data."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from cardfile.api.dialects.tracker_v1.spec import RESOURCES, Key
from cardfile.schema.packs import load_pack
from tests.integration.test_api_support import assert_problem, error_pairs
from tests.integration.test_tracker_v1_seed import SEED
from tests.integration.test_tracker_v1_world import BACKENDS, World, world

PATCH_JSON = {"Content-Type": "application/json-patch+json"}


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from world(request, tmp_path_factory)


def send(
    client: Any, method: str, path: str, body: Any = None, *, ctype: str = "application/json-patch+json"
) -> Any:
    content = None if body is None else json.dumps(body)
    headers = {"Content-Type": ctype} if body is not None else {}
    return client.request(method, path, content=content, headers=headers)


# -- the pack and the dialect's tables agree ---------------------------------------------------


def test_every_mapped_field_is_in_the_pack() -> None:
    pack = {t.name: t for t in load_pack("tracker").types}
    for res in RESOURCES.values():
        rt = pack[res.type]
        for key in res.all_keys():
            fd = rt.get(key.field)
            assert fd is not None, (res.name, key.key, key.field)
            assert fd.type == key.type, (res.name, key.field, fd.type, key.type)
            if key.type in ("lookup", "multi_lookup"):
                assert fd.target == key.target, (res.name, key.field)
            if key.kind == "rows":
                assert {c.field for c in key.children} == {c.name for c in fd.fields}
        if res.owners:
            assert rt.owner_field == "owner" and rt.get("owners") is not None


# -- the seed's bodies, endpoint by endpoint ---------------------------------------------------


def expected(key: Key, value: Any) -> Any:
    """What GET shows for a value sent under ``key`` (ids 0 set nothing)."""
    match key.kind:
        case "scalar":
            if key.type == "date" and isinstance(value, str):
                return value[:10]
            return value
        case "ref" | "firstref":
            return None if value is None or value.get("id") in (0, None) else {"id": value["id"]}
        case "refs":
            return [{"id": v["id"]} for v in value if v.get("id")]
        case "idref":
            return None if value in (0, None) else value
        case "obj":
            return {c.key: expected(c, value[c.key]) for c in key.children if c.key in value}
        case "rows":
            return [
                {c.key: expected(c, row.get(c.key)) for c in key.children if c.key in row} for row in value
            ]
    raise AssertionError(key.kind)


def assert_shows(res_name: str, got: dict[str, Any], sent: dict[str, Any]) -> None:
    res = RESOURCES[res_name.lower()]
    for k, v in sent.items():
        key = res.key(k)
        if key is None:
            continue
        want = expected(key, v)
        have = got[k]
        if key.kind in ("ref", "firstref") and want is not None:
            assert have["id"] == want["id"], (k, have)
        elif key.kind == "refs":
            assert [x["id"] for x in have] == [x["id"] for x in want], (k, have)
        elif key.kind == "obj":
            for ck, cv in want.items():
                assert have[ck] == cv, (k, ck, have)
        elif key.kind == "rows":
            assert [{c: r[c] for c in want_row} for r, want_row in zip(have, want, strict=True)] == want, k
        else:
            assert have == want, (k, have, want)


def changed(body: dict[str, Any]) -> dict[str, Any]:
    """The seed body with every placeholder string changed (a real update)."""
    out = copy.deepcopy(body)

    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        return "changed" if x == "string" else x

    return walk(out)


DOCUMENTED = ["Client", "Contact", "Project", "Resource", "ProjectActivity", "ProjectActivityResource"]
NATIVE_TYPE = {r.name: r.type for r in RESOURCES.values()}


@pytest.mark.parametrize("name", DOCUMENTED)
def test_seed_bodies_create_get_patch_delete(w: World, name: str) -> None:
    seed = SEED[name]
    with w.http() as c, w.native() as n:
        r = send(c, "POST", f"/api/v1/{name}", seed["create"])
        assert r.status_code == 201, r.text
        created = r.json()
        assert set(created) == set(seed["create_response"]) and created["success"] is True
        rid = created["id"]
        r = c.get(f"/api/v1/{name}/{rid}")
        assert r.status_code == 200, r.text
        got = r.json()
        assert set(seed["get_keys"]) <= set(got), set(seed["get_keys"]) - set(got)
        assert_shows(name, got, seed["create"])
        # PATCH: the seed's update body with new values, as application/json-patch+json
        r = send(c, "PATCH", f"/api/v1/{name}/{rid}", changed(seed["update"]))
        assert r.status_code == 200, r.text
        assert r.json() == {"id": rid, "success": True, "message": r.json()["message"]}
        got = c.get(f"/api/v1/{name}/{rid}").json()
        assert_shows(name, got, changed(seed["update"]))
        # the same record through the native API
        native = n.get(f"/api/records/{NATIVE_TYPE[name]}/{rid}").json()
        # a version per change (the seed's ProjectActivityResource body holds no text to change)
        assert native["id"] == rid and native["version"] == (
            2 if changed(seed["update"]) != seed["update"] else 1
        )
        res = RESOURCES[name.lower()]
        text_keys = [
            k for k in res.all_keys() if k.kind == "scalar" and k.type == "text" and k.key in seed["update"]
        ]
        for k in text_keys:
            assert native[k.field] == "changed", k.field
        # gone: 200, then 204 for every verb
        assert c.delete(f"/api/v1/{name}/{rid}").status_code == 200
        assert c.get(f"/api/v1/{name}/{rid}").status_code == 204
        r = send(c, "PATCH", f"/api/v1/{name}/{rid}", {"note": "x"} if "note" in seed["update"] else {})
        assert r.status_code == 204 and r.content == b""
        assert c.delete(f"/api/v1/{name}/{rid}").status_code == 204
        assert n.get(f"/api/records/{NATIVE_TYPE[name]}/{rid}").status_code == 404


@pytest.mark.parametrize(
    "name,body",
    [
        ("Lead", {"name": "Acme expansion", "firstName": "Ann", "surname": "Lee", "contactDetails": {"email": "a@x.io"}}),
        ("Opportunity", {"name": "Senior Python developer", "jobTitle": "Developer", "numberOfPositions": 2,
                         "startDate": "2026-01-05T09:00:00.000Z"}),
        ("Invoice", {"invoiceNumber": "INV-1001", "invoiceDate": "2026-11-01", "netAmount": 1000,
                     "taxAmount": 200, "totalAmount": 1200, "paid": False}),
    ],
)  # fmt: skip
def test_summary_only_resources(w: World, name: str, body: dict[str, Any]) -> None:
    with w.http() as c:
        r = send(c, "POST", f"/api/v1/{name}", body, ctype="application/json")
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        got = c.get(f"/api/v1/{name}/{rid}").json()
        assert_shows(name, got, body)
        assert "customFields" in got and "owners" in got and "history" in got
        key = "tagText" if RESOURCES[name.lower()].key("tagText") else "purchaseOrder"
        assert send(c, "PATCH", f"/api/v1/{name}/{rid}", {key: "hot"}).status_code == 200
        assert c.get(f"/api/v1/{name}/{rid}").json()[key] == "hot"
        term = body.get("name") or body.get("invoiceNumber")
        rows = send(c, "POST", f"/api/v1/{name}/Search", {"searchTerm": term}).json()
        assert [row["id"] for row in rows] == [rid]
        assert c.delete(f"/api/v1/{name}/{rid}").status_code == 200
        assert c.get(f"/api/v1/{name}/{rid}").status_code == 204


def test_seed_search_bodies(w: World) -> None:
    """Each search endpoint takes its seed body (whose filters match nothing here: 204) and
    answers 200 with rows of the seed's keys once the filters match."""
    with w.http() as c:
        rid = send(c, "POST", "/api/v1/Client", {"name": "Searchable Seed Co"}).json()["id"]
        for name in ("Client", "Contact", "Project", "Resource", "OpportunityResource", "PartnerRecord",
                     "TimesheetEntries", "User"):  # fmt: skip
            r = send(c, "POST", f"/api/v1/{name}/Search", SEED[name]["search"])
            assert r.status_code == 204, (name, r.text)
        r = send(c, "POST", "/api/v1/Client/Search", {**SEED["Client"]["search"], "searchTerm": "searchable seed",
                 "statusId": None, "state": None, "updatedBefore": None, "updatedAfter": None})  # fmt: skip
        assert r.status_code == 200, r.text
        rows = r.json()
        assert [x["clientId"] for x in rows] == [rid]
        assert list(rows[0]) == SEED["Client"]["search_row_keys"]
        for name in ("Contact", "Resource"):
            r = send(c, "POST", f"/api/v1/{name}/Search/CustomField", SEED[name]["search_custom"])
            assert_problem(r, 400, "BAD_REQUEST")  # custom field 0 does not exist


def test_client_refs_owners_custom_fields_and_nested_patch(w: World) -> None:
    ids = w.ids
    body = {
        "name": "Globex",
        "contactDetails": {"telephone": "555 0100", "email": "info@globex.test"},
        "status": {"id": ids["active"], "name": "ignored"},
        "territory": {"id": ids["north"]},
        "department": {"id": ids["sales"], "name": "Sales"},
        "rank": {"id": ids["gold"], "name": "Gold", "order": 1},
        "vertical": {"id": ids["tech"]},
        "clientTypes": [{"id": ids["prospect"], "name": "Prospect"}],
        "sectors": [{"id": ids["it"]}],
        "quickSkills": [{"id": ids["python"]}],
        "owners": [{"ownerId": ids["owner"], "rank": 1, "name": "x", "percent": 100, "role": "Lead"}],
        "customFields": [{"id": 101, "name": "Visa status", "value": "Tier 2"}, {"id": 105, "value": "3"}],
        "bankingDetails": {"bankName": "First Bank", "sortCode": "12-34-56"},
        "invoicingDetails": {"chargeRate": 95.5, "isTaxExempt": False},
    }
    with w.http() as c, w.native() as n:
        rid = send(c, "POST", "/api/v1/Client", body).json()["id"]
        got = c.get(f"/api/v1/Client/{rid}").json()
        assert got["status"] == {"id": ids["active"], "name": "Active"}
        assert got["rank"] == {"id": ids["gold"], "name": "Gold", "order": 1}
        assert got["clientTypes"] == [{"id": ids["prospect"], "name": "Prospect"}]
        assert got["quickSkills"] == [{"id": ids["python"], "name": "Python"}]
        assert got["typeName"] == "Prospect"
        assert got["owners"] == [
            {"ownerId": ids["owner"], "rank": 1, "name": "owner", "percent": 100, "role": "Lead"}
        ]
        cfs = {cf["id"]: cf for cf in got["customFields"]}
        assert cfs[101] == {"id": 101, "name": "Visa status", "value": "Tier 2"} and cfs[105]["value"] == "3"
        assert got["history"]["created"].endswith("Z") and len(got["history"]["created"]) == 24
        native = n.get(f"/api/records/client/{rid}").json()
        assert native["status"] == ids["active"] and native["owner"] == ids["owner"]
        assert native["cf_101"] == "Tier 2" and native["cf_105"] == 3 and native["sort_code"] == "12-34-56"
        # nested objects merge; custom fields upsert by id; null clears; application/json too
        patch = {
            "contactDetails": {"fax": "555 0199"},
            "bankingDetails": {"accountNumber": "0042"},
            "customFields": [{"id": 101, "value": "Settled"}],
            "website": None,
        }
        r = send(c, "PATCH", f"/api/v1/Client/{rid}", patch, ctype="application/json")
        assert r.status_code == 200, r.text
        got = c.get(f"/api/v1/Client/{rid}").json()
        assert got["contactDetails"] == {"telephone": "555 0100", "mobilePhone": None, "fax": "555 0199",
                                         "email": "info@globex.test"}  # fmt: skip
        assert (
            got["bankingDetails"]["bankName"] == "First Bank"
            and got["bankingDetails"]["accountNumber"] == "0042"
        )
        cfs = {cf["id"]: cf["value"] for cf in got["customFields"]}
        assert cfs[101] == "Settled" and cfs[105] == "3"
        native = n.get(f"/api/records/client/{rid}").json()
        assert (
            native["fax"] == "555 0199"
            and native["cf_101"] == "Settled"
            and native["email"] == "info@globex.test"
        )
        hist = n.get(f"/api/records/client/{rid}/history").json()["items"][0]
        assert {ch["field"] for ch in hist["changes"]} == {"fax", "account_number", "cf_101"}
        # an RFC 6902 operations array is taken as the partial object it stands for
        ops = [{"op": "replace", "path": "/contactDetails/mobilePhone", "value": "07700 900000"},
               {"op": "remove", "path": "/bankingDetails/accountNumber"},
               {"op": "add", "path": "/tagText", "value": "vip"}]  # fmt: skip
        assert send(c, "PATCH", f"/api/v1/Client/{rid}", ops).status_code == 200
        got = c.get(f"/api/v1/Client/{rid}").json()
        assert (
            got["contactDetails"]["mobilePhone"] == "07700 900000"
            and got["contactDetails"]["fax"] == "555 0199"
        )
        assert got["bankingDetails"]["accountNumber"] is None and got["tagText"] == "vip"
        bad = [{"op": "replace", "path": "/sectors/0", "value": {"id": 1}}]
        assert_problem(send(c, "PATCH", f"/api/v1/Client/{rid}", bad), 400, "BAD_REQUEST")
        # a write through the native API reads back through Tracker
        r = n.patch(f"/api/records/client/{rid}", json={"town": "Springfield", "cf_101": "Citizen"})
        assert r.status_code == 200, r.text
        got = c.get(f"/api/v1/Client/{rid}").json()
        assert {cf["id"]: cf["value"] for cf in got["customFields"]}[101] == "Citizen"
        row = send(
            c, "POST", "/api/v1/Client/Search", {"searchTerm": "globex", "includeCustomFields": True}
        ).json()[0]
        assert (
            row["town"] == "Springfield"
            and row["departmentName"] == "Sales"
            and row["clientOwner"] == "owner"
        )
        assert {cf["id"] for cf in row["customFields"]} == {101, 105}
        row = send(c, "POST", "/api/v1/Client/Search", {"searchTerm": "globex"}).json()[0]
        assert row["customFields"] == []
        # clearing owners and a reference
        send(c, "PATCH", f"/api/v1/Client/{rid}", {"owners": [], "status": None})
        native = n.get(f"/api/records/client/{rid}").json()
        assert native["owners"] == [] and native["owner"] is None and native["status"] is None


def test_contact_type_is_one_object_over_a_set(w: World) -> None:
    """A Contact's `type` is one {id, name}; the pack keeps a set of contact types (the
    widget's `contacttype` sets several): GET shows the first, a write replaces the set."""
    employee = w.ids["employee"]
    partner = w.create("setting", list="contact_type", name="Partner")
    with w.http() as c, w.native() as n:
        body = {"firstName": "Tia", "surname": "Typeset", "type": {"id": employee, "name": "ignored"}}
        rid = send(c, "POST", "/api/v1/Contact", body).json()["id"]
        got = c.get(f"/api/v1/Contact/{rid}").json()
        assert got["type"] == {"id": employee, "name": "Employee"} and got["typeName"] == "Employee"
        assert n.get(f"/api/records/contact/{rid}").json()["contact_type"] == [employee]
        # several types (as the widget or the native API write them): v1 shows the first
        r = n.patch(f"/api/records/contact/{rid}", json={"contact_type": [partner, employee]})
        assert r.status_code == 200, r.text
        got = c.get(f"/api/v1/Contact/{rid}").json()
        assert got["type"] == {"id": partner, "name": "Partner"} and got["typeName"] == "Partner"
        row = send(c, "POST", "/api/v1/Contact/Search", {"searchTerm": "typeset"}).json()[0]
        assert (row["contactId"], row["contactType"], row["contactTypeId"]) == (rid, "Partner", partner)
        # id 0 sets nothing; {id: N} replaces the set with [N]; null clears
        assert (
            send(c, "PATCH", f"/api/v1/Contact/{rid}", {"type": {"id": 0, "name": "string"}}).status_code
            == 200
        )
        assert n.get(f"/api/records/contact/{rid}").json()["contact_type"] == [partner, employee]
        assert send(c, "PATCH", f"/api/v1/Contact/{rid}", {"type": {"id": employee}}).status_code == 200
        assert n.get(f"/api/records/contact/{rid}").json()["contact_type"] == [employee]
        assert c.get(f"/api/v1/Contact/{rid}").json()["type"]["id"] == employee
        assert send(c, "PATCH", f"/api/v1/Contact/{rid}", {"type": None}).status_code == 200
        assert n.get(f"/api/records/contact/{rid}").json()["contact_type"] == []
        got = c.get(f"/api/v1/Contact/{rid}").json()
        assert got["type"] is None and got["typeName"] is None
        row = send(c, "POST", "/api/v1/Contact/Search", {"searchTerm": "typeset"}).json()[0]
        assert (row["contactType"], row["contactTypeId"]) == (None, None)
        # a bad id is refused under the Tracker key; a set has no order to sort by
        r = send(c, "PATCH", f"/api/v1/Contact/{rid}", {"type": {"id": 999_999_999}})
        body = assert_problem(r, 422, "VALIDATION_FAILED")
        assert error_pairs(body) == {("type", "RECORD_NOT_FOUND")}
        assert n.get(f"/api/records/contact/{rid}").json()["contact_type"] == []
        assert_problem(
            send(c, "POST", "/api/v1/Contact/Search", {"sortBy": "contactType"}), 400, "BAD_REQUEST"
        )
        assert c.delete(f"/api/v1/Contact/{rid}").status_code == 200


def test_resource_employment_history_and_custom_select(w: World) -> None:
    body = {
        "firstName": "Grace",
        "surname": "Hopper",
        "fullEmploymentHistory": [
            {
                "organization": "Navy",
                "startDate": "1943-12-01",
                "endDate": "1966-12-31",
                "jobTitle": "Officer",
            },
            {"organization": "UNIVAC", "startDate": "1949-01-01T00:00:00Z"},
        ],
        "customFields": [{"id": 103, "value": "sc"}, {"id": 104, "value": "40"}],
        "address": {"town": "Arlington", "addressLine1": "1 Main St"},
        "dateApplied": "2026-11-01T10:00:00",
        "availableFrom": "2026-12-01",
    }
    with w.http() as c, w.native() as n:
        rid = send(c, "POST", "/api/v1/Resource", body).json()["id"]
        got = c.get(f"/api/v1/Resource/{rid}").json()
        assert got["resourceId"] == rid and got["name"] == "Grace Hopper"
        assert got["fullEmploymentHistory"][1] == {"organization": "UNIVAC", "startDate": "1949-01-01", "endDate": None,
                                                   "description": None, "jobTitle": None}  # fmt: skip
        assert got["dateApplied"] == "2026-11-01T10:00:00.000Z"  # no offset: UTC
        assert got["availableFrom"] == "2026-12-01T00:00:00.000Z"  # a date: its midnight
        assert got["address"]["town"] == "Arlington" and got["partnerRecords"] == []
        native = n.get(f"/api/records/resource/{rid}").json()
        assert native["cf_103"] == "sc" and native["cf_104"] == 40 and native["town"] == "Arlington"
        # a list replaces
        send(c, "PATCH", f"/api/v1/Resource/{rid}", {"fullEmploymentHistory": [{"organization": "Yale"}]})
        assert [
            r["organization"] for r in c.get(f"/api/v1/Resource/{rid}").json()["fullEmploymentHistory"]
        ] == ["Yale"]
        r = send(
            c, "POST", "/api/v1/Resource/Search/CustomField", {"customFieldId": 103, "customFieldValue": "SC"}
        )
        assert [x["resourceId"] for x in r.json()] == [rid]
        assert send(c, "POST", "/api/v1/Resource/Search/CustomField",
                    {"customFieldId": 103, "customFieldValue": "dv"}).status_code == 204  # fmt: skip
        r = c.get("/api/v1/CustomFields/103")
        assert r.json() == [{"id": 1, "value": "none", "name": "None"}, {"id": 2, "value": "sc", "name": "Sc"},
                            {"id": 3, "value": "dv", "name": "Dv"}]  # fmt: skip
        assert c.get("/api/v1/CustomFields/101").status_code == 204  # a text field: no list values
        assert c.get("/api/v1/CustomFields/999").status_code == 204


def test_shortlist_projects_activities_partners_timesheets(w: World) -> None:
    with w.http() as c:
        client = send(c, "POST", "/api/v1/Client", {"name": "Initech"}).json()["id"]
        opp = send(c, "POST", "/api/v1/Opportunity", {"name": "QA lead", "client": {"id": client}}).json()[
            "id"
        ]
        cand = send(c, "POST", "/api/v1/Resource", {"firstName": "Peter", "surname": "Gibbons",
                                                     "status": {"id": w.ids["avail"]}}).json()["id"]  # fmt: skip
        body = {**SEED["OpportunityResource"]["create"], "resourceId": cand, "opportunityIds": [opp],
                "statusId": w.ids["shortlisted"]}  # fmt: skip
        r = send(c, "POST", "/api/v1/OpportunityResource", body)
        assert r.status_code == 201, r.text
        created = r.json()
        assert set(created) == set(SEED["OpportunityResource"]["create_response"])
        assert created["namedAccount"] == "Initech" and created["namedResource"] == "Peter Gibbons"
        assert created["namedOpportunity"] == "QA lead"
        orid = created["opportunityResourceId"]
        assert_problem(send(c, "POST", "/api/v1/OpportunityResource", body), 409, "CONFLICT")
        got = c.get(f"/api/v1/OpportunityResource/{orid}").json()
        assert set(SEED["OpportunityResource"]["get_keys"]) <= set(got)
        assert got["opportunityResourceId"] == str(orid) and got["client"] == {
            "id": client,
            "name": "Initech",
        }
        assert (
            got["opportunityResourceStatusId"] == w.ids["shortlisted"]
            and got["status"]["name"] == "Shortlisted"
        )
        assert got["name"] == "Peter Gibbons"
        r = send(
            c, "PATCH", f"/api/v1/OpportunityResource/{orid}", changed(SEED["OpportunityResource"]["update"])
        )
        assert r.status_code == 200, r.text
        got = c.get(f"/api/v1/OpportunityResource/{orid}").json()
        assert got["dateAssigned"] == "2025-11-27" and got["payRate"] == "changed"
        # the seed body's ids 0 leave the references alone; null clears one
        assert got["opportunityResourceStatusId"] == w.ids["shortlisted"] and got["resource"]["id"] == cand
        send(c, "PATCH", f"/api/v1/OpportunityResource/{orid}", {"workType": None, "contact": {"id": 0}})
        rows = c.get(f"/api/v1/OpportunityResource/Shortlist/{opp}").json()
        assert rows == [{"opportunityResourceId": orid, "resourceId": cand, "displayAs": "Peter Gibbons",
                         "resourceStatusId": w.ids["avail"], "opportunityResourceStatusId": w.ids["shortlisted"],
                         "contractStartDate": None, "contractEndDate": None, "tagText": None, "isCompliant": None,
                         "complianceInfo": None}]  # fmt: skip
        rows = send(
            c, "POST", "/api/v1/OpportunityResource/Search", {"opportunityId": opp, "state": "Shortlisted"}
        ).json()
        assert list(rows[0])[:-1] == SEED["OpportunityResource"]["search_row_keys"][:-1]
        assert rows[0]["opportunityResourceId"] == orid and rows[0]["resourceDisplayAs"] == "Peter Gibbons"
        # project from the opportunity, activities, activity resources
        r = c.post(f"/api/v1/Project/Opportunity/{opp}")
        assert r.status_code == 201, r.text
        proj = r.json()["id"]
        got = c.get(f"/api/v1/Project/{proj}").json()
        assert got["name"] == "QA lead" and got["opportunity"]["id"] == opp and got["client"]["id"] == client
        assert_problem(c.post("/api/v1/Project/Opportunity/999999"), 400, "BAD_REQUEST")
        assert c.get(f"/api/v1/Project/{proj}/Activities").status_code == 204
        act = send(
            c, "POST", "/api/v1/ProjectActivity", {**SEED["ProjectActivity"]["create"], "projectId": proj}
        ).json()["id"]
        assert c.get(f"/api/v1/Project/{proj}/Activities").json() == [act]
        assert c.get(f"/api/v1/ProjectActivity/{act}").json()["activityId"] == act
        assert c.get(f"/api/v1/ProjectActivity/{act}/Resources").status_code == 204
        par_body = {**SEED["ProjectActivityResource"]["create"], "projectId": proj, "projectActivityId": act,
                    "resourceId": cand}  # fmt: skip
        par = send(c, "POST", "/api/v1/ProjectActivityResource", par_body).json()["id"]
        assert c.get(f"/api/v1/ProjectActivity/{act}/Resources").json() == [
            {"projectActivityResourceId": par, "projectActivityId": act, "resourceId": cand, "payRate": 0,
             "startDate": "2025-11-27", "endDate": "2025-11-27", "chargeRate": 0}]  # fmt: skip
        # shortlist removal
        assert c.delete(f"/api/v1/Opportunity/{opp}/shortlist/resource/{cand}").status_code == 200
        assert c.get(f"/api/v1/OpportunityResource/Shortlist/{opp}").status_code == 204
        assert c.delete(f"/api/v1/Opportunity/{opp}/shortlist/resource/{cand}").status_code == 204
        # partner records by the partner's external id
        pr = send(c, "POST", "/api/v1/PartnerRecord", {"partnerId": 7, "partnerRecordId": "EXT-42", "recordType": "R",
                                                      "recordId": cand}).json()["id"]  # fmt: skip
        assert c.get("/api/v1/PartnerRecord/EXT-42/Partner/7").json() == [
            {"id": pr, "partnerId": 7, "partnerRecordId": "EXT-42", "recordType": "R", "recordId": cand}]  # fmt: skip
        assert c.get("/api/v1/PartnerRecord/ext-42/Partner/7").status_code == 204  # the external id is exact
        assert c.get(f"/api/v1/Resource/{cand}").json()["partnerRecords"][0]["partnerRecordId"] == "EXT-42"
        rows = send(c, "POST", "/api/v1/PartnerRecord/Search", {"partnerId": 7}).json()
        assert rows == [
            {"partnerRecordTypeId": pr, "partnerId": 7, "partnerTypeId": None, "internalRecordTypeId": "R"}
        ]
        assert (
            send(c, "PATCH", f"/api/v1/PartnerRecord/{pr}", SEED["PartnerRecord"]["update"]).status_code
            == 200
        )
        assert c.get("/api/v1/PartnerRecord/string/Partner/0").json() == [  # the seed body's values
            {"id": pr, "partnerId": 0, "partnerRecordId": "string", "recordType": "string", "recordId": 0}]  # fmt: skip
        assert c.delete(f"/api/v1/PartnerRecord/{pr}").status_code == 200
        # timesheets: one, a bulk of the seed's array, search
        one = send(c, "POST", "/api/v1/TimesheetEntries", {**SEED["TimesheetEntries"]["create"], "resourceId": cand,
                                                          "projectId": proj, "projectActivityId": act}).json()["id"]  # fmt: skip
        entry = {
            **SEED["TimesheetEntries"]["bulk"][0],
            "resourceId": cand,
            "entryDate": "2026-11-02",
            "hours": 7.5,
        }
        r = send(c, "POST", "/api/v1/TimesheetEntries/bulk", [entry, {**entry, "entryDate": "2026-11-03"}])
        assert r.status_code == 201 and r.json()["message"] == "2 records created", r.text
        bad = send(c, "POST", "/api/v1/TimesheetEntries/bulk", [entry, {**entry, "entryDate": "tomorrow"}])
        assert bad.status_code == 422
        rows = send(c, "POST", "/api/v1/TimesheetEntries/Search",
                    {"resourceId": cand, "dateFrom": "2026-11-01", "sortBy": "entryDate", "sortDirection": "desc"}).json()  # fmt: skip
        assert [x["entryDate"] for x in rows] == ["2026-11-03", "2026-11-02"]
        assert list(rows[0]) == SEED["TimesheetEntries"]["search_row_keys"] and rows[0]["timeBooked"] == 7.5
        got = c.get(f"/api/v1/TimesheetEntries/{one}").json()
        assert got["entryId"] == one and got["projectId"] == proj and got["approvalStatus"] == "s"
        r = send(c, "PATCH", f"/api/v1/TimesheetEntries/{one}", {"hours": 4, "approvalStatus": "a"})
        assert r.status_code == 200 and c.get(f"/api/v1/TimesheetEntries/{one}").json()["hours"] == 4
        assert_problem(c.delete(f"/api/v1/TimesheetEntries/{one}"), 405, "METHOD_NOT_ALLOWED")


def test_users_metadata_and_record_types(w: World) -> None:
    uid, sysid = w.ids["owner"], w.ids["system"]
    w.create("user_profile", user=uid, username="owner", full_name="Olive Owner", email="owner@example.com",
             department=w.ids["sales"], timezone_offset=1)  # fmt: skip
    w.create("user_profile", user=sysid, username="system", full_name="System", system_user=True)
    with w.http() as c:
        got = c.get(f"/api/v1/User/{uid}").json()
        assert set(got) == set(SEED["User"]["get_keys"])
        assert got["fullname"] == "Olive Owner" and got["department"] == {
            "id": w.ids["sales"],
            "name": "Sales",
        }
        assert_problem(c.get(f"/api/v1/User/{sysid}"), 403, "PERMISSION_DENIED")
        assert c.get("/api/v1/User/999999").status_code == 204
        assert c.get(f"/api/v1/User/{w.ids['admin']}").json()["email"] == "admin@example.com"  # no profile
        rows = send(c, "POST", "/api/v1/User/Search", {"searchTerm": "olive", "sortBy": "fullname"}).json()
        assert [r["userId"] for r in rows] == [uid] and list(rows[0]) == SEED["User"]["search_row_keys"]
        assert rows[0]["departmentName"] == "Sales"
        assert_problem(send(c, "POST", "/api/v1/User", {"username": "x"}), 405, "METHOD_NOT_ALLOWED")
        meta = c.get("/api/v1/MetaData").json()
        assert {s["name"] for s in meta["settings"]["client_status"]} >= {"Active", "Closed"}
        assert {"id": 101, "name": "Visa status", "recordType": "Client", "fieldType": "text"} in meta[
            "customFields"
        ]
        types = {t["recordType"]: t["resource"] for t in c.get("/api/v1/metadata/RECORDTYPES").json()}
        assert types["C"] == "Client" and types["X"] == "OpportunityResource" and types["T"] is None


def test_paths_match_case_insensitively(w: World) -> None:
    with w.http() as c:
        rid = send(c, "POST", "/API/V1/client", {"name": "Case Co"}).json()["id"]
        assert c.get(f"/api/v1/CLIENT/{rid}").json()["name"] == "Case Co"
        assert (
            send(c, "POST", "/api/v1/client/search", {"searchTerm": "case co"}).json()[0]["clientId"] == rid
        )
        assert c.get("/api/v1/webhook/meta/ACTIONS").json()[0]["action"] == "created"  # part 2 too
        # the route of the request's method wins: this is the search, not GET /User/{userId}
        assert send(c, "POST", "/api/v1/user/search", {"searchTerm": "nobody-here"}).status_code == 204
        assert_problem(c.get("/api/v1/user/search"), 400, "BAD_REQUEST")  # GET /User/{userId}: not an id
        assert_problem(c.put(f"/api/v1/client/{rid}"), 405, "METHOD_NOT_ALLOWED")


def test_documented_errors(w: World) -> None:
    with w.http() as c, w.http(token="not-a-token") as bad:
        # 400: malformed JSON, an unknown member, a non-integer id, a bad search parameter
        r = c.post("/api/v1/Client", content=b"{", headers=PATCH_JSON)
        assert assert_problem(r, 400, "MALFORMED_JSON")["instance"] == "/tracker/api/v1/Client"
        body = assert_problem(
            send(c, "POST", "/api/v1/Client", {"name": "x", "nmae": "y"}), 400, "BAD_REQUEST"
        )
        assert {e["field"] for e in body["errors"]} == {"nmae"}
        assert_problem(send(c, "POST", "/api/v1/Client", {"status": "Active"}), 400, "BAD_REQUEST")
        assert_problem(c.get("/api/v1/Client/abc"), 400, "BAD_REQUEST")
        assert_problem(c.delete("/api/v1/Contact/x1"), 400, "BAD_REQUEST")
        assert_problem(send(c, "POST", "/api/v1/Client/Search", {"maxResults": 0}), 400, "BAD_REQUEST")
        assert_problem(send(c, "POST", "/api/v1/Client/Search", {"sortBy": "nope"}), 400, "BAD_REQUEST")
        assert_problem(send(c, "POST", "/api/v1/Client/Search", {"sortDirection": "up"}), 400, "BAD_REQUEST")
        assert_problem(
            send(c, "POST", "/api/v1/Client/Search", {"updatedAfter": "yesterday"}), 400, "BAD_REQUEST"
        )
        # 401: no token, a bad token
        assert_problem(c.get("/api/v1/Client/1", headers={"Authorization": ""}), 401, "UNAUTHENTICATED")
        r = bad.get("/api/v1/Client/1")
        assert_problem(r, 401, "UNAUTHENTICATED") and r.headers["www-authenticate"].startswith("Bearer")
        # 404: no such path or resource
        assert_problem(c.get("/api/v1/Nothing/1"), 404, "NOT_FOUND")
        assert_problem(c.get("/api/v2/Client/1"), 404, "NOT_FOUND")
        # 405: a verb the resource does not have
        assert_problem(c.put("/api/v1/Client/1"), 405, "METHOD_NOT_ALLOWED")
        # 415: not JSON
        r = c.post("/api/v1/Client", content=b"<client/>", headers={"Content-Type": "application/xml"})
        assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
        # 422: values the store refuses (a link to nothing, an unknown custom field, a bad date)
        body = assert_problem(send(c, "POST", "/api/v1/Client", {"name": "x", "status": {"id": 999999}}),
                              422, "VALIDATION_FAILED")  # fmt: skip
        assert "status" in {e["field"] for e in body["errors"]}
        body = assert_problem(send(c, "POST", "/api/v1/Client", {"customFields": [{"id": 4242, "value": "x"}]}),
                              400, "BAD_REQUEST")  # fmt: skip
        assert error_pairs(body) == {("customFields[0].id", "UNKNOWN_CUSTOM_FIELD")}
        body = assert_problem(
            send(c, "POST", "/api/v1/Resource", {"dateApplied": "soon"}), 422, "VALIDATION_FAILED"
        )
        assert {e["field"] for e in body["errors"]} == {"dateApplied"}
        r = send(c, "POST", "/api/v1/Resource", {"fullEmploymentHistory": [{"startDate": "x"}],
                                                  "address": {"isPrimary": "yes"}})  # fmt: skip
        body = assert_problem(r, 422, "VALIDATION_FAILED")
        assert {e["field"] for e in body["errors"]} == {
            "fullEmploymentHistory[0].startDate",
            "address.isPrimary",
        }
        # nothing of a refused body was stored
        assert send(c, "POST", "/api/v1/Client/Search", {"searchTerm": "nmae"}).status_code == 204


def test_rate_limit_answers_429_with_retry_after(w: World) -> None:
    limiter = w.svc.rate_limiter
    before = limiter.groups["tracker"]
    from cardfile.auth.apikeys import create_key

    key = create_key(w.svc.db, "rate-limited")
    limiter.register_group("tracker", "5/minute")
    try:
        with w.http(token=key) as c:
            statuses = [c.get("/api/v1/Client/1").status_code for _ in range(5)]
            assert 429 not in statuses
            r = c.get("/api/v1/Client/1")
            body = assert_problem(r, 429, "RATE_LIMITED")
            assert int(r.headers["retry-after"]) >= 1 and body["instance"] == "/tracker/api/v1/Client/1"
            assert r.headers["ratelimit-policy"] == "5;w=60"
        with w.http() as other:  # another caller has its own budget
            assert other.get("/api/v1/Client/1").status_code in (200, 204)
    finally:
        limiter.register_group("tracker", before)


# -- search on generated data ---------------------------------------------------------------------

FIRST = ["Anna", "Ben", "Chloé", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies"]


def test_search_on_generated_data(w: World) -> None:
    owner = w.ids["owner"]
    made: list[dict[str, Any]] = []
    for i in range(240):
        rec = {"first_name": FIRST[i % len(FIRST)], "surname": f"{LAST[i % len(LAST)]}-{i:03d}",
               "job_title": "Gentest engineer", "email": f"person{i}@gen.test",
               "status": w.ids["avail"] if i % 3 == 0 else None, "owner": owner if i % 4 == 0 else None,
               "cf_104": i % 7}  # fmt: skip
        rec = {k: v for k, v in rec.items() if v is not None}
        rec["id"] = w.create("resource", **rec)
        made.append(rec)
    with w.http() as c:

        def search(**body: Any) -> list[dict[str, Any]]:
            r = send(c, "POST", "/api/v1/Resource/Search", body)
            assert r.status_code in (200, 204), r.text
            return r.json() if r.status_code == 200 else []

        def all_pages(size: int, **body: Any) -> list[int]:
            out: list[int] = []
            page = 1
            while True:
                rows = search(maxResults=size, pageNumber=page, **body)
                out += [row["resourceId"] for row in rows]
                if len(rows) < size:
                    return out
                page += 1

        every = all_pages(37, searchTerm="gentest")
        assert sorted(every) == sorted(r["id"] for r in made) and len(set(every)) == len(every)
        # two words: each must prefix a word of a name
        want = sorted(r["id"] for r in made if r["first_name"] == "Grace" and r["surname"].startswith("Wil"))
        assert sorted(all_pages(500, searchTerm="gentest GRACE wil")) == want and want
        chloe = sorted(r["id"] for r in made if r["first_name"] == "Chloé")
        assert sorted(all_pages(100, searchTerm="gentest chlo")) == chloe
        # stable sorted pages, either direction
        by_surname = [r["id"] for r in sorted(made, key=lambda r: (r["surname"], r["id"]))]
        assert all_pages(25, searchTerm="gentest", sortBy="surname") == by_surname
        assert all_pages(25, searchTerm="gentest", sortBy="Surname", sortDirection="desc") == by_surname[::-1]
        # filters: email, onlyMyRecords, updatedAfter, custom field, state by status name
        assert [r["resourceId"] for r in search(email="PERSON7@gen.test")] == [made[7]["id"]]
        mine = sorted(r["id"] for r in made if r.get("owner") == owner)
        assert (
            sorted(all_pages(100, searchTerm="gentest", onlyMyRecords=True)) == []
        )  # an API key owns nothing
        status_ids = sorted(r["id"] for r in made if r.get("status"))
        assert sorted(all_pages(100, searchTerm="gentest", state="available")) == status_ids
        r = send(c, "POST", "/api/v1/Resource/Search/CustomField", {"customFieldId": 104, "customFieldValue": "3",
                                                                      "maxResults": 500})  # fmt: skip
        assert sorted(x["resourceId"] for x in r.json()) == sorted(x["id"] for x in made if x["cf_104"] == 3)
        assert search(searchTerm="gentest", updatedAfter="2999-01-01T00:00:00Z") == []
        assert len(search(searchTerm="gentest", updatedAfter="2000-01-01T00:00:00Z", maxResults=500)) == 240
        assert search(searchTerm="zzqx-nothing") == []
        assert search(searchTerm="gentest", pageNumber=99) == []
        row = search(searchTerm="gentest", maxResults=1, sortBy="resourceId")[0]
        assert list(row) == SEED["Resource"]["search_row_keys"] and row["resourceId"] == made[0]["id"]
    # a user's token sees only their records with onlyMyRecords
    token, _ = _user_token(w, owner)
    with w.http(token=token) as c:
        rows = send(c, "POST", "/api/v1/Resource/Search", {"searchTerm": "gentest", "onlyMyRecords": True,
                                                            "maxResults": 500}).json()  # fmt: skip
        assert sorted(r["resourceId"] for r in rows) == mine


def _user_token(w: World, uid: int, scopes: str = "records.ALL metadata.READ") -> tuple[str, int]:
    with w.svc.db.write() as conn:
        return w.svc.auth.tokens.issue(conn, subject=f"user:{uid}", scopes=scopes)


def test_read_only_token_gets_403(w: World) -> None:
    token, _ = _user_token(w, w.ids["owner"], "records.client.READ")
    with w.http(token=token) as c:
        assert c.get("/api/v1/Client/1").status_code in (200, 204)
        assert_problem(send(c, "POST", "/api/v1/Client", {"name": "nope"}), 403, "INSUFFICIENT_SCOPE")
        assert_problem(send(c, "POST", "/api/v1/Contact/Search", {}), 403, "INSUFFICIENT_SCOPE")


PART_TWO_CALLS = [
    ("POST", "/api/v1/Client/AttachDocument"), ("POST", "/api/v1/Lead/AttachDocument"),
    ("GET", "/api/v1/Opportunity/DocumentFolders/1"), ("GET", "/api/v1/Resource/DocumentFolders/1"),
    ("POST", "/api/v1/Resource/CreateFromResume"), ("GET", "/api/v1/Resource/1/Documents"),
    ("GET", "/api/v1/Resource/1/Document/2"), ("POST", "/api/v1/Resource/1/Skills"),
    ("GET", "/api/v1/Resource/1/Skills"), ("PUT", "/api/v1/Resource/1/Skills"), ("DELETE", "/api/v1/Resource/1/Skills"),
    ("GET", "/api/v1/Resource/1/Skills/2"), ("DELETE", "/api/v1/Resource/1/Skills/2"),
    ("GET", "/api/v1/MetaData/Skills/Hierarchy"), ("GET", "/api/v1/MetaData/Skills/Areas/1/Skills"),
    ("GET", "/api/v1/MetaData/Skills/Search"), ("GET", "/api/v1/MetaData/Skills/Areas/1/Count"),
    ("GET", "/api/v1/MetaData/Skills/List/1"), ("GET", "/api/v1/Opportunity/1/Applicants"),
    ("POST", "/api/v1/Opportunity/Longlist"), ("GET", "/api/v1/Opportunity/1/Longlist"),
    ("DELETE", "/api/v1/Opportunity/1/longlist/resource/2"), ("POST", "/api/v1/Webhook"), ("PATCH", "/api/v1/Webhook"),
    ("GET", "/api/v1/Webhook/Actions/1"), ("GET", "/api/v1/Webhook/Meta/Actions"), ("GET", "/api/v1/Webhook/List"),
    ("GET", "/api/v1/Webhook/1"), ("DELETE", "/api/v1/Webhook/1"),
]  # fmt: skip


def test_part_two_endpoints_are_routed(w: World) -> None:
    """Every part 2 endpoint answers (no 501 left, no 404 or 405 for the seed's paths) and
    needs a JWT; their behaviour is tested in test_tracker_v1_part2.py."""
    with w.http() as c:
        for method, path in PART_TWO_CALLS:
            r = c.request(method, path)
            assert r.status_code in (200, 204, 400), (method, path, r.status_code, r.text[:200])
            assert_problem(c.request(method, path, headers={"Authorization": ""}), 401, "UNAUTHENTICATED")


def test_every_error_class_has_a_problem_shape() -> None:
    from starlette.requests import Request

    from cardfile.api.dialects.tracker_v1.errors import problem
    from cardfile.errors import ALL_ERRORS, BatchFailed, FieldError, ValidationFailed

    request = Request({"type": "http", "method": "GET", "path": "/tracker/api/v1/Client/1", "headers": [],
                       "query_string": b""})  # fmt: skip
    for cls in ALL_ERRORS:
        if cls is ValidationFailed:
            exc = cls([FieldError("name", "INVALID_TEXT", "bad")])
        elif cls is BatchFailed:
            exc = cls([])
        else:
            exc = cls("something went wrong")
        r = problem(exc, request)
        body = json.loads(bytes(r.body))
        assert r.status_code == cls.status and r.media_type == "application/problem+json", cls
        assert {"type", "title", "status", "detail", "instance"} <= set(body), cls
        assert body["status"] == cls.status and body["code"] == cls.code, cls
        assert body["instance"] == "/tracker/api/v1/Client/1"


def test_the_search_index_serves_the_term(w: World) -> None:
    """PostgreSQL: the query's expression is the GIN index's (else every search would scan);
    SQLite: the triggers keep one FTS row per record."""
    from sqlalchemy import text

    from cardfile.store.search import pg_search_text

    with w.svc.db.read() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(
                row[0]
                for row in conn.execute(
                    text(
                        "EXPLAIN SELECT id FROM records WHERE to_tsvector('simple'::regconfig, "
                        f"{pg_search_text('records.data')}) @@ to_tsquery('simple'::regconfig, 'anna:*')"
                    )
                )
            )
            assert "ix_records_search" in plan, plan
        else:
            counts = conn.execute(
                text("SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM record_search)")
            ).one()
            assert counts[0] == counts[1] and counts[0] > 0
