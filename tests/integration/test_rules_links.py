"""The drift table of issue #15, part 3: rules about links, held by the engine for every
channel that can express them (native API, Tracker v1, the Tracker widget, HighLevel).

- a lookup's allowed targets (``target_where``): a settings entry of another list;
- system records (``system_flag``): a Tracker system user's profile;
- ``unique_together``: one shortlist / long-list entry per opportunity and resource,
  also when requests race;
- one primary per group (``one_primary``): a record's primary document;
- links to users: a user who does not exist or is disabled (HighLevel and native);
- and a ``unique_together`` group declared on a type that already has records.

Real HTTP against a live server, SQLite (and PostgreSQL under the ``postgres`` marker).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from cardfile.auth import scopes as scope_rules
from cardfile.engine.commands import Context, CreateCommand, FieldOp
from cardfile.errors import Duplicate
from cardfile.schema.model import FieldDef, SchemaError
from cardfile.schema.packs import Pack, parse_pack
from cardfile.services import Services
from cardfile.store import tables
from tests.integration.test_api_support import add_user, assert_problem, error_pairs, history_rows, stored
from tests.integration.test_highlevel_support import HL, assert_hl_error, hl, property_errors
from tests.integration.test_tracker_v1_world import BACKENDS, World, world

__all__ = ["hl"]

WIDGET = "/api/widget/updateRecord"
PDF = "JVBERi0xLjQKJSVFT0YK"  # "%PDF-1.4\n%%EOF\n"


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from world(request, tmp_path_factory)


@pytest.fixture(scope="module")
def token(w: World) -> str:
    """An access token of the admin user, for the widget (which takes OAuth tokens)."""
    with w.svc.db.write() as conn:
        scopes = scope_rules.normalize(scope_rules.default_for_role("admin"))
        return w.svc.auth.tokens.issue(conn, subject=f"user:{w.ids['admin']}", scopes=scopes)[0]


def send(c: httpx.Client, method: str, path: str, body: Any = None) -> httpx.Response:
    content = None if body is None else json.dumps(body)
    return c.request(method, path, content=content, headers={"Content-Type": "application/json"})


def widget(w: World, token: str, letter: str, rid: int, updates: list[tuple[str, Any]]) -> dict[str, Any]:
    call = {"credentials": {"oauthtoken": token}, "instructions": {"recordtype": letter, "recordid": rid},
            "updates": [{"column": k, "value": v} for k, v in updates]}  # fmt: skip
    with w.http() as c:
        r = send(c, "POST", WIDGET, {"trackerrms": {"updateRecord": call}})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def native(w: World, method: str, path: str, body: Any = None) -> httpx.Response:
    with w.native() as c:
        return send(c, method, path, body)


def codes(body: dict[str, Any]) -> set[str]:
    return {e["code"] for e in body.get("errors", [])}


# -- allowed targets: a settings entry of the wrong list --------------------------------------


# channel -> a refused attempt to set a resource's status (or work types) to ``entry``
def _native_refused(w: World, _t: str, rid: int, entry: int, field: str) -> None:
    body = {field: [entry] if field == "work_types" else entry}
    r = native(w, "PATCH", f"/api/records/resource/{rid}", body)
    assert error_pairs(assert_problem(r, 422, "VALIDATION_FAILED")) == {(field, "TARGET_NOT_ALLOWED")}


def _v1_refused(w: World, _t: str, rid: int, entry: int, field: str) -> None:
    key = {"status": "status", "work_types": "workTypes"}[field]
    value = {"id": entry} if field == "status" else [{"id": entry}]
    with w.http() as c:
        r = send(c, "PATCH", f"/api/v1/Resource/{rid}", {key: value})
    assert codes(assert_problem(r, 422, "VALIDATION_FAILED")) == {"TARGET_NOT_ALLOWED"}


def _widget_refused(w: World, t: str, rid: int, entry: int, field: str) -> None:
    column = {"status": "resourcestatusid", "work_types": "worktypeid"}[field]
    out = widget(w, t, "R", rid, [(column, entry)])
    assert out["status"] == 99 and "may link only to setting records" in out["detail"], out


TARGET_CHANNELS = {"native": _native_refused, "tracker_v1": _v1_refused, "widget": _widget_refused}


@pytest.mark.parametrize("field", ["status", "work_types"])
@pytest.mark.parametrize("channel", sorted(TARGET_CHANNELS))
def test_a_settings_entry_of_another_list_is_refused_everywhere(
    w: World, token: str, channel: str, field: str
) -> None:
    rid = w.create("resource", first_name="Tara", surname="Target", status=w.ids["avail"])
    before = stored(w.svc, "resource", rid)
    TARGET_CHANNELS[channel](w, token, rid, w.ids["north"], field)  # a territory entry
    assert stored(w.svc, "resource", rid) == before
    assert [h.op for h in history_rows(w.svc, "resource", rid)] == ["create"]


@pytest.mark.parametrize("channel", ["native", "tracker_v1", "widget"])
def test_an_entry_of_the_right_list_is_taken_everywhere(w: World, token: str, channel: str) -> None:
    work = w.create("setting", list="work_type", name=f"Contract {channel}")
    rid = w.create("resource", first_name="Rita", surname="Right")
    if channel == "native":
        r = native(
            w, "PATCH", f"/api/records/resource/{rid}", {"status": w.ids["avail"], "work_types": [work]}
        )
        assert r.status_code == 200, r.text
    elif channel == "tracker_v1":
        with w.http() as c:
            r = send(c, "PATCH", f"/api/v1/Resource/{rid}", {"status": {"id": w.ids["avail"]},
                                                               "workTypes": [{"id": work}]})  # fmt: skip
        assert r.status_code == 200, r.text
    else:
        out = widget(w, token, "R", rid, [("resourcestatusid", w.ids["avail"]), ("worktypeid", work)])
        assert out["status"] == 0, out
    data = stored(w.svc, "resource", rid).data
    assert (data["status"], data["work_types"]) == (w.ids["avail"], [work])


def test_a_missing_target_is_still_record_not_found(w: World) -> None:
    rid = w.create("resource", first_name="Mo")
    r = native(w, "PATCH", f"/api/records/resource/{rid}", {"status": 999_999, "territory": w.ids["avail"]})
    assert error_pairs(assert_problem(r, 422, "VALIDATION_FAILED")) == {
        ("status", "RECORD_NOT_FOUND"),
        ("territory", "TARGET_NOT_ALLOWED"),
    }


def test_target_where_is_declared_on_every_settings_lookup_of_the_pack(w: World) -> None:
    with w.svc.db.read() as conn:
        schema = w.svc.catalog.current(conn)
    missing = [f"{rt.name}.{fd.name}" for rt in schema.types.values() for fd in rt
               if fd.target == "setting" and not fd.target_where]  # fmt: skip
    assert missing == []
    assert dict(schema.types["resource"].fields["status"].target_where) == {"list": "resource_status"}


def test_target_where_definitions() -> None:
    fd = FieldDef.from_json(
        {"name": "s", "type": "lookup", "target": "setting", "target_where": {"list": "x"}}
    )
    assert fd.target_where == (("list", "x"),) and fd.to_json()["target_where"] == {"list": "x"}
    assert FieldDef.from_json(fd.to_json()).target_where == fd.target_where
    for bad in ({"name": "s", "type": "text", "target_where": {"list": "x"}},
                {"name": "s", "type": "lookup", "target": "t", "target_where": {}},
                {"name": "s", "type": "lookup", "target": "t", "target_where": {"list": ["x"]}},
                {"name": "s", "type": "lookup", "target": "t", "target_where": ["list"]}):  # fmt: skip
        with pytest.raises(SchemaError):
            FieldDef.from_json(bad)


# -- system users ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def system_profile(w: World) -> int:
    return w.create(
        "user_profile", user=w.ids["system"], username="sys", full_name="Sys Tem", system_user=True
    )


def test_a_system_users_profile_is_refused_everywhere(w: World, system_profile: int) -> None:
    before = stored(w.svc, "user_profile", system_profile)
    with w.http() as c:
        assert_problem(c.get(f"/api/v1/User/{w.ids['system']}"), 403, "PERMISSION_DENIED")
        assert c.post("/api/v1/User/Search", json={"searchTerm": "Sys Tem"}).status_code == 204
    with w.native() as c:
        path = f"/api/records/user_profile/{system_profile}"
        body = assert_problem(c.get(path), 403, "PERMISSION_DENIED")
        assert "cannot access system user" in body["detail"]
        assert_problem(c.patch(path, json={"full_name": "Hacked"}), 403, "PERMISSION_DENIED")
        assert_problem(c.delete(path), 403, "PERMISSION_DENIED")
        listed = c.get("/api/records/user_profile").json()["items"]
        assert system_profile not in {r["id"] for r in listed}
    assert stored(w.svc, "user_profile", system_profile) == before


def test_an_ordinary_profile_is_served(w: World, system_profile: int) -> None:
    uid = add_user(w.svc, "plain-profile")
    pid = w.create("user_profile", user=uid, username="plain", full_name="Plain Person")
    with w.http() as c:
        assert c.get(f"/api/v1/User/{uid}").json()["fullname"] == "Plain Person"
    with w.native() as c:
        assert c.get(f"/api/records/user_profile/{pid}").status_code == 200
        assert pid in {r["id"] for r in c.get("/api/records/user_profile").json()["items"]}


def test_system_flag_must_name_a_boolean_field() -> None:
    for flag in ("nope", "name"):
        with pytest.raises(SchemaError, match="system_flag"):
            parse_pack(
                "p", {"types": {"t": {"system_flag": flag, "fields": [{"name": "name", "type": "text"}]}}}
            )


# -- one entry per opportunity and resource ----------------------------------------------------

ListAdd = Callable[[World, int, int], httpx.Response]


def _native_add(type_name: str) -> ListAdd:
    def add(w: World, opp: int, res: int) -> httpx.Response:
        return native(w, "POST", f"/api/records/{type_name}", {"opportunity": opp, "resource": res})

    return add


def _v1_add(path: str, opp_key: str) -> ListAdd:
    def add(w: World, opp: int, res: int) -> httpx.Response:
        body = {"resourceId": res, opp_key: [opp] if opp_key.endswith("s") else opp}
        with w.http() as c:
            return send(c, "POST", path, body)

    return add


# (list, channel) -> how to add an entry, and that channel's answer to a second one
LIST_CHANNELS: dict[tuple[str, str], tuple[ListAdd, int, str]] = {
    ("shortlist", "native"): (_native_add("opportunity_resource"), 409, "DUPLICATE_VALUE"),
    ("shortlist", "tracker_v1"): (_v1_add("/api/v1/OpportunityResource", "opportunityIds"), 409, "CONFLICT"),
    ("longlist", "native"): (_native_add("opportunity_longlist"), 409, "DUPLICATE_VALUE"),
    ("longlist", "tracker_v1"): (_v1_add("/api/v1/Opportunity/Longlist", "opportunityId"), 409, "CONFLICT"),
}
LIST_TYPES = {"shortlist": "opportunity_resource", "longlist": "opportunity_longlist"}


def _count(w: World, type_name: str, opp: int) -> int:
    with w.native() as c:
        return len(c.get(f"/api/records/{type_name}", params={"opportunity": opp}).json()["items"])


@pytest.mark.parametrize(("which", "channel"), sorted(LIST_CHANNELS))
def test_a_second_list_entry_is_refused_everywhere(w: World, which: str, channel: str) -> None:
    """The first entry made through ``channel``; a second one through every channel is
    refused with that channel's answer, and the list keeps one entry."""
    add = LIST_CHANNELS[(which, channel)][0]
    opp = w.create("opportunity", name=f"{which} {channel}")
    res = w.create("resource", first_name="Dup", surname=channel)
    assert add(w, opp, res).status_code == 201
    for again, status, code in (v for (lst, _c), v in LIST_CHANNELS.items() if lst == which):
        assert_problem(again(w, opp, res), status, code)
    assert _count(w, LIST_TYPES[which], opp) == 1


def test_the_widget_cannot_move_a_shortlist_entry_onto_another(w: World, token: str) -> None:
    opp = w.create("opportunity", name="Widget shortlist")
    a, b = w.create("resource", first_name="A"), w.create("resource", first_name="B")
    w.create("opportunity_resource", opportunity=opp, resource=a)
    entry = w.create("opportunity_resource", opportunity=opp, resource=b)
    out = widget(w, token, "X", entry, [("resourceid", a)])
    assert out["status"] == 99 and "unique together" in out["detail"], out
    assert stored(w.svc, "opportunity_resource", entry).data["resource"] == b
    assert widget(w, token, "X", entry, [("resourceid", w.create("resource", first_name="C"))])["status"] == 0


@pytest.mark.parametrize("which", ["shortlist", "longlist"])
def test_racing_adds_make_one_entry(w: World, which: str) -> None:
    """Eight requests at once for the same entry: one is made, the others are 409."""
    add = LIST_CHANNELS[(which, "tracker_v1")][0]
    opp = w.create("opportunity", name=f"Race {which}")
    res = w.create("resource", first_name="Racer")
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(r.status_code for r in pool.map(lambda _: add(w, opp, res), range(8)))
    assert statuses == [201] + [409] * 7
    assert _count(w, LIST_TYPES[which], opp) == 1


# -- one primary document per record ---------------------------------------------------------


def _native_doc(w: World, rid: int, name: str, primary: bool) -> int:
    r = native(w, "POST", "/api/records/document", {"record_type": "resource", "record_id": rid,
               "filename": name, "is_primary": primary, "sha256": "0" * 64})  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _v1_doc(w: World, rid: int, name: str, primary: bool) -> int:
    with w.http() as c:
        r = send(c, "POST", "/api/v1/Resource/AttachDocument", {"filename": name, "documentData": PDF,
                 "recordId": rid, "isPrimary": primary})  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


DOC_CHANNELS = {"native": _native_doc, "tracker_v1": _v1_doc}


def _primaries(w: World, ids: list[int]) -> list[bool]:
    return [bool(stored(w.svc, "document", i).data.get("is_primary")) for i in ids]


@pytest.mark.parametrize("second", sorted(DOC_CHANNELS))
@pytest.mark.parametrize("first", sorted(DOC_CHANNELS))
def test_a_new_primary_document_demotes_the_others_everywhere(w: World, first: str, second: str) -> None:
    rid = w.create("resource", first_name="Doc", surname=f"{first}-{second}")
    other = w.create("resource", first_name="Other")
    theirs = DOC_CHANNELS[first](w, other, "theirs.pdf", True)  # another record's: untouched
    a = DOC_CHANNELS[first](w, rid, "a.pdf", True)
    b = DOC_CHANNELS[first](w, rid, "b.pdf", False)
    c = DOC_CHANNELS[second](w, rid, "c.pdf", True)
    assert _primaries(w, [a, b, c, theirs]) == [False, False, True, True]
    demoted = history_rows(w.svc, "document", a)
    assert [h.op for h in demoted] == ["create", "update"]
    assert demoted[-1].changes == [{"field": "is_primary", "old": True, "new": False}]
    assert [h.op for h in history_rows(w.svc, "document", b)] == ["create"]


def test_making_a_document_primary_by_update_demotes_the_others(w: World) -> None:
    rid = w.create("resource", first_name="Upd")
    a, b = _native_doc(w, rid, "a.pdf", True), _native_doc(w, rid, "b.pdf", False)
    r = native(w, "PATCH", f"/api/records/document/{b}", {"is_primary": True})
    assert r.status_code == 200 and r.json()["record"]["is_primary"] is True, r.text
    assert _primaries(w, [a, b]) == [False, True]
    # a dry run demotes nothing
    r = native(w, "PATCH", f"/api/records/document/{a}?validate_only=true", {"is_primary": True})
    assert r.status_code == 200, r.text
    assert _primaries(w, [a, b]) == [False, True]


def test_a_batch_keeps_its_last_primary(w: World) -> None:
    rid = w.create("resource", first_name="Batch")
    a, b, c = (_native_doc(w, rid, f"{n}.pdf", False) for n in "abc")
    batch = {"records": [{"id": a, "is_primary": True}, {"id": b, "is_primary": True}]}
    r = native(w, "PATCH", "/api/records/document", batch)
    assert r.status_code == 200, r.text
    assert _primaries(w, [a, b, c]) == [False, True, False]


def test_one_primary_definitions() -> None:
    fields = [
        {"name": "flag", "type": "boolean"},
        {"name": "owner", "type": "integer"},
        {"name": "t", "type": "text"},
    ]
    pack = parse_pack(
        "p", {"types": {"t": {"fields": fields, "one_primary": {"flag": "flag", "per": "owner"}}}}
    )
    rule = pack.types[0].one_primary
    assert rule is not None and (rule.flag, rule.per) == ("flag", ("owner",))
    assert pack.types[0].to_json()["one_primary"] == {"flag": "flag", "per": ["owner"]}
    for bad in ({"flag": "t", "per": ["owner"]}, {"flag": "flag", "per": []}, {"flag": "flag", "per": ["nope"]},
                {"flag": "flag", "per": ["flag"]}, {"flag": "flag"}):  # fmt: skip
        with pytest.raises(SchemaError, match="one_primary"):
            parse_pack("p", {"types": {"t": {"fields": fields, "one_primary": bad}}})


# -- links to users: the engine's USER_NOT_FOUND, through HighLevel and the native API ----------


def test_a_disabled_or_missing_user_is_user_not_found_everywhere(hl: HL) -> None:
    gone_hl, gone = hl.user()
    with hl.services.db.write() as conn:
        conn.execute(tables.users.update().where(tables.users.c.id == gone).values(active=False))
    record = hl.create({"properties": {"ticket_name": "Users"}})
    for owner in (gone_hl, "999999"):  # a mapped user who is disabled; a cardfile id of nobody
        body = assert_hl_error(hl.put(record["id"], {"owners": {"add": [owner]}}), 400, "VALIDATION_FAILED")
        assert {c for _p, c in property_errors(body)} == {"USER_NOT_FOUND"}
    native_id = int(record["id"], 16)
    for owner in (gone, 999_999):
        r = hl.api.patch(f"/api/records/event_ticket/{native_id}", json={"owners": [owner]})
        assert error_pairs(assert_problem(r, 422, "VALIDATION_FAILED")) == {("owners", "USER_NOT_FOUND")}
    assert hl.get(record["id"])["owner"] == []


def test_a_group_declared_later_covers_the_records_stored_before(svc: Services) -> None:
    """A database that had shortlist entries before ``unique_together``: installing the
    pack claims the group for them, so a new duplicate of an old entry is refused too."""

    def pack(groups: list[list[str]]) -> Pack:
        fields = [{"name": "opp", "type": "integer"}, {"name": "res", "type": "integer"}]
        return parse_pack("later", {"types": {"entry": {"fields": fields, "unique_together": groups}}})

    def add(opp: int, res: int) -> int:
        ops = (FieldOp("opp", "set", opp), FieldOp("res", "set", res))
        return svc.engine.create(CreateCommand("entry", ops), Context("test")).id

    svc.catalog.install([pack([])])
    old = add(1, 1)
    twins = [add(2, 2), add(2, 2)]  # duplicates from before the rule
    svc.catalog.install([pack([["opp", "res"]])])
    with pytest.raises(Duplicate) as exc:
        add(1, 1)
    assert f"record {old} has this value" in exc.value.errors[0].message
    with pytest.raises(Duplicate):
        add(2, 2)
    with svc.db.read() as conn:
        assert svc.engine.find_unique(conn, "entry", {"opp": 2, "res": 2}) == twins[0]
    assert add(1, 2) > 0
