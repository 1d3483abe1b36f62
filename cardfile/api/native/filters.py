"""The listing query string's parsing now lives in the HTTP kit (``cardfile/api/kit/filters.py``);
these names stay importable from here."""

from __future__ import annotations

from cardfile.api.kit.filters import FILTER_OPS, check_limit, list_query, parse_filters, parse_sort

__all__ = ["FILTER_OPS", "check_limit", "list_query", "parse_filters", "parse_sort"]
