"""Drift table of issue #15, part 2: record states that refuse changes, soft delete with
cascade, and links to locked records hold through the native API and every dialect that
can write the type (Zoho for ``zoho_deals``, TIBCO MDM for ``company``), with the same
outcome: refused and nothing changed, or accepted.

Each channel answers in its own shape; what the table pins is the outcome (refused or
not), the record afterwards, and each channel's code for the refusal.
"""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from cardfile.auth import scopes as rules
from cardfile.auth.apikeys import create_key
from cardfile.auth.users import add_user
from cardfile.schema.model import SchemaError
from cardfile.schema.packs import parse_pack
from cardfile.services import Services, open_services
from cardfile.settings import Settings
from tests.conftest import start_live
from tests.pg import PostgresServer

NOT_APPROVED = "Cannot update record that is not approved yet"
DEPENDENT_LOCKED = "Sorry, you cannot perform this operation as the record is locked."
_ids = itertools.count(1)


@dataclass
class World:
    url: str
    svc: Services
    key: str  # an API key (native API, MDM)
    zoho: str  # an admin's access token (Zoho)

    def native(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30)

    def zoho_client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Zoho-oauthtoken {self.zoho}"}, timeout=30
        )

    def create(self, type_name: str, body: dict[str, Any]) -> int:
        with self.native() as c:
            r = c.post(f"/api/records/{type_name}", json=body)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def get(self, type_name: str, rid: int) -> dict[str, Any]:
        with self.native() as c:
            r = c.get(f"/api/records/{type_name}/{rid}")
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One server per backend for the module, with the zoho and mdm packs; each test works
    on records of its own."""
    tmp: Path = tmp_path_factory.mktemp("states")
    admin = None
    name = f"states_{int(time.time() * 1000) % 10**8}"
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp / "cardfile.db")
        settings = Settings(data_dir=tmp, packs=("zoho", "mdm"))
    else:
        pg: PostgresServer = request.getfixturevalue("pg_server")
        template: str = request.getfixturevalue("pg_template")
        admin = create_engine(
            pg.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE {template}'))
        settings = Settings(data_dir=tmp, database_url=pg.database_url(name), packs=("zoho", "mdm"))
    svc = open_services(settings)
    server, thread, url = start_live(svc)
    with svc.db.write() as conn:
        uid = add_user(conn, "admin@example.com", name="Admin", role="admin", password=None).id
        token = svc.auth.tokens.issue(
            conn, subject=f"user:{uid}", scopes=rules.normalize(rules.default_for_role("admin"))
        )[0]
    yield World(url=url, svc=svc, key=create_key(svc.db, "states-tester"), zoho=token)
    server.should_exit = True
    thread.join(timeout=10)
    svc.close()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- the channels: each writes {field: value} (cardfile names) to a record and answers
#    (HTTP status, the channel's error code or None) ------------------------------------------
Outcome = tuple[int, str | None]
_ZOHO_NAMES = {"amount": "Amount", "approval_state__s": "Approval_State__s", "deal_name": "Deal_Name"}


def _zoho_outcome(r: httpx.Response) -> Outcome:
    body = r.json()
    element = body["data"][0] if "data" in body else body
    if element.get("status") == "success":
        return r.status_code, None
    assert element["status"] == "error", body
    return r.status_code, f"{element['code']}: {element['message']}"


def native_patch(w: World, type_name: str, rid: int, fields: dict[str, Any]) -> Outcome:
    with w.native() as c:
        r = c.patch(f"/api/records/{type_name}/{rid}", json=fields)
    return r.status_code, None if r.status_code < 300 else r.json()["code"]


def native_bulk(w: World, type_name: str, rid: int, fields: dict[str, Any]) -> Outcome:
    with w.native() as c:
        r = c.patch(
            f"/api/records/{type_name}", json={"records": [{"id": rid, **fields}], "all_or_none": False}
        )
    assert r.status_code == 200, r.text
    item = r.json()["results"][0]
    error = item.get("error")
    return (200, None) if error is None else (error["status"], error["code"])


def zoho_put(w: World, rid: int, fields: dict[str, Any]) -> Outcome:
    body = {"data": [{"id": str(rid), **{_ZOHO_NAMES[k]: v for k, v in fields.items()}}]}
    with w.zoho_client() as c:
        return _zoho_outcome(c.put("/zoho/crm/v7/Deals", json=body))


def zoho_put_one(w: World, rid: int, fields: dict[str, Any]) -> Outcome:
    body = {"data": [{_ZOHO_NAMES[k]: v for k, v in fields.items()}]}
    with w.zoho_client() as c:
        return _zoho_outcome(c.put(f"/zoho/crm/v7/Deals/{rid}", json=body))


def zoho_upsert(w: World, rid: int, fields: dict[str, Any]) -> Outcome:
    body = {"data": [{"id": str(rid), **{_ZOHO_NAMES[k]: v for k, v in fields.items()}}]}
    with w.zoho_client() as c:
        return _zoho_outcome(c.post("/zoho/crm/v7/Deals/upsert", json=body))


DealWriter = Callable[[World, int, dict[str, Any]], Outcome]
# channel -> (writer, its answer to a refused update of a deal in `processing`)
DEAL_CHANNELS: dict[str, tuple[DealWriter, Outcome]] = {
    "native PATCH": (lambda w, rid, f: native_patch(w, "zoho_deals", rid, f), (409, "RECORD_FROZEN")),
    "native bulk PATCH": (lambda w, rid, f: native_bulk(w, "zoho_deals", rid, f), (409, "RECORD_FROZEN")),
    "zoho PUT": (zoho_put, (400, f"RECORD_LOCKED: {NOT_APPROVED}")),
    "zoho PUT one": (zoho_put_one, (400, f"RECORD_LOCKED: {NOT_APPROVED}")),
    "zoho upsert": (zoho_upsert, (400, f"RECORD_LOCKED: {NOT_APPROVED}")),
}


def _deal(w: World, **more: Any) -> int:
    return w.create("zoho_deals", {"deal_name": f"Deal {next(_ids)}", "stage": "Qualification", **more})


# -- record states that refuse changes (zoho_deals: approval_state__s processing) -----------
@pytest.mark.parametrize("channel", list(DEAL_CHANNELS))
def test_processing_deal_refuses_updates_on_every_channel(world: World, channel: str) -> None:
    write, refused = DEAL_CHANNELS[channel]
    rid = _deal(world, approval_state__s="processing")
    assert write(world, rid, {"amount": 5}) == refused
    assert write(world, rid, {"amount": 5, "approval_state__s": "approved"}) == refused  # not with the state
    rec = world.get("zoho_deals", rid)
    assert rec["amount"] is None and rec["approval_state__s"] == "processing" and rec["version"] == 1
    # the state itself may change, and then the record takes any change again
    assert write(world, rid, {"approval_state__s": "approved"})[1] is None
    assert write(world, rid, {"amount": 5})[1] is None
    assert world.get("zoho_deals", rid)["amount"] == 5


@pytest.mark.parametrize("channel", list(DEAL_CHANNELS))
def test_deals_in_other_states_take_updates(world: World, channel: str) -> None:
    write, _refused = DEAL_CHANNELS[channel]
    for state in ("approved", "in_review", None):
        rid = _deal(world, **({"approval_state__s": state} if state else {}))
        assert write(world, rid, {"amount": 7}) == (200, None), state
        assert world.get("zoho_deals", rid)["amount"] == 7


def test_a_frozen_state_is_in_the_schema(world: World) -> None:
    with world.native() as c:
        body = c.get("/api/types/zoho_deals").json()
    assert body["frozen_states"] == [
        {"name": "processing", "field": "approval_state__s", "in": ["processing"], "refuse": ["update"],
         "allow": ["approval_state__s"], "message": NOT_APPROVED}
    ]  # fmt: skip
    with world.native() as c:
        r = c.patch(
            f"/api/records/zoho_deals/{_deal(world, approval_state__s='processing')}", json={"amount": 1}
        )
    assert r.status_code == 409 and r.json()["state"] == "processing" and r.json()["detail"] == NOT_APPROVED


# -- links to locked records (zoho_deals.listings: refuse_locked) ---------------------------
def _listing(w: World, status: str) -> int:
    return w.create("zoho_listings", {"name": f"Listing {next(_ids)}", "status": status})


def _link_native(w: World, rid: int, listing: int) -> Outcome:
    return native_patch(w, "zoho_deals", rid, {"listings": {"add": [{"interested_listings": listing}]}})


def _link_native_bulk(w: World, rid: int, listing: int) -> Outcome:
    return native_bulk(w, "zoho_deals", rid, {"listings": {"add": [{"interested_listings": listing}]}})


def _link_zoho(w: World, rid: int, listing: int) -> Outcome:
    body = {"data": [{"id": str(rid), "Listings": [{"Interested_Listings": {"id": str(listing)}}]}]}
    with w.zoho_client() as c:
        return _zoho_outcome(c.put("/zoho/crm/v7/Deals", json=body))


LINK_CHANNELS: dict[str, tuple[Callable[[World, int, int], Outcome], Outcome]] = {
    "native PATCH": (_link_native, (423, "LINKED_RECORD_LOCKED")),
    "native bulk PATCH": (_link_native_bulk, (423, "LINKED_RECORD_LOCKED")),
    "zoho PUT": (_link_zoho, (400, f"RECORD_LOCKED: {DEPENDENT_LOCKED}")),
}


@pytest.mark.parametrize("channel", list(LINK_CHANNELS))
def test_no_new_link_to_a_locked_listing_on_every_channel(world: World, channel: str) -> None:
    link, refused = LINK_CHANNELS[channel]
    offer, free = _listing(world, "Under Offer"), _listing(world, "Available")  # under offer: locked
    rid = _deal(world)
    assert link(world, rid, offer) == refused
    assert world.get("zoho_deals", rid)["listings"] == []
    assert link(world, rid, free) == (200, None)
    # a link the deal already has stays: the deal still changes after its listing is locked
    with world.native() as c:
        assert (
            c.patch(f"/api/records/zoho_listings/{free}", json={"status": "Under Offer"}).status_code == 200
        )
    assert native_patch(world, "zoho_deals", rid, {"deal_name": "renamed"}) == (200, None)
    assert zoho_put(world, rid, {"amount": 3}) == (200, None)
    assert [r["interested_listings"] for r in world.get("zoho_deals", rid)["listings"]] == [free]


def test_no_link_to_a_locked_listing_on_create(world: World) -> None:
    offer = _listing(world, "Under Offer")
    with world.native() as c:
        r = c.post("/api/records/zoho_deals", json={"deal_name": "D", "stage": "Qualification",
                                                    "listings": [{"interested_listings": offer}]})  # fmt: skip
    assert r.status_code == 423 and r.json()["code"] == "LINKED_RECORD_LOCKED"
    assert r.json()["errors"][0]["field"] == "listings"
    body = {
        "data": [
            {
                "Deal_Name": "D",
                "Stage": "Qualification",
                "Listings": [{"Interested_Listings": {"id": str(offer)}}],
            }
        ]
    }
    with world.zoho_client() as c:
        assert _zoho_outcome(c.post("/zoho/crm/v7/Deals", json=body)) == (
            400,
            f"RECORD_LOCKED: {DEPENDENT_LOCKED}",
        )


# -- soft delete with cascade, and the deleted state (mdm company / customer) ---------------
def _company(w: World, with_customer: bool = True) -> tuple[int, str, int | None]:
    pid = f"s{next(_ids)}"
    cust = w.create("customer", {"product_id": f"{pid}-c", "cust_name": "C"}) if with_customer else None
    body: dict[str, Any] = {"product_id": pid, "name": "Co"}
    if cust is not None:
        body["company_customer"] = [{"target": cust}]
    return w.create("company", body), pid, cust


def _delete_native(w: World, rid: int, pid: str, cascade: bool) -> int:
    with w.native() as c:
        return c.delete(
            f"/api/records/company/{rid}", params={"cascade": "true"} if cascade else {}
        ).status_code


def _delete_mdm(w: World, rid: int, pid: str, cascade: bool) -> int:
    with w.native() as c:
        params = {"deleteRelRecords": "true"} if cascade else {}
        return c.delete(f"/mdm/records/Company/{pid}", params=params).status_code


def _modify_native(w: World, rid: int, pid: str, fields: dict[str, Any]) -> int:
    return native_patch(w, "company", rid, fields)[0]


def _modify_mdm(w: World, rid: int, pid: str, fields: dict[str, Any]) -> int:
    record: dict[str, Any] = {"productId": pid}
    if "deleted" in fields:
        record["deleted"] = fields["deleted"]
    if "name" in fields:
        record["attributes"] = [{"name": "Name", "value": fields["name"]}]
    with w.native() as c:
        return c.put("/mdm/records/Company/modifyRecord", json={"record": record}).status_code


DELETERS = {"native DELETE": _delete_native, "mdm DELETE": _delete_mdm}
MODIFIERS = {"native PATCH": (_modify_native, 409), "mdm modifyRecord": (_modify_mdm, 400)}


@pytest.mark.parametrize("channel", list(DELETERS))
@pytest.mark.parametrize("cascade", [False, True], ids=["alone", "cascade"])
def test_delete_marks_deleted_and_cascades_on_every_channel(
    world: World, channel: str, cascade: bool
) -> None:
    rid, pid, cust = _company(world)
    assert cust is not None
    assert DELETERS[channel](world, rid, pid, cascade) == 200
    rec = world.get("company", rid)  # marked, not erased: it still reads, with deleted true
    assert rec["deleted"] is True and rec["version"] == 2
    assert bool(world.get("customer", cust)["deleted"]) is cascade
    assert DELETERS[channel](world, rid, pid, cascade) == 404  # already deleted
    with world.native() as c:
        listed = c.get("/api/records/company", params={"product_id": pid}).json()["items"]
        hidden = c.get("/api/records/company", params={"product_id": pid, "deleted": "false"}).json()["items"]
    assert [r["id"] for r in listed] == [rid] and hidden == []


@pytest.mark.parametrize("channel", list(MODIFIERS))
def test_a_deleted_record_refuses_updates_until_restored_on_every_channel(world: World, channel: str) -> None:
    modify, refused = MODIFIERS[channel]
    rid, pid, _cust = _company(world, with_customer=False)
    assert _delete_native(world, rid, pid, False) == 200
    assert modify(world, rid, pid, {"name": "X"}) == refused
    assert modify(world, rid, pid, {"deleted": True, "name": "X"}) == refused  # still deleted
    assert world.get("company", rid)["name"] == "Co"
    assert modify(world, rid, pid, {"deleted": False, "name": "Back"}) == 200  # restored, and changed
    rec = world.get("company", rid)
    assert rec["deleted"] is False and rec["name"] == "Back"
    assert modify(world, rid, pid, {"name": "Again"}) == 200


def test_runtime_repositories_soft_delete_too(world: World) -> None:
    definition = {"name": f"Vendor{next(_ids)}", "attributes": [{"name": "VendorName", "type": "text"}]}
    with world.native() as c:
        r = c.post("/mdm/repositories", json=definition)
        assert r.status_code == 201, r.text
        type_name = f"vendor{definition['name'][6:]}"
        rid = c.post(f"/api/records/{type_name}", json={"product_id": "v1"}).json()["id"]
        assert c.delete(f"/api/records/{type_name}/{rid}").status_code == 200
        assert c.get(f"/api/records/{type_name}/{rid}").json()["deleted"] is True
        assert c.patch(f"/api/records/{type_name}/{rid}", json={"vendor_name": "x"}).status_code == 409


# -- the schema refuses inconsistent definitions ----------------------------------------------
@pytest.mark.parametrize(
    "tdef",
    [
        {"frozen_states": [{"name": "x", "field": "nope", "in": [1]}]},
        {"frozen_states": [{"name": "x", "field": "flag", "in": []}]},
        {"frozen_states": [{"name": "x", "field": "flag", "in": [True], "refuse": ["read"]}]},
        {"frozen_states": [{"name": "x", "field": "flag", "in": [True], "allow": ["nope"]}]},
        {"frozen_states": [{"name": "x", "field": "flag", "in": [True], "when": []}]},
        {"frozen_states": [{"name": "x", "field": "stage", "in": ["nope"]}]},
        {"soft_delete": {"field": "title"}},
        {"soft_delete": {"field": "flag", "cascade": ["title"]}},
    ],
)
def test_bad_definitions_are_refused(tdef: dict[str, Any]) -> None:
    fields = [{"name": "flag", "type": "boolean"}, {"name": "title", "type": "text"},
              {"name": "stage", "type": "single_select", "options": ["a", "b"]}]  # fmt: skip
    with pytest.raises(SchemaError):
        parse_pack("p", {"types": {"t": {"fields": fields, **tdef}}})


# -- a state that refuses deletes too, through the engine ------------------------------------
def test_a_state_may_refuse_deletes(svc: Services) -> None:
    from cardfile.engine.commands import Context, CreateCommand, DeleteCommand, FieldOp, UpdateCommand
    from cardfile.errors import RecordFrozen

    pack = parse_pack("tickets", {"types": {"ticket": {
        "fields": [{"name": "title", "type": "text"},
                   {"name": "status", "type": "single_select", "options": ["open", "closed"]}],
        "frozen_states": [{"name": "closed", "field": "status", "in": ["closed"], "allow": ["status"],
                           "refuse": ["update", "delete"]}],
    }}})  # fmt: skip
    svc.catalog.install([pack])
    ctx = Context("tester")
    rid = svc.engine.create(CreateCommand("ticket", (FieldOp("title", "set", "T"),)), ctx).id
    svc.engine.update(UpdateCommand("ticket", rid, (FieldOp("status", "set", "closed"),)), ctx)
    with pytest.raises(RecordFrozen) as refused:
        svc.engine.update(UpdateCommand("ticket", rid, (FieldOp("title", "set", "U"),)), ctx)
    assert refused.value.extra["state"] == "closed" and refused.value.status == 409
    with pytest.raises(RecordFrozen):
        svc.engine.delete(DeleteCommand("ticket", rid), ctx)
    assert svc.engine.get("ticket", rid)["title"] == "T"
    svc.engine.update(UpdateCommand("ticket", rid, (FieldOp("status", "set", "open"),)), ctx)
    assert svc.engine.delete(DeleteCommand("ticket", rid), ctx).deleted
