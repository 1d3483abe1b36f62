"""sub_records: a list of child rows, each with the field's columns and a row ``id``.

Stored as ``{"rows": [{"id": 1, col: value, ...}], "next_id": n}``: row ids come from
``next_id`` and are never reused, not even after ``clear``. Returned (``to_json``) as the
list of rows, each with ``id`` and every column. A row's columns are given the way a
record's fields are (``null`` clears, a list replaces a multi-value column, an object of
``add``/``remove`` changes it, ``"col.key"`` sets one sub-value of a keyed column).

Ops on the field (``path`` of errors in brackets: index in the op's list):

- ``add``: new rows, without ``id``; required columns must have values;
- ``update``: rows with the ``id`` of an existing row; only the columns given change;
- ``remove``: row ids;
- ``replace`` / ``set``: the complete list: a row with an ``id`` replaces that row
  wholly, a row without one is added, rows not mentioned are deleted;
- ``sync``: the whole set, changed in place: a row with an ``id`` updates that row (only
  the columns given), a row without one is added, rows not mentioned are deleted;
- ``upsert``: rows found by their key column (the field's ``upsert_by``, or
  ``{"by": column, "rows": [...]}``): a row with the key of an existing row updates it
  (only the columns given), any other row is added;
- ``remove`` also takes rows by column values (``{"skill": 7}``): every row with those
  values goes, and none is nothing to remove;
- ``clear``: no rows.

A field with ``upsert_by`` holds one row per key. Every op is applied to the value the
engine read under its lock, so no caller needs to read row ids first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cardfile.engine.commands import FieldOp, ops_from_json
from cardfile.errors import FieldError
from cardfile.fieldtypes.base import FieldType, InvalidValue, InvalidValues, Reference
from cardfile.fieldtypes.registry import registry
from cardfile.schema.model import FieldDef, SchemaError

__all__ = ["InvalidValues", "SubRecords"]

Row = dict[str, Any]


def _is_row_id(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class _Rows:
    """A working copy of the stored rows, which an op changes and collects errors in."""

    def __init__(self, current: Any) -> None:
        stored = current if isinstance(current, dict) else {}
        self.rows: list[Row] = [dict(r) for r in stored.get("rows") or ()]
        ids = [r["id"] for r in self.rows]
        self.next_id: int = max([int(stored.get("next_id") or 1), *(i + 1 for i in ids)])
        self.errors: list[InvalidValue] = []

    def index_of(self, row_id: Any) -> int | None:
        return next((n for n, r in enumerate(self.rows) if r["id"] == row_id), None)

    def allocate(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def fail(self, code: str, message: str, path: str) -> None:
        self.errors.append(InvalidValue(code, message, path))

    def result(self) -> dict[str, Any]:
        if self.errors:
            raise InvalidValues.of(self.errors)
        return {"rows": self.rows, "next_id": self.next_id}


@registry.register
class SubRecords(FieldType):
    name = "sub_records"
    multi = True  # add / remove / replace / update
    sql_kind = None
    judged_by_records = True  # a keyed row's columns by the row's record (skill values)

    # -- columns ----------------------------------------------------------------
    def columns(self, field: FieldDef) -> Iterator[tuple[FieldDef, FieldType]]:
        for col in field.fields:
            if col.type == self.name:
                raise SchemaError(f"field {field.name!r}: column {col.name!r} cannot itself be sub_records")
            yield col, registry.get(col.type)

    def _build_row(self, base: Row, raw: Any, path: str, field: FieldDef, *, whole: bool, work: _Rows) -> Row:
        """Apply the column values of ``raw`` to ``base``; errors go to ``work``.

        ``whole``: a new or replaced row, so every column is checked (required, limits);
        otherwise only the columns ``raw`` names.
        """
        row = dict(base)
        if not isinstance(raw, dict):
            work.fail("INVALID_ROW", "expected a row: an object of column values", path)
            return row
        columns = {col.name: (col, ctype) for col, ctype in self.columns(field)}
        multi = frozenset(name for name, (_, ctype) in columns.items() if ctype.multi)
        body = {k: v for k, v in raw.items() if k != "id"}
        touched: set[str] = set()
        failed: set[str] = set()
        for op in ops_from_json(body, multi_fields=multi):
            if op.field not in columns:
                known = ", ".join(repr(c) for c in columns) or "none"
                work.fail(
                    "UNKNOWN_FIELD",
                    f"{op.field[:80]!r} is not a column; columns: {known}",
                    f"{path}.{op.field}",
                )
                continue
            col, ctype = columns[op.field]
            try:
                new = ctype.apply(row.get(col.name), op, col)
            except InvalidValue as exc:
                work.errors.append(exc.under(f"{path}.{col.name}"))
                failed.add(col.name)
                continue
            touched.add(col.name)
            if new is None:
                row.pop(col.name, None)
            else:
                row[col.name] = new
        for name, (col, ctype) in columns.items():
            if name in failed or not (whole or name in touched):
                continue
            value = row.get(name)
            if ctype.is_empty(value):
                if col.required:
                    work.fail("REQUIRED", f"a value for column {name!r} is required", f"{path}.{name}")
                continue
            for e in ctype.validate(value, col):
                work.fail(e.code, e.message, f"{path}.{e.field}")
        return row

    # -- input ----------------------------------------------------------------
    def parse(self, raw: Any, field: FieldDef) -> dict[str, Any]:
        return self._run(None, FieldOp(field.name, "replace", raw), field)

    def apply(self, current: Any, op: FieldOp, field: FieldDef) -> Any:
        return self._run(current, op, field)

    def _run(self, current: Any, op: FieldOp, field: FieldDef) -> dict[str, Any]:
        if op.key is not None:
            raise InvalidValue("NOT_A_KEYED_FIELD", f"{field.name!r} has no sub-values", f".{op.key}")
        work = _Rows(current)
        if op.kind == "clear":
            work.rows = []
            return work.result()
        if op.kind not in ("add", "update", "remove", "replace", "set", "sync", "upsert"):
            raise InvalidValue("OP_NOT_SUPPORTED", f"{op.kind!r} is not an op of sub_records fields")
        if op.kind == "upsert":
            raws, key = self._upsert_rows(op, field)
            self._upsert(work, raws, key, field)
            return work.result()
        if not isinstance(op.value, list):
            what = "row ids" if op.kind == "remove" else "rows (objects of column values)"
            raise InvalidValue("NOT_A_LIST", f"expected a list of {what}")
        if op.kind == "add":
            self._add(work, op.value, field)
        elif op.kind == "update":
            self._update(work, op.value, field)
        elif op.kind == "remove":
            self._remove(work, op.value, field)
        elif op.kind == "sync":
            self._sync(work, op.value, field)
        else:
            self._replace(work, op.value, field)
        return work.result()

    def _add(self, work: _Rows, raws: list[Any], field: FieldDef) -> None:
        for i, raw in enumerate(raws):
            if isinstance(raw, dict) and raw.get("id") is not None:
                work.fail(
                    "INVALID_ROW",
                    "a new row gets its id from the server; to change a row, use update",
                    f"[{i}].id",
                )
                continue
            row = self._build_row({}, raw, f"[{i}]", field, whole=True, work=work)
            work.rows.append({"id": work.allocate(), **row})

    def _update(self, work: _Rows, raws: list[Any], field: FieldDef) -> None:
        for i, raw in enumerate(raws):
            row_id = raw.get("id") if isinstance(raw, dict) else None
            if not _is_row_id(row_id):
                work.fail("NOT_A_ROW_ID", "each row to update needs the 'id' of an existing row", f"[{i}].id")
                continue
            n = work.index_of(row_id)
            if n is None:
                work.fail("ROW_NOT_FOUND", f"there is no row with id {row_id}", f"[{i}]")
                continue
            old = work.rows[n]
            new = self._build_row(old, raw, f"[{i}]", field, whole=False, work=work)
            work.rows[n] = new

    def _remove(self, work: _Rows, raws: list[Any], field: FieldDef) -> None:
        gone: set[int] = set()
        for i, row_id in enumerate(raws):
            if isinstance(row_id, dict) and "id" not in row_id:  # by column values, never by id
                gone.update(self._matching(work, row_id, f"[{i}]", field))
            elif not _is_row_id(row_id):
                work.fail("NOT_A_ROW_ID", f"expected a row id (an integer), got {row_id!r:.40}", f"[{i}]")
            elif work.index_of(row_id) is None:
                work.fail("ROW_NOT_FOUND", f"there is no row with id {row_id}", f"[{i}]")
            else:
                gone.add(row_id)
        work.rows = [r for r in work.rows if r["id"] not in gone]

    def _matching(self, work: _Rows, raw: dict[str, Any], path: str, field: FieldDef) -> set[int]:
        """Ids of the rows holding every column value of ``raw`` (input form)."""
        wanted: dict[str, Any] = {}
        for name, value in raw.items():
            col = field.column(name)
            if col is None:
                work.fail("UNKNOWN_FIELD", f"{name[:80]!r} is not a column", f"{path}.{name}")
                continue
            try:
                wanted[name] = registry.get(col.type).parse(value, col)
            except InvalidValue as exc:
                work.errors.append(exc.under(f"{path}.{name}"))
        if not wanted or len(wanted) < len(raw):
            if not raw:
                work.fail("INVALID_ROW", "name the row by its id or by column values", path)
            return set()
        return {r["id"] for r in work.rows if all(r.get(k) == v for k, v in wanted.items())}

    def _sync(self, work: _Rows, raws: list[Any], field: FieldDef) -> None:
        # existing rows keep their place; new rows follow, in the order given
        existing = {r["id"] for r in work.rows}
        kept: dict[int, Row] = {}
        added: list[Row] = []
        for i, raw in enumerate(raws):
            row_id = raw.get("id") if isinstance(raw, dict) else None
            if row_id is None:
                added.append(self._build_row({}, raw, f"[{i}]", field, whole=True, work=work))
                continue
            if not _is_row_id(row_id):
                work.fail("NOT_A_ROW_ID", f"expected a row id (an integer), got {row_id!r:.40}", f"[{i}].id")
            elif row_id not in existing:
                work.fail(
                    "ROW_NOT_FOUND",
                    f"there is no row with id {row_id}; leave 'id' out for a new row",
                    f"[{i}]",
                )
            elif row_id in kept:
                work.fail("DUPLICATE_ROW", f"row {row_id} appears more than once", f"[{i}].id")
            else:
                old = work.rows[work.index_of(row_id) or 0]
                kept[row_id] = self._build_row(old, raw, f"[{i}]", field, whole=False, work=work)
        work.rows = [kept[r["id"]] for r in work.rows if r["id"] in kept]
        work.rows += [{"id": work.allocate(), **row} for row in added]

    def _upsert_rows(self, op: FieldOp, field: FieldDef) -> tuple[list[Any], str]:
        """The rows of an ``upsert`` and the column they are found by."""
        raws, key = op.value, field.upsert_by
        if isinstance(op.value, dict):
            unknown = sorted(set(op.value) - {"by", "rows"})
            if unknown:
                raise InvalidValue(
                    "INVALID_UPSERT", 'an upsert is a list of rows or {"by": column, "rows": [...]}'
                )
            raws, key = op.value.get("rows"), op.value.get("by", key)
        if not isinstance(raws, list):
            raise InvalidValue("NOT_A_LIST", "expected a list of rows (objects of column values)")
        if not isinstance(key, str):
            raise InvalidValue(
                "NO_UPSERT_KEY",
                f'{field.name!r} declares no upsert_by: give the key column, {{"by": column, "rows": [...]}}',
            )
        if field.column(key) is None:
            raise InvalidValue("UNKNOWN_FIELD", f"{key[:80]!r} is not a column of {field.name!r}", ".by")
        return raws, key

    def _upsert(self, work: _Rows, raws: list[Any], key: str, field: FieldDef) -> None:
        kcol = field.column(key)
        assert kcol is not None
        ktype = registry.get(kcol.type)
        for i, raw in enumerate(raws):
            if not isinstance(raw, dict):
                work.fail("INVALID_ROW", "expected a row: an object of column values", f"[{i}]")
                continue
            if raw.get("id") is not None:
                work.fail("INVALID_ROW", f"an upsert finds its row by {key!r}; leave 'id' out", f"[{i}].id")
                continue
            if raw.get(key) is None:
                work.fail("REQUIRED", f"each row needs its {key!r}, the key it is found by", f"[{i}].{key}")
                continue
            try:
                k = ktype.parse(raw[key], kcol)
            except InvalidValue as exc:
                work.errors.append(exc.under(f"[{i}].{key}"))
                continue
            n = next((n for n, r in enumerate(work.rows) if r.get(key) == k), None)
            if n is None:
                row = self._build_row({}, raw, f"[{i}]", field, whole=True, work=work)
                work.rows.append({"id": work.allocate(), **row})
            else:
                work.rows[n] = self._build_row(work.rows[n], raw, f"[{i}]", field, whole=False, work=work)

    def _replace(self, work: _Rows, raws: list[Any], field: FieldDef) -> None:
        existing = {r["id"] for r in work.rows}
        seen: set[int] = set()
        rows: list[Row] = []
        for i, raw in enumerate(raws):
            row_id = raw.get("id") if isinstance(raw, dict) else None
            if row_id is not None:
                if not _is_row_id(row_id):
                    work.fail(
                        "NOT_A_ROW_ID", f"expected a row id (an integer), got {row_id!r:.40}", f"[{i}].id"
                    )
                    continue
                if row_id not in existing:
                    work.fail(
                        "ROW_NOT_FOUND",
                        f"there is no row with id {row_id}; leave 'id' out for a new row",
                        f"[{i}]",
                    )
                    continue
                if row_id in seen:
                    work.fail("DUPLICATE_ROW", f"row {row_id} appears more than once", f"[{i}].id")
                    continue
                seen.add(row_id)
            row = self._build_row({}, raw, f"[{i}]", field, whole=True, work=work)
            rows.append({"id": row_id if row_id is not None else work.allocate(), **row})
        work.rows = rows

    # -- constraints ----------------------------------------------------------
    def validate(self, value: Any, field: FieldDef) -> list[FieldError]:
        out: list[FieldError] = []
        keys: set[Any] = set()
        for i, row in enumerate(self._stored_rows(value)):
            k = row.get(field.upsert_by) if field.upsert_by else None
            if k is not None and k in keys:
                out.append(
                    FieldError(
                        f"{field.name}[{i}].{field.upsert_by}",
                        "DUPLICATE_KEY",
                        f"another row has this {field.upsert_by}: {field.name!r} holds one row per {field.upsert_by}",
                    )
                )
            elif k is not None:
                keys.add(k)
            for col, ctype in self.columns(field):
                v = row.get(col.name)
                if v is not None:
                    out.extend(
                        FieldError(f"{field.name}[{i}].{e.field}", e.code, e.message)
                        for e in ctype.validate(v, col)
                    )
        return out

    # -- output ---------------------------------------------------------------
    def empty(self, field: FieldDef) -> Any:
        return {"rows": [], "next_id": 1}

    def is_empty(self, value: Any) -> bool:
        return not self._stored_rows(value)

    def stored_when_empty(self, value: Any, field: FieldDef) -> Any:
        # keep the id counter, so the id of a deleted row is never given to a new one
        if isinstance(value, dict) and int(value.get("next_id", 1)) > 1:
            return {"rows": [], "next_id": value["next_id"]}
        return None

    def to_json(self, value: Any, field: FieldDef) -> Any:
        cols = list(self.columns(field))
        return [
            {"id": row["id"], **{col.name: ctype.to_json(row.get(col.name), col) for col, ctype in cols}}
            for row in self._stored_rows(value)
        ]

    def references(self, value: Any, field: FieldDef) -> Iterable[Reference]:
        cols = list(self.columns(field))
        return [
            ref
            for row in self._stored_rows(value)
            for col, ctype in cols
            if row.get(col.name) is not None
            for ref in ctype.references(row[col.name], col)
        ]

    def unique_key(self, value: Any, field: FieldDef) -> str | None:
        return None

    # -- columns judged by the record a row is keyed on --------------------------
    def _keyed_rows(self, op: FieldOp, current: Any, field: FieldDef) -> list[tuple[int, Reference]]:
        """(position in the op's rows, the record the row's key names) for each row with a
        column judged by it; the key is the row's own or, for a row by id, the stored row's."""
        if not any(ctype.judged_by_row for _, ctype in self.columns(field)):
            return []
        key: str | None
        if op.kind == "upsert":
            try:
                raws, key = self._upsert_rows(op, field)
            except InvalidValue:
                return []  # apply reports it
        elif op.kind in ("add", "update", "sync", "replace", "set") and isinstance(op.value, list):
            raws, key = op.value, field.upsert_by
        else:
            return []
        kcol = field.column(key) if key else None
        if kcol is None:
            return []
        stored = {r["id"]: r for r in self._stored_rows(current)}
        out: list[tuple[int, Reference]] = []
        for i, raw in enumerate(raws):
            if not isinstance(raw, dict):
                continue
            rid = raw.get("id")
            k = (
                raw[kcol.name]
                if kcol.name in raw
                else stored.get(rid, {}).get(kcol.name)
                if _is_row_id(rid)
                else None
            )
            if _is_row_id(k):
                out.extend((i, ref) for ref in registry.get(kcol.type).references(k, kcol))
        return out

    def needs(self, op: FieldOp, current: Any, field: FieldDef) -> Iterable[Reference]:
        return [ref for _, ref in self._keyed_rows(op, current, field)]

    def resolve(
        self, op: FieldOp, current: Any, field: FieldDef, records: Mapping[Reference, Mapping[str, Any]]
    ) -> FieldOp:
        judged = [(col, ctype) for col, ctype in self.columns(field) if ctype.judged_by_row]
        raws = list(op.value["rows"] if isinstance(op.value, dict) else op.value or ())
        errors: list[InvalidValue] = []
        for i, ref in self._keyed_rows(op, current, field):
            record = records.get(ref)
            if record is None:
                continue  # the engine's link check reports a key naming no record
            row = dict(raws[i])
            for col, ctype in judged:
                if row.get(col.name) is None:
                    continue
                try:
                    row[col.name] = ctype.judge(row[col.name], col, record)
                except InvalidValue as exc:
                    errors.append(exc.under(f"[{i}].{col.name}"))
            raws[i] = row
        if errors:
            raise InvalidValues.of(errors)
        value = {**op.value, "rows": raws} if isinstance(op.value, dict) else raws
        return FieldOp(op.field, op.kind, value, op.key)

    @staticmethod
    def _stored_rows(value: Any) -> list[Row]:
        return list(value.get("rows") or ()) if isinstance(value, dict) else []
