"""Engine edge cases found while building: row ids never reused, filters on record links."""

from __future__ import annotations

import httpx


def _company(api: httpx.Client, name: str) -> int:
    r = api.post("/api/records/companies", json={"name": name})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_row_ids_are_not_reused_after_all_rows_are_removed(api: httpx.Client) -> None:
    rid = api.post(
        "/api/records/deals", json={"name": "D", "line_items": [{"product": "a"}, {"product": "b"}]}
    ).json()["id"]
    r = api.patch(f"/api/records/deals/{rid}", json={"line_items": {"remove": [1, 2]}})
    assert r.status_code == 200, r.text
    assert r.json()["record"]["line_items"] == []
    r = api.patch(f"/api/records/deals/{rid}", json={"line_items": {"add": [{"product": "c"}]}})
    assert [row["id"] for row in r.json()["record"]["line_items"]] == [3]


def test_filter_on_multi_lookup_and_lookup(api: httpx.Client) -> None:
    a, b = _company(api, "A Co"), _company(api, "B Co")
    c1 = api.post("/api/records/contacts", json={"last_name": "One"}).json()["id"]
    c2 = api.post("/api/records/contacts", json={"last_name": "Two"}).json()["id"]
    d1 = api.post("/api/records/deals", json={"name": "d1", "company": a, "contacts": [c1]}).json()["id"]
    d2 = api.post("/api/records/deals", json={"name": "d2", "company": b, "contacts": [c1, c2]}).json()["id"]
    ids = lambda params: [r["id"] for r in api.get("/api/records/deals", params=params).json()["items"]]  # noqa: E731
    assert ids({"contacts__contains": str(c2)}) == [d2]
    assert ids({"contacts": str(c1)}) == [d1, d2]
    assert ids({"company": str(a)}) == [d1]
    assert ids({"contacts__in": f"{c2},999999"}) == [d2]


def test_bulk_with_the_same_record_twice_applies_both_in_order(api: httpx.Client) -> None:
    rid = api.post("/api/records/contacts", json={"last_name": "Twice", "tags": ["vip"]}).json()["id"]
    body = {
        "records": [
            {"id": rid, "score": 1, "tags": {"add": ["smb"]}},
            {"id": rid, "score": 2, "tags": {"remove": ["vip"]}, "_if_version": 2},
        ],
        "all_or_none": True,
    }
    r = api.patch("/api/records/contacts", json=body)
    assert r.status_code == 200, r.text
    assert [x["version"] for x in r.json()["results"]] == [2, 3]
    record = api.get(f"/api/records/contacts/{rid}").json()
    assert (record["score"], record["tags"], record["version"]) == (2, ["smb"], 3)
    history = api.get(f"/api/records/contacts/{rid}/history").json()["items"]
    assert [h["version"] for h in history] == [3, 2, 1]
    assert history[0]["changes"] == [
        {"field": "score", "old": 1, "new": 2},
        {"field": "tags", "old": ["vip", "smb"], "new": ["smb"]},
    ]
