"""``PATCH /api/records/{type}/{id}`` is served by a plain Starlette endpoint ahead of the
documented FastAPI route (api/native/records.py ``patch_record``): the same rate limit,
credentials, parameters and errors as every other route, and the FastAPI route still
answers what the fast one does not match."""

from __future__ import annotations

from pathlib import Path

import httpx

from cardfile.auth.apikeys import create_key
from cardfile.settings import DEFAULT_RATE_LIMITS, Settings
from tests.integration.test_api_support import assert_problem
from tests.integration.test_ratelimit import _assert_limited, _budget, _client, _server


def test_single_patch_counts_in_the_write_budget(tmp_path: Path) -> None:
    limits = {**DEFAULT_RATE_LIMITS, "records.write": "4/minute"}
    with _server(Settings(data_dir=tmp_path, packs=("demo",), rate_limits=limits)) as (url, svc):
        key = create_key(svc.db, "a")
        with _client(url, key) as api, _client(url, None) as anon:
            rid = api.post("/api/records/contacts", json={"last_name": "Budget"}).json()["id"]
            r = api.patch(f"/api/records/contacts/{rid}", json={"score": 1})
            assert r.status_code == 200 and _budget(r)[:2] == (4, 2)  # the create counted first
            r = api.patch("/api/records/contacts", json={"records": [{"id": rid, "score": 2}]})  # bulk
            assert r.status_code == 200 and _budget(r)[:2] == (4, 1)
            r = api.patch(f"/api/records/contacts/{rid}", json={"score": 3})
            assert r.status_code == 200 and _budget(r)[:2] == (4, 0)
            _assert_limited(api.patch(f"/api/records/contacts/{rid}", json={"score": 4}), limit=4)
            assert api.get(f"/api/records/contacts/{rid}").json()["score"] == 3
            # without credentials: counted by client IP, then 401
            r = anon.patch(f"/api/records/contacts/{rid}", json={"score": 5})
            assert_problem(r, 401, "UNAUTHENTICATED")
            assert _budget(r)[:2] == (4, 3)


def test_parameters_and_fallback_to_the_documented_route(api: httpx.Client) -> None:
    rid = api.post("/api/records/contacts", json={"last_name": "Params"}).json()["id"]
    dry = api.patch(f"/api/records/contacts/{rid}", params={"validate_only": "true"}, json={"score": 7})
    assert dry.status_code == 200 and dry.json()["committed"] is False and dry.json()["record"]["score"] == 7
    assert api.get(f"/api/records/contacts/{rid}").json()["version"] == 1
    bad = api.patch(f"/api/records/contacts/{rid}", params={"validate_only": "maybe"}, json={"score": 7})
    assert assert_problem(bad, 400, "BAD_REQUEST")["field"] == "validate_only"
    stale = api.patch(f"/api/records/contacts/{rid}", headers={"If-Match": '"9"'}, json={"score": 7})
    assert_problem(stale, 412, "PRECONDITION_FAILED")
    ok = api.patch(f"/api/records/contacts/{rid}", headers={"If-Match": '"1"'}, json={"score": 7})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    # ids the fast route's int path does not match go to the FastAPI route
    body = assert_problem(api.patch("/api/records/contacts/abc", json={"score": 1}), 400, "BAD_REQUEST")
    assert body["errors"][0]["field"] == "record_id"
    assert_problem(api.patch("/api/records/contacts/-1", json={"score": 1}), 404, "NOT_FOUND")
    assert_problem(api.patch("/api/records/nothing/1", json={"score": 1}), 404, "UNKNOWN_RECORD_TYPE")
    # still documented, with its query parameter
    op = api.get("/openapi.json").json()["paths"]["/api/records/{type_name}/{record_id}"]["patch"]
    assert "validate_only" in {p["name"] for p in op["parameters"]}
