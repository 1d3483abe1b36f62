"""Drift table for field defaults and mirrored fields (issue #15, part 1).

Each rule is declared once in a pack and applied by the engine, so a record created (or
changed) through the native API and through every dialect that can express the write
ends up the same. Real HTTP against a live server with the tracker, zoho and mdm packs,
on SQLite and PostgreSQL (``postgres`` marker).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from cardfile.auth.apikeys import create_key
from cardfile.auth.users import add_user
from cardfile.engine.commands import Context, CreateCommand, FieldOp
from cardfile.engine.defaults import check_derived
from cardfile.schema.defaults import FieldDefault
from cardfile.schema.model import FieldDef, RecordType, SchemaError
from cardfile.services import Services, open_services
from tests.conftest import start_live
from tests.integration.test_tracker_v1_world import BACKENDS, PASSWORD, _settings

_n = itertools.count(1)
SETUP = Context("setup")


@dataclass
class Env:
    url: str
    svc: Services
    key: str  # an API key: no user behind it
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def http(self, prefix: str = "", *, user: str | None = "ada", scheme: str = "Bearer") -> httpx.Client:
        token = self.tokens[user] if user else self.key
        return httpx.Client(
            base_url=self.url + prefix, headers={"Authorization": f"{scheme} {token}"}, timeout=30
        )

    def create(self, type_name: str, **values: Any) -> int:
        ops = tuple(FieldOp(k, "set", v) for k, v in values.items())
        return self.svc.engine.create(CreateCommand(type_name, ops), SETUP).id

    def native(self, type_name: str, rid: int) -> dict[str, Any]:
        with self.http(user=None) as c:
            r = c.get(f"/api/records/{type_name}/{rid}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def find(self, type_name: str, **filters: Any) -> dict[str, Any]:
        with self.http(user=None) as c:
            r = c.get(f"/api/records/{type_name}", params=filters)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert len(items) == 1, items
        return dict(items[0])


@pytest.fixture(scope="module", params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    settings, drop = _settings(request, tmp_path_factory.mktemp("defaults"), str(request.param))
    svc = open_services(replace(settings, packs=("tracker", "zoho", "mdm")))
    server, thread, url = start_live(svc)
    e = Env(url=url, svc=svc, key=create_key(svc.db, "defaults-tests"))
    with svc.db.write() as conn:
        for name in ("ada", "bob"):
            e.ids[name] = add_user(conn, f"{name}@example.com", role="admin", password=PASSWORD).id
            e.tokens[name] = svc.auth.tokens.issue(
                conn, subject=f"user:{e.ids[name]}", scopes="records.ALL metadata.READ"
            )[0]
    try:
        yield e
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        svc.close()
        if drop is not None:
            drop()


def tracker(c: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    return c.request(method, path, content=json.dumps(body), headers={"Content-Type": "application/json"})


def created(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


# -- a literal: an MDM record starts UNCONFIRMED -----------------------------------------------


def _company_native(e: Env, pid: str, extra: dict[str, Any], dry: bool = False) -> dict[str, Any]:
    with e.http() as c:
        body = {"product_id": pid, "product_id_ext": pid, "name": "Acme", **extra}
        r = c.post("/api/records/company", json=body, params={"validate_only": "true"} if dry else None)
    out = created(r)
    return out["record"] if dry else e.native("company", out["id"])


def _company_mdm(e: Env, pid: str, extra: dict[str, Any], dry: bool = False) -> dict[str, Any]:
    record = {
        "productId": pid,
        "productIdExt": pid,
        "attributes": [{"name": "Name", "value": "Acme"}],
        **extra,
    }
    with e.http() as c:
        r = c.post("/mdm/records/Company/addRecord", json={"record": record, "process": False})
    assert r.status_code == 200 and r.json()["success"] is True, r.text
    return e.find("company", product_id=pid)


@pytest.mark.parametrize(
    "channel", [_company_native, _company_mdm, lambda e, p, x: _company_native(e, p, x, dry=True)],
    ids=["native", "mdm", "native-validate-only"],
)  # fmt: skip
def test_a_literal_default_lands_on_every_channel(env: Env, channel: Callable[..., dict[str, Any]]) -> None:
    assert channel(env, f"lit{next(_n)}", {})["state"] == "UNCONFIRMED"
    assert channel(env, f"lit{next(_n)}", {"state": "DRAFT"})["state"] == "DRAFT"  # a given value wins


# -- the acting user: Zoho's "the caller owns what they add", Tracker's added-by ------------------


def _lead_native(e: Env, user: str | None) -> dict[str, Any]:
    with e.http(user=user) as c:
        out = created(c.post("/api/records/zoho_leads", json={"last_name": f"L{next(_n)}"}))
    return e.native("zoho_leads", out["id"])


def _lead_native_upsert(e: Env, user: str | None) -> dict[str, Any]:
    body = {"match_on": "email", "records": [{"email": f"u{next(_n)}@example.com", "last_name": "U"}]}
    with e.http(user=user) as c:
        item = created(c.post("/api/records/zoho_leads/upsert", json=body))["results"][0]
    assert item["action"] == "created", item
    return e.native("zoho_leads", item["id"])


def _lead_zoho(e: Env, user: str | None, *, upsert: bool = False) -> dict[str, Any]:
    rec = {"Last_Name": f"Z{next(_n)}", "Email": f"z{next(_n)}@example.com"}
    path = "/zoho/crm/v7/Leads" + ("/upsert" if upsert else "")
    with e.http(user=user, scheme="Zoho-oauthtoken") as c:
        r = c.post(path, json={"data": [rec]})
    assert r.status_code in (200, 201), r.text
    return e.native("zoho_leads", int(r.json()["data"][0]["details"]["id"]))


CREATOR_CHANNELS: dict[str, Callable[[Env, str | None], dict[str, Any]]] = {
    "native": _lead_native,
    "native-upsert": _lead_native_upsert,
    "zoho-insert": _lead_zoho,
    "zoho-upsert": lambda e, u: _lead_zoho(e, u, upsert=True),
}


@pytest.mark.parametrize("channel", list(CREATOR_CHANNELS))
def test_the_creator_owns_what_they_add_on_every_channel(env: Env, channel: str) -> None:
    assert CREATOR_CHANNELS[channel](env, "ada")["owner"] == env.ids["ada"]
    assert CREATOR_CHANNELS[channel](env, "bob")["owner"] == env.ids["bob"]


def test_the_creator_default_yields_to_a_given_owner_and_needs_a_user(env: Env) -> None:
    with env.http() as c:
        out = created(c.post("/api/records/zoho_leads", json={"last_name": "G", "owner": env.ids["bob"]}))
    assert out["record"]["owner"] == env.ids["bob"]
    with env.http(user=None) as c:  # an API key has no user: nobody to default to
        out = created(c.post("/api/records/zoho_leads", json={"last_name": "K"}))
    assert out["record"]["owner"] is None


def _opportunity(e: Env) -> tuple[int, int, int]:
    """(opportunity, resource, client); the opportunity has the client and a contact."""
    client = e.create("client", name=f"Client {next(_n)}")
    contact = e.create("contact", surname=f"Contact {next(_n)}", client=client)
    opp = e.create("opportunity", name=f"Opp {next(_n)}", client=client, contact=contact)
    res = e.create("resource", surname=f"Res {next(_n)}")
    return opp, res, client


def test_the_longlist_entry_records_who_added_it_on_every_channel(env: Env) -> None:
    opp, res, _ = _opportunity(env)
    with env.http() as c:
        native = created(
            c.post("/api/records/opportunity_longlist", json={"opportunity": opp, "resource": res})
        )
    opp2, res2, _ = _opportunity(env)
    with env.http("/tracker") as c:
        out = created(
            tracker(c, "POST", "/api/v1/Opportunity/Longlist", {"resourceId": res2, "opportunityId": opp2})
        )
    assert native["record"]["added_by"] == env.ids["ada"]
    assert env.native("opportunity_longlist", out["id"])["added_by"] == env.ids["ada"]


# -- a value copied from a linked record: a shortlist entry takes its opportunity's client ---------


def _entry_native(e: Env, opp: int, res: int) -> int:
    with e.http() as c:
        return int(
            created(c.post("/api/records/opportunity_resource", json={"opportunity": opp, "resource": res}))[
                "id"
            ]
        )


def _entry_tracker(e: Env, opp: int, res: int) -> int:
    with e.http("/tracker") as c:
        r = tracker(c, "POST", "/api/v1/OpportunityResource", {"resourceId": res, "opportunityIds": [opp]})
    return int(created(r)["opportunityResourceId"])


@pytest.mark.parametrize("channel", [_entry_native, _entry_tracker], ids=["native", "tracker-v1"])
def test_a_shortlist_entry_takes_its_opportunitys_client_and_contact(
    env: Env, channel: Callable[[Env, int, int], int]
) -> None:
    opp, res, client = _opportunity(env)
    entry = env.native("opportunity_resource", channel(env, opp, res))
    source = env.native("opportunity", opp)
    assert (entry["client"], entry["contact"]) == (client, source["contact"]) and entry["contact"] is not None


def test_a_copied_default_yields_to_a_given_value_and_skips_a_missing_link(env: Env) -> None:
    opp, res, _ = _opportunity(env)
    other = env.create("client", name="Other")
    with env.http() as c:
        given = created(c.post("/api/records/opportunity_resource",
                               json={"opportunity": opp, "resource": res, "client": other}))["record"]  # fmt: skip
        bare = created(c.post("/api/records/opportunity_resource", json={"resource": res}))["record"]
        bad = c.post("/api/records/opportunity_resource", json={"resource": res, "opportunity": 999_999})
    assert given["client"] == other and given["contact"] is not None
    assert bare["client"] is None and bare["contact"] is None
    assert bad.status_code == 422 and "RECORD_NOT_FOUND" in bad.text  # the link is refused, not the copy


# -- a mirror: Tracker's owner is the first-ranked of owners, after every write ----------------------


def _client_native(e: Env, owners: list[int]) -> int:
    with e.http() as c:
        rows = [{"user": u, "rank": i + 1} for i, u in enumerate(owners)]
        return int(
            created(c.post("/api/records/client", json={"name": f"N{next(_n)}", "owners": rows}))["id"]
        )


def _client_tracker(e: Env, owners: list[int]) -> int:
    with e.http("/tracker") as c:
        rows = [{"ownerId": u, "rank": i + 1} for i, u in enumerate(owners)]
        return int(
            created(tracker(c, "POST", "/api/v1/Client", {"name": f"T{next(_n)}", "owners": rows}))["id"]
        )


def _owners_native(e: Env, rid: int, owners: list[int]) -> None:
    with e.http() as c:
        rows = [{"user": u, "rank": i + 1} for i, u in enumerate(owners)]
        assert c.patch(f"/api/records/client/{rid}", json={"owners": rows or None}).status_code == 200


def _owners_tracker(e: Env, rid: int, owners: list[int]) -> None:
    with e.http("/tracker") as c:
        rows = [{"ownerId": u, "rank": i + 1} for i, u in enumerate(owners)]
        r = tracker(c, "PATCH", f"/api/v1/Client/{rid}", {"owners": rows or None})
    assert r.status_code in (200, 204), r.text


def _other_widget(e: Env, rid: int, owners: list[int]) -> None:
    """The widget cannot write owners; a change of another field leaves the mirror in step."""
    body = {"trackerrms": {"updateRecord": {"credentials": {"oauthtoken": e.tokens["ada"]},
            "instructions": {"recordtype": "C", "recordid": rid},
            "updates": [{"column": "website", "value": f"https://w{next(_n)}.example"}]}}}  # fmt: skip
    with httpx.Client(base_url=e.url, timeout=30) as c:
        r = c.post("/tracker/api/widget/updateRecord", json=body)
    assert r.status_code == 200 and r.json()["status"] == 0, r.text


CREATES = {"native": _client_native, "tracker-v1": _client_tracker}
UPDATES = {"native": _owners_native, "tracker-v1": _owners_tracker}


@pytest.mark.parametrize("create", list(CREATES))
@pytest.mark.parametrize("update", list(UPDATES))
def test_owner_mirrors_the_first_of_owners_through_every_channel(env: Env, create: str, update: str) -> None:
    ada, bob = env.ids["ada"], env.ids["bob"]
    rid = CREATES[create](env, [ada, bob])
    assert env.native("client", rid)["owner"] == ada
    UPDATES[update](env, rid, [bob, ada])
    assert env.native("client", rid)["owner"] == bob
    _other_widget(env, rid, [])
    assert env.native("client", rid)["owner"] == bob
    UPDATES[update](env, rid, [])
    got = env.native("client", rid)
    assert got["owners"] == [] and got["owner"] is None


def test_a_write_of_owner_alone_is_left_as_it_is(env: Env) -> None:
    rid = _client_native(env, [])
    with env.http() as c:
        r = c.patch(f"/api/records/client/{rid}", json={"owner": env.ids["bob"]})
    assert r.status_code == 200 and r.json()["record"]["owner"] == env.ids["bob"]


# -- the schema: forms, round trip, refusals ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("UNCONFIRMED", FieldDefault(value="UNCONFIRMED")),
        (0, FieldDefault(value=0)),
        ({"value": {"amount": 1, "currency": "USD"}}, FieldDefault(value={"amount": 1, "currency": "USD"})),
        ({"from": "creator"}, FieldDefault(source="creator")),
        ({"from": "opportunity.client"}, FieldDefault(source="opportunity.client")),
        (None, None),
    ],
)
def test_default_forms_round_trip(raw: Any, expected: FieldDefault | None) -> None:
    fd = FieldDef.from_json({"name": "f", "type": "text", "default": raw})
    assert fd.default == expected
    again = FieldDef.from_json(fd.to_json())  # as the catalog stores and reloads it
    assert again.default == expected and again.to_json() == fd.to_json()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "f", "type": "text", "default": {"from": "nobody"}},
        {"name": "f", "type": "text", "default": {"value": 1, "from": "creator"}},
        {"name": "f", "type": "text", "mirror": "a.b.c"},
    ],
)
def test_malformed_defaults_are_schema_errors(data: dict[str, Any]) -> None:
    with pytest.raises(SchemaError):
        FieldDef.from_json(data)


@pytest.mark.parametrize(
    "fields",
    [
        [{"name": "f", "type": "text", "default": {"from": "creator"}}],  # creator needs a user field
        [{"name": "f", "type": "single_select", "options": ["a"], "default": "b"}],  # not an option
        [{"name": "f", "type": "text", "default": {"from": "g.name"}}, {"name": "g", "type": "text"}],
        [{"name": "o", "type": "user", "mirror": "x"}],  # no such field
        [{"name": "o", "type": "user", "mirror": "u"}, {"name": "u", "type": "user"}],  # u holds one value
        [{"name": "o", "type": "multi_user", "mirror": "u"}, {"name": "u", "type": "multi_user"}],
    ],
)
def test_unusable_defaults_and_mirrors_are_refused(fields: list[dict[str, Any]]) -> None:
    fds = {f["name"]: FieldDef.from_json(f) for f in fields}
    with pytest.raises(SchemaError):
        check_derived(RecordType("t", fields=fds))


def test_a_runtime_field_with_a_bad_default_is_refused(env: Env) -> None:
    with env.http(user=None) as c:
        r = c.post("/api/types/client/fields", json={"name": "cf_900", "type": "integer", "default": "x"})
        ok = c.post("/api/types/client/fields", json={"name": "cf_901", "type": "integer", "default": 7})
    assert r.status_code == 422 and "INVALID_FIELD" in r.text
    assert ok.status_code == 201, ok.text
    assert env.native("client", _client_native(env, []))["cf_901"] == 7
