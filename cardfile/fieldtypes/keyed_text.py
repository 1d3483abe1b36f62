"""keyed_text: one line of text per key, the keys being the field's options.

Stored as ``{key: text}``; absent keys have no value (an empty string clears a key, so
the stored object never holds empty strings). ``f.key`` ops address one sub-value; an
object for the whole field merges key by key (RFC 7396: null inside removes that key).
"""

from __future__ import annotations

from typing import Any

from cardfile.engine.commands import FieldOp
from cardfile.errors import FieldError
from cardfile.fieldtypes.base import FieldType, InvalidValue, InvalidValues
from cardfile.fieldtypes.registry import registry
from cardfile.fieldtypes.text import check_length, parse_line
from cardfile.schema.model import FieldDef

__all__ = ["KeyedText"]

DEFAULT_MAX_LENGTH = 255


def _keys(field: FieldDef) -> str:
    return ", ".join(repr(o.key) for o in field.options) or "none"


@registry.register
class KeyedText(FieldType):
    name = "keyed_text"
    sql_kind = None

    def empty(self, field: FieldDef) -> Any:
        return {}

    def unique_key(self, value: Any, field: FieldDef) -> str | None:
        return None

    # -- input ----------------------------------------------------------------
    def _check_key(self, key: str, field: FieldDef) -> None:
        if key not in field.option_keys:
            raise InvalidValue(
                "UNKNOWN_KEY", f"{key[:80]!r} is not a key of this field; keys: {_keys(field)}", f".{key}"
            )

    def _parse_sub(self, key: str, raw: Any, field: FieldDef) -> str | None:
        """The text for ``key``; None (or "") means no value."""
        self._check_key(key, field)
        if raw is None:
            return None
        try:
            s = parse_line(raw)
        except InvalidValue as exc:
            raise exc.under(f".{key}") from None
        return s or None

    def _merge(self, current: dict[str, str], patch: Any, field: FieldDef) -> dict[str, str]:
        if not isinstance(patch, dict):
            raise InvalidValue(
                "NOT_AN_OBJECT", f'expected an object of text by key, e.g. {{"{_example(field)}": "..."}}'
            )
        out = dict(current)
        errors: list[InvalidValue] = []
        for key, raw in patch.items():
            try:
                sub = self._parse_sub(str(key), raw, field)
            except InvalidValue as exc:
                errors.append(exc)
                continue
            if sub is None:
                out.pop(key, None)
            else:
                out[key] = sub
        if errors:
            raise InvalidValues.of(errors)
        return self._ordered(out, field)

    @staticmethod
    def _ordered(value: dict[str, str], field: FieldDef) -> dict[str, str]:
        """Keys in option order (any key no longer an option last), for a stable output."""
        order = {o.key: i for i, o in enumerate(field.options)}
        return dict(sorted(value.items(), key=lambda kv: order.get(kv[0], len(order))))

    def parse(self, raw: Any, field: FieldDef) -> dict[str, str]:
        return self._merge({}, raw, field)

    def apply(self, current: Any, op: FieldOp, field: FieldDef) -> Any:
        cur: dict[str, str] = dict(current or {})
        if op.key is not None:
            if op.kind == "set":
                sub = self._parse_sub(op.key, op.value, field)
            elif op.kind == "clear":
                self._check_key(op.key, field)
                sub = None
            else:
                raise InvalidValue(
                    "OP_NOT_SUPPORTED", f"{op.kind!r} cannot change one key; use set or clear", f".{op.key}"
                )
            if sub is None:
                cur.pop(op.key, None)
                return cur
            cur[op.key] = sub
            return self._ordered(cur, field)
        if op.kind == "clear":
            return {}
        if op.kind == "set":
            return self._merge(cur, {} if op.value is None else op.value, field)
        if op.kind == "replace":
            return self.parse({} if op.value is None else op.value, field)
        raise InvalidValue(
            "OP_NOT_SUPPORTED", f"{op.kind!r} is not an op of keyed_text fields; use set or clear"
        )

    # -- constraints ----------------------------------------------------------
    def validate(self, value: Any, field: FieldDef) -> list[FieldError]:
        if not isinstance(value, dict):
            return []
        limit = field.max_length if field.max_length is not None else DEFAULT_MAX_LENGTH
        errors: list[FieldError] = []
        for key, text in value.items():
            if key not in field.option_keys:
                errors.append(
                    FieldError(
                        f"{field.name}.{key}", "UNKNOWN_KEY", f"{key!r} is no longer a key of this field"
                    )
                )
            elif isinstance(text, str):
                errors.extend(check_length(text, limit, field.name, f".{key}"))
        return errors


def _example(field: FieldDef) -> str:
    return field.options[0].key if field.options else "key"
