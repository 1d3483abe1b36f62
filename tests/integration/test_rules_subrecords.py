"""The drift table of keyed sub-record ops (issue #15, part 4): the same skill, subform or
relationship change through the native API and through every dialect that can express it
leaves the same stored rows, and a bad skill value is refused by every channel, the native
API included. Real HTTP on a live server, SQLite (and PostgreSQL under ``postgres``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cardfile.auth.apikeys import create_key
from cardfile.services import open_services
from tests.conftest import start_live
from tests.integration.test_mdm import add, live_mdm, mdm, modify, native, pid  # noqa: F401
from tests.integration.test_tracker_v1_world import BACKENDS, World, _populate, _settings
from tests.integration.test_zoho_crm import Zoho, _put, zoho  # noqa: F401

# -- Tracker skills: native, widget, REST v1 ------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings, drop = _settings(request, tmp_path_factory.mktemp("subrecords"), str(request.param))
    svc = open_services(settings)
    server, thread, url = start_live(svc)
    world = World(url=url, key=create_key(svc.db, "subrecords-tests"), svc=svc)
    _populate(world)
    world.ids["java"] = world.create("skill", name="Java", skill_type="list",
                                     list_values=[{"value": "Beginner"}, {"value": "Expert"}])  # fmt: skip
    world.ids["aws"] = world.create("skill", name="AWS certified", skill_type="date")
    world.ids["go"] = world.create("skill", name="Go", skill_type="quick")
    world.ids["motto"] = world.create("skill", name="Motto", skill_type="text")
    try:
        yield world
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        svc.close()
        if drop is not None:
            drop()


# A skill change as (skill name, value): None removes the skill ("No" for a quick one)
Change = list[tuple[str, Any]]


def _native(w: World, rid: int, change: Change) -> tuple[int, Any]:
    quick_on = [w.ids[s] for s, v in change if s == "go" and v == "Yes"]
    quick_off = [w.ids[s] for s, v in change if s == "go" and v != "Yes"]
    upsert = [{"skill": w.ids[s], "value": v} for s, v in change if s != "go" and v is not None]
    remove = [{"skill": w.ids[s]} for s, v in change if s != "go" and v is None]
    body: dict[str, Any] = {}
    if quick_on or quick_off:
        body["quick_skills"] = {k: v for k, v in (("add", quick_on), ("remove", quick_off)) if v}
    if upsert or remove:
        body["skills"] = {k: v for k, v in (("upsert", upsert), ("remove", remove)) if v}
    with w.native() as c:
        r = c.patch(f"/api/records/resource/{rid}", json=body)
    return r.status_code, r.json()


def _widget(w: World, rid: int, change: Change) -> tuple[int, Any]:
    skills = [{"id": w.ids[s], "value": "No" if v is None and s == "go" else v or ""} for s, v in change]
    body = {"trackerrms": {"updateRecord": {"credentials": {"oauthtoken": w.key},
            "instructions": {"recordtype": "R", "recordid": rid}, "skills": skills}}}  # fmt: skip
    with w.native() as c:
        r = c.post("/tracker/api/widget/updateRecord", json=body)
    return r.json()["status"], r.json()


def _v1(w: World, rid: int, change: Change) -> tuple[int, Any]:
    items = [
        {"skillId": w.ids[s], "skillValue": "No" if v is None and s == "go" else v or ""} for s, v in change
    ]
    with w.http() as c:
        r = c.post(f"/api/v1/Resource/{rid}/Skills", json={"skills": items})
    return r.status_code, r.json()


SKILL_CHANNELS: dict[str, Callable[[World, int, Change], tuple[int, Any]]] = {
    "native": _native,
    "widget": _widget,
    "v1": _v1,
}
OK = {"native": 200, "widget": 0, "v1": 201}
REFUSED = {"native": 422, "widget": 99, "v1": 422}


def _skills_of(w: World, rid: int) -> tuple[list[int], list[tuple[int, int, Any]]]:
    with w.native() as c:
        rec = c.get(f"/api/records/resource/{rid}").json()
    return rec["quick_skills"], [(r["id"], r["skill"], r["value"]) for r in rec["skills"]]


@pytest.mark.parametrize("channel", sorted(SKILL_CHANNELS))
def test_the_same_skill_changes_store_the_same_rows(w: World, channel: str) -> None:
    send = SKILL_CHANNELS[channel]
    rid = w.create("resource", first_name="Drift", surname=channel)
    java, aws, motto, go = (w.ids[k] for k in ("java", "aws", "motto", "go"))
    status, body = send(
        w, rid, [("java", "expert"), ("aws", "2020-12-31"), ("go", "Yes"), ("motto", "Ship it")]
    )
    assert status == OK[channel], body
    # a list value in the list's spelling, one row per skill, ids from 1
    assert _skills_of(w, rid) == ([go], [(1, java, "Expert"), (2, aws, "2020-12-31"), (3, motto, "Ship it")])
    # upsert by skill keeps the row (and its id); removal by skill needs no row id
    status, body = send(
        w, rid, [("java", "beginner"), ("aws", None), ("go", None), ("motto", "  Ship more ")]
    )
    assert status == OK[channel], body
    assert _skills_of(w, rid) == ([], [(1, java, "Beginner"), (3, motto, "Ship more")])
    # removing a skill the record does not have changes nothing
    status, body = send(w, rid, [("aws", None)])
    assert status == OK[channel], body
    assert _skills_of(w, rid) == ([], [(1, java, "Beginner"), (3, motto, "Ship more")])


BAD_VALUES = {
    "list text not in the list": ("java", "Guru"),
    "list value id instead of text": ("java", "2"),
    "date as DD/MM/YYYY": ("aws", "31/12/2020"),
    "date not a calendar day": ("aws", "2020-02-30"),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
@pytest.mark.parametrize("channel", sorted(SKILL_CHANNELS))
def test_a_bad_skill_value_is_refused_by_every_channel(w: World, channel: str, case: str) -> None:
    rid = w.create(
        "resource", first_name="Bad", surname=channel, skills=[{"skill": w.ids["java"], "value": "Expert"}]
    )
    before = _skills_of(w, rid)
    status, body = SKILL_CHANNELS[channel](w, rid, [("motto", "fine"), BAD_VALUES[case]])
    assert status == REFUSED[channel], body
    if channel == "native":
        assert [(e["field"], e["code"]) for e in body["errors"]] == [
            ("skills[1].value", "INVALID_SKILL_VALUE")
        ]
    if channel == "v1":
        assert [(e["field"], e["code"]) for e in body["errors"]] == [
            ("skills[1].skillValue", "INVALID_SKILL_VALUE")
        ]
    assert _skills_of(w, rid) == before  # nothing changed


def test_native_skill_rows_follow_the_skill_rules(w: World) -> None:
    java, go = w.ids["java"], w.ids["go"]
    with w.native() as c:
        # create and replace are judged as well
        r = c.post(
            "/api/records/resource", json={"first_name": "N", "skills": [{"skill": java, "value": "guru"}]}
        )
        assert r.status_code == 422 and r.json()["errors"][0]["code"] == "INVALID_SKILL_VALUE", r.text
        r = c.post(
            "/api/records/resource", json={"first_name": "N", "skills": [{"skill": java, "value": "expert"}]}
        )
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        assert c.get(f"/api/records/resource/{rid}").json()["skills"] == [
            {"id": 1, "skill": java, "value": "Expert"}
        ]
        # one row per skill
        r = c.patch(
            f"/api/records/resource/{rid}", json={"skills": {"add": [{"skill": java, "value": "Beginner"}]}}
        )
        assert r.status_code == 422, r.text
        assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("skills[1].skill", "DUPLICATE_KEY")]
        # a quick skill is held in quick_skills, never as a row
        r = c.patch(
            f"/api/records/resource/{rid}", json={"skills": {"upsert": [{"skill": go, "value": "Yes"}]}}
        )
        assert r.status_code == 422 and r.json()["errors"][0]["code"] == "INVALID_SKILL_VALUE", r.text
        # an update by row id is judged by the row's skill
        r = c.patch(f"/api/records/resource/{rid}", json={"skills": {"update": [{"id": 1, "value": "nope"}]}})
        assert r.status_code == 422, r.text
        assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
            ("skills[0].value", "INVALID_SKILL_VALUE")
        ]
        assert c.get(f"/api/records/resource/{rid}").json()["skills"] == [
            {"id": 1, "skill": java, "value": "Expert"}
        ]


def test_v1_lists_its_own_and_the_engines_problems_at_once(w: World) -> None:
    rid = w.create("resource", first_name="Many")
    items = [{"skillId": 999999, "skillValue": "x"}, {"skillId": w.ids["java"], "skillValue": "Guru"},
             {"skillId": w.ids["go"], "skillValue": "Maybe"}, {"skillId": w.ids["aws"], "skillValue": "soon"}]  # fmt: skip
    with w.http() as c:
        r = c.post(f"/api/v1/Resource/{rid}/Skills", json={"skills": items})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [
        "skills[0].skillId", "skills[1].skillValue", "skills[2].skillValue", "skills[3].skillValue",
    ]  # fmt: skip
    assert _skills_of(w, rid) == ([], [])


# -- Zoho subforms: native sync and Zoho's rows in full -------------------------------------------------


def _zoho_deal(z: Zoho) -> tuple[str, str, list[str]]:
    with z.client() as c:
        r = c.post("/zoho/crm/v7/Products", json={"data": [{"Product_Name": "Widget"}]})
        p = r.json()["data"][0]["details"]["id"]
        r = c.post("/zoho/crm/v7/Deals", json={"data": [{"Deal_Name": "D", "Stage": "Qualification",
                   "Products_Subform": [{"Product_Name": {"id": p}, "Quantity": 1}, {"Product_Name": {"id": p}, "Quantity": 2}]}]})  # fmt: skip
        d = r.json()["data"][0]["details"]["id"]
        rows = [row["id"] for row in c.get(f"/zoho/crm/v7/Deals/{d}").json()["data"][0]["Products_Subform"]]
    return d, p, rows


def test_a_subform_change_is_the_same_through_zoho_and_native_sync(zoho: Zoho) -> None:  # noqa: F811
    z = zoho
    stored = {}
    for channel in ("zoho", "native"):
        d, p, (keep, _gone) = _zoho_deal(z)
        if channel == "zoho":
            body = {
                "id": d,
                "Products_Subform": [{"id": keep, "Quantity": 5}, {"Product_Name": {"id": p}, "Quantity": 9}],
            }
            r = _put(z, "Deals", {"data": [body]})
        else:
            sync = [{"id": int(keep), "quantity": 5}, {"product_name": int(p), "quantity": 9}]
            with httpx.Client(base_url=z.url, headers={"Authorization": f"Bearer {z.key}"}) as c:
                r = c.patch(f"/api/records/zoho_deals/{d}", json={"products_subform": {"sync": sync}})
        assert r.status_code == 200, r.text
        stored[channel] = [(x["id"], x["quantity"]) for x in z.native("zoho_deals", d)["products_subform"]]
    assert stored["zoho"] == stored["native"] == [(1, 5), (3, 9)]
    # a row the record does not have is refused by both, and nothing changes
    d, p, _rows = _zoho_deal(z)
    before = z.native("zoho_deals", d)["products_subform"]
    r = _put(z, "Deals", {"data": [{"id": d, "Products_Subform": [{"id": "77", "Quantity": 5}]}]})
    assert r.status_code == 400, r.text
    with httpx.Client(base_url=z.url, headers={"Authorization": f"Bearer {z.key}"}) as c:
        r = c.patch(
            f"/api/records/zoho_deals/{d}", json={"products_subform": {"sync": [{"id": 77, "quantity": 5}]}}
        )
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "ROW_NOT_FOUND", r.text
    assert z.native("zoho_deals", d)["products_subform"] == before


# -- MDM relationships: native upsert by target and MDM's relationships ----------------------------------


def _link(cust: str, deleted: bool = False, **attrs: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "relationshipAttributes": [{"name": n, "value": v} for n, v in attrs.items()],
        "targetRecord": {"repositoryName": "Customer", "productId": cust, "productIdExt": cust},
    }
    if deleted:
        entry["deleted"] = True
    return {"CompanyCustomer": [entry]}


def test_a_relationship_change_is_the_same_through_mdm_and_native_upsert(mdm: httpx.Client) -> None:  # noqa: F811
    stored = {}
    for channel in ("mdm", "native"):
        company, cust = f"{channel}-co-{id(stored)}", f"{channel}-cu-{id(stored)}"
        add(mdm, "Company", company, ("Name", "Acme"), ext=company)
        add(mdm, "Customer", cust, ("CustName", "x"), ext=cust)
        cid = native(mdm, "customer", product_id=cust)["id"]
        rec = native(mdm, "company", product_id=company)
        for attrs in ({"RCustomerType": "IT", "RCompanyType": "PVT"}, {"RCustomerType": "NONIT"}):
            if channel == "mdm":
                ref = {"productId": company, "productIdExt": company}
                r = modify(mdm, {**ref, "relationships": _link(cust, **attrs)})
            else:
                names = {"RCustomerType": "r_customer_type", "RCompanyType": "r_company_type"}
                row = {"target": cid, **{names[k]: v for k, v in attrs.items()}}
                r = mdm.patch(
                    f"/api/records/company/{rec['id']}", json={"company_customer": {"upsert": [row]}}
                )
            assert r.status_code == 200, r.text
        rows = native(mdm, "company", product_id=company)["company_customer"]
        stored[channel] = [
            (x["id"], x["target"] == cid, x["r_customer_type"], x["r_company_type"]) for x in rows
        ]
        # removing the link by its target
        if channel == "mdm":
            ref = {"productId": company, "productIdExt": company}
            r = modify(mdm, {**ref, "relationships": _link(cust, deleted=True)})
            assert r.status_code == 200, r.text
            # a link the record does not have: RELATIONSHIP_NOT_FOUND, nothing changed
            r = modify(mdm, {**ref, "attributes": [{"name": "Name", "value": "Changed"}],
                             "relationships": _link(cust, deleted=True)})  # fmt: skip
            assert r.json()["success"] is False, r.text
            assert "RELATIONSHIP_NOT_FOUND" in r.text
            assert native(mdm, "company", product_id=company)["name"] == "Acme"
        else:
            r = mdm.patch(
                f"/api/records/company/{rec['id']}", json={"company_customer": {"remove": [{"target": cid}]}}
            )
            assert r.status_code == 200, r.text
        assert native(mdm, "company", product_id=company)["company_customer"] == []
    assert stored["mdm"] == stored["native"] == [(1, True, "NONIT", "PVT")]


def test_one_link_per_target(mdm: httpx.Client, pid: str) -> None:  # noqa: F811
    add(mdm, "Company", pid, ("Name", "Acme"), ext=pid)
    add(mdm, "Customer", f"{pid}-c", ("CustName", "x"), ext=f"{pid}-c")
    cid = native(mdm, "customer", product_id=f"{pid}-c")["id"]
    rid = native(mdm, "company", product_id=pid)["id"]
    r = mdm.patch(
        f"/api/records/company/{rid}", json={"company_customer": [{"target": cid}, {"target": cid}]}
    )
    assert r.status_code == 422, r.text
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("company_customer[1].target", "DUPLICATE_KEY")
    ]
