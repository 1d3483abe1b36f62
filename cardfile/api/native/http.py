"""The native API's request plumbing now lives in the HTTP kit (``cardfile/api/kit/``).

These names stay importable from here for code written against the old module; new code
imports the kit.
"""

from __future__ import annotations

from cardfile.api.kit.body import JSON_BODY_DOC, JSON_TYPES, read_json
from cardfile.api.kit.conditions import Conditions, etag, record_headers
from cardfile.api.kit.credentials import Credentials, bearer_token, credentials_of
from cardfile.api.kit.ratelimit import RateLimitHeaders, count_request, limited
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_read

__all__ = [
    "JSON_BODY_DOC",
    "JSON_TYPES",
    "Conditions",
    "Credentials",
    "RateLimitHeaders",
    "bearer_token",
    "count_request",
    "credentials_of",
    "etag",
    "json_response",
    "limited",
    "read_json",
    "record_headers",
    "run_read",
    "services_of",
]
