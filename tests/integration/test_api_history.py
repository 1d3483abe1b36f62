"""History and outbox through every write path; revert."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.integration.test_api_support import (
    Cases,
    assert_problem,
    history_rows,
    outbox_rows,
    stored,
)

EVENTS = {"create": "record.created", "update": "record.updated", "delete": "record.deleted"}


def _history(api: httpx.Client, type_name: str, rid: int, **params: Any) -> list[dict[str, Any]]:
    r = api.get(f"/api/records/{type_name}/{rid}/history", params=params)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def _changes(entry: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c["field"]: (c["old"], c["new"]) for c in entry["changes"]}


def _assert_history_and_outbox_agree(live: LiveServer, type_name: str, rid: int) -> None:
    """One outbox event per history row: same version, same op, same changes, same time."""
    hist = history_rows(live.services, type_name, rid)
    out = outbox_rows(live.services, type_name, rid)
    assert len(out) == len(hist)
    for h, o in zip(hist, out, strict=True):
        assert (o.version, o.event_type, o.created_at) == (h.version, EVENTS[h.op], h.at)
        assert o.status == "pending"
        p = o.payload
        assert (p["record_id"], p["record_type"], p["version"], p["actor"], p["channel"]) == (
            rid, type_name, h.version, h.actor, h.channel,
        )  # fmt: skip
        assert p["changes"] == h.changes


def test_every_write_path_is_in_history(live: LiveServer, api: httpx.Client) -> None:
    # create
    r = api.post(
        "/api/records/contacts", json={"last_name": "Hopper", "email": "grace@example.com", "score": 1}
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    # PATCH
    assert api.patch(f"/api/records/contacts/{rid}", json={"score": 2, "tags": ["vip"]}).status_code == 200
    # bulk
    r = api.patch("/api/records/contacts", json={"records": [{"id": rid, "status": "customer"}]})
    assert r.status_code == 200 and r.json()["results"][0]["ok"], r.text
    # upsert
    r = api.post(
        "/api/records/contacts/upsert",
        json={"match_on": "email", "records": [{"email": "grace@example.com", "title": "Admiral"}]},
    )
    assert r.status_code == 200 and r.json()["results"][0]["action"] == "updated", r.text
    # revert
    r = api.post(f"/api/records/contacts/{rid}/revert", json={"version": 2})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 5
    # delete
    assert api.delete(f"/api/records/contacts/{rid}").status_code == 200

    items = _history(api, "contacts", rid)  # a deleted record keeps its history
    assert [(e["version"], e["op"]) for e in items] == [
        (6, "delete"), (5, "update"), (4, "update"), (3, "update"), (2, "update"), (1, "create"),
    ]  # fmt: skip
    assert {(e["actor"], e["channel"]) for e in items} == {("tester", "api")}
    by_version = {e["version"]: e for e in items}
    assert _changes(by_version[1]) == {
        "last_name": (None, "Hopper"),
        "email": (None, "grace@example.com"),
        "score": (None, 1),
    }
    assert _changes(by_version[2]) == {"score": (1, 2), "tags": ([], ["vip"])}
    assert _changes(by_version[3]) == {"status": (None, "customer")}
    assert _changes(by_version[4]) == {"title": (None, "Admiral")}
    assert _changes(by_version[5]) == {"status": ("customer", None), "title": ("Admiral", None)}
    assert by_version[5]["reason"] == "revert to version 2"
    assert _changes(by_version[6]) == {
        "last_name": ("Hopper", None),
        "email": ("grace@example.com", None),
        "score": (2, None),
        "tags": (["vip"], []),
    }
    assert all(e["at"].endswith("Z") for e in items)
    assert [e["at"] for e in items] == sorted((e["at"] for e in items), reverse=True)

    s = stored(live.services, "contacts", rid)
    assert (s.exists, s.history, s.outbox) == (False, 6, 6)
    _assert_history_and_outbox_agree(live, "contacts", rid)


def test_upsert_create_is_in_history(live: LiveServer, api: httpx.Client) -> None:
    r = api.post(
        "/api/records/contacts/upsert",
        json={"match_on": "email", "records": [{"email": "ada@example.com", "last_name": "Lovelace"}]},
    )
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["action"] == "created"
    [entry] = _history(api, "contacts", result["id"])
    assert (entry["version"], entry["op"], entry["actor"], entry["channel"]) == (1, "create", "tester", "api")
    assert _changes(entry) == {"email": (None, "ada@example.com"), "last_name": (None, "Lovelace")}
    _assert_history_and_outbox_agree(live, "contacts", result["id"])


def test_revert_response(live: LiveServer, api: httpx.Client) -> None:
    rid = api.post("/api/records/contacts", json={"last_name": "A", "score": 1}).json()["id"]
    api.patch(f"/api/records/contacts/{rid}", json={"score": 2})
    r = api.post(
        f"/api/records/contacts/{rid}/revert", json={"version": 1}, headers={"X-Change-Reason": "oops"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["version"], body["committed"], body["created"]) == (3, True, False)
    assert body["changes"] == [{"field": "score", "old": 2, "new": 1}]
    assert body["record"]["score"] == 1
    assert r.headers["etag"] == '"3"'
    assert _history(api, "contacts", rid)[0]["reason"] == "oops"
    _assert_history_and_outbox_agree(live, "contacts", rid)


def test_revert_to_version_one_restores_every_field(live: LiveServer, api: httpx.Client) -> None:
    v1 = {
        "last_name": "Hopper",
        "first_name": "Grace",
        "email": "grace@example.com",
        "score": 1,
        "revenue": "10.25",
        "birthday": "1906-12-09",
        "status": "lead",
        "tags": ["vip", "newsletter"],
    }
    r = api.post("/api/records/contacts", json=v1)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    original = r.json()["record"]
    for patch in (
        {"score": 2, "tags": {"add": ["trial"], "remove": ["vip"]}, "status": "customer", "title": "Admiral"},
        {
            "last_name": "Murray",
            "first_name": None,
            "email": "gm@example.com",
            "revenue": 99,
            "birthday": None,
        },
        {"tags": None, "notes": "line 1\nline 2", "phone": "+14155552671"},
    ):
        assert api.patch(f"/api/records/contacts/{rid}", json=patch).status_code == 200

    r = api.post(f"/api/records/contacts/{rid}/revert", json={"version": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 5
    fields = [
        k
        for k in original
        if k not in ("id", "version", "created_at", "created_by", "modified_at", "modified_by")
    ]
    got = api.get(f"/api/records/contacts/{rid}").json()
    assert {k: got[k] for k in fields} == {k: original[k] for k in fields}
    assert got["version"] == 5 and got["created_at"] == original["created_at"]
    assert {c["field"] for c in body["changes"]} == {
        "last_name", "first_name", "email", "score", "revenue", "birthday", "status", "tags", "title", "notes", "phone",
    }  # fmt: skip
    entry = _history(api, "contacts", rid)[0]
    assert (entry["version"], entry["op"], entry["actor"], entry["channel"]) == (5, "update", "tester", "api")
    assert _changes(entry)["email"] == ("gm@example.com", "grace@example.com")
    # the unique value came back with the revert: the old email is taken again, the newer one free
    assert_problem(
        api.post("/api/records/contacts", json={"last_name": "X", "email": "grace@example.com"}),
        409,
        "DUPLICATE_VALUE",
    )
    assert (
        api.post("/api/records/contacts", json={"last_name": "X", "email": "gm@example.com"}).status_code
        == 201
    )
    _assert_history_and_outbox_agree(live, "contacts", rid)


def test_revert_deal_with_keyed_text_sub_records_and_links(live: LiveServer, api: httpx.Client) -> None:
    acme = api.post("/api/records/companies", json={"name": "Acme"}).json()["id"]
    globex = api.post("/api/records/companies", json={"name": "Globex"}).json()["id"]
    r = api.post(
        "/api/records/deals",
        json={
            "name": "Deal",
            "company": acme,
            "amount": {"currency": "EUR", "value": 1000},
            "links": {"proposal": "p-1"},
            "line_items": [{"product": "Widget", "quantity": 2}, {"product": "Gadget", "quantity": 1}],
        },
    )
    assert r.status_code == 201, r.text
    did, original = r.json()["id"], r.json()["record"]
    for patch in (
        {"links.contract": "c-1", "links.proposal": "p-2", "company": globex, "amount": 5},
        {"line_items": {"update": [{"id": 1, "quantity": 9}], "remove": [2], "add": [{"product": "Gizmo"}]}},
        {"links": None},
    ):
        r = api.patch(f"/api/records/deals/{did}", json=patch)
        assert r.status_code == 200, r.text

    r = api.post(f"/api/records/deals/{did}/revert", json={"version": 1})
    assert r.status_code == 200, r.text
    got = api.get(f"/api/records/deals/{did}").json()
    for name in ("name", "company", "amount", "links"):
        assert got[name] == original[name], name
    assert got["version"] == 5
    # row 1 still existed: it is restored under its id; row 2 was deleted and row ids are
    # never reused, so it comes back as a new row with the next id (4), in its old place
    assert original["line_items"] == [
        {"id": 1, "product": "Widget", "quantity": 2, "unit_price": None},
        {"id": 2, "product": "Gadget", "quantity": 1, "unit_price": None},
    ]
    assert got["line_items"] == [
        {"id": 1, "product": "Widget", "quantity": 2, "unit_price": None},
        {"id": 4, "product": "Gadget", "quantity": 1, "unit_price": None},
    ]
    # keyed text is restored whole: a key added since goes away again
    assert api.patch(f"/api/records/deals/{did}", json={"links.contract": "c-9"}).status_code == 200
    r = api.post(f"/api/records/deals/{did}/revert", json={"version": 5})
    assert r.status_code == 200, r.text
    assert r.json()["record"]["links"] == {"proposal": "p-1"}
    # a later revert of a sub-record change works the same way
    r = api.post(f"/api/records/deals/{did}/revert", json={"version": 3})
    assert r.status_code == 200, r.text
    assert [(x["id"], x["product"], x["quantity"]) for x in r.json()["record"]["line_items"]] == [
        (1, "Widget", 9), (5, "Gizmo", None),
    ]  # fmt: skip
    _assert_history_and_outbox_agree(live, "deals", did)


def test_revert_bad_version(live: LiveServer, api: httpx.Client) -> None:
    rid = api.post("/api/records/contacts", json={"last_name": "A", "score": 1}).json()["id"]
    api.patch(f"/api/records/contacts/{rid}", json={"score": 2})
    before = stored(live.services, "contacts", rid)
    cases = Cases()
    for body in (
        {"version": 0},
        {"version": -1},
        {"version": 2},
        {"version": 3},
        {"version": "1"},
        {"version": True},
        {},
    ):
        with cases.case(body):
            problem = assert_problem(
                api.post(f"/api/records/contacts/{rid}/revert", json=body), 400, "BAD_REQUEST"
            )
            assert "version" in problem["detail"]
    cases.check()
    assert stored(live.services, "contacts", rid) == before


def test_revert_that_would_break_a_rule_is_refused(live: LiveServer, api: httpx.Client) -> None:
    """Reverting is an ordinary update: a unique value taken since is a conflict, not a silent copy."""
    a = api.post("/api/records/contacts", json={"last_name": "A", "email": "a@example.com"}).json()["id"]
    api.patch(f"/api/records/contacts/{a}", json={"email": "a2@example.com"})
    b = api.post("/api/records/contacts", json={"last_name": "B", "email": "a@example.com"}).json()["id"]
    before = stored(live.services, "contacts", a)
    assert_problem(api.post(f"/api/records/contacts/{a}/revert", json={"version": 1}), 409, "DUPLICATE_VALUE")
    assert stored(live.services, "contacts", a) == before
    assert api.get(f"/api/records/contacts/{b}").json()["email"] == "a@example.com"


def test_history_paging(api: httpx.Client) -> None:
    rid = api.post("/api/records/contacts", json={"last_name": "A", "score": 0}).json()["id"]
    for i in range(1, 6):
        api.patch(f"/api/records/contacts/{rid}", json={"score": i})
    assert [e["version"] for e in _history(api, "contacts", rid)] == [6, 5, 4, 3, 2, 1]
    assert [e["version"] for e in _history(api, "contacts", rid, limit=2)] == [6, 5]
    assert [e["version"] for e in _history(api, "contacts", rid, limit=2, before=5)] == [4, 3]
    assert _history(api, "contacts", rid, before=1) == []
    assert_problem(api.get(f"/api/records/contacts/{rid}/history", params={"limit": 0}), 400, "BAD_REQUEST")


def test_failed_and_noop_writes_leave_no_history(live: LiveServer, api: httpx.Client) -> None:
    rid = api.post("/api/records/contacts", json={"last_name": "A", "score": 1}).json()["id"]
    api.patch(f"/api/records/contacts/{rid}", json={"score": 1})  # no-op
    api.patch(f"/api/records/contacts/{rid}", json={"score": "x"})  # invalid
    api.patch(f"/api/records/contacts/{rid}", json={"score": 5}, headers={"If-Match": '"9"'})  # stale
    api.patch(f"/api/records/contacts/{rid}", params={"validate_only": "true"}, json={"score": 5})  # dry run
    api.patch("/api/records/contacts", json={"records": [{"id": rid, "score": 5}, {"id": rid, "bogus": 1}]})
    assert [e["version"] for e in _history(api, "contacts", rid)] == [1]
    s = stored(live.services, "contacts", rid)
    assert (s.version, s.history, s.outbox) == (1, 1, 1)
