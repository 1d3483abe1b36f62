"""Public names that clients see are documented."""

from __future__ import annotations

from pathlib import Path

import cardfile.errors as errors

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_error_code_is_documented() -> None:
    text = (DOCS / "errors.md").read_text()
    missing = [cls.code for cls in errors.ALL_ERRORS if f"`{cls.code}`" not in text]
    assert missing == []


def test_error_codes_are_unique_and_upper_snake() -> None:
    codes = [cls.code for cls in errors.ALL_ERRORS]
    assert len(codes) == len(set(codes))
    assert all(c.isupper() and " " not in c for c in codes)


def test_errors_all_is_pinned() -> None:
    exported = {n for n in dir(errors) if isinstance(getattr(errors, n), type)}
    assert set(errors.__all__) >= {c.__name__ for c in errors.ALL_ERRORS} | {"FieldError"}
    assert set(errors.__all__) <= exported | {"ALL_ERRORS"}
