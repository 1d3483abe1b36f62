"""The registry, the documented list of types, and the InvalidValue contract."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import cardfile.fieldtypes
from cardfile.errors import FieldError
from cardfile.fieldtypes import registry
from cardfile.fieldtypes.base import (
    FieldType,
    InvalidValue,
    InvalidValues,
    MultiValueFieldType,
    SingleValueFieldType,
)
from cardfile.fieldtypes.registry import DuplicateFieldType, FieldTypeRegistry, UnknownFieldType
from cardfile.schema.model import FieldDef

DOC = Path(__file__).resolve().parents[3] / "docs" / "field-types.md"

EXPECTED = {
    "text", "long_text", "email", "url", "phone", "integer", "decimal", "money", "boolean", "date",
    "datetime", "single_select", "radio", "multi_select", "checkbox", "keyed_text", "lookup",
    "multi_lookup", "user", "multi_user", "files", "sub_records", "multi_text", "skill_value",
}  # fmt: skip


def documented() -> list[str]:
    return re.findall(r"^## `([a-z_]+)`$", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)


def test_every_type_is_registered() -> None:
    assert set(registry) == EXPECTED


def test_every_registered_type_is_documented() -> None:
    sections = documented()
    assert len(sections) == len(set(sections)), "a type is documented twice"
    missing = set(registry) - set(sections)
    assert not missing, f"add a section to docs/field-types.md for: {sorted(missing)}"
    assert set(sections) <= set(registry), "docs/field-types.md documents a type that does not exist"


def test_the_summary_list_names_every_type() -> None:
    text = DOC.read_text(encoding="utf-8")
    summary = text[text.index("All types:") : text.index("## ")]
    assert set(re.findall(r"`([a-z_]+)`", summary)) == set(registry)


def test_package_exports_the_registry() -> None:
    assert cardfile.fieldtypes.registry is registry


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_registered_types_are_instances_with_their_name(name: str) -> None:
    t = registry.get(name)
    assert isinstance(t, FieldType)
    assert t.name == name
    assert name in registry
    assert t.multi == (isinstance(t, MultiValueFieldType) or name == "sub_records")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_empty_is_empty_and_json(name: str) -> None:
    t = registry.get(name)
    f = FieldDef(name="f", type=name, target="things", fields=(FieldDef(name="c", type="text"),))
    assert t.is_empty(t.empty(f))
    assert t.is_empty(None)
    assert t.to_json(None, f) in (None, [], {})
    assert t.unique_key(None, f) is None


def test_unknown_type() -> None:
    with pytest.raises(UnknownFieldType):
        registry.get("no_such_type")
    assert "no_such_type" not in registry
    with pytest.raises(KeyError):  # UnknownFieldType is a KeyError
        registry.get("")


class _Stars(SingleValueFieldType):
    name = "stars"

    def parse(self, raw: Any, field: FieldDef) -> Any:
        return raw


class _FakeText(SingleValueFieldType):
    name = "text"


def test_a_new_registry_registers_once() -> None:
    reg = FieldTypeRegistry()
    assert reg.register(_Stars) is _Stars
    assert isinstance(reg.get("stars"), _Stars)
    assert list(reg) == ["stars"]
    with pytest.raises(DuplicateFieldType):
        reg.register(_Stars)


def test_the_registry_refuses_a_duplicate_name() -> None:
    before = registry.get("text")
    with pytest.raises(DuplicateFieldType):
        registry.register(_FakeText)
    assert registry.get("text") is before


# -- InvalidValue / InvalidValues -----------------------------------------------------------


def test_invalid_value_to_field_errors() -> None:
    exc = InvalidValue("TOO_LONG", "too long", ".key")
    assert exc.to_field_errors("f") == [FieldError("f.key", "TOO_LONG", "too long")]
    assert exc.to_field_error("f") == FieldError("f.key", "TOO_LONG", "too long")
    assert exc.under("[2]").path == "[2].key"


def test_invalid_values_flattens_and_prefixes() -> None:
    inner = InvalidValues([InvalidValue("A", "a", "[0]"), InvalidValue("B", "b", "[1]")])
    outer = InvalidValues([InvalidValue("C", "c", ".x"), inner.under(".tags")])
    assert outer.to_field_errors("f") == [
        FieldError("f.x", "C", "c"),
        FieldError("f.tags[0]", "A", "a"),
        FieldError("f.tags[1]", "B", "b"),
    ]
    assert (outer.code, outer.path) == ("C", ".x")
    assert outer.message == "c (and 2 more errors)"
    assert outer.to_field_error("f") == FieldError("f.x", "C", "c (and 2 more errors)")


def test_invalid_values_of() -> None:
    one = InvalidValue("A", "a")
    assert InvalidValues.of([one]) is one
    assert isinstance(InvalidValues.of([one, one]), InvalidValues)
    with pytest.raises(ValueError):
        InvalidValues([])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_type_that_judges_by_records_says_so(name: str) -> None:
    # engine/resolve.py skips a type whose flag is off, so an override of needs() without the flag
    # would never be asked
    t = registry.get(name)
    overrides = type(t).needs is not FieldType.needs
    assert t.judged_by_records == overrides
