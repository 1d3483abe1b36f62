"""One typed query and one upsert command for every channel (issue #15, part 7).

The engine's ``Query`` (conditions, sort, cursor or numbered page, term, fields, total,
visibility) and ``UpsertCommand`` (several match fields, created vs updated, per-record
and all-or-none), then the drift table: page N asked once through the native API and each
dialect that pages by number gives the same records, and an upsert through the native API
and Zoho matches, creates and updates alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from cardfile.auth.apikeys import create_key
from cardfile.auth.principal import Principal
from cardfile.auth.users import add_user
from cardfile.engine.commands import Context, CreateCommand, FieldOp
from cardfile.engine.query import Condition, Query, all_records
from cardfile.engine.upsert import UpsertCommand, UpsertItem
from cardfile.errors import BatchFailed, CardfileError, ValidationFailed
from cardfile.schema.model import FieldDef, RecordType
from cardfile.services import Services, open_services
from cardfile.settings import Settings
from tests.conftest import start_live

SYSTEM = Context("tester")
PEOPLE = [
    ("Hopper", "grace@example.com", 12, ["vip"]),
    ("Lovelace", "ada@example.com", 3, []),
    ("Turing", "alan@example.com", 25, ["trial"]),
    ("Curie", None, None, ["vip", "smb"]),
    ("Noether", "emmy@example.com", -1, []),
    ("Oppenheimer", None, 10, ["vip"]),
    ("Hamilton", "margaret@example.com", 7, ["smb"]),
]


def _ops(**fields: Any) -> tuple[FieldOp, ...]:
    return tuple(FieldOp(k, "set", v) if v is not None else FieldOp(k, "clear") for k, v in fields.items())


@pytest.fixture
def people(svc: Services) -> dict[str, int]:
    ids = {}
    for last, email, score, tags in PEOPLE:
        ops = (*_ops(last_name=last, email=email, score=score), FieldOp("tags", "replace", tags))
        ids[last] = svc.engine.create(_create("contacts", ops), SYSTEM).id
    return ids


def _create(type_name: str, ops: tuple[FieldOp, ...]) -> CreateCommand:
    return CreateCommand(type_name, ops)


def _names(svc: Services, q: Query, principal: Principal | None = None) -> list[str]:
    return [r["last_name"] for r in svc.engine.query(q, principal=principal).items]


# -- the query -------------------------------------------------------------------------------------
QUERIES: list[tuple[Query, list[str]]] = [
    (Query("contacts", (Condition("score", "gte", 10),)), ["Hopper", "Turing", "Oppenheimer"]),
    (Query("contacts", (Condition("score", "in", [3, 25]),)), ["Lovelace", "Turing"]),
    (Query("contacts", (Condition("email", "isnull", True),)), ["Curie", "Oppenheimer"]),
    (Query("contacts", (Condition("tags", "any", ["trial", "smb"]),)), ["Turing", "Curie", "Hamilton"]),
    (Query("contacts", (Condition("tags", "contains", "vip"), Condition("score", "lt", 11))), ["Oppenheimer"]),
    (Query("contacts", (Condition("last_name", "ieq", "TURING"),)), ["Turing"]),
    (Query("contacts", (Condition("last_name", "contains", "ha"),)), ["Hamilton"]),
    (Query("contacts", sort="score", descending=True, page_size=3), ["Turing", "Hopper", "Oppenheimer"]),
    (Query("contacts", sort="score", page_size=3), ["Curie", "Noether", "Lovelace"]),
    (Query("contacts", sort="last_name", page=2, page_size=2), ["Hopper", "Lovelace"]),
    (Query("contacts", term="grace"), ["Hopper"]),
    (Query("contacts", term="   "), [p[0] for p in PEOPLE]),
    (Query("contacts", (Condition("score", "gt", 0),), term="a"), ["Lovelace", "Turing"]),
    (Query("contacts", (Condition("id", "lt", 0),)), []),
]  # fmt: skip


@pytest.mark.parametrize(("q", "expected"), QUERIES, ids=[str(i) for i in range(len(QUERIES))])
def test_query_conditions_sort_and_term(
    svc: Services, people: dict[str, int], q: Query, expected: list[str]
) -> None:
    assert _names(svc, q) == expected


def test_cursor_pages_and_numbered_pages_agree(svc: Services, people: dict[str, int]) -> None:
    for sort, desc in ((None, False), (None, True), ("score", False), ("score", True), ("last_name", True),
                       ("modified_at", False)):  # fmt: skip
        walked: list[list[int]] = []
        q = Query("contacts", sort=sort, descending=desc, page_size=2)
        while True:
            page = svc.engine.query(q)
            walked.append([r["id"] for r in page.items])
            if page.next_cursor is None:
                assert page.more is False
                break
            assert page.more is True
            q = replace(q, cursor=page.next_cursor)
        assert [len(p) for p in walked] == [2, 2, 2, 1]
        for n, expected in enumerate(walked, start=1):
            page = svc.engine.query(Query("contacts", sort=sort, descending=desc, page=n, page_size=2))
            assert [r["id"] for r in page.items] == expected, (sort, desc, n)
            assert page.more is (n < 4) and page.next_cursor is None and page.page == n
        past = svc.engine.query(Query("contacts", sort=sort, descending=desc, page=5, page_size=2))
        assert (past.items, past.more) == ([], False)


def test_total_fields_and_all_records(svc: Services, people: dict[str, int]) -> None:
    page = svc.engine.query(
        Query("contacts", (Condition("tags", "contains", "vip"),), page=2, page_size=2, with_total=True,
              fields=("last_name",))
    )  # fmt: skip
    assert page.total == 3
    assert [set(r) for r in page.items] == [
        {"id", "version", "created_at", "created_by", "modified_at", "modified_by", "last_name"}
    ]
    assert page.items[0]["last_name"] == "Oppenheimer"
    assert svc.engine.query(Query("contacts", term="zzz", with_total=True)).total == 0
    with svc.db.read() as conn:
        got = list(all_records(conn, svc.catalog, Query("contacts", page=3, page_size=1)))
    assert [r["last_name"] for r in got] == [p[0] for p in PEOPLE]


BAD_QUERIES: list[tuple[Query, set[tuple[str, str]]]] = [
    (Query("contacts", (Condition("nickname", "eq", "x"),)), {("nickname", "INVALID_FILTER")}),
    (Query("contacts", (Condition("score", "contains", "1"),)), {("score", "INVALID_FILTER")}),
    (Query("contacts", (Condition("score", "in", 3),)), {("score", "INVALID_FILTER")}),
    (Query("contacts", (Condition("created_at", "isnull", True),)), {("created_at", "INVALID_FILTER")}),
    (Query("contacts", sort="tags"), {("sort", "INVALID_SORT")}),
    (Query("contacts", page=0), {("page", "OUT_OF_RANGE")}),
    (Query("contacts", page_size=501), {("page_size", "OUT_OF_RANGE")}),
    (Query("contacts", page=2, cursor="x"), {("page", "CURSOR_AND_PAGE")}),
    (Query("contacts", fields=("nope",)), {("fields", "UNKNOWN_FIELD")}),
    (Query("contacts", (Condition("nope", "eq", 1),), sort="nope", page_size=0),
     {("nope", "INVALID_FILTER"), ("sort", "INVALID_SORT"), ("page_size", "OUT_OF_RANGE")}),
]  # fmt: skip


@pytest.mark.parametrize(("q", "pairs"), BAD_QUERIES, ids=[str(i) for i in range(len(BAD_QUERIES))])
def test_bad_queries_report_every_error(svc: Services, q: Query, pairs: set[tuple[str, str]]) -> None:
    with pytest.raises(ValidationFailed) as info:
        svc.engine.query(q)
    assert {(e.field, e.code) for e in info.value.errors} == pairs


def test_query_shows_a_restricted_user_only_what_they_own(svc_uq: Services) -> None:
    svc = svc_uq
    with svc.db.write() as conn:
        alice = add_user(conn, "alice@example.com", role="standard", password=None)
        bob = add_user(conn, "bob@example.com", role="standard", password=None)
    for name, owner in (("a1", alice.id), ("b1", bob.id), ("a2", alice.id), ("none", None)):
        svc.engine.create(_create("owned", _ops(name=name, owner=owner)), SYSTEM)
    as_alice = Principal(kind="user", id=alice.id, name="alice", user_id=alice.id, role="standard",
                         scopes=frozenset({"records.ALL"}))  # fmt: skip
    q = Query("owned", sort="name", with_total=True)
    page = svc.engine.query(q, principal=as_alice)
    assert [r["name"] for r in page.items] == ["a1", "a2"] and page.total == 2
    page2 = svc.engine.query(replace(q, page=2, page_size=1), principal=as_alice)
    assert [r["name"] for r in page2.items] == ["a2"] and page2.more is False
    assert [r["name"] for r in svc.engine.query(q).items] == ["a1", "a2", "b1", "none"]


# -- the upsert command ----------------------------------------------------------------------------
def _upsert(svc: Services, match_on: tuple[str, ...], *items: UpsertItem, all_or_none: bool = True) -> Any:
    return svc.engine.upsert(UpsertCommand("contacts", match_on, items, all_or_none=all_or_none), SYSTEM)


def test_upsert_matches_on_the_first_field_that_finds_a_record(svc: Services) -> None:
    first = _upsert(svc, ("email",), UpsertItem(_ops(last_name="A", email="a@example.com")))
    assert [(o.action, o.matched) for o in first] == [("created", None)]
    rid = first[0].result.id
    again = _upsert(svc, ("email",), UpsertItem(_ops(email="A@Example.com", score=5)))
    assert [(o.action, o.matched, o.result.id) for o in again] == [("updated", "email", rid)]
    by_id = _upsert(svc, ("email",), UpsertItem(_ops(score=6), id=rid))
    assert [(o.action, o.matched, o.result.id) for o in by_id] == [("updated", None, rid)]
    assert svc.engine.get("contacts", rid)["score"] == 6


def test_upsert_several_match_fields_in_order(svc_uq: Services) -> None:
    svc = svc_uq
    ctx = SYSTEM
    made = svc.engine.upsert(
        UpsertCommand("uq", ("code", "email"), (UpsertItem(_ops(code="c1", email="x@example.com", n=1)),)),
        ctx,
    )
    rid = made[0].result.id
    cases = [
        (UpsertItem(_ops(n=2), match={"code": "c1", "email": "nobody@example.com"}), "code"),  # code first
        (UpsertItem(_ops(code="c9", email="x@example.com", n=3)), "email"),  # code unknown: email finds it
        (UpsertItem(_ops(email="x@example.com", n=4)), "email"),  # no code: email
    ]
    for item, field in cases:
        (o,) = svc.engine.upsert(UpsertCommand("uq", ("code", "email"), (item,)), ctx)
        assert (o.action, o.matched, o.result.id) == ("updated", field, rid), item
    assert svc.engine.get("uq", rid)["code"] == "c9"
    (o,) = svc.engine.upsert(UpsertCommand("uq", ("email", "code"), (UpsertItem(_ops(code="c2", n=5)),)), ctx)
    assert (o.action, o.matched) == ("created", None)
    with pytest.raises(ValidationFailed) as info:
        svc.engine.upsert(UpsertCommand("uq", ("code", "n"), (UpsertItem(_ops(code="c3")),)), ctx)
    assert {(e.field, e.code) for e in info.value.errors} == {("match_on", "NOT_UNIQUE_FIELD")}
    (o,) = svc.engine.upsert(UpsertCommand("uq", ("code", "email"), (UpsertItem(_ops(n=6)),),
                                           all_or_none=False), ctx)  # fmt: skip
    assert isinstance(o.result, ValidationFailed) and o.action is None
    assert [(e.field, e.code) for e in o.result.errors] == [("code", "REQUIRED")]
    (o,) = svc.engine.upsert(UpsertCommand("uq", ("code", "email"), (UpsertItem(_ops(n=7)),),
                                           require_match=False), ctx)  # fmt: skip
    assert (o.action, o.matched) == ("created", None)


def test_upsert_per_record_and_all_or_none(svc: Services) -> None:
    items = (
        UpsertItem(_ops(last_name="Keep", email="keep@example.com")),
        UpsertItem(_ops(email="bad@example.com")),  # no last_name: REQUIRED on create
        UpsertItem(_ops(last_name="Bad", email="not an email")),  # a bad match value
    )
    with pytest.raises(BatchFailed) as info:
        _upsert(svc, ("email",), *items)
    assert [(i, key) for i, key, _e in info.value.failures] == [(1, "bad@example.com"), (2, "not an email")]
    assert svc.engine.query(Query("contacts")).items == []
    out = _upsert(svc, ("email",), *items, all_or_none=False)
    assert [o.action for o in out] == ["created", None, None]
    assert [type(o.result).__name__ for o in out[1:]] == ["ValidationFailed", "ValidationFailed"]
    assert all(isinstance(o.result, CardfileError) for o in out[1:])
    assert [r["last_name"] for r in svc.engine.query(Query("contacts")).items] == ["Keep"]


def test_ops_for_sees_which_record_matched(svc: Services) -> None:
    seen: list[int | None] = []

    def ops_for(holder: int | None) -> tuple[FieldOp, ...]:
        seen.append(holder)
        return _ops(last_name="Created" if holder is None else "Updated")

    (made,) = _upsert(svc, ("email",), UpsertItem(match={"email": "o@example.com"}, ops_for=ops_for))
    assert made.action == "created" and made.result.record["email"] is None  # ops_for replaces ops
    _upsert(svc, ("email",), UpsertItem(_ops(email="o@example.com"), id=made.result.id))
    (upd,) = _upsert(svc, ("email",), UpsertItem(match={"email": "o@example.com"}, ops_for=ops_for))
    assert (upd.action, upd.result.record["last_name"]) == ("updated", "Updated")
    assert seen == [None, made.result.id]


@pytest.fixture
def svc_uq(settings: Settings) -> Iterator[Services]:
    """``uq``: two unique fields (``code``, ``email``) and a plain one (``n``); ``owned``:
    records a standard user sees only when they own them."""
    services = open_services(settings)
    f = FieldDef
    services.catalog.add_type(
        RecordType("uq", fields={"code": f("code", "text", unique=True), "email": f("email", "email", unique=True),
                                 "n": f("n", "integer")})
    )  # fmt: skip
    services.catalog.add_type(
        RecordType("owned", fields={"name": f("name", "text"), "owner": f("owner", "user")}, owner_field="owner",
                   restrict_to_owners=True)
    )  # fmt: skip
    yield services
    services.close()


# -- the drift table: page N once, through every channel that pages by number -------------------
@pytest.fixture
def live_all(settings: Settings) -> Iterator[tuple[str, str, Services]]:
    svc = open_services(
        replace(settings, packs=("demo", "zoho", "highlevel", "tracker"), rate_limits_enabled=False)
    )
    server, thread, url = start_live(svc)
    yield url, create_key(svc.db, "drift"), svc
    server.should_exit = True
    thread.join(timeout=10)
    svc.close()


def _native_page(c: httpx.Client, type_name: str, n: int, size: int) -> list[int]:
    """Page ``n`` as the native API serves it: by cursor, so walk the pages before it."""
    pages: list[list[int]] = []
    cursor: str | None = None
    while len(pages) < n:
        params: dict[str, Any] = {"_limit": size, **({"_cursor": cursor} if cursor else {})}
        body = c.get(f"/api/records/{type_name}", params=params).json()
        pages.append([r["id"] for r in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return pages[n - 1] if len(pages) >= n else []


def _zoho(c: httpx.Client, n: int, size: int) -> list[int]:
    r = c.get("/zoho/crm/v7/Leads", params={"page": n, "per_page": size},
              headers={"Authorization": c.headers["Authorization"].replace("Bearer", "Zoho-oauthtoken")})  # fmt: skip
    return [] if r.status_code == 204 else [int(d["id"]) for d in r.json()["data"]]


def _highlevel(c: httpx.Client, n: int, size: int) -> list[int]:
    r = c.post(
        "/highlevel/objects/custom_objects.event_ticket/records/search", json={"page": n, "pageLimit": size}
    )
    assert r.status_code == 200, r.text
    return [int(x["id"], 16) for x in r.json()["records"]]


def _tracker(c: httpx.Client, n: int, size: int) -> list[int]:
    r = c.post("/tracker/api/v1/Contact/Search", json={"pageNumber": n, "maxResults": size})
    if r.status_code == 204:
        return []
    assert r.status_code == 200, r.text
    return [int(x["contactId"]) for x in r.json()]


CHANNELS: list[tuple[str, str, dict[str, Any], Callable[[httpx.Client, int, int], list[int]]]] = [
    ("zoho", "zoho_leads", {"last_name": "L"}, _zoho),
    ("highlevel", "event_ticket", {"ticket_name": "T"}, _highlevel),
    ("tracker_v1", "contact", {"surname": "S"}, _tracker),
]


@pytest.mark.parametrize(("channel", "type_name", "body", "page_of"), CHANNELS, ids=[c[0] for c in CHANNELS])
def test_drift_page_n_is_the_same_everywhere(
    live_all: tuple[str, str, Services], channel: str, type_name: str, body: dict[str, Any],
    page_of: Callable[[httpx.Client, int, int], list[int]],
) -> None:  # fmt: skip
    url, key, svc = live_all
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
        for i in range(7):
            r = c.post(f"/api/records/{type_name}", json={k: f"{v}{i}" for k, v in body.items()})
            assert r.status_code == 201, r.text
        for n in (1, 2, 3, 4, 5):
            native = _native_page(c, type_name, n, 2)
            assert page_of(c, n, 2) == native, (channel, n)
            engine = svc.engine.query(Query(type_name, page=n, page_size=2)).items
            assert [r["id"] for r in engine] == native
        assert len(_native_page(c, type_name, 4, 2)) == 1 and _native_page(c, type_name, 5, 2) == []


# -- the drift table: one upsert, native and Zoho -----------------------------------------------------
def _native_upsert(c: httpx.Client, rec: dict[str, Any]) -> tuple[str, int]:
    r = c.post("/api/records/zoho_leads/upsert", json={"match_on": "email", "records": [rec]})
    assert r.status_code == 200, r.text
    (x,) = r.json()["results"]
    return x["action"], x["id"]


def _zoho_upsert(c: httpx.Client, rec: dict[str, Any]) -> tuple[str, int]:
    zoho = {"Last_Name": rec.get("last_name"), "Email": rec["email"], "Company": rec.get("company")}
    r = c.post("/zoho/crm/v7/Leads/upsert", json={"data": [{k: v for k, v in zoho.items() if v is not None}],
                                                   "duplicate_check_fields": ["Email"]},
               headers={"Authorization": c.headers["Authorization"].replace("Bearer", "Zoho-oauthtoken")})  # fmt: skip
    assert r.status_code == 200, r.text
    (x,) = r.json()["data"]
    return {"insert": "created", "update": "updated"}[x["action"]], int(x["details"]["id"])


@pytest.mark.parametrize("upsert", [_native_upsert, _zoho_upsert], ids=["native", "zoho"])
def test_drift_upsert_is_the_same_everywhere(
    live_all: tuple[str, str, Services], upsert: Callable[[httpx.Client, dict[str, Any]], tuple[str, int]]
) -> None:
    url, key, svc = live_all
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
        action, rid = upsert(c, {"last_name": "Stewart", "email": "stewart@zylker.com"})
        assert action == "created"
        assert upsert(c, {"email": "STEWART@zylker.com", "company": "Zylker"}) == ("updated", rid)
        assert c.get(f"/api/records/zoho_leads/{rid}").json()["company"] == "Zylker"
        action, other = upsert(c, {"last_name": "New", "email": "new@zylker.com"})
        assert action == "created" and other != rid


def test_zoho_list_by_ids_is_one_typed_condition(live_all: tuple[str, str, Services]) -> None:
    url, key, _svc = live_all
    with httpx.Client(base_url=url, headers={"Authorization": f"Zoho-oauthtoken {key}"}, timeout=30) as c:
        r = c.post("/zoho/crm/v7/Leads", json={"data": [{"Last_Name": f"L{i}"} for i in range(3)]})
        assert r.status_code == 201, r.text
        a, _b, c3 = (e["details"]["id"] for e in r.json()["data"])
        r = c.get("/zoho/crm/v7/Leads", params={"ids": f"{c3},{a}", "sort_order": "desc"})
        assert r.status_code == 200, r.text
        assert [d["id"] for d in r.json()["data"]] == [c3, a]
