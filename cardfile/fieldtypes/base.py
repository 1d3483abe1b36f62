"""The contract every field type fulfils, and small bases for shared behaviour.

A field type turns client input into a value (``parse``), checks constraints on the
resulting value (``validate``), applies a canonical op to the current value (``apply``),
and converts between the value, its stored form and its JSON form.

Values are kept in their storage form (JSON-native: str, int, float, bool, list, dict),
so ``to_storage``/``from_storage`` are the identity unless a type says otherwise.
Problems are raised as ``InvalidValue`` (from ``parse``/``apply``) or returned as a list
of ``FieldError`` (from ``validate``), so the engine can report every error at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from cardfile.engine.commands import FieldOp
from cardfile.errors import FieldError
from cardfile.schema.model import FieldDef

__all__ = [
    "FieldType",
    "InvalidValue",
    "InvalidValues",
    "MultiValueFieldType",
    "Reference",
    "SingleValueFieldType",
]

# A link to another record: (record type, id). User fields use the type "users".
Reference = tuple[str, Any]


class InvalidValue(Exception):
    """One bad input; ``path`` is appended to the field name (".key", "[0].col")."""

    def __init__(self, code: str, message: str, path: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path

    def to_field_error(self, field: str) -> FieldError:
        return FieldError(field + self.path, self.code, self.message)

    def to_field_errors(self, field: str) -> list[FieldError]:
        """Every error this exception carries (one here; several for ``InvalidValues``)."""
        return [self.to_field_error(field)]

    def leaves(self) -> list[InvalidValue]:
        """The single errors this exception stands for."""
        return [self]

    def under(self, prefix: str) -> InvalidValue:
        """The same error one level down: ``prefix`` ("[2]", ".qty") goes before the path."""
        return InvalidValue(self.code, self.message, prefix + self.path)


class InvalidValues(InvalidValue):
    """Several bad inputs at once, so the engine can report each one.

    ``code``/``message``/``path`` describe the first error (for callers that only know
    ``InvalidValue``); ``errors`` holds all of them, flattened.
    """

    def __init__(self, errors: Iterable[InvalidValue]) -> None:
        flat = [leaf for e in errors for leaf in e.leaves()]
        if not flat:
            raise ValueError("InvalidValues needs at least one error")
        first = flat[0]
        more = len(flat) - 1
        suffix = f" (and {more} more error{'s' if more != 1 else ''})" if more else ""
        super().__init__(first.code, first.message + suffix, first.path)
        self.errors = flat

    @staticmethod
    def of(errors: list[InvalidValue]) -> InvalidValue:
        """One error as itself, several as ``InvalidValues``; raise the result."""
        return errors[0] if len(errors) == 1 else InvalidValues(errors)

    def to_field_errors(self, field: str) -> list[FieldError]:
        return [e.to_field_error(field) for e in self.errors]

    def leaves(self) -> list[InvalidValue]:
        return list(self.errors)

    def under(self, prefix: str) -> InvalidValue:
        return InvalidValues([e.under(prefix) for e in self.errors])


class FieldType:
    name: ClassVar[str]
    multi: ClassVar[bool] = False  # accepts add / remove / replace
    # how filters and sorts treat the stored value: text, number, bool, list, or None
    sql_kind: ClassVar[str | None] = "text"
    # whether ``needs``/``resolve`` judge an op by other records (engine/resolve.py)
    judged_by_records: ClassVar[bool] = False

    # -- input ----------------------------------------------------------------
    def parse(self, raw: Any, field: FieldDef) -> Any:
        """Turn one client value into a stored value, or raise InvalidValue."""
        raise NotImplementedError

    def apply(self, current: Any, op: FieldOp, field: FieldDef) -> Any:
        """Return the new value of the field after ``op``."""
        raise NotImplementedError

    def validate(self, value: Any, field: FieldDef) -> list[FieldError]:
        """Constraint checks on a value the field would hold (not on raw input)."""
        return []

    # -- output ---------------------------------------------------------------
    def empty(self, field: FieldDef) -> Any:
        return None

    def is_empty(self, value: Any) -> bool:
        return value is None or value == [] or value == {} or value == ""

    def stored_when_empty(self, value: Any, field: FieldDef) -> Any:
        """What to keep in storage for an empty value (None: nothing, the field is absent)."""
        return None

    def to_storage(self, value: Any, field: FieldDef) -> Any:
        return value

    def from_storage(self, stored: Any, field: FieldDef) -> Any:
        return stored

    def to_json(self, value: Any, field: FieldDef) -> Any:
        return self.empty(field) if value is None else value

    # -- hooks the engine uses ----------------------------------------------
    def references(self, value: Any, field: FieldDef) -> Iterable[Reference]:
        """Records this value links to; the engine checks they exist."""
        return ()

    def unique_key(self, value: Any, field: FieldDef) -> str | None:
        """The normalised form compared for uniqueness (None: nothing to compare)."""
        return None if self.is_empty(value) else str(value)

    # -- values judged by other records (read by the engine under its lock) -----
    # A sub-record column whose input is judged by the record its row is keyed on
    # (the row's ``upsert_by`` column): the skill a skill value belongs to.
    judged_by_row: ClassVar[bool] = False

    def judge(self, raw: Any, field: FieldDef, record: Mapping[str, Any]) -> Any:
        """The input ``raw`` as ``record`` (in JSON form) allows it; raise InvalidValue."""
        return raw

    def needs(self, op: FieldOp, current: Any, field: FieldDef) -> Iterable[Reference]:
        """Records ``resolve`` must see to judge ``op`` on ``current`` (the stored value)."""
        return ()

    def resolve(
        self, op: FieldOp, current: Any, field: FieldDef, records: Mapping[Reference, Mapping[str, Any]]
    ) -> FieldOp:
        """``op`` with its input judged by ``records`` (those ``needs`` named that exist)."""
        return op


class SingleValueFieldType(FieldType):
    """One value: ``set`` parses it, ``clear`` empties it."""

    def apply(self, current: Any, op: FieldOp, field: FieldDef) -> Any:
        if op.key is not None:
            raise InvalidValue("NOT_A_KEYED_FIELD", f"{field.name!r} has no sub-values", f".{op.key}")
        if op.kind == "clear":
            return None
        if op.kind == "set":
            return self.parse(op.value, field)
        raise InvalidValue(
            "OP_NOT_SUPPORTED", f"{op.kind!r} needs a multi-value field; {field.name!r} holds one value"
        )


class MultiValueFieldType(FieldType):
    """A set of distinct items in insertion order: add / remove / replace (= set)."""

    multi = True
    sql_kind: ClassVar[str | None] = "list"
    # how a filter value for one item is read: "text", or "number" for record ids
    sql_item_kind: ClassVar[str] = "text"

    def parse_item(self, raw: Any, field: FieldDef) -> Any:
        raise NotImplementedError

    def item_key(self, item: Any) -> Any:
        """What makes two items the same (for add/remove)."""
        return item

    def parse(self, raw: Any, field: FieldDef) -> list[Any]:
        if not isinstance(raw, list):
            raise InvalidValue("NOT_A_LIST", "expected a list of values")
        out: list[Any] = []
        seen: set[Any] = set()
        errors: list[InvalidValue] = []
        for i, item in enumerate(raw):
            try:
                parsed = self.parse_item(item, field)
            except InvalidValue as exc:
                errors.append(exc.under(f"[{i}]"))
                continue
            k = self.item_key(parsed)
            if k not in seen:
                seen.add(k)
                out.append(parsed)
        if errors:
            raise InvalidValues.of(errors)
        return out

    def empty(self, field: FieldDef) -> Any:
        return []

    def apply(self, current: Any, op: FieldOp, field: FieldDef) -> Any:
        if op.key is not None:
            raise InvalidValue("NOT_A_KEYED_FIELD", f"{field.name!r} has no sub-values", f".{op.key}")
        cur: list[Any] = list(current or [])
        if op.kind == "clear":
            return []
        if op.kind in ("set", "replace"):
            return self.parse(op.value, field)
        if op.kind == "add":
            have = {self.item_key(x) for x in cur}
            for item in self.parse(op.value, field):
                if self.item_key(item) not in have:
                    have.add(self.item_key(item))
                    cur.append(item)
            return cur
        if op.kind == "remove":
            gone = {self.item_key(x) for x in self.parse(op.value, field)}
            return [x for x in cur if self.item_key(x) not in gone]
        raise InvalidValue("OP_NOT_SUPPORTED", f"{op.kind!r} is not an op of {self.name} fields")

    def unique_key(self, value: Any, field: FieldDef) -> str | None:
        return None  # uniqueness is defined for single values only
