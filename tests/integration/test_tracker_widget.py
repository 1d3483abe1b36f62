"""TrackerRMS widget dialect (seed 000, checklist TW): updateRecord and getSettings over
real HTTP, on SQLite and PostgreSQL, against the records of the ``tracker`` pack."""

from __future__ import annotations

import functools
import itertools
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from cardfile.api.dialects.tracker_widget.columns import RECORD_TYPES, columns_of
from cardfile.auth import scopes as scope_rules
from cardfile.auth.passwords import hash_password
from cardfile.auth.users import add_user, set_active
from cardfile.engine.commands import Context, CreateCommand, FieldOp
from cardfile.schema.packs import load_pack
from cardfile.services import Services, open_services
from cardfile.settings import Settings
from cardfile.store import tables
from cardfile.store.clock import now_us
from tests.conftest import LiveServer, start_live
from tests.integration.test_api_support import Cases, history_rows, stored
from tests.pg import PostgresServer

UPDATE = "/tracker/api/widget/updateRecord"
SETTINGS = "/tracker/api/widget/getSettings"
PASSWORD = "correct horse battery"
SUCCESS = {"status": 0, "message": "success", "count": 0}
_counter = itertools.count()

# The seed's sample request, byte for byte (000:L28-74).
SEED_SAMPLE = b"""{
    "trackerrms": {
        "updateRecord": {
            "credentials": {
                "username": "my.name@domain.com",
                "password": "Welcome123",
                "oauthtoken": "1bc7ca1e-8b9a-11e9-bc42-526af7764f64"
            },
            "instructions": {
                "recordtype": "R",
                "recordid": 1234
            },
            "updates": [
                {
                    "column": "firstname",
                    "value": "John"
                },
                {
                    "column": "jobtitle",
                    "value": "Marketing Manager"
                }
            ],
            "customfields": [
                {
                    "id": 123,
                    "value": "Value 1"
                },
                {
                    "id": 456,
                    "value": "Value 2"
                }
            ],
            "skills": [
                {
                    "id": 789,
                    "value": "Yes"
                },
                {
                    "id": 246,
                    "value": "Expert"
                }
            ]
        }
    }
}"""


# Databases with the tracker pack already installed, copied per test (as conftest's
# `settings` does for the bare schema): installing sixteen types per test would cost more
# than the tests themselves.
_PG_TEMPLATE = "cardfile_tracker_widget_template"


@pytest.fixture(scope="session")
def tracker_sqlite_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tracker_template") / "cardfile.db"
    shutil.copy(sqlite_template, path)
    open_services(Settings(data_dir=path.parent, packs=("tracker",))).close()
    return path


@pytest.fixture(scope="session")
def tracker_pg_template(
    pg_server: PostgresServer, pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    with _pg_admin(pg_server) as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{_PG_TEMPLATE}"'))
        conn.execute(text(f'CREATE DATABASE "{_PG_TEMPLATE}" TEMPLATE {pg_template}'))
    url = pg_server.database_url(_PG_TEMPLATE)
    open_services(
        Settings(data_dir=tmp_path_factory.mktemp("pg"), database_url=url, packs=("tracker",))
    ).close()
    return _PG_TEMPLATE


@contextmanager
def _pg_admin(server: PostgresServer) -> Iterator[Connection]:
    admin = create_engine(
        server.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            yield conn
    finally:
        admin.dispose()


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """A fresh database with the tracker pack, on the chosen backend."""
    if backend == "sqlite":
        shutil.copy(request.getfixturevalue("tracker_sqlite_template"), tmp_path / "cardfile.db")
        yield Settings(data_dir=tmp_path, packs=("tracker",))
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("tracker_pg_template")
    name = f"tw_{next(_counter)}_{int(time.time() * 1000) % 10**8}"
    with _pg_admin(server) as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield Settings(data_dir=tmp_path, database_url=server.database_url(name), packs=("tracker",))
    with _pg_admin(server) as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _insert_with_id(svc: Services, type_name: str, record_id: int, data: dict[str, Any]) -> None:
    """A record at a chosen id (the seed's sample names ids 1234, 789 and 246)."""
    at = now_us()
    with svc.db.write() as conn:
        conn.execute(
            tables.records.insert().values(
                id=record_id, type=type_name, version=1, data=data, created_at=at, created_by="setup",
                modified_at=at, modified_by="setup",
            )
        )  # fmt: skip


@dataclass
class World:
    live: LiveServer
    http: httpx.Client
    token: str  # alice's access token
    ids: dict[str, int]

    def body(self, method: str, call: dict[str, Any], creds: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "trackerrms": {
                method: {"credentials": {"oauthtoken": self.token} if creds is None else creds, **call}
            }
        }

    def update(
        self,
        letter: str,
        rid: int,
        updates: list[tuple[str, Any]] | None = None,
        *,
        customfields: list[tuple[int, Any]] | None = None,
        skills: list[tuple[Any, Any]] | None = None,
        creds: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        call: dict[str, Any] = {"instructions": {"recordtype": letter, "recordid": rid}}
        if updates is not None:
            call["updates"] = [{"column": c, "value": v} for c, v in updates]
        if customfields is not None:
            call["customfields"] = [{"id": i, "value": v} for i, v in customfields]
        if skills is not None:
            call["skills"] = [{"id": i, "value": v} for i, v in skills]
        return self.post(UPDATE, self.body("updateRecord", call, creds))

    def post(self, path: str, body: Any) -> dict[str, Any]:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        r = self.http.post(path, content=content, headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text  # every outcome the seed names is in the body (TW-17)
        assert r.headers["content-type"].startswith("application/json")
        out: dict[str, Any] = r.json()
        assert set(out) >= {"status", "message", "count"}, out
        return out

    def record(self, type_name: str, rid: int) -> dict[str, Any]:
        r = self.http.get(
            f"/api/records/{type_name}/{rid}", headers={"Authorization": f"Bearer {self.live.key}"}
        )
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # Argon2 is slow on purpose: once per session


def _user(conn: Connection, email: str, role: str, *, password: bool) -> int:
    """A user (as ``add_user`` makes one, with the session's one password hash)."""
    hashed = _password_hash() if password else None
    res = conn.execute(
        tables.users.insert()
        .values(username=email, email=email, display_name=email.split("@")[0], role=role, active=True,
                created_at=now_us(), password_hash=hashed)
        .returning(tables.users.c.id)
    )  # fmt: skip
    return int(res.scalar_one())


@pytest.fixture
def world(live: LiveServer) -> Iterator[World]:
    svc = live.services
    ids: dict[str, int] = {}
    ctx = Context("setup")

    def create(conn: Connection, type_name: str, **values: Any) -> int:
        ops = tuple(FieldOp(k, "replace" if k == "list_values" else "set", v) for k, v in values.items())
        return svc.engine.create(CreateCommand(type_name, ops), ctx, conn).id

    with svc.db.write() as conn:
        ids["alice"] = _user(conn, "alice@example.com", "standard", password=True)
        ids["bob"] = _user(conn, "bob@example.com", "standard", password=True)
        ids["reader"] = _user(conn, "reader@example.com", "read-only", password=False)
        token = svc.auth.tokens.issue(
            conn,
            subject=f"user:{ids['alice']}",
            scopes=scope_rules.normalize(scope_rules.default_for_role("standard")),
        )[0]
        for lst, names in {
            "resource_status": ["Active", "Inactive"],
            "client_type": ["Prospect", "Gold Client", "Silver Client"],
            "contact_type": ["Prospect", "Top Team"],
            "opportunity_resource_status": ["Shortlisted", "Placed"],
            "territory": ["North"],
        }.items():
            for order, name in enumerate(names):
                ids[f"{lst}:{name}"] = create(conn, "setting", list=lst, name=name, order=order)
        ids["quick"] = create(conn, "skill", name="Python", skill_type="quick")
        ids["list"] = create(
            conn,
            "skill",
            name="Java",
            skill_type="list",
            list_values=[{"value": "Beginner"}, {"value": "Expert"}],
        )
        ids["date"] = create(conn, "skill", name="First aid", skill_type="date")
        ids["R"] = create(conn, "resource", first_name="Jane", surname="Doe")
        ids["C"] = create(conn, "client", name="Acme")
        ids["N"] = create(conn, "contact", first_name="Carl", surname="Contact")
        ids["X"] = create(conn, "opportunity_resource", note="placement")
        for letter in "LOPT":
            ids[letter] = create(conn, RECORD_TYPES[letter])
        svc.catalog.add_field("resource", {"name": "cf_17", "label": "Visa status", "type": "text"}, conn)
        svc.catalog.add_field(
            "resource",
            {"name": "cf_18", "label": "Relocate", "type": "single_select",
             "options": [{"key": "yes", "label": "Willing"}, {"key": "no", "label": "Not willing"}]},
            conn,
        )  # fmt: skip
    with httpx.Client(base_url=live.url, timeout=30) as http:
        yield World(live, http, token, ids)


# -- the seed's sample and the column map -----------------------------------------------


def test_seed_sample_request_verbatim(world: World) -> None:
    svc = world.live.services
    with svc.db.write() as conn:
        add_user(conn, "my.name@domain.com", password="Welcome123")
    _insert_with_id(svc, "resource", 1234, {"first_name": "Jane", "job_title": "Clerk"})
    _insert_with_id(svc, "skill", 789, {"name": "Excel", "skill_type": "quick"})
    _insert_with_id(
        svc, "skill", 246,
        {"name": "Marketing", "skill_type": "list",
         "list_values": {"rows": [{"id": 1, "value": "Novice"}, {"id": 2, "value": "Expert"}], "next_id": 3}},
    )  # fmt: skip
    for cf in (123, 456):
        r = world.http.post(
            "/api/types/resource/fields",
            json={"name": f"cf_{cf}", "label": f"Custom {cf}", "type": "text"},
            headers={"Authorization": f"Bearer {world.live.key}"},
        )
        assert r.status_code in (200, 201), r.text

    assert world.post(UPDATE, SEED_SAMPLE) == SUCCESS  # the seed's sample response, exactly

    rec = world.record("resource", 1234)
    assert (rec["first_name"], rec["job_title"]) == ("John", "Marketing Manager")
    assert (rec["cf_123"], rec["cf_456"]) == ("Value 1", "Value 2")
    assert rec["quick_skills"] == [789]
    assert [(s["skill"], s["value"]) for s in rec["skills"]] == [(246, "Expert")]
    (h,) = history_rows(svc, "resource", 1234)  # one change: one version, one history row
    assert (h.channel, h.actor, h.op, h.version) == ("tracker-widget", "my.name@domain.com", "update", 2)
    assert {c["field"] for c in h.changes} == {
        "first_name",
        "job_title",
        "cf_123",
        "cf_456",
        "quick_skills",
        "skills",
    }


def test_column_map_onto_the_tracker_pack() -> None:
    """X-2: the widget's columns name exactly the fields Tracker v1 exposes."""
    types = {rt.name: rt for rt in load_pack("tracker").types}
    assert set(RECORD_TYPES.values()) <= set(types)  # every letter has a type, T included
    expected = {
        ("R", "firstname"): ("first_name", False),
        ("R", "jobtitle"): ("job_title", False),
        ("R", "resourcestatusid"): ("status", True),
        ("R", "statusid"): ("status", True),
        ("C", "clienttype"): ("client_types", False),
        ("C", "clienttypes"): ("client_types", False),
        ("N", "contacttype"): ("contact_type", False),
        ("N", "contacttypeid"): ("contact_type", True),
        ("C", "clienttypeid"): ("client_types", True),
        ("X", "opportunityresourcestatusid"): ("status", True),
        ("X", "assignedbyuserid"): ("assigned_by", True),
        ("N", "clientid"): ("client", True),
        ("R", "email"): ("email", False),
        ("R", "mobilephone"): ("mobile_phone", False),
        ("R", "availableforwork"): ("available_for_work", False),
        ("C", "lastactivityid"): None,  # not a client field
        ("R", "lastactivityid"): ("last_activity_id", True),
        ("T", "subject"): ("subject", False),
        ("R", "owner"): None,  # owners are kept by the owners list, not a column
        ("R", "skills"): None,
        ("R", "quickskills"): None,
    }
    cases = Cases()
    for (letter, column), want in expected.items():
        with cases.case(f"{letter}.{column}"):
            col = columns_of(types[RECORD_TYPES[letter]]).get(column)
            assert (None if col is None else (col.field, col.id_column)) == want
    cases.check()
    # every derived column names a field of its type, and no column is claimed twice
    for rt in types.values():
        for name, col in columns_of(rt).items():
            assert name == name.lower() and col.field in rt.fields


# -- outcome codes ------------------------------------------------------------------------


def test_outcome_codes_and_nothing_changes_on_error(world: World) -> None:
    svc = world.live.services
    rid = world.ids["R"]
    bad_shapes: dict[str, Any] = {
        "not json": b"{not json",
        "empty body": b"",
        "a list": [],
        "no trackerrms": {"updateRecord": {}},
        "no updateRecord": {"trackerrms": {}},
        "no instructions": world.body("updateRecord", {"updates": []}),
        "no recordtype": world.body("updateRecord", {"instructions": {"recordid": rid}}),
        "unknown recordtype": world.body(
            "updateRecord", {"instructions": {"recordtype": "Z", "recordid": rid}}
        ),
        "two letters": world.body("updateRecord", {"instructions": {"recordtype": "RR", "recordid": rid}}),
        "no recordid": world.body("updateRecord", {"instructions": {"recordtype": "R"}}),
        "recordid text": world.body("updateRecord", {"instructions": {"recordtype": "R", "recordid": "abc"}}),
        "recordid fraction": world.body(
            "updateRecord", {"instructions": {"recordtype": "R", "recordid": 12.5}}
        ),
        "updates not a list": world.body(
            "updateRecord", {"instructions": {"recordtype": "R", "recordid": rid}, "updates": {"column": "x"}}
        ),
        "value an object": world.body(
            "updateRecord",
            {
                "instructions": {"recordtype": "R", "recordid": rid},
                "updates": [{"column": "surname", "value": {}}],
            },
        ),
        "update without value": world.body(
            "updateRecord",
            {"instructions": {"recordtype": "R", "recordid": rid}, "updates": [{"column": "surname"}]},
        ),
        "no credentials": {
            "trackerrms": {"updateRecord": {"instructions": {"recordtype": "R", "recordid": rid}}}
        },
    }
    before = stored(svc, "resource", rid)
    cases = Cases()
    for name, body in bad_shapes.items():
        with cases.case(name):
            out = world.post(UPDATE, body)
            assert (out["status"], out["message"], out["count"]) == (99, "Invalid request", 0), out
            assert out["detail"]
    creds_cases = {
        "unknown user": {"username": "nobody@example.com", "password": PASSWORD},
        "wrong password": {"username": "alice@example.com", "password": "not the password"},
        "username only": {"username": "alice@example.com"},
        "garbage token": {"oauthtoken": "1bc7ca1e-8b9a-11e9-bc42-526af7764f64"},
        "empty credentials": {},
    }
    for name, creds in creds_cases.items():
        with cases.case(name):
            out = world.update("R", rid, [("surname", "X")], creds=creds)
            assert (out["status"], out["message"]) == (1, "user not found"), out
    with cases.case("record not found"):
        out = world.update("R", 99_999, [("surname", "X")])
        assert (out["status"], out["message"]) == (3, "record not found"), out
    with cases.case("record of another type"):
        out = world.update("R", world.ids["C"], [("surname", "X")])
        assert out["status"] == 3, out
    with cases.case("record not found comes before column not found"):
        out = world.update("R", 99_999, [("nosuchcolumn", "X")])
        assert out["status"] == 3, out
    column_cases: dict[str, dict[str, Any]] = {
        "unknown column": {"updates": [("surname", "Changed"), ("nosuchcolumn", "X")]},
        "a client column on a resource": {"updates": [("clienttype", "Prospect")]},
        "unknown custom field": {
            "updates": [("surname", "Changed")],
            "customfields": [(17, "ok"), (999, "X")],
        },
        "unknown skill": {
            "updates": [("surname", "Changed")],
            "skills": [(world.ids["quick"], "Yes"), (424242, "Yes")],
        },
        "a setting's id as a skill": {"skills": [(world.ids["territory:North"], "Yes")]},
    }
    for name, kw in column_cases.items():
        with cases.case(name):
            out = world.update("R", rid, kw.pop("updates", None), **kw)
            assert (out["status"], out["message"]) == (4, "column not found"), out
    with cases.case("bad value beside good ones"):
        out = world.update("R", rid, [("surname", "Changed"), ("resourcestatusid", "Active")])
        assert out["status"] == 99, out
    cases.check()
    assert stored(svc, "resource", rid) == before  # no error changed anything


def test_inactive_user_and_each_credential(world: World) -> None:
    svc = world.live.services
    rid = world.ids["R"]
    with svc.db.write() as conn:
        bob_token = svc.auth.tokens.issue(conn, subject=f"user:{world.ids['bob']}", scopes="records.ALL")[0]
    # each credential alone authenticates, and a bad token falls back to a good password
    assert world.update("R", rid, [("surname", "ByToken")]) == SUCCESS
    password = {"username": "Alice@Example.com", "password": PASSWORD}
    assert world.update("R", rid, [("surname", "ByPassword")], creds=password) == SUCCESS
    assert world.update("R", rid, [("surname", "ApiKey")], creds={"oauthtoken": world.live.key}) == SUCCESS
    with svc.db.write() as conn:
        set_active(conn, "bob@example.com", False)
    before = stored(svc, "resource", rid)
    for creds in ({"oauthtoken": bob_token}, {"username": "bob@example.com", "password": PASSWORD}):
        out = world.update("R", rid, [("surname", "Bob")], creds=creds)
        assert (out["status"], out["message"]) == (2, "user not active"), out
    # a wrong password of a disabled user says nothing about the user
    out = world.update(
        "R", rid, [("surname", "Bob")], creds={"username": "bob@example.com", "password": "wrong pw!"}
    )
    assert out["status"] == 1, out
    # a read-only user is found and active, but may not change records
    with svc.db.write() as conn:
        reader = svc.auth.tokens.issue(conn, subject=f"user:{world.ids['reader']}", scopes="records.ALL")[0]
    out = world.update("R", rid, [("surname", "Reader")], creds={"oauthtoken": reader})
    assert out["status"] == 99 and "read-only" in out["detail"], out
    assert stored(svc, "resource", rid) == before
    # history: the widget channel and the user behind each credential
    hist = history_rows(svc, "resource", rid)
    assert [(h.actor, h.channel) for h in hist if h.op == "update"] == [
        ("alice@example.com", "tracker-widget"),
        ("alice@example.com", "tracker-widget"),
        ("tester", "tracker-widget"),
    ]


# -- value rules --------------------------------------------------------------------------


def test_id_columns_and_settings_by_name(world: World) -> None:
    _id_columns(world)
    _types_by_name(world)


def _id_columns(world: World) -> None:
    ids = world.ids
    rid = world.ids["R"]
    active, inactive = ids["resource_status:Active"], ids["resource_status:Inactive"]
    assert world.update("R", rid, [("resourcestatusid", active)]) == SUCCESS  # a number
    assert world.record("resource", rid)["status"] == active
    assert world.update("R", rid, [("resourcestatusid", str(inactive))]) == SUCCESS  # a numeric string
    assert world.record("resource", rid)["status"] == inactive
    before = stored(world.live.services, "resource", rid)
    cases = Cases()
    for bad in ("Active", "2.5", "", " ", "-1", 2.5, True, str(ids["client_type:Prospect"])):
        with cases.case(repr(bad)):
            out = world.update("R", rid, [("resourcestatusid", bad)])
            assert out["status"] == 99, out
    with cases.case("no such setting"):
        assert world.update("R", rid, [("resourcestatusid", 999_999)])["status"] == 99
    cases.check()
    assert stored(world.live.services, "resource", rid) == before
    # a placement's status by numeric id, sent as a string (TW-22)
    placed = ids["opportunity_resource_status:Placed"]
    assert world.update("X", ids["X"], [("opportunityresourcestatusid", str(placed))]) == SUCCESS
    assert world.record("opportunity_resource", ids["X"])["status"] == placed
    # a link to a record by id; 0 clears (Tracker's "no reference")
    assert world.update("N", ids["N"], [("clientid", str(ids["C"]))]) == SUCCESS
    assert world.record("contact", ids["N"])["client"] == ids["C"]
    assert world.update("N", ids["N"], [("clientid", 0)]) == SUCCESS
    assert world.record("contact", ids["N"])["client"] is None
    assert world.update("N", ids["N"], [("clientid", ids["R"])])["status"] == 99  # a resource is no client


def _types_by_name(world: World) -> None:
    ids = world.ids
    cid, nid = ids["C"], ids["N"]
    assert world.update("C", cid, [("clienttype", "Silver Client")]) == SUCCESS
    assert world.update("C", cid, [("clienttype", "Prospect,Gold Client")]) == SUCCESS  # the seed's example
    assert world.record("client", cid)["client_types"] == [
        ids["client_type:Prospect"],
        ids["client_type:Gold Client"],
    ]
    assert (
        world.update("C", cid, [("clienttype", " gold client , PROSPECT ")]) == SUCCESS
    )  # trimmed, any case
    assert world.record("client", cid)["client_types"] == [
        ids["client_type:Gold Client"],
        ids["client_type:Prospect"],
    ]
    out = world.update("C", cid, [("clienttype", "Prospect,Platinum")])
    assert out["status"] == 99 and "Platinum" in out["detail"], out
    assert world.record("client", cid)["client_types"] == [
        ids["client_type:Gold Client"],
        ids["client_type:Prospect"],
    ]
    assert world.update("C", cid, [("clienttype", "")]) == SUCCESS  # empty: no types
    assert world.record("client", cid)["client_types"] == []
    # contact types (TW-21): the same rules, on the contact's set of types
    prospect, top = ids["contact_type:Prospect"], ids["contact_type:Top Team"]
    assert world.update("N", nid, [("contacttype", "Top Team")]) == SUCCESS
    assert world.record("contact", nid)["contact_type"] == [top]
    assert world.update("N", nid, [("contacttype", "Prospect,Top Team")]) == SUCCESS  # the seed's example
    assert world.record("contact", nid)["contact_type"] == [prospect, top]
    assert world.update("N", nid, [("contacttype", " top team , PROSPECT ")]) == SUCCESS  # trimmed, any case
    assert world.record("contact", nid)["contact_type"] == [top, prospect]
    out = world.update("N", nid, [("contacttype", "Prospect,Platinum")])
    assert out["status"] == 99 and "Platinum" in out["detail"], out
    assert world.record("contact", nid)["contact_type"] == [top, prospect]
    # a client type's name is no contact type
    out = world.update("N", nid, [("contacttype", "Gold Client")])
    assert out["status"] == 99 and "Gold Client" in out["detail"], out
    assert world.record("contact", nid)["contact_type"] == [top, prospect]
    assert world.update("N", nid, [("contacttype", "")]) == SUCCESS  # empty: no types
    assert world.record("contact", nid)["contact_type"] == []
    # by id: one entry's id (a number or a string of digits) is the whole set; 0 empties it
    assert world.update("N", nid, [("contacttypeid", str(prospect))]) == SUCCESS
    assert world.record("contact", nid)["contact_type"] == [prospect]
    for bad in ("Prospect", f"{prospect},{top}", ids["client_type:Prospect"], 999_999):
        out = world.update("N", nid, [("contacttypeid", bad)])
        assert out["status"] == 99, (bad, out)
    assert world.record("contact", nid)["contact_type"] == [prospect]
    assert world.update("N", nid, [("contacttypeid", 0)]) == SUCCESS
    assert world.record("contact", nid)["contact_type"] == []


def test_skills_and_other_values(world: World) -> None:
    _skills(world)
    _other_values(world)


def _skills(world: World) -> None:
    ids = world.ids
    quick, lst, dt = ids["quick"], ids["list"], ids["date"]
    for letter, type_name in (("R", "resource"), ("C", "client"), ("N", "contact")):
        rid = ids[letter]
        assert (
            world.update(letter, rid, skills=[(quick, "Yes"), (lst, "expert"), (dt, "2020-12-31")]) == SUCCESS
        )
        rec = world.record(type_name, rid)
        assert rec["quick_skills"] == [quick]
        assert sorted((s["skill"], s["value"]) for s in rec["skills"]) == sorted(
            [(lst, "Expert"), (dt, "2020-12-31")]
        )  # a list value is stored as the list has it
        row_ids = {s["skill"]: s["id"] for s in rec["skills"]}
        # a second value for the same skill changes its row; No clears the quick skill
        assert world.update(letter, rid, skills=[(quick, "No"), (lst, "Beginner")]) == SUCCESS
        rec = world.record(type_name, rid)
        assert rec["quick_skills"] == []
        assert {s["skill"]: (s["id"], s["value"]) for s in rec["skills"]} == {
            lst: (row_ids[lst], "Beginner"),
            dt: (row_ids[dt], "2020-12-31"),
        }
        # an empty value removes the skill
        assert world.update(letter, rid, skills=[(dt, "")]) == SUCCESS
        assert [s["skill"] for s in world.record(type_name, rid)["skills"]] == [lst]
    rid = ids["R"]
    before = stored(world.live.services, "resource", rid)
    cases = Cases()
    for name, skill, value in (
        ("list text not in the list", lst, "Guru"),
        ("list value id instead of text", lst, "2"),
        ("date as DD/MM/YYYY", dt, "31/12/2020"),
        ("date not a calendar day", dt, "2020-02-30"),
        ("quick skill other than Yes/No", quick, "Maybe"),
    ):
        with cases.case(name):
            out = world.update("R", rid, [("surname", "Changed")], skills=[(skill, value)])
            assert out["status"] == 99, out
    cases.check()
    assert stored(world.live.services, "resource", rid) == before
    # skills are ignored for L, O, P, T and X; the rest of the update still applies
    for letter in "LOPTX":
        type_name = RECORD_TYPES[letter]
        column = "subject" if letter == "T" else "note" if letter == "X" else "tagtext"
        field = {"subject": "subject", "note": "note", "tagtext": "tag_text"}[column]
        out = world.update(
            letter, ids[letter], [(column, f"set on {letter}")], skills=[(quick, "Yes"), (424242, "x")]
        )
        assert out == SUCCESS, (letter, out)
        assert world.record(type_name, ids[letter])[field] == f"set on {letter}"


def _other_values(world: World) -> None:
    rid = world.ids["R"]
    updates = [
        ("firstname", "Ada"),
        ("availableforwork", "Yes"),
        ("rating", "4.5"),
        ("noticeperiod", 30),
        ("dateapplied", "2024-05-01T09:00:00Z"),
        ("territory", "north"),  # a settings entry by name
        ("lastactivityid", "12"),
        ("FirstName", "Ada L."),  # column names in any case; the last value wins
    ]
    out = world.update("R", rid, updates, customfields=[(17, "H1B"), (18, "Willing")])
    assert out == SUCCESS
    rec = world.record("resource", rid)
    assert (rec["first_name"], rec["available_for_work"], rec["rating"], rec["notice_period"]) == (
        "Ada L.",
        True,
        4.5,
        30,
    )
    assert (rec["date_applied"], rec["territory"], rec["last_activity_id"]) == (
        "2024-05-01T09:00:00.000Z", world.ids["territory:North"], 12,
    )  # fmt: skip
    assert (rec["cf_17"], rec["cf_18"]) == ("H1B", "yes")  # a list custom field by its label
    # null and "" clear
    assert world.update("R", rid, [("firstname", None), ("rating", "")], customfields=[(17, None)]) == SUCCESS
    rec = world.record("resource", rid)
    assert (rec["first_name"], rec["rating"], rec["cf_17"]) == (None, None, None)
    # a custom field value the field refuses is an invalid request
    assert world.update("R", rid, customfields=[(18, "Perhaps")])["status"] == 99
    # an empty update is a success that changes nothing (TW-27)
    before = stored(world.live.services, "resource", rid)
    assert world.update("R", rid) == SUCCESS
    assert world.update("R", rid, [], customfields=[], skills=[]) == SUCCESS
    assert stored(world.live.services, "resource", rid) == before


# -- the same records through the other APIs ---------------------------------------------


def test_get_settings_and_read_back_through_the_native_api(world: World) -> None:
    _get_settings(world)
    _read_back(world)


def _read_back(world: World) -> None:
    ids = world.ids
    rid = ids["R"]
    native = {"Authorization": f"Bearer {world.live.key}"}
    # widget -> native
    assert (
        world.update(
            "R", rid, [("jobtitle", "Engineer"), ("resourcestatusid", ids["resource_status:Active"])]
        )
        == SUCCESS
    )
    rec = world.record("resource", rid)
    assert (rec["job_title"], rec["status"]) == ("Engineer", ids["resource_status:Active"])
    # native -> widget: a row written natively is the row the widget updates, a setting
    # added natively is listed by getSettings and usable by name at once
    r = world.http.patch(
        f"/api/records/resource/{rid}",
        json={"skills": [{"skill": ids["list"], "value": "Beginner"}]},
        headers=native,
    )
    assert r.status_code == 200, r.text
    (row,) = r.json()["record"]["skills"]
    r = world.http.post("/api/records/setting", json={"list": "territory", "name": "South"}, headers=native)
    assert r.status_code == 201, r.text
    south = r.json()["id"]
    settings = world.post(SETTINGS, world.body("getSettings", {}))
    assert {"id": south, "list": "territory", "name": "South"}.items() <= next(
        s for s in settings["settings"] if s["id"] == south
    ).items()
    assert world.update("R", rid, [("territory", "South")], skills=[(ids["list"], "Expert")]) == SUCCESS
    rec = world.record("resource", rid)
    assert rec["territory"] == south
    assert [(s["id"], s["skill"], s["value"]) for s in rec["skills"]] == [(row["id"], ids["list"], "Expert")]
    # the native history shows the widget's change with its channel and user
    r = world.http.get(f"/api/records/resource/{rid}/history", headers=native)
    latest = r.json()["items"][0]
    assert (latest["channel"], latest["actor"]) == ("tracker-widget", "alice@example.com")
    assert {c["field"] for c in latest["changes"]} == {"territory", "skills"}


# -- getSettings ----------------------------------------------------------------------------


def _get_settings(world: World) -> None:
    out = world.post(SETTINGS, world.body("getSettings", {}))
    assert (out["status"], out["message"]) == (0, "success")
    items = out["settings"]
    assert out["count"] == len(items) == 10
    by_id = {s["id"]: s for s in items}
    active = by_id[world.ids["resource_status:Active"]]
    assert (active["list"], active["name"], active["order"]) == ("resource_status", "Active", 0)
    assert "R.resourcestatusid" in active["columns"]
    assert (
        "X.opportunityresourcestatusid" in by_id[world.ids["opportunity_resource_status:Placed"]]["columns"]
    )
    assert "C.clienttype" in by_id[world.ids["client_type:Prospect"]]["columns"]
    assert [s["name"] for s in items if s["list"] == "client_type"] == [
        "Prospect",
        "Gold Client",
        "Silver Client",
    ]
    bad = world.post(
        SETTINGS, world.body("getSettings", {}, {"username": "alice@example.com", "password": "nope"})
    )
    assert (bad["status"], bad["message"], bad["count"]) == (1, "user not found", 0)
    assert world.post(SETTINGS, {"trackerrms": {}})["status"] == 99
    # the method name in any case, as the vendor's routing takes it; other methods are not here
    assert world.post("/tracker/api/widget/GetSettings", world.body("getSettings", {}))["count"] == 10
    body = world.body("updateRecord", {"instructions": {"recordtype": "R", "recordid": world.ids["R"]}})
    assert world.post("/tracker/api/widget/updaterecord", body) == SUCCESS
    r = world.http.post("/tracker/api/widget/createRecord", json=world.body("createRecord", {}))
    assert r.status_code == 404 and (r.json()["status"], r.json()["message"]) == (99, "Invalid request"), (
        r.text
    )


def test_rate_limit_in_the_widget_shape(tmp_path: Path) -> None:
    """The limiter keeps its counts outside the database: one backend is enough."""
    base = Settings(data_dir=tmp_path)
    limited = replace(base, rate_limits={**base.rate_limits, "tracker.widget": "2/minute"})
    services = open_services(limited)
    server, thread, url = start_live(services)
    try:
        body = {"trackerrms": {"getSettings": {"credentials": {"oauthtoken": "junk"}}}}
        with httpx.Client(base_url=url, timeout=30) as http:
            codes = [http.post(SETTINGS, json=body) for _ in range(3)]
        assert [r.status_code for r in codes] == [200, 200, 429]
        assert [r.json()["status"] for r in codes] == [1, 1, 99]
        assert int(codes[2].headers["Retry-After"]) >= 1
        assert codes[2].headers["RateLimit-Policy"] == "2;w=60"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()


def test_read_back_through_tracker_v1_both_ways(world: World) -> None:
    """X-1/X-2: the widget and Tracker REST v1 are two doors to the same records."""
    ids = world.ids
    active, placed = ids["resource_status:Active"], ids["opportunity_resource_status:Placed"]
    headers = {"Authorization": f"Bearer {world.token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=world.live.url + "/tracker/api/v1", headers=headers, timeout=30) as v1:

        def get(resource: str, rid: int) -> dict[str, Any]:
            r = v1.get(f"/{resource}/{rid}")
            assert r.status_code == 200, r.text
            out: dict[str, Any] = r.json()
            return out

        # widget -> v1
        out = world.update(
            "R",
            ids["R"],
            [("firstname", "John"), ("jobtitle", "Marketing Manager"), ("resourcestatusid", str(active))],
            customfields=[(17, "H1B")],
            skills=[(ids["quick"], "Yes")],
        )
        assert out == SUCCESS
        res = get("Resource", ids["R"])
        assert (res["firstName"], res["jobTitle"]) == ("John", "Marketing Manager")
        assert (res["status"]["id"], res["status"]["name"]) == (active, "Active")
        assert {"id": 17, "name": "Visa status", "value": "H1B"} in res["customFields"]
        assert [q["id"] for q in res["quickSkills"]] == [ids["quick"]]
        assert world.update("C", ids["C"], [("clienttype", "Prospect,Gold Client")]) == SUCCESS
        assert [t["name"] for t in get("Client", ids["C"])["clientTypes"]] == ["Prospect", "Gold Client"]
        prospect, top = ids["contact_type:Prospect"], ids["contact_type:Top Team"]
        assert world.update("N", ids["N"], [("contacttype", "Top Team")]) == SUCCESS
        assert get("Contact", ids["N"])["type"]["id"] == top
        # several contact types (TW-21): v1's one `type` is the first, the native API has both
        assert world.update("N", ids["N"], [("contacttype", "Prospect,Top Team")]) == SUCCESS
        contact = get("Contact", ids["N"])
        assert contact["type"] == {"id": prospect, "name": "Prospect"} and contact["typeName"] == "Prospect"
        assert world.record("contact", ids["N"])["contact_type"] == [prospect, top]
        assert world.update("X", ids["X"], [("opportunityresourcestatusid", str(placed))]) == SUCCESS
        placement = get("OpportunityResource", ids["X"])
        assert placement["opportunityResourceStatusId"] == placed

        # v1 -> widget: what v1 wrote is what the widget changes
        r = v1.patch(
            f"/Resource/{ids['R']}", json={"jobTitle": "CTO", "customFields": [{"id": 17, "value": "L1"}]}
        )
        assert r.status_code == 200, r.text
        assert world.record("resource", ids["R"])["job_title"] == "CTO"
        r = v1.patch(f"/Client/{ids['C']}", json={"clientTypes": [{"id": ids["client_type:Silver Client"]}]})
        assert r.status_code == 200, r.text
        assert world.update("C", ids["C"], [("clienttype", "Prospect")]) == SUCCESS  # replaces v1's set
        assert [t["id"] for t in get("Client", ids["C"])["clientTypes"]] == [ids["client_type:Prospect"]]
        # v1's `type: {id}` replaces the contact's set with that one type; the widget replaces it again
        r = v1.patch(f"/Contact/{ids['N']}", json={"type": {"id": top, "name": "ignored"}})
        assert r.status_code == 200, r.text
        assert world.record("contact", ids["N"])["contact_type"] == [top]
        assert world.update("N", ids["N"], [("contacttype", "Prospect,Top Team")]) == SUCCESS
        assert get("Contact", ids["N"])["type"]["id"] == prospect
        assert (
            world.update(
                "R", ids["R"], [("jobtitle", "CEO")], customfields=[(17, None)], skills=[(ids["quick"], "No")]
            )
            == SUCCESS
        )
        res = get("Resource", ids["R"])
        assert (res["jobTitle"], res["quickSkills"]) == ("CEO", [])
        assert {"id": 17, "name": "Visa status", "value": None} in res["customFields"]


def test_every_error_has_a_widget_outcome() -> None:
    """Each class of the one hierarchy renders as a widget body with one of the seed's codes."""
    from cardfile import errors
    from cardfile.api.dialects.tracker_widget.errors import MESSAGES, outcome_of
    from cardfile.api.dialects.tracker_widget.render import error_response

    expected = {
        errors.Unauthenticated: 1,
        errors.UserInactive: 2,
        errors.NotFound: 3,
        errors.UnknownRecordType: 99,
        errors.ValidationFailed: 99,
        errors.PermissionDenied: 99,
        errors.ScopeMissing: 99,
        errors.PreconditionFailed: 99,
    }
    for cls in errors.ALL_ERRORS:
        if cls is errors.ValidationFailed:
            exc: errors.CardfileError = cls([errors.FieldError("f", "INVALID", "bad")])
        elif cls is errors.BatchFailed:
            exc = cls([])
        else:
            exc = cls("detail")
        out = outcome_of(exc)
        assert out.status in MESSAGES, cls
        assert out.status == expected.get(cls, out.status), cls
        body = orjson.loads(error_response(exc).body)
        assert (body["status"], body["message"], body["count"]) == (out.status, MESSAGES[out.status], 0)
        assert body["detail"]
    unknown = errors.ValidationFailed(
        [errors.FieldError("x", "UNKNOWN_FIELD", "no column"), errors.FieldError("y", "NOT_A_NUMBER", "bad")]
    )
    assert outcome_of(unknown).status == 4
