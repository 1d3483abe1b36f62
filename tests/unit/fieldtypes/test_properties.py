"""Property tests: multi-value ops are set algebra; set-then-clear empties; stored forms are stable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardfile.fieldtypes.base import MultiValueFieldType
from cardfile.fieldtypes.numbers import INT64_MAX, INT64_MIN
from cardfile.schema.model import FieldDef
from tests.unit.fieldtypes.helpers import apply, fd, ft, parse

# local settings, not a profile: loading a profile would change every other test module too
fast = settings(deadline=None, max_examples=50, database=None)

KEYS = ["red", "green", "blue", "cyan", "magenta", "yellow", "black", "white"]
OPTIONS = [{"key": k, "label": k.title()} for k in KEYS]


def _unique(xs: list[Any], key: Any = lambda x: x) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for x in xs:
        if key(x) not in seen:
            seen.add(key(x))
            out.append(x)
    return out


# -- multi-value types: set algebra -------------------------------------------------------------

_lower = "abcdefghijklmnopqrstuvwxyz"
_words = st.text(_lower + "0123456789", min_size=1, max_size=6)
_urls = st.builds("https://{}.example.com/{}".format, st.text(_lower, min_size=1, max_size=3), _words)
MULTI: dict[str, tuple[FieldDef, st.SearchStrategy[Any]]] = {
    "multi_select": (fd("multi_select", options=OPTIONS), st.sampled_from(KEYS)),
    "checkbox": (fd("checkbox", options=OPTIONS), st.sampled_from(KEYS)),
    "multi_lookup": (fd("multi_lookup", target="things"), st.integers(1, 12)),
    "multi_user": (fd("multi_user"), st.integers(1, 12)),
    "files": (fd("files"), _urls),
    "multi_text": (fd("multi_text"), _words),
}


def _key(type_: str) -> Any:
    t = ft(type_)
    assert isinstance(t, MultiValueFieldType)
    return t.item_key


@pytest.mark.parametrize("type_", list(MULTI))
@fast
@given(data=st.data())
def test_add_is_union_keeping_order(type_: str, data: st.DataObject) -> None:
    field, items = MULTI[type_]
    key = _key(type_)
    cur = parse(field, data.draw(st.lists(items, max_size=10)))
    added = parse(field, data.draw(st.lists(items, max_size=10)))
    result = apply(field, cur, "add", added)
    keys = [key(x) for x in result]
    assert set(keys) == {key(x) for x in cur} | {key(x) for x in added}
    assert len(keys) == len(set(keys))
    assert result[: len(cur)] == cur
    assert result == cur + [x for x in added if key(x) not in {key(c) for c in cur}]


@pytest.mark.parametrize("type_", list(MULTI))
@fast
@given(data=st.data())
def test_remove_is_difference_keeping_order(type_: str, data: st.DataObject) -> None:
    field, items = MULTI[type_]
    key = _key(type_)
    cur = parse(field, data.draw(st.lists(items, max_size=10)))
    removed = data.draw(st.lists(items, max_size=10))
    gone = {key(x) for x in parse(field, removed)}
    result = apply(field, cur, "remove", removed)
    assert {key(x) for x in result} == {key(x) for x in cur} - gone
    assert result == [x for x in cur if key(x) not in gone]


@pytest.mark.parametrize("type_", list(MULTI))
@pytest.mark.parametrize("kind", ["replace", "set"])
@fast
@given(data=st.data())
def test_replace_is_the_parsed_set(type_: str, kind: str, data: st.DataObject) -> None:
    field, items = MULTI[type_]
    key = _key(type_)
    cur = parse(field, data.draw(st.lists(items, max_size=10)))
    raw = data.draw(st.lists(items, max_size=10))
    result = apply(field, cur, kind, raw)
    assert result == parse(field, raw)
    assert [key(x) for x in result] == _unique([key(x) for x in parse(field, raw)])
    assert len({key(x) for x in result}) == len(result)


@pytest.mark.parametrize("type_", list(MULTI))
@fast
@given(data=st.data())
def test_clear_gives_empty(type_: str, data: st.DataObject) -> None:
    field, items = MULTI[type_]
    cur = parse(field, data.draw(st.lists(items, max_size=10)))
    result = apply(field, cur, "clear")
    assert result == []
    assert ft(type_).is_empty(result)
    assert ft(type_).to_json(result, field) == []


@fast
@given(raw=st.lists(st.sampled_from(KEYS)))
def test_multi_select_parse_dedups_in_first_seen_order(raw: list[str]) -> None:
    assert parse(MULTI["multi_select"][0], raw) == _unique(raw)


# -- single-value types: set then clear ---------------------------------------------------------

_offsets = st.integers(-23 * 60 + 1, 23 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
_aware = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=_offsets)
_decimal_strings = st.builds(
    lambda m, e: f"{m}e{e}", st.integers(-(10**15) + 1, 10**15 - 1), st.integers(-30, 30)
)
SINGLE: dict[str, tuple[FieldDef, st.SearchStrategy[Any]]] = {
    "text": (fd("text"), st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=40)),
    "long_text": (
        fd("long_text"),
        st.text(st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from("\n\r\t"), max_size=80),
    ),
    "email": (
        fd("email"),
        st.builds(
            "{}@{}.{}".format,
            _words | st.builds("{}.{}".format, _words, _words),
            st.text(_lower, min_size=2, max_size=8),
            st.sampled_from(["com", "org", "net"]),
        ),
    ),
    "url": (
        fd("url"),
        st.builds(
            "{}://{}.{}/{}".format,
            st.sampled_from(["http", "https"]),
            st.text(_lower, min_size=1, max_size=8),
            st.sampled_from(["com", "org"]),
            st.lists(_words, max_size=3).map("/".join),
        ),
    ),
    "phone": (
        fd("phone"),
        st.sampled_from(["+14155552671", "+44 20 7946 0958", "+49 30 901820", "+33 1 42 68 53 00"]),
    ),
    "integer": (fd("integer"), st.integers(INT64_MIN, INT64_MAX)),
    "decimal": (fd("decimal"), _decimal_strings | st.integers(-(10**15) + 1, 10**15 - 1)),
    "money": (
        fd("money"),
        st.fixed_dictionaries(
            {"currency": st.text(_lower.upper(), min_size=3, max_size=3), "value": _decimal_strings}
        ),
    ),
    "boolean": (fd("boolean"), st.booleans()),
    "date": (fd("date"), st.dates().map(lambda d: d.isoformat())),
    "datetime": (fd("datetime"), _aware.map(lambda d: d.isoformat())),
    "single_select": (fd("single_select", options=OPTIONS), st.sampled_from(KEYS)),
    "radio": (fd("radio", options=OPTIONS), st.sampled_from(KEYS)),
    "lookup": (fd("lookup", target="things"), st.integers(1, INT64_MAX)),
    "user": (fd("user"), st.integers(1, INT64_MAX)),
}


@pytest.mark.parametrize("type_", list(SINGLE))
@fast
@given(data=st.data())
def test_set_then_clear_gives_none(type_: str, data: st.DataObject) -> None:
    field, raws = SINGLE[type_]
    raw = data.draw(raws)
    value = apply(field, None, "set", raw)
    assert value is not None
    assert ft(type_).validate(value, field) == []
    assert apply(field, value, "clear") is None


@pytest.mark.parametrize("type_", list(SINGLE))
@fast
@given(data=st.data())
def test_stored_form_is_accepted_as_input_unchanged(type_: str, data: st.DataObject) -> None:
    field, raws = SINGLE[type_]
    value = parse(field, data.draw(raws))
    assert parse(field, value) == value
    assert ft(type_).to_json(value, field) == value


# -- numbers, times, rows ---------------------------------------------------------------------


@fast
@given(raw=_decimal_strings)
def test_decimal_is_held_exactly(raw: str) -> None:
    value = parse(fd("decimal"), raw)
    assert Decimal(repr(value)) == Decimal(raw)
    assert isinstance(value, int) == (
        Decimal(raw) == Decimal(raw).to_integral_value() and abs(Decimal(raw)) <= 2**53
    )


@fast
@given(a=_aware, b=_aware)
def test_datetime_text_order_is_time_order(a: datetime, b: datetime) -> None:
    f = fd("datetime")
    sa, sb = parse(f, a.isoformat()), parse(f, b.isoformat())
    ta = a.astimezone(UTC).replace(microsecond=a.microsecond // 1000 * 1000)
    tb = b.astimezone(UTC).replace(microsecond=b.microsecond // 1000 * 1000)
    assert (sa < sb) == (ta < tb)
    assert (sa == sb) == (ta == tb)
    assert datetime.fromisoformat(sa) == ta
    assert len(sa) == 24


@fast
@given(
    current=st.dictionaries(st.sampled_from(KEYS), st.text("abc", min_size=1, max_size=3)),
    patch=st.dictionaries(st.sampled_from(KEYS), st.none() | st.text("xyz", min_size=1, max_size=3)),
)
def test_keyed_text_merge_is_rfc_7396(current: dict[str, str], patch: dict[str, str | None]) -> None:
    f = fd("keyed_text", options=OPTIONS)
    expected = {**current, **patch}
    result = apply(f, current, "set", patch)
    assert result == {k: v for k, v in expected.items() if v is not None}
    assert list(result) == [k for k in KEYS if k in result]


_row_ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 3)),
        st.tuples(st.just("remove"), st.integers(0, 3)),
        st.tuples(st.just("clear"), st.just(0)),
    ),
    max_size=15,
)


@fast
@given(ops=_row_ops)
def test_sub_record_ids_are_never_reused(ops: list[tuple[str, int]]) -> None:
    f = fd("sub_records", name="items", fields=[{"name": "n", "type": "integer"}])
    value: Any = None
    issued: list[int] = []
    for kind, n in ops:
        before = {r["id"] for r in (value or {}).get("rows", [])}
        if kind == "add":
            value = apply(f, value, "add", [{"n": i} for i in range(n)])
            new = [r["id"] for r in value["rows"] if r["id"] not in before]
            assert len(new) == n
            assert all(i not in issued for i in new)
            issued.extend(new)
        elif kind == "remove":
            gone = sorted(before)[:n]
            value = apply(f, value, "remove", gone)
            assert {r["id"] for r in value["rows"]} == before - set(gone)
        else:
            value = apply(f, value, "clear")
            assert ft("sub_records").is_empty(value)
        ids = [r["id"] for r in value["rows"]]
        assert ids == sorted(set(ids))
        assert value["next_id"] > max(issued, default=0)
