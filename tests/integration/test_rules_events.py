"""One change event for every writer, MDM's processing rules as automation, and the import
contracts (issue #15, part 5).

- the importer writes the same history rows and events as ``Engine.create`` for the same data;
- MDM's processing rules are automation rules of the ``mdm`` pack (``stage: before``,
  feature ``process``): they hold through the native API exactly as through MDM (the
  drift table), and any caller may decline them;
- ``lint-imports`` keeps: the engine imports neither the API nor automation, no cycles.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from cardfile.auth.principal import Principal
from cardfile.automation import rulebook
from cardfile.automation.model import Rule, RuleError
from cardfile.engine.commands import Context, CreateCommand, UpdateCommand, ops_from_json
from cardfile.engine.importer import import_records
from cardfile.fieldtypes import registry
from cardfile.schema.packs import load_pack, parse_pack
from cardfile.services import Services
from cardfile.store import tables
from tests.conftest import LiveServer, start_live

ROOT = Path(__file__).resolve().parents[2]

PACK = """
description: importer vs engine
types:
  items:
    fields:
      - {name: title, type: text, required: true}
      - {name: tags, type: multi_select, options: [a, b, c]}
      - {name: price, type: decimal}
      - {name: due, type: date}
      - {name: done, type: boolean}
      - name: lines
        type: sub_records
        fields:
          - {name: sku, type: text, required: true}
          - {name: qty, type: integer}
"""

BODIES: list[dict[str, Any]] = [
    {"title": "one", "tags": ["a", "c"], "price": "12.50", "due": "2026-01-31", "done": True,
     "lines": [{"sku": "X1", "qty": 2}, {"sku": "Y2"}]},
    {"title": "two"},
    {"title": "three", "tags": [], "lines": []},
]  # fmt: skip


def _history(svc: Services, rid: int) -> list[dict[str, Any]]:
    h = tables.history
    with svc.db.read() as conn:
        rows = conn.execute(select(h).where(h.c.record_id == rid).order_by(h.c.id)).all()
    keep = ("record_type", "version", "op", "actor", "channel", "reason", "client_id", "changes")
    return [{k: getattr(r, k) for k in keep} for r in rows]


def _events(svc: Services, rid: int) -> list[tuple[str, int, dict[str, Any]]]:
    o = tables.outbox
    with svc.db.read() as conn:
        rows = conn.execute(select(o).where(o.c.record_id == rid).order_by(o.c.id)).all()
    out = []
    for r in rows:
        payload = {k: v for k, v in r.payload.items() if k not in ("record_id", "at")}
        out.append((r.event_type, r.version, payload))
    return out


def test_the_importer_writes_the_history_and_events_the_engine_writes(svc: Services) -> None:
    svc.catalog.install([parse_pack("itemtest", yaml.safe_load(PACK))])
    ctx = Context("loader", "cli", "initial load")
    with svc.db.read() as conn:
        rt = svc.catalog.record_type(conn, "items")
    multi = frozenset(f.name for f in rt if registry.get(f.type).multi or f.type == "sub_records")
    created = [
        svc.engine.create(CreateCommand("items", tuple(ops_from_json(b, multi_fields=multi))), ctx).id
        for b in BODIES
    ]
    assert import_records(svc.engine, "items", BODIES, ctx) == len(BODIES)
    with svc.db.read() as conn:
        ids = conn.execute(select(tables.records.c.id).where(tables.records.c.type == "items")).scalars()
        imported = sorted(set(ids) - set(created))
    assert len(imported) == len(BODIES)
    for made, loaded in zip(created, imported, strict=True):
        assert svc.engine.get("items", loaded)["lines"] == svc.engine.get("items", made)["lines"]
        assert _history(svc, loaded) == _history(svc, made)
        assert _events(svc, loaded) == _events(svc, made)
    # the shape both write: sub-records and multi-values as lists, old values as an empty record has them
    first = {c["field"]: c for c in _history(svc, imported[0])[0]["changes"]}
    assert first["tags"] == {"field": "tags", "old": [], "new": ["a", "c"]}
    assert first["lines"]["old"] == [] and [r["sku"] for r in first["lines"]["new"]] == ["X1", "Y2"]


# -- MDM's processing rules: automation rules, for every channel -----------------------------


@pytest.fixture
def mdm_live(svc: Services) -> Iterator[LiveServer]:
    svc.catalog.install([load_pack("mdm")])
    rulebook.install_named_packs(svc.db, ["mdm"])
    server, thread, url = start_live(svc)
    from cardfile.auth.apikeys import create_key

    yield LiveServer(url=url, key=create_key(svc.db, "tester"), services=svc)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(mdm_live: LiveServer) -> Iterator[httpx.Client]:
    with mdm_live.client() as c:
        yield c


def _native_create(client: httpx.Client, pid: str, attrs: dict[str, Any], process: bool) -> dict[str, Any]:
    body = {"product_id": pid, "product_id_ext": pid, "name": "Acme", "state": "UNCONFIRMED", **attrs}
    headers = {} if process else {"X-Skip-Automation": "process"}
    r = client.post("/api/records/company", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(client.get(f"/api/records/company/{r.json()['id']}").json())


def _mdm_create(client: httpx.Client, pid: str, attrs: dict[str, Any], process: bool) -> dict[str, Any]:
    names = {"company_rating": "CompanyRating", "website": "Website"}
    record = {"productId": pid, "productIdExt": pid,
              "attributes": [{"name": "Name", "value": "Acme"}]
              + [{"name": names[k], "value": str(v)} for k, v in attrs.items()]}  # fmt: skip
    r = client.post("/mdm/records/Company/addRecord", json={"record": record, "process": process})
    assert r.status_code == 200, r.text
    found = client.get("/api/records/company", params={"product_id": pid}).json()["items"]
    assert len(found) == 1
    return dict(found[0])


_pids = itertools.count(1)
CHANNELS = {"native": _native_create, "mdm": _mdm_create}

# (attributes, process?) -> the state the change leaves, and the reason of its one history row
DRIFT = [
    ({"company_rating": 9, "website": "https://acme.example/"}, True, "CONFIRMED", "process: confirm rated companies"),
    ({"company_rating": 9}, True, "UNCONFIRMED", None),
    ({"company_rating": 1}, True, "REJECTED", "process: reject low ratings"),
    ({"company_rating": 1}, False, "UNCONFIRMED", None),
    ({"company_rating": 4, "website": "https://acme.example/"}, True, "UNCONFIRMED", None),
]  # fmt: skip


@pytest.mark.parametrize("channel", sorted(CHANNELS))
@pytest.mark.parametrize(("attrs", "process", "state", "reason"), DRIFT)
def test_processing_rules_hold_for_every_channel(
    client: httpx.Client,
    channel: str,
    attrs: dict[str, Any],
    process: bool,
    state: str,
    reason: str | None,
) -> None:
    pid = f"{channel}-{next(_pids)}"
    rec = CHANNELS[channel](client, pid, attrs, process)
    assert rec["state"] == state
    assert rec["version"] == 1  # the rules' values join the change: one version, one history row
    history = client.get(f"/api/records/company/{rec['id']}/history").json()["items"]
    assert [(h["version"], h["reason"]) for h in history] == [(1, reason)]


def test_processing_rules_run_on_a_native_update_in_the_same_version(client: httpx.Client) -> None:
    rec = _native_create(client, "upd-1", {}, True)
    r = client.patch(f"/api/records/company/{rec['id']}", json={"company_rating": 2},
                     headers={"X-Change-Reason": "rating call"})  # fmt: skip
    assert r.status_code == 200, r.text
    after = client.get(f"/api/records/company/{rec['id']}").json()
    assert (after["state"], after["version"]) == ("REJECTED", 2)
    newest = client.get(f"/api/records/company/{rec['id']}/history").json()["items"][0]
    assert newest["reason"] == "rating call; process: reject low ratings"
    # a record marked deleted is not processed
    r = client.patch(f"/api/records/company/{rec['id']}", json={"deleted": True, "state": "DRAFT"})
    assert r.status_code == 200, r.text
    assert client.get(f"/api/records/company/{rec['id']}").json()["state"] == "DRAFT"


def test_any_caller_may_decline_processing_but_not_other_features(mdm_live: LiveServer) -> None:
    svc = mdm_live.services
    plain = Principal("user", 1, "u", frozenset({"records.ALL"}))
    declines = Context("u", "api", skip=frozenset({"process"}), principal=plain)
    ops = ops_from_json({"product_id": "opt-1", "name": "Acme", "state": "DRAFT", "company_rating": 1},
                        multi_fields=frozenset())  # fmt: skip
    made = svc.engine.create(CreateCommand("company", tuple(ops)), declines)
    assert made.record["state"] == "DRAFT"  # declined without the scope automation.SKIP
    processed = svc.engine.update(
        UpdateCommand(
            "company", made.id, tuple(ops_from_json({"company_rating": 0}, multi_fields=frozenset()))
        ),
        Context("u", "api", principal=plain),
    )
    assert processed.record["state"] == "REJECTED"
    from cardfile.errors import ScopeMissing

    with pytest.raises(ScopeMissing):  # a feature that is not optional still needs the scope
        svc.engine.update(
            UpdateCommand("company", made.id, tuple(ops_from_json({"name": "B"}, multi_fields=frozenset()))),
            Context("u", "api", skip=frozenset({"process", "workflows"}), principal=plain),
        )


def test_before_rules_only_change_values() -> None:
    base = {"name": "r", "stage": "before", "on": ["update"], "when": [{"field": "n", "gte": 1}]}
    rule = Rule.from_json({**base, "then": [{"set": {"n": 0}}], "label": "zero it", "optional": True})
    assert (rule.stage, rule.label, rule.optional) == ("before", "zero it", True)
    assert Rule.from_json(rule.to_json()) == rule
    with pytest.raises(RuleError, match="only sets"):
        Rule.from_json({**base, "then": [{"lock": True}]})
    with pytest.raises(RuleError, match="stage"):
        Rule.from_json({**base, "stage": "during", "then": [{"set": {"n": 0}}]})
    with pytest.raises(RuleError, match="number"):
        Rule.from_json({**base, "when": [{"field": "n", "gt": "many"}], "then": [{"set": {"n": 0}}]})


# -- imports point one way ---------------------------------------------------------------------


def test_import_contracts_keep() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout
