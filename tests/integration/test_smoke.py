from __future__ import annotations

import httpx


def test_create_get_patch(api: httpx.Client) -> None:
    r = api.post(
        "/api/records/contacts", json={"last_name": "Hopper", "email": "grace@example.com", "score": 1}
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = api.patch(f"/api/records/contacts/{rid}", json={"score": 2, "tags": {"add": ["vip"]}})
    assert r.status_code == 200, r.text
    assert r.json()["record"]["score"] == 2
    assert r.json()["record"]["tags"] == ["vip"]
    assert r.headers["etag"] == '"2"'
