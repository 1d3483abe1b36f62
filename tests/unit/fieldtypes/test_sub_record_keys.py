"""sub_records by key: sync (the whole set), upsert by a key column, remove by column
values, one row per key (``upsert_by``), and the skill_value column judged by its skill."""

from __future__ import annotations

from typing import Any

import pytest

from cardfile.engine.commands import FieldOp, ops_from_json
from cardfile.fieldtypes.base import InvalidValue
from cardfile.schema.model import FieldDef
from tests.unit.fieldtypes.helpers import apply, apply_fails, fd, ft, validate

COLUMNS = [
    {"name": "skill", "type": "lookup", "target": "skill", "required": True},
    {"name": "value", "type": "skill_value"},
    {"name": "note", "type": "text"},
]


def field(upsert_by: str | None = "skill") -> FieldDef:
    return fd("sub_records", name="skills", fields=COLUMNS, **({"upsert_by": upsert_by} if upsert_by else {}))


def stored(*rows: dict[str, Any], next_id: int) -> dict[str, Any]:
    return {"rows": list(rows), "next_id": next_id}


A = {"id": 1, "skill": 10, "value": "x"}
B = {"id": 2, "skill": 20, "value": "y", "note": "keep"}
CURRENT = stored(A, B, next_id=4)


# -- sync ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "result"),
    [
        # a row by id changes only the columns given; a row without one is added; B goes
        (
            [{"id": 1, "value": "z"}, {"skill": 30}],
            stored({**A, "value": "z"}, {"id": 4, "skill": 30}, next_id=5),
        ),
        # the rows kept keep their place, whatever the order given
        ([{"id": 2}, {"id": 1}], CURRENT),
        ([], stored(next_id=4)),
    ],
)
def test_sync(value: Any, result: Any) -> None:
    assert apply(field(None), CURRENT, "sync", value) == result


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ([{"id": 9}], [("skills[0]", "ROW_NOT_FOUND")]),
        ([{"id": 1}, {"id": 1}], [("skills[1].id", "DUPLICATE_ROW")]),
        ([{"id": "1"}], [("skills[0].id", "NOT_A_ROW_ID")]),
        ([{"value": "v"}], [("skills[0].skill", "REQUIRED")]),
        ({"id": 1}, [("skills", "NOT_A_LIST")]),
    ],
)
def test_sync_invalid(value: Any, errors: list[tuple[str, str]]) -> None:
    assert apply_fails(field(None), CURRENT, "sync", value) == errors


# -- upsert ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "result"),
    [
        # skill 20's row changes (its id and its other columns kept); skill 30 is added
        ([{"skill": 20, "value": "w"}, {"skill": 30, "value": "v"}],
         stored(A, {**B, "value": "w"}, {"id": 4, "skill": 30, "value": "v"}, next_id=5)),
        # the second row for a skill finds the row the first one added
        ([{"skill": 30, "value": "a"}, {"skill": 30, "note": "n"}],
         stored(A, B, {"id": 4, "skill": 30, "value": "a", "note": "n"}, next_id=5)),
        # the key given with the op
        ({"by": "note", "rows": [{"note": "keep", "value": "q"}]}, stored(A, {**B, "value": "q"}, next_id=4)),
    ],
)  # fmt: skip
def test_upsert(value: Any, result: Any) -> None:
    assert apply(field(), CURRENT, "upsert", value) == result


def test_upsert_without_a_key() -> None:
    assert apply_fails(field(None), CURRENT, "upsert", [{"skill": 1}]) == [("skills", "NO_UPSERT_KEY")]
    assert apply(
        field(None), CURRENT, "upsert", {"by": "skill", "rows": [{"skill": 10, "note": "n"}]}
    ) == stored({**A, "note": "n"}, B, next_id=4)


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ([{"value": "v"}], [("skills[0].skill", "REQUIRED")]),
        ([{"id": 1, "skill": 10}], [("skills[0].id", "INVALID_ROW")]),
        ([{"skill": "ten"}], [("skills[0].skill", "NOT_A_RECORD_ID")]),
        ([{"skill": 30, "nope": 1}], [("skills[0].nope", "UNKNOWN_FIELD")]),
        ([5], [("skills[0]", "INVALID_ROW")]),
        ({"by": "nope", "rows": []}, [("skills.by", "UNKNOWN_FIELD")]),
        ({"by": "skill", "rows": [], "more": 1}, [("skills", "INVALID_UPSERT")]),
    ],
)
def test_upsert_invalid(value: Any, errors: list[tuple[str, str]]) -> None:
    assert apply_fails(field(), CURRENT, "upsert", value) == errors


# -- remove by column values, one row per key ---------------------------------------------------------


def test_remove_by_column_values() -> None:
    assert apply(field(), CURRENT, "remove", [{"skill": 20}]) == stored(A, next_id=4)
    assert apply(field(), CURRENT, "remove", [{"skill": 99}]) == CURRENT  # nothing to remove
    assert apply(field(), CURRENT, "remove", [1, {"skill": 20}]) == stored(next_id=4)
    assert apply_fails(field(), CURRENT, "remove", [{"nope": 1}]) == [("skills[0].nope", "UNKNOWN_FIELD")]


def test_one_row_per_key() -> None:
    twice = stored(A, {"id": 2, "skill": 10}, next_id=3)
    assert validate(field(), twice) == [("skills[1].skill", "DUPLICATE_KEY")]
    assert validate(field(None), twice) == []
    assert validate(field(), apply(field(), CURRENT, "add", [{"skill": 10}])) == [
        ("skills[2].skill", "DUPLICATE_KEY")
    ]


def test_native_json_spelling() -> None:
    ops = ops_from_json(
        {"skills": {"upsert": [{"skill": 1}], "sync": [], "remove": [{"skill": 2}]}},
        multi_fields=frozenset({"skills"}),
    )
    assert [(o.kind, o.value) for o in ops] == [
        ("sync", []),
        ("upsert", [{"skill": 1}]),
        ("remove", [{"skill": 2}]),
    ]


# -- skill_value --------------------------------------------------------------------------------------

LIST = {"id": 10, "name": "Java", "skill_type": "list", "list_values": [{"id": 1, "value": "Expert"}]}
DATE = {"id": 20, "name": "AWS", "skill_type": "date"}
QUICK = {"id": 30, "name": "Go", "skill_type": "quick"}
TEXT = {"id": 40, "name": "Motto"}


@pytest.mark.parametrize(
    ("skill", "raw", "judged"),
    [(LIST, " expert ", "Expert"), (DATE, "2020-12-31", "2020-12-31"), (TEXT, "Ship it", "Ship it"), (TEXT, 7, "7"), (LIST, "  ", None)],
)  # fmt: skip
def test_skill_value_judged(skill: dict[str, Any], raw: Any, judged: Any) -> None:
    col = fd("skill_value", name="value")
    assert ft("skill_value").judge(raw, col, skill) == judged


@pytest.mark.parametrize(
    ("skill", "raw"),
    [(LIST, "Guru"), (LIST, "1"), (DATE, "31/12/2020"), (DATE, "2020-02-30"), (QUICK, "Yes"), (TEXT, True), (TEXT, [1])],
)  # fmt: skip
def test_skill_value_refused(skill: dict[str, Any], raw: Any) -> None:
    with pytest.raises(InvalidValue) as info:
        ft("skill_value").judge(raw, fd("skill_value", name="value"), skill)
    assert info.value.code == "INVALID_SKILL_VALUE"


def test_resolve_judges_rows_by_their_key_and_reports_op_positions() -> None:
    f = field()
    records = {("skill", 10): LIST, ("skill", 20): DATE}
    op = FieldOp("skills", "upsert", [{"skill": 30}, {"skill": 10, "value": "expert"}])
    sr = ft("sub_records")
    assert list(sr.needs(op, CURRENT, f)) == [("skill", 30), ("skill", 10)]
    assert sr.resolve(op, CURRENT, f, records).value == [{"skill": 30}, {"skill": 10, "value": "Expert"}]
    # a row by id is judged by the skill of the stored row
    bad = FieldOp("skills", "update", [{"id": 2, "value": "soon"}])
    with pytest.raises(InvalidValue) as info:
        sr.resolve(bad, CURRENT, f, records)
    assert [(e.field, e.code) for e in info.value.to_field_errors("skills")] == [
        ("skills[0].value", "INVALID_SKILL_VALUE")
    ]
