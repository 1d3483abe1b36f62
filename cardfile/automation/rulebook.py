"""Where rules live: the ``automation_rules`` table, cached per schema snapshot.

Rules come from packs (``rules:`` under a type, replaced when the pack is installed
again) or from the API (kept across pack installs). Every change bumps the schema
version, so every process drops its cached rules on its next request, exactly as it
does for a custom field; between changes, finding a type's rules costs no query.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from cardfile.automation.model import Rule, RuleError, check_rules, thaw
from cardfile.errors import Conflict, FieldError, NotFound, ValidationFailed
from cardfile.fieldtypes import registry
from cardfile.fieldtypes.base import InvalidValue
from cardfile.schema.model import RecordType, SchemaError
from cardfile.schema.packs import Pack, load_pack
from cardfile.store import schema_store, tables
from cardfile.store.clock import now_us
from cardfile.store.database import Database

__all__ = [
    "add_rule",
    "check_values",
    "install_named_packs",
    "install_pack_rules",
    "list_rules",
    "pack_rules",
    "remove_rule",
    "rules_for",
]

_R = tables.automation_rules
# id(record type snapshot) -> (the snapshot, its rules); a new snapshot after every schema change
_cache: dict[int, tuple[RecordType, tuple[Rule, ...]]] = {}
_cache_lock = threading.Lock()


def check_values(rules: Iterable[Rule], rt: RecordType) -> None:
    """Every value a rule writes must be one its field accepts, so a rule never makes the
    change that fired it fail; raise RuleError otherwise."""
    for rule in rules:
        for action in rule.then:
            for name, value in action.values:
                fd = rt.fields[name]
                ft = registry.get(fd.type)
                where = f"rule {rule.name!r}: {action.kind} {name!r}"
                if fd.read_only:
                    raise RuleError(f"{where}: the field is read-only")
                if action.kind in ("add", "remove") and not ft.multi:
                    raise RuleError(f"{where}: {action.kind} needs a multi-value field")
                if value is None:
                    continue
                try:
                    parsed = ft.parse(thaw(value), fd)
                except InvalidValue as exc:
                    raise RuleError(f"{where}: {exc.message}") from None
                errors = ft.validate(parsed, fd) if action.kind == "set" else []
                if errors:
                    raise RuleError(f"{where}: {errors[0].message}")


def _load(conn: Connection, type_name: str) -> tuple[Rule, ...]:
    rows = conn.execute(
        select(_R.c.definition, _R.c.pack).where(_R.c.record_type == type_name).order_by(_R.c.position)
    ).all()
    return tuple(Rule.from_json(r.definition, custom=r.pack is None) for r in rows)


def rules_for(conn: Connection, rt: RecordType) -> tuple[Rule, ...]:
    """The rules of a type as of this schema snapshot (``rt`` from the catalog)."""
    hit = _cache.get(id(rt))
    if hit is not None and hit[0] is rt:
        return hit[1]
    rules = _load(conn, rt.name)
    with _cache_lock:
        if len(_cache) > 512:
            _cache.clear()
        _cache[id(rt)] = (rt, rules)
    return rules


def list_rules(conn: Connection, type_name: str) -> tuple[Rule, ...]:
    return _load(conn, type_name)


def pack_rules(pack: Pack, data: Any) -> dict[str, tuple[Rule, ...]]:
    """The ``rules:`` of each type of a parsed pack document, checked against its fields."""
    out: dict[str, tuple[Rule, ...]] = {}
    types = {t.name: t for t in pack.types}
    for tname, tdef in ((data or {}).get("types") or {}).items():
        raw = (tdef or {}).get("rules")
        if raw is None:
            continue
        if not isinstance(raw, list):
            raise SchemaError(f"pack {pack.name!r}: {tname}.rules must be a list")
        try:
            rules = tuple(Rule.from_json(r) for r in raw)
            check_rules(rules, set(types[tname].fields))
            check_values(rules, types[tname])
        except RuleError as exc:
            raise SchemaError(f"pack {pack.name!r}: {tname}: {exc}") from None
        out[tname] = rules
    return out


def _read_pack(name: str) -> Any:
    return yaml.safe_load((resources.files("cardfile.schema") / "packs" / f"{name}.yaml").read_text("utf-8"))


def install_pack_rules(db: Database, packs: Iterable[tuple[Pack, Any]]) -> None:
    """Replace each pack's rules by those its document declares (API rules are kept)."""
    with db.write() as conn:
        changed = False
        for pack, data in packs:
            wanted = pack_rules(pack, data)
            for rt in pack.types:
                rules = wanted.get(rt.name, ())
                have = conn.execute(
                    select(_R.c.name, _R.c.definition)
                    .where(_R.c.record_type == rt.name, _R.c.pack == pack.name)
                    .order_by(_R.c.position)
                ).all()
                if [(r.name, r.definition) for r in have] == [(r.name, r.to_json()) for r in rules]:
                    continue
                changed = True
                conn.execute(delete(_R).where(_R.c.record_type == rt.name, _R.c.pack == pack.name))
                custom = {r.name for r in _load(conn, rt.name)}
                at = now_us()
                for i, rule in enumerate(rules):
                    if rule.name in custom:
                        raise SchemaError(
                            f"pack {pack.name!r}: {rt.name}: rule {rule.name!r} exists (added through the API)"
                        )
                    conn.execute(
                        insert(_R).values(record_type=rt.name, name=rule.name, position=i, pack=pack.name,
                                          definition=rule.to_json(), updated_at=at)
                    )  # fmt: skip
        if changed:
            schema_store.bump_schema_version(conn)


def install_named_packs(db: Database, names: Iterable[str]) -> None:
    """``install_pack_rules`` for shipped packs, read by name (after ``Catalog.install``)."""
    install_pack_rules(db, [(load_pack(n), _read_pack(n)) for n in names])


def add_rule(conn: Connection, rt: RecordType, data: Any) -> Rule:
    """Add a rule through the API; it runs after the type's existing rules."""
    try:
        rule = Rule.from_json(data, custom=True)
        existing = _load(conn, rt.name)
        check_rules((*existing, rule), set(rt.fields))
        check_values([rule], rt)
    except RuleError as exc:
        name = str(data.get("name", "")) if isinstance(data, Mapping) else ""
        if "defined twice" in str(exc):
            raise Conflict(f"{rt.name} already has a rule {name!r}") from None
        raise ValidationFailed([FieldError("rule", "INVALID_RULE", str(exc))]) from None
    position = conn.execute(
        select(func.coalesce(func.max(_R.c.position), -1)).where(_R.c.record_type == rt.name)
    ).scalar_one()
    conn.execute(
        insert(_R).values(record_type=rt.name, name=rule.name, position=int(position) + 1, pack=None,
                          definition=rule.to_json(), updated_at=now_us())
    )  # fmt: skip
    schema_store.bump_schema_version(conn)
    return rule


def remove_rule(conn: Connection, type_name: str, name: str) -> None:
    res = conn.execute(delete(_R).where(_R.c.record_type == type_name, _R.c.name == name))
    if res.rowcount == 0:
        raise NotFound(f"{type_name} has no rule {name!r}")
    schema_store.bump_schema_version(conn)
