"""files: a set of links to files, ``[{"url": ..., "name": ...}]``, one per URL.

A plain URL string is accepted wherever a file object is (``name`` then defaults to the
last segment of the URL's path), so ``remove`` can name files by URL alone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from cardfile.fieldtypes.base import InvalidValue, MultiValueFieldType
from cardfile.fieldtypes.registry import registry
from cardfile.fieldtypes.text import check_url, parse_line
from cardfile.schema.model import FieldDef
from cardfile.webhooks import ssrf

__all__ = ["Files", "default_file_name"]

NAME_MAX_LENGTH = 255
_SHAPE = 'expected a file object like {"url": "https://example.com/a.pdf", "name": "a.pdf"} or a URL'


def default_file_name(url: str) -> str:
    """The last non-empty path segment, percent-decoded; the host for a bare host URL."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    name = "".join(c for c in unquote(segments[-1]) if c.isprintable()).strip() if segments else ""
    return (name or parts.hostname or url)[:NAME_MAX_LENGTH]


@registry.register
class Files(MultiValueFieldType):
    name = "files"
    sql_kind = None

    def parse_item(self, raw: Any, field: FieldDef) -> dict[str, str]:
        if isinstance(raw, str):
            raw = {"url": raw}
        if not isinstance(raw, dict):
            raise InvalidValue("INVALID_FILE", _SHAPE)
        unknown = sorted(set(raw) - {"url", "name"})
        if unknown:
            raise InvalidValue("INVALID_FILE", f"unknown key(s) {', '.join(map(repr, unknown))}; {_SHAPE}")
        if raw.get("url") is None:
            raise InvalidValue("INVALID_FILE", f"a file needs a 'url'; {_SHAPE}", ".url")
        try:
            url = check_url(raw["url"])
        except InvalidValue as exc:
            raise exc.under(".url") from None
        try:  # no DNS here: a hot path that must work offline (docs/webhooks.md, SSRF)
            ssrf.check_url_static(url)
        except ssrf.UrlNotAllowed as exc:
            raise InvalidValue("URL_NOT_ALLOWED", str(exc), ".url") from None
        name = raw.get("name")
        if name is None or name == "":
            name = default_file_name(url)
        else:
            try:
                name = parse_line(name).strip()
            except InvalidValue as exc:
                raise exc.under(".name") from None
            if not name or len(name) > NAME_MAX_LENGTH:
                raise InvalidValue(
                    "INVALID_FILE", f"a file name must have 1 to {NAME_MAX_LENGTH} characters", ".name"
                )
        return {"url": url, "name": name}

    def item_key(self, item: Any) -> Any:
        return item["url"]
