"""A record type seen as an MDM repository: names, identity, relationships, perspectives.

Every record type with a ``product_id`` field is a repository (from a pack or defined at
runtime); its attributes are its fields, named in CamelCase (``company_rating`` is
``CompanyRating``), and names sent by a client match case-insensitively, underscores
ignored (``COMPANYRATING``, ``companyRating``). The conventions:

- identity: ``product_id`` + ``product_id_ext`` (unique together, see the pack); the
  record id is the ``productKeyId``;
- ``state`` (the record state) and ``deleted`` (marked deleted) when the type has them;
- a relationship is a ``sub_records`` field with one ``lookup`` column: the column is the
  target record, the other columns are the relationship's own attributes.

Perspectives come from the ``mdm`` section of a pack's YAML, for the types of that pack.
Processing rules are automation rules of the type (feature ``process``, see the ``mdm``
pack): the engine runs them for every channel.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from cardfile.fieldtypes import registry
from cardfile.schema.model import FieldDef, RecordType, Schema, SchemaError

__all__ = [
    "ID",
    "ID_EXT",
    "Relationship",
    "Repository",
    "find_repository",
    "mdm_name",
    "normalize",
]

ID = "product_id"
ID_EXT = "product_id_ext"
STATE = "state"
DELETED = "deleted"
_RECORD_FIELDS = frozenset({STATE, DELETED})


def mdm_name(name: str) -> str:
    """The MDM spelling of a cardfile name: ``company_rating`` -> ``CompanyRating``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def normalize(name: str) -> str:
    """How names are compared: case-insensitive, underscores and spaces ignored."""
    return name.replace("_", "").replace(" ", "").lower()


@dataclass(frozen=True)
class Relationship:
    field: str  # the sub_records field
    target_column: str  # its lookup column
    target_type: str
    attributes: tuple[FieldDef, ...]  # the other columns

    @property
    def name(self) -> str:
        return mdm_name(self.field)

    def attribute(self, name: str) -> FieldDef | None:
        key = normalize(name)
        return next((c for c in self.attributes if normalize(c.name) == key), None)


@dataclass(frozen=True)
class Repository:
    rt: RecordType
    perspectives: Mapping[str, tuple[str, frozenset[str]]] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.rt.name

    @property
    def name(self) -> str:
        return mdm_name(self.rt.name)

    @functools.cached_property
    def relationships(self) -> dict[str, Relationship]:
        out: dict[str, Relationship] = {}
        for fd in self.rt:
            if fd.type != "sub_records":
                continue
            links = [c for c in fd.fields if c.type == "lookup" and c.target]
            if len(links) == 1:
                attrs = tuple(c for c in fd.fields if c is not links[0])
                out[normalize(fd.name)] = Relationship(fd.name, links[0].name, str(links[0].target), attrs)
        return out

    @functools.cached_property
    def _attributes(self) -> dict[str, FieldDef]:
        rel_fields = {r.field for r in self.relationships.values()}
        out: dict[str, FieldDef] = {}
        for fd in self.rt:
            if fd.name in _RECORD_FIELDS or fd.name in rel_fields:
                continue
            out.setdefault(normalize(fd.name), fd)
        return out

    def attribute(self, name: str) -> FieldDef | None:
        """The field an attribute name stands for (``PRODUCTID`` renames the record)."""
        return self._attributes.get(normalize(name))

    def data_attributes(self) -> list[FieldDef]:
        """The attributes a read returns (identity and record fields are returned apart)."""
        return [fd for fd in self._attributes.values() if fd.name not in (ID, ID_EXT)]

    def relationship(self, name: str) -> Relationship | None:
        return self.relationships.get(normalize(name))

    def has(self, name: str) -> bool:
        return name in self.rt.fields

    def perspective(self, name: str) -> tuple[str, frozenset[str]] | None:
        return self.perspectives.get(normalize(name))

    def display_name(self, fd: FieldDef) -> str:
        return fd.label or mdm_name(fd.name)


def find_repository(schema: Schema, name: str) -> Repository | None:
    """The repository called ``name`` (compared as ``normalize`` does), or None."""
    key = normalize(name)
    for rt in schema.types.values():
        if normalize(rt.name) == key and ID in rt.fields:
            return _repository(rt)
    return None


_CACHE: dict[int, tuple[RecordType, Repository]] = {}


def _repository(rt: RecordType) -> Repository:
    """Built once per record type snapshot (a schema change brings a new snapshot)."""
    hit = _CACHE.get(id(rt))
    if hit is not None and hit[0] is rt:
        return hit[1]
    if len(_CACHE) > 256:
        _CACHE.clear()
    repo = _build(rt)
    _CACHE[id(rt)] = (rt, repo)
    return repo


def _build(rt: RecordType) -> Repository:
    meta = _pack_metadata(rt.pack).get(rt.name, {}) if rt.pack else {}
    where = f"pack {rt.pack!r}: mdm.{rt.name}"
    perspectives: dict[str, tuple[str, frozenset[str]]] = {}
    for pname, fields in (meta.get("perspectives") or {}).items():
        unknown = [f for f in fields or () if f not in rt.fields]
        if unknown:
            raise SchemaError(f"{where}: perspective {pname!r} names unknown field(s) {unknown}")
        perspectives[normalize(str(pname))] = (str(pname), frozenset(fields or ()))
    return Repository(rt, perspectives)


@functools.cache
def _pack_metadata(pack: str) -> dict[str, Any]:
    """The ``mdm`` section of a pack's YAML ({} when it has none)."""
    try:
        text = (resources.files("cardfile.schema") / "packs" / f"{pack}.yaml").read_text("utf-8")
    except (FileNotFoundError, OSError):
        return {}
    data = yaml.safe_load(text)
    section = data.get("mdm") if isinstance(data, dict) else None
    return section if isinstance(section, dict) else {}


def is_multi(fd: FieldDef) -> bool:
    return registry.get(fd.type).multi
