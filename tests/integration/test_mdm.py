"""The TIBCO MDM dialect over real HTTP, on SQLite and PostgreSQL (seed 004, checklist TM)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cardfile.schema.packs import load_pack
from tests.conftest import LiveServer

# The seed's request example, verbatim.
SEED_REQUEST: dict[str, Any] = {
    "record": {
        "repositoryName": "Company",
        "productIdExt": "record1",
        "productId": "record1",
        "attributes": [
            {"name": "Name", "value": "TIBCO"},
            {"name": "Address", "value": "UK"},
            {"name": "Street", "multivalues": ["11th St", "Rockford"], "multivalue": True},
            {"name": "Website", "value": "https://in.yahoo.com/"},
            {"name": "Rating", "value": "10.10"},
            {"name": "CompanySource", "value": "IT SOURCE"},
            {"name": "CompanyRating", "value": "9"},
        ],
    }
}
# The seed's response example.
SEED_RESPONSE = {
    "responseMessages": [
        {"code": "SVC-11025", "message": "Service 'VALIDATE_PROCESS' executed successfully.", "type": "Info"}
    ],
    "records": [],
    "success": True,
}
MODIFY = "/mdm/records/Company/modifyRecord"


@pytest.fixture
def mdm(live: LiveServer, api: httpx.Client) -> httpx.Client:
    """The live server with the mdm pack installed (seen by the server on its next request)."""
    live.services.catalog.install([load_pack("mdm")])
    return api


def add(client: httpx.Client, repo: str, pid: str, *attrs: tuple[str, str], ext: str | None = None) -> None:
    record: dict[str, Any] = {"productId": pid, "attributes": [{"name": n, "value": v} for n, v in attrs]}
    if ext is not None:
        record["productIdExt"] = ext
    r = client.post(f"/mdm/records/{repo}/addRecord", json={"record": record})
    assert r.status_code == 200, r.text
    assert r.json()["success"] is True


def modify(client: httpx.Client, record: dict[str, Any], **top: Any) -> httpx.Response:
    return client.put(MODIFY, json={**top, "record": record})


def native(client: httpx.Client, type_name: str, **filters: str) -> dict[str, Any]:
    r = client.get(f"/api/records/{type_name}", params=filters)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 1, items
    return dict(items[0])


def errors_of(r: httpx.Response) -> dict[str, str]:
    """attributeName -> errorCode of a failed response's record."""
    body = r.json()
    assert body["success"] is False
    return {a["attributeName"]: a["errorCode"] for a in body["records"][0]["responseAttributes"]}


@pytest.fixture
def company(mdm: httpx.Client) -> Iterator[httpx.Client]:
    add(mdm, "Company", "record1", ("Name", "Acme"), ext="record1")
    yield mdm


# -- the seed ------------------------------------------------------------------------


def test_seed_request_verbatim_modifies_the_record(company: httpx.Client) -> None:
    r = company.put(MODIFY, json=SEED_REQUEST)
    assert r.status_code == 200, r.text
    assert r.json() == SEED_RESPONSE
    rec = native(company, "company", product_id="record1")
    assert {k: rec[k] for k in ("product_id", "product_id_ext", "name", "address", "street", "website")} == {
        "product_id": "record1",
        "product_id_ext": "record1",
        "name": "TIBCO",
        "address": "UK",
        "street": ["11th St", "Rockford"],
        "website": "https://in.yahoo.com/",
    }
    assert (rec["rating"], rec["company_source"], rec["company_rating"]) == (10.1, "IT SOURCE", 9)
    assert rec["state"] == "CONFIRMED"  # process (the default) ran the repository's rules
    # POST answers the same as PUT; the read call returns what was written
    again = company.post(MODIFY, json=SEED_REQUEST)
    assert again.status_code == 200 and again.json() == SEED_RESPONSE
    got = company.get("/mdm/records/Company/record1", params={"idExt": "record1"}).json()["records"][0]
    assert (got["productId"], got["productIdExt"], got["productKeyId"]) == (
        "record1",
        "record1",
        str(rec["id"]),
    )
    attrs = {a["name"]: a for a in got["attributes"]}
    assert attrs["Street"]["multivalues"] == ["11th St", "Rockford"] and attrs["Street"]["multivalue"] is True
    assert attrs["CompanyRating"]["value"] == "9" and got["state"] == "CONFIRMED"


def test_unknown_record_repository_and_body_errors_use_the_mdm_shape(company: httpx.Client) -> None:
    r = modify(company, {"productId": "nope", "productIdExt": "nope"})
    assert r.status_code == 400 and r.json()["success"] is False
    assert r.json()["responseMessages"][0]["code"] == "NOT_FOUND"
    r = company.put("/mdm/records/Nowhere/modifyRecord", json=SEED_REQUEST)
    assert r.status_code == 400 and r.json()["responseMessages"][0]["code"] == "UNKNOWN_RECORD_TYPE"
    r = company.put(MODIFY, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["responseMessages"][0]["code"] == "MALFORMED_JSON"
    r = httpx.put(str(company.base_url) + MODIFY, json=SEED_REQUEST)
    assert r.status_code == 401 and r.json()["success"] is False
    mismatch = copy.deepcopy(SEED_REQUEST)
    mismatch["record"]["repositoryName"] = "Customer"
    assert company.put(MODIFY, json=mismatch).status_code == 400


# -- attributes ------------------------------------------------------------------------


def test_multivalue_replace_and_clear(company: httpx.Client) -> None:
    street = {"name": "Street", "multivalue": True}
    assert modify(company, {"productId": "record1", "productIdExt": "record1",
                            "attributes": [{**street, "multivalues": ["11th St", "Rockford"]}]}).status_code == 200  # fmt: skip
    r = modify(
        company,
        {"productId": "record1", "productIdExt": "record1",
         "attributes": [{**street, "multivalues": [{"value": "Main St"}, "Springfield"]}]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert native(company, "company", product_id="record1")["street"] == ["Main St", "Springfield"]
    r = modify(
        company,
        {"productId": "record1", "productIdExt": "record1", "attributes": [{**street, "multivalues": []}]},
    )
    assert r.status_code == 200
    rec = native(company, "company", product_id="record1")
    assert rec["street"] == [] and rec["name"] == "Acme"  # attributes not sent are untouched


def test_unknown_attribute_and_wrong_types_are_all_reported_and_nothing_changes(
    company: httpx.Client,
) -> None:
    before = native(company, "company", product_id="record1")
    r = modify(
        company,
        {
            "productId": "record1",
            "productIdExt": "record1",
            "attributes": [
                {"name": "Address", "value": "valid on its own"},
                {"name": "Colour", "value": "blue"},
                {"name": "CompanyRating", "value": "nine"},
                {"name": "Rating", "value": "high"},
                {"name": "Website", "value": "not a url"},
                {"name": "CompanyRating2", "value": "1"},
            ],
        },
    )
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["responseMessages"][0]["type"] == "Error"
    assert errors_of(r) == {
        "Colour": "UNKNOWN_ATTRIBUTE",
        "CompanyRating2": "UNKNOWN_ATTRIBUTE",
        "CompanyRating": "NOT_AN_INTEGER",
        "Rating": "NOT_A_NUMBER",
        "Website": "INVALID_URL",
    }
    rec = body["records"][0]
    assert (rec["repositoryName"], rec["productId"], rec["productKeyId"]) == (
        "Company",
        "record1",
        str(before["id"]),
    )
    bad = next(a for a in rec["responseAttributes"] if a["attributeName"] == "CompanyRating")
    assert bad["values"] == ["nine"] and bad["errorType"] == "Error" and bad["errorMessage"]
    after = native(company, "company", product_id="record1")
    assert after == before  # not even the valid Address
    # a value out of range is per attribute too
    r = modify(company, {"productId": "record1", "productIdExt": "record1",
                         "attributes": [{"name": "CompanyRating", "value": "11"}, {"name": "Name", "value": ""}]})  # fmt: skip
    assert errors_of(r) == {"CompanyRating": "TOO_LARGE", "Name": "REQUIRED"}


def test_productid_attributes_rename_and_duplicates_are_refused(company: httpx.Client) -> None:
    add(company, "Company", "other", ("Name", "Other"), ext="x")
    r = modify(company, {"productId": "record1", "productIdExt": "record1",
                         "attributes": [{"name": "PRODUCTID", "value": "record9"}]})  # fmt: skip
    assert r.status_code == 200, r.text
    assert native(company, "company", product_id="record9")["product_id_ext"] == "record1"
    taken = modify(company, {"productId": "record9", "productIdExt": "record1",
                             "attributes": [{"name": "PRODUCTID", "value": "other"}, {"name": "PRODUCTIDEXT", "value": "x"}]})  # fmt: skip
    assert taken.status_code == 400 and taken.json()["success"] is False
    assert "DUPLICATE_VALUE" in {m["code"] for m in taken.json()["responseMessages"]}
    dup = company.post("/mdm/records/Company/addRecord",
                       json={"record": {"productId": "other", "productIdExt": "x", "attributes": [{"name": "Name", "value": "A"}]}})  # fmt: skip
    assert dup.status_code == 400


# -- relationships ---------------------------------------------------------------------


def test_relationship_attribute_update(company: httpx.Client) -> None:
    add(company, "Customer", "REC2", ("CustName", "daniel reichard"), ext="REC2")
    link = {
        "companycustomer": [
            {
                "relationshipAttributes": [
                    {"name": "RCustomerType", "value": "IT"},
                    {"name": "RCompanyType", "value": "IT PVT"},
                ],
                "targetRecord": {"repositoryName": "Customer", "productId": "REC2", "productIdExt": "REC2"},
            }
        ]
    }
    r = modify(company, {"productId": "record1", "productIdExt": "record1", "relationships": link})
    assert r.status_code == 200, r.text
    customer = native(company, "customer", product_id="REC2")
    rows = native(company, "company", product_id="record1")["company_customer"]
    assert [(x["target"], x["r_customer_type"], x["r_company_type"]) for x in rows] == [
        (customer["id"], "IT", "IT PVT")
    ]
    # the model's single spelling; only the attribute sent changes; the target's attributes too
    r = modify(
        company,
        {
            "productId": "record1",
            "productIdExt": "record1",
            "relationships": {
                "relationshipAttributes": [{"name": "RCustomerType", "value": "NONIT"}],
                "targetRecord": {"repositoryName": "Customer", "productId": "REC2", "productIdExt": "REC2",
                                 "attributes": [{"name": "CustRating", "value": "7"}]},
            },
        },
    )  # fmt: skip
    assert r.status_code == 200, r.text
    rows = native(company, "company", product_id="record1")["company_customer"]
    assert [(x["id"], x["r_customer_type"], x["r_company_type"]) for x in rows] == [
        (rows[0]["id"], "NONIT", "IT PVT")
    ]
    assert native(company, "customer", product_id="REC2")["cust_rating"] == 7
    got = company.get("/mdm/records/Company/record1", params={"idExt": "record1"}).json()["records"][0]
    rel = got["relationships"]["CompanyCustomer"][0]
    assert rel["targetRecord"] == {"repositoryName": "Customer", "productId": "REC2", "productIdExt": "REC2",
                                   "productKeyId": str(customer["id"])}  # fmt: skip
    assert {a["name"]: a["value"] for a in rel["relationshipAttributes"]} == {
        "RCustomerType": "NONIT",
        "RCompanyType": "IT PVT",
    }
    # removing the link
    r = modify(company, {"productId": "record1", "productIdExt": "record1",
                         "relationships": {"CompanyCustomer": [{"deleted": True, "targetRecord": {"productId": "REC2", "productIdExt": "REC2"}}]}})  # fmt: skip
    assert r.status_code == 200, r.text
    assert native(company, "company", product_id="record1")["company_customer"] == []


def test_relationship_errors_are_listed_with_the_attribute_errors_and_roll_everything_back(
    company: httpx.Client,
) -> None:
    add(company, "Customer", "REC2", ("CustName", "x"), ext="REC2")
    before_company = native(company, "company", product_id="record1")
    before_customer = native(company, "customer", product_id="REC2")
    r = modify(
        company,
        {
            "productId": "record1",
            "productIdExt": "record1",
            "attributes": [{"name": "CompanyRating", "value": "x"}],
            "relationships": {
                "CompanyCustomer": [
                    {   # valid link, and a valid change of the target record: rolled back too
                        "relationshipAttributes": [{"name": "RCustomerType", "value": "IT"}, {"name": "RNope", "value": "1"}],
                        "targetRecord": {"productId": "REC2", "productIdExt": "REC2",
                                         "attributes": [{"name": "CustRating", "value": "5"}]},
                    },
                    {"targetRecord": {"productId": "GHOST", "productIdExt": "GHOST"}},
                ]
            },
        },
    )  # fmt: skip
    assert r.status_code == 400, r.text
    record = r.json()["records"][0]
    assert errors_of(r) == {"CompanyRating": "NOT_AN_INTEGER"}
    rels = record["responseRelationships"]
    assert [(x["relationshipName"], x["recordId"]) for x in rels] == [
        ("CompanyCustomer", "REC2"),
        ("CompanyCustomer", "GHOST"),
    ]
    assert [a["errorCode"] for a in rels[0]["responseAttributes"]] == ["UNKNOWN_ATTRIBUTE"]
    assert [a["errorCode"] for a in rels[1]["responseAttributes"]] == ["RECORD_NOT_FOUND"]
    assert rels[0]["sourceRepositoryName"] == "Company" and rels[0]["targetRepositoryName"] == "Customer"
    assert native(company, "company", product_id="record1") == before_company
    assert native(company, "customer", product_id="REC2") == before_customer


# -- validate, process, perspectives, work items ----------------------------------------


def test_validate_checks_without_saving(company: httpx.Client) -> None:
    before = native(company, "company", product_id="record1")
    r = modify(company, {"productId": "record1", "productIdExt": "record1",
                         "attributes": [{"name": "Address", "value": "Paris"}]}, validate=True)  # fmt: skip
    assert r.status_code == 200 and r.json()["success"] is True
    assert [m["code"] for m in r.json()["responseMessages"]] == ["SVC-11025", "VALIDATED_ONLY"]
    assert native(company, "company", product_id="record1") == before
    r = modify(company, {"productId": "record1", "productIdExt": "record1",
                         "attributes": [{"name": "CompanyRating", "value": "-1"}]}, validate=True)  # fmt: skip
    assert r.status_code == 400 and errors_of(r) == {"CompanyRating": "TOO_SMALL"}


def test_process_runs_the_rules_that_change_the_state(company: httpx.Client) -> None:
    rec = {"productId": "record1", "productIdExt": "record1"}
    assert native(company, "company", product_id="record1")["state"] == "UNCONFIRMED"  # added, no rule held
    r = modify(company, {**rec, "attributes": [{"name": "CompanyRating", "value": "2"}]}, process=False)
    assert r.status_code == 200
    assert r.json()["responseMessages"][0]["message"] == "Service 'VALIDATE_NOPROCESS' executed successfully."
    assert native(company, "company", product_id="record1")["state"] == "UNCONFIRMED"
    r = modify(company, {**rec, "attributes": [{"name": "CompanyRating", "value": "1"}]}, process=True)
    assert r.status_code == 200
    state = native(company, "company", product_id="record1")
    assert state["state"] == "REJECTED"
    history = company.get(f"/api/records/company/{state['id']}/history").json()["items"]
    assert history[0]["reason"] == "process: reject low ratings"
    # the state sent by the client, then the rules, in one version
    r = modify(company, {**rec, "state": "DRAFT", "attributes": [{"name": "CompanyRating", "value": "8"},
                                                                  {"name": "Website", "value": "https://acme.example/"}]})  # fmt: skip
    assert r.status_code == 200
    after = native(company, "company", product_id="record1")
    assert (after["state"], after["version"]) == ("CONFIRMED", state["version"] + 1)


def test_perspective_restricts_what_may_be_changed_and_read(company: httpx.Client) -> None:
    before = native(company, "company", product_id="record1")
    rec = {"productId": "record1", "productIdExt": "record1"}
    r = company.put(MODIFY, params={"perspectiveName": "Rating"},
                    json={"record": {**rec, "attributes": [{"name": "CompanyRating", "value": "6"}, {"name": "Name", "value": "X"}]}})  # fmt: skip
    assert r.status_code == 400 and errors_of(r) == {"Name": "NOT_IN_PERSPECTIVE"}
    assert native(company, "company", product_id="record1") == before
    r = modify(
        company, {**rec, "attributes": [{"name": "CompanyRating", "value": "6"}]}, perspectiveName="rating"
    )
    assert r.status_code == 200, r.text
    assert native(company, "company", product_id="record1")["company_rating"] == 6
    r = modify(company, {**rec, "attributes": []}, perspectiveName="Nope")
    assert r.status_code == 400 and r.json()["responseMessages"][0]["code"] == "BAD_REQUEST"
    got = company.get(
        "/mdm/records/Company/record1", params={"idExt": "record1", "perspectiveName": "Rating"}
    )
    assert [a["name"] for a in got.json()["records"][0]["attributes"]] == ["Rating", "CompanyRating"]
    both = company.put(
        MODIFY, params={"perspectiveName": "Rating"}, json={"perspectiveName": "Contact", "record": rec}
    )
    assert both.status_code == 400


def test_work_item_is_recorded_in_history(company: httpx.Client) -> None:
    rec = {
        "productId": "record1",
        "productIdExt": "record1",
        "attributes": [{"name": "Address", "value": "Oslo"}],
    }
    r = company.put(MODIFY, params={"workItemId": "WI-42"}, json={"record": rec, "process": False})
    assert r.status_code == 200, r.text
    rid = native(company, "company", product_id="record1")["id"]
    entry = company.get(f"/api/records/company/{rid}/history").json()["items"][0]
    assert (entry["reason"], entry["channel"]) == ("workItemId=WI-42", "mdm")


# -- add, get, delete; auth ----------------------------------------------------------------


def test_add_get_and_delete_marks_deleted(mdm: httpx.Client) -> None:
    r = mdm.post(
        "/mdm/records/Company",
        json={"record": {"productId": "c1", "attributes": [{"name": "Name", "value": "C"}]}},
    )
    assert r.status_code == 200, r.text
    assert mdm.get("/mdm/records/company/c1").json()["records"][0]["attributes"][0] == {
        "name": "Name", "displayName": "Name", "multivalue": False, "value": "C"}  # fmt: skip
    r = mdm.delete("/mdm/records/Company/c1")
    assert r.status_code == 200 and r.json()["success"] is True
    assert native(mdm, "company", product_id="c1")["deleted"] is True  # marked, not erased
    assert mdm.get("/mdm/records/Company/c1").status_code == 404
    assert (
        mdm.get("/mdm/records/Company/c1", params={"recordState": "DELETED"}).json()["records"][0]["deleted"]
        is True
    )
    assert mdm.delete("/mdm/records/Company/c1").status_code == 404
    r = modify(mdm, {"productId": "c1", "attributes": [{"name": "Name", "value": "D"}]})
    assert r.status_code == 400
    r = modify(mdm, {"productId": "c1", "deleted": False, "attributes": [{"name": "Name", "value": "D"}]})
    assert r.status_code == 200 and native(mdm, "company", product_id="c1")["deleted"] is False
    r = modify(mdm, {"productId": "c1", "deleted": True})
    assert r.status_code == 200 and mdm.get("/mdm/records/Company/c1").status_code == 404


def test_scopes_and_rate_limit_group(live: LiveServer, mdm: httpx.Client) -> None:
    from cardfile.auth.users import add_user

    add(mdm, "Company", "s1", ("Name", "S"))
    svc = live.services
    with svc.db.write() as conn:
        uid = add_user(conn, "mdm@example.com", role="standard", password="a long passphrase").id
        read_only, _ = svc.auth.tokens.issue(conn, subject=f"user:{uid}", scopes="records.company.READ")
    headers = {"Authorization": f"Bearer {read_only}"}
    body = {"record": {"productId": "s1", "attributes": [{"name": "Name", "value": "T"}]}}
    r = httpx.put(live.url + MODIFY, json=body, headers=headers)
    assert r.status_code == 403 and r.json()["responseMessages"][0]["code"] == "INSUFFICIENT_SCOPE"
    r = httpx.get(live.url + "/mdm/records/Company/s1", headers=headers)
    assert r.status_code == 200 and r.headers["RateLimit-Policy"] == "300;w=60"


def test_every_error_class_has_a_status() -> None:
    from cardfile.api.dialects.tibco_mdm.errors import error_body, mapped_errors
    from cardfile.errors import ALL_ERRORS, BadRequest, ValidationFailed

    statuses = mapped_errors()
    assert set(statuses) == {c.code for c in ALL_ERRORS}
    assert statuses["VALIDATION_FAILED"] == 400 and statuses["UNKNOWN_RECORD_TYPE"] == 400
    assert statuses["UNAUTHENTICATED"] == 401 and statuses["RATE_LIMITED"] == 429
    assert all(400 <= s < 600 for s in statuses.values())
    assert error_body(BadRequest("x"))["success"] is False
    assert error_body(ValidationFailed([]))["responseMessages"][0]["type"] == "Error"
