"""Automation rules: declared in a pack or through the API, run by the engine for every
channel in the transaction of the change; skip flags, locks, bounded chains."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from cardfile.auth.principal import Principal
from cardfile.automation import rulebook
from cardfile.automation.model import Rule, RuleError
from cardfile.engine.commands import Context, CreateCommand, FieldOp, UpdateCommand
from cardfile.errors import BatchFailed, RecordLocked, ScopeMissing
from cardfile.schema.model import SchemaError
from cardfile.schema.packs import parse_pack
from cardfile.services import Services
from cardfile.store import tables
from tests.conftest import LiveServer

PACK = """
description: rule tests
types:
  tickets:
    fields:
      - {name: title, type: text}
      - {name: status, type: single_select, options: [open, pending, closed]}
      - {name: priority, type: single_select, options: [low, high]}
      - {name: tags, type: multi_select, options: [urgent, done, vip]}
      - {name: score, type: integer}
      - {name: resolved, type: boolean}
    rules:
      - name: close_ticket
        feature: workflows
        on: [update]
        when:
          - {field: status, changed: true}
          - {field: status, equals: closed}
        then:
          - set: {resolved: true}
          - add: {tags: [done]}
          - lock: true
          - emit: ticket.closed
      - name: triage
        feature: cadences
        on: [create]
        when:
          - {field: priority, in: [high]}
        then:
          - add: {tags: [urgent]}
      - name: normalize_score
        feature: process
        on: [create, update]
        when:
          - {field: score, changed: true}
          - {field: score, empty: false}
        then:
          - set: {score: 100}
  loops:
    fields:
      - {name: note, type: text}
      - {name: other, type: text}
    rules:
      - name: ping
        on: [update]
        when: [{field: note, changed: true}, {field: note, not_equals: ping}]
        then: [{set: {note: ping}}]
      - name: pong
        on: [update]
        when: [{field: note, changed: true}, {field: note, equals: ping}]
        then: [{set: {note: pong}}]
"""

CTX = Context("tester", "api")


def install(svc: Services, text: str = PACK, name: str = "ruletest") -> None:
    data = yaml.safe_load(text)
    pack = parse_pack(name, data)
    svc.catalog.install([pack])
    rulebook.install_pack_rules(svc.db, [(pack, data)])


@pytest.fixture
def rsvc(svc: Services) -> Iterator[Services]:
    install(svc)
    yield svc


def history(svc: Services, rid: int) -> list[tuple[int, str, list[str]]]:
    h = tables.history
    with svc.db.read() as conn:
        rows = conn.execute(select(h).where(h.c.record_id == rid).order_by(h.c.version)).all()
    return [(r.version, r.actor, [c["field"] for c in r.changes]) for r in rows]


def events(svc: Services, rid: int) -> list[tuple[str, int, str]]:
    o = tables.outbox
    with svc.db.read() as conn:
        rows = conn.execute(select(o).where(o.c.record_id == rid).order_by(o.c.id)).all()
    return [(r.event_type, r.version, r.payload["actor"]) for r in rows]


def ticket(svc: Services, ctx: Context = CTX, **fields: Any) -> int:
    ops = tuple(FieldOp(k, "set", v) for k, v in {"title": "T", "status": "open", **fields}.items())
    return svc.engine.create(CreateCommand("tickets", ops), ctx).id


def update(svc: Services, rid: int, ctx: Context = CTX, type_: str = "tickets", **fields: Any) -> Any:
    ops = tuple(FieldOp(k, "set", v) for k, v in fields.items())
    return svc.engine.update(UpdateCommand(type_, rid, ops), ctx)


def test_a_rule_whose_condition_holds_fires_once_in_the_same_transaction(rsvc: Services) -> None:
    rid = ticket(rsvc)
    result = update(rsvc, rid, status="closed")
    # the caller sees its own change, and the record as the rule left it
    assert [c.field for c in result.changes] == ["status"]
    assert result.version == 3 and result.record["resolved"] is True and result.record["tags"] == ["done"]
    assert history(rsvc, rid) == [
        (1, "tester", ["title", "status"]),
        (2, "tester", ["status"]),
        (3, "rule:close_ticket", ["resolved", "tags"]),
    ]
    assert events(rsvc, rid) == [
        ("record.created", 1, "tester"),
        ("record.updated", 2, "tester"),
        ("record.updated", 3, "rule:close_ticket"),
        ("record.locked", 3, "rule:close_ticket"),
        ("ticket.closed", 3, "rule:close_ticket"),
    ]
    # a condition that does not hold does nothing
    other = ticket(rsvc)
    assert update(rsvc, other, status="pending").version == 2
    assert len(history(rsvc, other)) == 2


def test_a_locked_record_refuses_changes_until_an_admin_unlocks_it(
    live: LiveServer, api: httpx.Client
) -> None:
    svc = live.services
    install(svc)
    rid = ticket(svc)
    update(svc, rid, status="closed")
    with pytest.raises(RecordLocked) as exc:
        update(svc, rid, title="again")
    assert exc.value.code == "RECORD_LOCKED"
    r = api.patch(f"/api/records/tickets/{rid}", json={"title": "again"})
    assert r.status_code == 423 and r.json()["code"] == "RECORD_LOCKED"
    r = api.patch("/api/records/tickets", json={"records": [{"id": rid, "title": "x"}], "all_or_none": False})
    assert r.json()["results"][0]["error"]["code"] == "RECORD_LOCKED"
    assert api.delete(f"/api/records/tickets/{rid}").status_code == 423
    lock = api.get(f"/api/automation/locks/tickets/{rid}").json()
    assert lock["locked"] is True and lock["locked_by"] == "rule:close_ticket"
    assert api.delete(f"/api/automation/locks/tickets/{rid}").json() == {"locked": False}
    r = api.patch(f"/api/records/tickets/{rid}", json={"title": "again"})
    assert r.status_code == 200, r.text
    assert [e[0] for e in events(svc, rid)][-2:] == ["record.unlocked", "record.updated"]


def test_create_rules_and_every_channel(rsvc: Services) -> None:
    rid = ticket(rsvc, Context("widget-user", "tracker_widget"), priority="high")
    assert history(rsvc, rid)[-1] == (2, "rule:triage", ["tags"])
    with rsvc.db.read() as conn:
        rows = conn.execute(select(tables.history.c.channel).where(tables.history.c.record_id == rid)).all()
    assert [r.channel for r in rows] == ["tracker_widget", "tracker_widget"]
    assert len(history(rsvc, ticket(rsvc, priority="low"))) == 1


def test_skipping_features_needs_the_scope(rsvc: Services) -> None:
    rid = ticket(rsvc)
    plain = Principal("user", 1, "u", frozenset({"records.ALL"}))
    with pytest.raises(ScopeMissing):
        update(
            rsvc, rid, Context("u", "api", skip=frozenset({"workflows"}), principal=plain), status="closed"
        )
    with pytest.raises(ScopeMissing):
        update(rsvc, rid, Context("u", "api", skip_automation=True, principal=plain), status="closed")
    allowed = Principal("user", 1, "u", frozenset({"records.ALL", "automation.SKIP"}))
    skip_wf = Context("u", "api", skip=frozenset({"workflows"}), principal=allowed)
    assert update(rsvc, rid, skip_wf, status="closed").version == 2  # close_ticket skipped
    # other features still run; skip_automation skips them all
    assert update(rsvc, rid, skip_wf, score=5).record["score"] == 100
    everything = Context("u", "api", skip_automation=True, principal=allowed)
    assert update(rsvc, rid, everything, score=7).record["score"] == 7
    assert [a for _v, a, _f in history(rsvc, rid)] == ["tester", "u", "u", "rule:normalize_score", "u"]


def test_a_self_triggering_rule_does_not_fire_again(rsvc: Services) -> None:
    rid = ticket(rsvc, score=3)  # on create: 3 -> 100 by the rule, which does not fire on its own change
    assert history(rsvc, rid) == [
        (1, "tester", ["title", "status", "score"]),
        (2, "rule:normalize_score", ["score"]),
    ]
    update(rsvc, rid, score=4)
    assert [a for _v, a, _f in history(rsvc, rid)] == [
        "tester",
        "rule:normalize_score",
        "tester",
        "rule:normalize_score",
    ]


def test_rule_chains_stop_at_the_depth_limit(rsvc: Services) -> None:
    rid = rsvc.engine.create(CreateCommand("loops", (FieldOp("other", "set", "x"),)), CTX).id
    result = update(rsvc, rid, type_="loops", note="hello")
    actors = [a for _v, a, _f in history(rsvc, rid)]
    assert actors == ["tester", "tester", "rule:ping", "rule:pong", "rule:ping", "rule:pong", "rule:ping"]
    assert result.version == 7 and result.record["note"] == "ping"
    stopped = [e for e in events(rsvc, rid) if e[0] == "automation.chain_stopped"]
    assert stopped == [("automation.chain_stopped", 7, "rule:ping")]
    with rsvc.db.read() as conn:
        payload = conn.execute(
            select(tables.outbox.c.payload).where(tables.outbox.c.event_type == "automation.chain_stopped")
        ).scalar_one()
    assert payload["chain"] == ["ping", "pong", "ping", "pong", "ping"] and payload["not_run"] == ["pong"]


def test_rules_run_for_batches_and_roll_back_with_them(rsvc: Services) -> None:
    a, b = ticket(rsvc), ticket(rsvc)
    results = rsvc.engine.update_many(
        [UpdateCommand("tickets", a, (FieldOp("status", "set", "closed"),)),
         UpdateCommand("tickets", b, (FieldOp("status", "set", "pending"),))],
        CTX, all_or_none=True,
    )  # fmt: skip
    assert [r.version for r in results] == [3, 2]  # type: ignore[union-attr]
    c, d = ticket(rsvc), ticket(rsvc)
    with pytest.raises(BatchFailed):  # all or none: the rule's changes roll back with the batch
        rsvc.engine.run_batch(
            [(c, "closed"), (d, "nope")],
            lambda conn, it: rsvc.engine.update(
                UpdateCommand("tickets", it[0], (FieldOp("status", "set", it[1]),)), CTX, conn
            ),
            all_or_none=True,
        )
    assert [e[0] for e in events(rsvc, c)] == ["record.created"]
    with rsvc.db.read() as conn:
        assert [r.record_id for r in conn.execute(select(tables.record_locks))] == [a]
    assert update(rsvc, c, status="closed").version == 3


def test_rules_through_the_api_survive_pack_installs(live: LiveServer, api: httpx.Client) -> None:
    svc = live.services
    install(svc)
    rule = {"name": "vip_high", "feature": "workflows", "on": ["update"],
            "when": [{"field": "tags", "contains": "vip"}], "then": [{"set": {"priority": "high"}}]}  # fmt: skip
    r = api.post("/api/automation/rules/tickets", json=rule)
    assert r.status_code == 201, r.text
    assert r.json()["custom"] is True
    assert api.post("/api/automation/rules/tickets", json=rule).status_code == 409
    bad = {**rule, "name": "bad", "when": [{"field": "nope", "equals": 1}]}
    r = api.post("/api/automation/rules/tickets", json=bad)
    assert r.status_code == 422 and "unknown field" in r.json()["errors"][0]["message"]
    install(svc)  # the pack again: its rules are replaced, API rules are kept
    names = [x["name"] for x in api.get("/api/automation/rules/tickets").json()["items"]]
    assert names == ["close_ticket", "triage", "normalize_score", "vip_high"]
    rid = api.post("/api/records/tickets", json={"title": "t"}).json()["id"]
    r = api.patch(f"/api/records/tickets/{rid}", json={"tags": ["vip"]})
    assert r.json()["record"]["priority"] == "high" and r.json()["version"] == 3
    assert api.delete("/api/automation/rules/tickets/vip_high").status_code == 204
    rid2 = api.post("/api/records/tickets", json={"title": "t"}).json()["id"]
    assert api.patch(f"/api/records/tickets/{rid2}", json={"tags": ["vip"]}).json()["version"] == 2


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"name": "x", "then": []}, "non-empty list of actions"),
        ({"name": "x", "then": [{"explode": True}]}, "unknown action"),
        ({"name": "x", "then": [{"emit": "record.updated"}]}, "reserved"),
        ({"name": "x", "on": ["delete"], "then": [{"lock": True}]}, "'on'"),
        (
            {"name": "x", "when": [{"field": "a", "equals": 1, "in": [1]}], "then": [{"lock": True}]},
            "exactly one",
        ),
        ({"name": "X", "then": [{"lock": True}]}, "lower_snake"),
    ],
)
def test_bad_rules_are_refused(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        Rule.from_json(rule)


def test_pack_rules_are_checked_against_the_type(svc: Services) -> None:
    text = PACK.replace("{field: priority, in: [high]}", "{field: urgency, in: [high]}")
    with pytest.raises(SchemaError, match="unknown field"):
        install(svc, text, "badrules")


def test_the_native_api_skips_features_with_a_header(live: LiveServer, api: httpx.Client) -> None:
    from cardfile.auth.users import add_user

    svc = live.services
    install(svc)
    rid = api.post("/api/records/tickets", json={"title": "t", "status": "open"}).json()["id"]
    r = api.patch(f"/api/records/tickets/{rid}", json={"score": 5}, headers={"X-Skip-Automation": "process"})
    assert r.status_code == 200 and r.json()["record"]["score"] == 5 and r.json()["version"] == 2
    r = api.patch(f"/api/records/tickets/{rid}", json={"score": 6}, headers={"X-Skip-Automation": "all"})
    assert r.json()["record"]["score"] == 6
    assert api.patch(f"/api/records/tickets/{rid}", json={"score": 7}).json()["record"]["score"] == 100
    with svc.db.write() as conn:
        uid = add_user(conn, "std@example.com", role="standard", password="correct horse battery").id
        token = svc.auth.tokens.issue(conn, subject=f"user:{uid}", scopes="records.ALL")[0]
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}) as std:
        r = std.patch(
            f"/api/records/tickets/{rid}", json={"score": 8}, headers={"X-Skip-Automation": "process"}
        )
        assert r.status_code == 403 and r.json()["code"] == "INSUFFICIENT_SCOPE"
        assert std.patch(f"/api/records/tickets/{rid}", json={"score": 8}).json()["record"]["score"] == 100


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("{set: {status: bogus}}", "bogus"),
        ("{add: {title: [x]}}", "multi-value"),
        ("{add: {tags: [nope]}}", "nope"),
        ("{set: {score: many}}", "rule 'triage': set 'score'"),
    ],
)
def test_pack_rules_must_write_values_their_fields_accept(action: str, message: str) -> None:
    data = yaml.safe_load(PACK.replace("- add: {tags: [urgent]}", f"- {action}"))
    with pytest.raises(SchemaError, match=message):
        rulebook.pack_rules(parse_pack("badvalues", data), data)
    good = yaml.safe_load(PACK)
    assert [r.name for r in rulebook.pack_rules(parse_pack("good", good), good)["tickets"]][
        0
    ] == "close_ticket"
