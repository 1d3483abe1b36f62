"""The TIBCO MDM dialect over real HTTP, on SQLite and PostgreSQL (seed 004, checklist TM)."""

from __future__ import annotations

import copy
import itertools
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from cardfile.auth.apikeys import create_key
from cardfile.services import open_services
from cardfile.settings import Settings
from tests.conftest import LiveServer, start_live
from tests.pg import PostgresServer

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


_ids = itertools.count(1)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_mdm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server per backend for the whole module, with the demo and mdm packs; each test
    works on records of its own (``pid``), so they share it without meeting."""
    tmp: Path = tmp_path_factory.mktemp("mdm")
    admin = None
    name = f"mdm_{int(time.time() * 1000) % 10**8}"
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp / "cardfile.db")
        settings = Settings(data_dir=tmp, packs=("demo", "mdm"))
    else:
        pg: PostgresServer = request.getfixturevalue("pg_server")
        template: str = request.getfixturevalue("pg_template")
        admin = create_engine(
            pg.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE {template}'))
        settings = Settings(data_dir=tmp, database_url=pg.database_url(name), packs=("demo", "mdm"))
    svc = open_services(settings)
    server, thread, url = start_live(svc)
    yield LiveServer(url=url, key=create_key(svc.db, "tester"), services=svc)
    server.should_exit = True
    thread.join(timeout=10)
    svc.close()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def mdm(live_mdm: LiveServer) -> Iterator[httpx.Client]:
    with live_mdm.client() as client:
        yield client


@pytest.fixture
def pid() -> str:
    """A productId no other test uses."""
    return f"r{next(_ids)}"


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
def company(mdm: httpx.Client, pid: str) -> httpx.Client:
    """A Company record ``pid``/``pid``."""
    add(mdm, "Company", pid, ("Name", "Acme"), ext=pid)
    return mdm


# -- the seed ------------------------------------------------------------------------


def test_seed_request_verbatim_modifies_the_record(mdm: httpx.Client) -> None:
    company = mdm
    add(company, "Company", "record1", ("Name", "Acme"), ext="record1")
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


def test_multivalue_replace_and_clear(company: httpx.Client, pid: str) -> None:
    street = {"name": "Street", "multivalue": True}
    assert modify(company, {"productId": pid, "productIdExt": pid,
                            "attributes": [{**street, "multivalues": ["11th St", "Rockford"]}]}).status_code == 200  # fmt: skip
    r = modify(
        company,
        {"productId": pid, "productIdExt": pid,
         "attributes": [{**street, "multivalues": [{"value": "Main St"}, "Springfield"]}]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert native(company, "company", product_id=pid)["street"] == ["Main St", "Springfield"]
    r = modify(
        company,
        {"productId": pid, "productIdExt": pid, "attributes": [{**street, "multivalues": []}]},
    )
    assert r.status_code == 200
    rec = native(company, "company", product_id=pid)
    assert rec["street"] == [] and rec["name"] == "Acme"  # attributes not sent are untouched


def test_unknown_attribute_and_wrong_types_are_all_reported_and_nothing_changes(
    company: httpx.Client, pid: str
) -> None:
    before = native(company, "company", product_id=pid)
    r = modify(
        company,
        {
            "productId": pid,
            "productIdExt": pid,
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
        pid,
        str(before["id"]),
    )
    bad = next(a for a in rec["responseAttributes"] if a["attributeName"] == "CompanyRating")
    assert bad["values"] == ["nine"] and bad["errorType"] == "Error" and bad["errorMessage"]
    after = native(company, "company", product_id=pid)
    assert after == before  # not even the valid Address
    # a value out of range is per attribute too
    r = modify(company, {"productId": pid, "productIdExt": pid,
                         "attributes": [{"name": "CompanyRating", "value": "11"}, {"name": "Name", "value": ""}]})  # fmt: skip
    assert errors_of(r) == {"CompanyRating": "TOO_LARGE", "Name": "REQUIRED"}


def test_productid_attributes_rename_and_duplicates_are_refused(company: httpx.Client, pid: str) -> None:
    add(company, "Company", f"{pid}-o", ("Name", "Other"), ext="x")
    r = modify(company, {"productId": pid, "productIdExt": pid,
                         "attributes": [{"name": "PRODUCTID", "value": f"{pid}-9"}]})  # fmt: skip
    assert r.status_code == 200, r.text
    assert native(company, "company", product_id=f"{pid}-9")["product_id_ext"] == pid
    taken = modify(company, {"productId": f"{pid}-9", "productIdExt": pid,
                             "attributes": [{"name": "PRODUCTID", "value": f"{pid}-o"}, {"name": "PRODUCTIDEXT", "value": "x"}]})  # fmt: skip
    assert taken.status_code == 400 and taken.json()["success"] is False
    assert "DUPLICATE_VALUE" in {m["code"] for m in taken.json()["responseMessages"]}
    dup = company.post("/mdm/records/Company/addRecord",
                       json={"record": {"productId": f"{pid}-o", "productIdExt": "x", "attributes": [{"name": "Name", "value": "A"}]}})  # fmt: skip
    assert dup.status_code == 400


# -- relationships ---------------------------------------------------------------------


def test_relationship_attribute_update(company: httpx.Client, pid: str) -> None:
    cust = f"{pid}-c"
    add(company, "Customer", cust, ("CustName", "daniel reichard"), ext=cust)
    link = {
        "companycustomer": [
            {
                "relationshipAttributes": [
                    {"name": "RCustomerType", "value": "IT"},
                    {"name": "RCompanyType", "value": "IT PVT"},
                ],
                "targetRecord": {"repositoryName": "Customer", "productId": cust, "productIdExt": cust},
            }
        ]
    }
    r = modify(company, {"productId": pid, "productIdExt": pid, "relationships": link})
    assert r.status_code == 200, r.text
    customer = native(company, "customer", product_id=cust)
    rows = native(company, "company", product_id=pid)["company_customer"]
    assert [(x["target"], x["r_customer_type"], x["r_company_type"]) for x in rows] == [
        (customer["id"], "IT", "IT PVT")
    ]
    # the model's single spelling; only the attribute sent changes; the target's attributes too
    r = modify(
        company,
        {
            "productId": pid,
            "productIdExt": pid,
            "relationships": {
                "relationshipAttributes": [{"name": "RCustomerType", "value": "NONIT"}],
                "targetRecord": {"repositoryName": "Customer", "productId": cust, "productIdExt": cust,
                                 "attributes": [{"name": "CustRating", "value": "7"}]},
            },
        },
    )  # fmt: skip
    assert r.status_code == 200, r.text
    rows = native(company, "company", product_id=pid)["company_customer"]
    assert [(x["id"], x["r_customer_type"], x["r_company_type"]) for x in rows] == [
        (rows[0]["id"], "NONIT", "IT PVT")
    ]
    assert native(company, "customer", product_id=cust)["cust_rating"] == 7
    got = company.get(f"/mdm/records/Company/{pid}", params={"idExt": pid}).json()["records"][0]
    rel = got["relationships"]["CompanyCustomer"][0]
    assert rel["targetRecord"] == {"repositoryName": "Customer", "productId": cust, "productIdExt": cust,
                                   "productKeyId": str(customer["id"])}  # fmt: skip
    assert {a["name"]: a["value"] for a in rel["relationshipAttributes"]} == {
        "RCustomerType": "NONIT",
        "RCompanyType": "IT PVT",
    }
    # removing the link
    r = modify(company, {"productId": pid, "productIdExt": pid,
                         "relationships": {"CompanyCustomer": [{"deleted": True, "targetRecord": {"productId": cust, "productIdExt": cust}}]}})  # fmt: skip
    assert r.status_code == 200, r.text
    assert native(company, "company", product_id=pid)["company_customer"] == []


def test_relationship_errors_are_listed_with_the_attribute_errors_and_roll_everything_back(
    company: httpx.Client, pid: str
) -> None:
    cust = f"{pid}-c"
    add(company, "Customer", cust, ("CustName", "x"), ext=cust)
    before_company = native(company, "company", product_id=pid)
    before_customer = native(company, "customer", product_id=cust)
    r = modify(
        company,
        {
            "productId": pid,
            "productIdExt": pid,
            "attributes": [{"name": "CompanyRating", "value": "x"}],
            "relationships": {
                "CompanyCustomer": [
                    {   # valid link, and a valid change of the target record: rolled back too
                        "relationshipAttributes": [{"name": "RCustomerType", "value": "IT"}, {"name": "RNope", "value": "1"}],
                        "targetRecord": {"productId": cust, "productIdExt": cust,
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
        ("CompanyCustomer", cust),
        ("CompanyCustomer", "GHOST"),
    ]
    assert [a["errorCode"] for a in rels[0]["responseAttributes"]] == ["UNKNOWN_ATTRIBUTE"]
    assert [a["errorCode"] for a in rels[1]["responseAttributes"]] == ["RECORD_NOT_FOUND"]
    assert rels[0]["sourceRepositoryName"] == "Company" and rels[0]["targetRepositoryName"] == "Customer"
    assert native(company, "company", product_id=pid) == before_company
    assert native(company, "customer", product_id=cust) == before_customer


# -- validate, process, perspectives, work items ----------------------------------------


def test_validate_checks_without_saving(company: httpx.Client, pid: str) -> None:
    before = native(company, "company", product_id=pid)
    r = modify(company, {"productId": pid, "productIdExt": pid,
                         "attributes": [{"name": "Address", "value": "Paris"}]}, validate=True)  # fmt: skip
    assert r.status_code == 200 and r.json()["success"] is True
    assert [m["code"] for m in r.json()["responseMessages"]] == ["SVC-11025", "VALIDATED_ONLY"]
    assert native(company, "company", product_id=pid) == before
    r = modify(company, {"productId": pid, "productIdExt": pid,
                         "attributes": [{"name": "CompanyRating", "value": "-1"}]}, validate=True)  # fmt: skip
    assert r.status_code == 400 and errors_of(r) == {"CompanyRating": "TOO_SMALL"}


def test_process_runs_the_rules_that_change_the_state(company: httpx.Client, pid: str) -> None:
    rec = {"productId": pid, "productIdExt": pid}
    assert native(company, "company", product_id=pid)["state"] == "UNCONFIRMED"  # added, no rule held
    r = modify(company, {**rec, "attributes": [{"name": "CompanyRating", "value": "2"}]}, process=False)
    assert r.status_code == 200
    assert r.json()["responseMessages"][0]["message"] == "Service 'VALIDATE_NOPROCESS' executed successfully."
    assert native(company, "company", product_id=pid)["state"] == "UNCONFIRMED"
    r = modify(company, {**rec, "attributes": [{"name": "CompanyRating", "value": "1"}]}, process=True)
    assert r.status_code == 200
    state = native(company, "company", product_id=pid)
    assert state["state"] == "REJECTED"
    history = company.get(f"/api/records/company/{state['id']}/history").json()["items"]
    assert history[0]["reason"] == "process: reject low ratings"
    # the state sent by the client, then the rules, in one version
    r = modify(company, {**rec, "state": "DRAFT", "attributes": [{"name": "CompanyRating", "value": "8"},
                                                                  {"name": "Website", "value": "https://acme.example/"}]})  # fmt: skip
    assert r.status_code == 200
    after = native(company, "company", product_id=pid)
    assert (after["state"], after["version"]) == ("CONFIRMED", state["version"] + 1)


def test_perspective_restricts_what_may_be_changed_and_read(company: httpx.Client, pid: str) -> None:
    before = native(company, "company", product_id=pid)
    rec = {"productId": pid, "productIdExt": pid}
    r = company.put(MODIFY, params={"perspectiveName": "Rating"},
                    json={"record": {**rec, "attributes": [{"name": "CompanyRating", "value": "6"}, {"name": "Name", "value": "X"}]}})  # fmt: skip
    assert r.status_code == 400 and errors_of(r) == {"Name": "NOT_IN_PERSPECTIVE"}
    assert native(company, "company", product_id=pid) == before
    r = modify(
        company, {**rec, "attributes": [{"name": "CompanyRating", "value": "6"}]}, perspectiveName="rating"
    )
    assert r.status_code == 200, r.text
    assert native(company, "company", product_id=pid)["company_rating"] == 6
    r = modify(company, {**rec, "attributes": []}, perspectiveName="Nope")
    assert r.status_code == 400 and r.json()["responseMessages"][0]["code"] == "BAD_REQUEST"
    got = company.get(f"/mdm/records/Company/{pid}", params={"idExt": pid, "perspectiveName": "Rating"})
    assert [a["name"] for a in got.json()["records"][0]["attributes"]] == ["Rating", "CompanyRating"]
    both = company.put(
        MODIFY, params={"perspectiveName": "Rating"}, json={"perspectiveName": "Contact", "record": rec}
    )
    assert both.status_code == 400


def test_work_item_is_recorded_in_history(company: httpx.Client, pid: str) -> None:
    rec = {
        "productId": pid,
        "productIdExt": pid,
        "attributes": [{"name": "Address", "value": "Oslo"}],
    }
    r = company.put(MODIFY, params={"workItemId": "WI-42"}, json={"record": rec, "process": False})
    assert r.status_code == 200, r.text
    rid = native(company, "company", product_id=pid)["id"]
    entry = company.get(f"/api/records/company/{rid}/history").json()["items"][0]
    assert (entry["reason"], entry["channel"]) == ("workItemId=WI-42", "mdm")


# -- add, get, delete; auth ----------------------------------------------------------------


def test_add_get_and_delete_marks_deleted(mdm: httpx.Client, pid: str) -> None:
    r = mdm.post(
        "/mdm/records/Company",
        json={"record": {"productId": pid, "attributes": [{"name": "Name", "value": "C"}]}},
    )
    assert r.status_code == 200, r.text
    assert mdm.get(f"/mdm/records/company/{pid}").json()["records"][0]["attributes"][0] == {
        "name": "Name", "displayName": "Name", "multivalue": False, "value": "C"}  # fmt: skip
    r = mdm.delete(f"/mdm/records/Company/{pid}")
    assert r.status_code == 200 and r.json()["success"] is True
    assert native(mdm, "company", product_id=pid)["deleted"] is True  # marked, not erased
    assert mdm.get(f"/mdm/records/Company/{pid}").status_code == 404
    assert (
        mdm.get(f"/mdm/records/Company/{pid}", params={"recordState": "DELETED"}).json()["records"][0][
            "deleted"
        ]
        is True
    )
    assert mdm.delete(f"/mdm/records/Company/{pid}").status_code == 404
    r = modify(mdm, {"productId": pid, "attributes": [{"name": "Name", "value": "D"}]})
    assert r.status_code == 400
    r = modify(mdm, {"productId": pid, "deleted": False, "attributes": [{"name": "Name", "value": "D"}]})
    assert r.status_code == 200 and native(mdm, "company", product_id=pid)["deleted"] is False
    r = modify(mdm, {"productId": pid, "deleted": True})
    assert r.status_code == 200 and mdm.get(f"/mdm/records/Company/{pid}").status_code == 404
    r = mdm.post(
        "/mdm/records/Company/addRecord",
        json={"record": {"attributes": [{"name": "Name", "value": "N"}, {"name": "Rating", "value": "x"}]}},
    )
    assert r.status_code == 400 and errors_of(r) == {"ProductId": "REQUIRED", "Rating": "NOT_A_NUMBER"}


def test_scopes_and_rate_limit_group(live_mdm: LiveServer, mdm: httpx.Client, pid: str) -> None:
    from cardfile.auth.users import add_user

    add(mdm, "Company", f"{pid}-s", ("Name", "S"))
    svc = live_mdm.services
    with svc.db.write() as conn:
        uid = add_user(conn, f"{pid}@example.com", role="standard", password=None).id
        read_only, _ = svc.auth.tokens.issue(conn, subject=f"user:{uid}", scopes="records.company.READ")
    headers = {"Authorization": f"Bearer {read_only}"}
    body = {"record": {"productId": f"{pid}-s", "attributes": [{"name": "Name", "value": "T"}]}}
    r = httpx.put(live_mdm.url + MODIFY, json=body, headers=headers)
    assert r.status_code == 403 and r.json()["responseMessages"][0]["code"] == "INSUFFICIENT_SCOPE"
    r = httpx.get(live_mdm.url + f"/mdm/records/Company/{pid}-s", headers=headers)
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


def test_repository_and_attributes_defined_at_runtime(mdm: httpx.Client, pid: str) -> None:
    definition = {
        "name": "Supplier",
        "attributes": [
            {"name": "SupplierName", "type": "text", "required": True},
            {"name": "Aliases", "multivalue": True},
            {"name": "Score", "type": "integer", "min": 0},
        ],
        "relationships": [
            {
                "name": "SupplierCompany",
                "targetRepository": "Company",
                "attributes": [{"name": "Since", "type": "date"}],
            }
        ],
    }
    r = mdm.post("/mdm/repositories", json=definition)
    assert r.status_code == 201, r.text
    assert [a["name"] for a in r.json()["attributes"]] == ["SupplierName", "Aliases", "Score"]
    assert mdm.post("/mdm/repositories", json=definition).status_code == 400  # exists
    bad = mdm.post(
        "/mdm/repositories",
        json={"name": "Bad", "attributes": [{"name": "X", "type": "nope"}, {"name": "State"}]},
    )
    assert bad.status_code == 400 and len(bad.json()["responseMessages"]) == 3
    add(mdm, "Company", pid, ("Name", "C"))
    r = mdm.post(
        "/mdm/records/Supplier/addRecord",
        json={"record": {"productId": f"{pid}-s", "productIdExt": "A",
                         "attributes": [{"name": "SupplierName", "value": "S"}, {"name": "ALIASES", "multivalues": ["x", "y"]},
                                        {"name": "Score", "value": "3"}],
                         "relationships": {"SupplierCompany": [{"relationshipAttributes": [{"name": "Since", "value": "2024-05-01"}],
                                                                "targetRecord": {"repositoryName": "Company", "productId": pid}}]}}},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    rec = native(mdm, "supplier", product_id=f"{pid}-s")
    company_id = native(mdm, "company", product_id=pid)["id"]
    assert (rec["aliases"], rec["score"], rec["state"]) == (["x", "y"], 3, "UNCONFIRMED")
    assert [(x["target"], x["since"]) for x in rec["supplier_company"]] == [(company_id, "2024-05-01")]
    # an attribute added to a pack repository at runtime is usable at once
    r = mdm.post("/api/types/company/fields", json={"name": "duns_number", "type": "text"})
    assert r.status_code == 201, r.text
    r = modify(mdm, {"productId": pid, "attributes": [{"name": "DunsNumber", "value": "150483782"}]})
    assert r.status_code == 200, r.text
    assert native(mdm, "company", product_id=pid)["duns_number"] == "150483782"
    got = mdm.get("/mdm/repositories/company").json()
    assert "DunsNumber" in [a["name"] for a in got["attributes"]]
    assert got["relationships"][0]["name"] == "CompanyCustomer"
    assert {p["name"] for p in got["perspectives"]} == {"Contact", "Rating"}


def test_a_repository_without_the_unique_pair_finds_records_by_lookup(
    live_mdm: LiveServer, mdm: httpx.Client, pid: str
) -> None:
    from cardfile.schema.model import FieldDef, RecordType

    name = f"plain_{pid}"
    fields = {"product_id": FieldDef("product_id", "text"), "title": FieldDef("title", "text")}
    live_mdm.services.catalog.add_type(RecordType(name=name, fields=fields))
    r = mdm.post(
        f"/mdm/records/{name}/addRecord",
        json={"record": {"productId": "p", "attributes": [{"name": "Title", "value": "T"}]}},
    )
    assert r.status_code == 200, r.text
    r = mdm.put(
        f"/mdm/records/{name}/modifyRecord",
        json={"record": {"productId": "p", "attributes": [{"name": "TITLE", "value": "U"}]}},
    )
    assert r.status_code == 200, r.text
    assert native(mdm, name, product_id="p")["title"] == "U"
