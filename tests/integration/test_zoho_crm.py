"""The Zoho CRM v7 dialect (seed 002) over real HTTP, on SQLite and PostgreSQL.

Checklist section ZO of the seed checklist: the seed's sample input verbatim, every
error code, $append_values, _delete on each linked kind, 100 vs 101 records,
If-Unmodified-Since, skipped cadences, locks, scopes vs permissions, read-back through
the native API, and nothing changed on error.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, text, update

from cardfile.auth import scopes as rules
from cardfile.auth.apikeys import create_key
from cardfile.auth.users import add_user
from cardfile.services import Services, open_services
from cardfile.settings import Settings
from cardfile.store import tables
from tests.conftest import start_live

SAMPLE_DEAL = "3652397000003852095"
SAMPLE_LISTING = "3652397000001988001"
SAMPLE_USER = "3652397000000281001"
SAMPLE_IMAGE_ROW = "738964000002363016"
SAMPLE_LISTING_ROW = "431581000000697244"
SAMPLE_USER_ROW = "431581000000701821"

# The seed's sample input, verbatim but for the three // annotations (ZO-41).
SAMPLE_INPUT = """{
"data": [
{
"id": "3652397000003852095",
"Deal_Name": "v7 Update",
"Stage": "Closed Won",
"Pipeline": "Standard (Standard)",
"Foreign_Languages": [
"Korean",
"Spanish"
],
"$append_values": {
"Foreign_Languages": false
},
"Image_Upload": [
{
"File_Id__s": "2cxx2fa"
},
{
"id": "738964000002363016",
"_delete": null
}
],
"Listings": [
{
"Interested_Listings": {
"id": "3652397000001988001"
}
},
{
"id": "431581000000697244",
"_delete": null
}
],
"AssociatedUser": [
{
"User": {
"name": "J Smith",
"id": "3652397000000281001"
}
},
{
"id": "431581000000701821",
"_delete": null
}
]
}
],
"skip_feature_execution": [
{
"name": "cadences"
}
]
}"""


@dataclass
class Zoho:
    url: str
    svc: Services
    admin: str  # an admin's access token (all scopes)
    key: str  # an API key
    ids: dict[str, int]

    def client(self, token: str | None = None, scheme: str = "Zoho-oauthtoken") -> httpx.Client:
        headers = {"Authorization": f"{scheme} {token or self.admin}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def token(self, email: str, scopes: str | None = None) -> str:
        role = {"admin@example.com": "admin", "reader@example.com": "read-only"}.get(email, "standard")
        with self.svc.db.write() as conn:
            wanted = rules.parse(scopes) if scopes is not None else rules.default_for_role(role)
            return self.svc.auth.tokens.issue(
                conn, subject=f"user:{self.ids[email]}", scopes=rules.normalize(wanted)
            )[0]

    def insert(self, module: str, *records: dict[str, Any]) -> list[str]:
        with self.client() as c:
            r = c.post(f"/zoho/crm/v7/{module}", json={"data": list(records)})
        assert r.status_code == 201, r.text
        return [e["details"]["id"] for e in r.json()["data"]]

    def native(self, type_name: str, rid: str | int) -> dict[str, Any]:
        with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}) as c:
            r = c.get(f"/api/records/{type_name}/{rid}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def next_record_id(self, n: int) -> None:
        """The next record created gets id ``n`` (to recreate the seed sample's records)."""
        with self.svc.db.write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT setval(pg_get_serial_sequence('records', 'id'), :n)"), {"n": n - 1})
            else:
                conn.execute(text("DELETE FROM sqlite_sequence WHERE name = 'records'"))
                conn.execute(
                    text("INSERT INTO sqlite_sequence (name, seq) VALUES ('records', :n)"), {"n": n - 1}
                )

    def set_row_ids(self, rid: str, field: str, ids: list[int]) -> None:
        """Give the rows of a sub-records field these ids (the seed sample's linking rows)."""
        r = tables.records
        with self.svc.db.write() as conn:
            data = dict(conn.execute(select(r.c.data).where(r.c.id == int(rid))).scalar_one())
            rows = data[field]["rows"]
            assert len(rows) == len(ids)
            for row, new in zip(rows, ids, strict=True):
                row["id"] = new
            data[field] = {"rows": rows, "next_id": max(ids) + 1}
            conn.execute(update(r).where(r.c.id == int(rid)).values(data=data))


@pytest.fixture
def zoho(settings: Settings) -> Iterator[Zoho]:
    svc = open_services(replace(settings, packs=("zoho",)))
    server, thread, url = start_live(svc)
    ids: dict[str, int] = {}
    with svc.db.write() as conn:
        for email, role in (
            ("admin@example.com", "admin"),
            ("alice@example.com", "standard"),
            ("reader@example.com", "read-only"),
        ):
            ids[email] = add_user(conn, email, name=email.split("@")[0].title(), role=role, password=None).id
        # the seed's user "J Smith", with the seed's id
        conn.execute(
            insert(tables.users).values(id=int(SAMPLE_USER), username="jsmith@example.com", display_name="J Smith",
                                        email="jsmith@example.com", active=True, created_at=1, role="standard")
        )  # fmt: skip
    z = Zoho(url=url, svc=svc, admin="", key=create_key(svc.db, "zoho-tester"), ids=ids)
    z.admin = z.token("admin@example.com")
    yield z
    server.should_exit = True
    thread.join(timeout=10)
    svc.close()


def _deal(name: str = "Deal", **more: Any) -> dict[str, Any]:
    return {"Deal_Name": name, "Stage": "Qualification", **more}


def _put(z: Zoho, module: str, body: Any, token: str | None = None, **headers: str) -> httpx.Response:
    with z.client(token) as c:
        return c.put(f"/zoho/crm/v7/{module}", json=body, headers=headers)


# -- the seed's sample ------------------------------------------------------------------------------------
def test_seed_sample_input_verbatim(zoho: Zoho) -> None:
    z = zoho
    z.next_record_id(int(SAMPLE_LISTING))
    (listing,) = z.insert("Listings", {"Name": "Harbour View", "Status": "Available"})
    assert listing == SAMPLE_LISTING
    (other,) = z.insert("Listings", {"Name": "Old Mill"})
    z.next_record_id(int(SAMPLE_DEAL))
    (deal,) = z.insert(
        "Deals",
        _deal(
            "v6 deal",
            Foreign_Languages=["English"],
            Image_Upload=[{"File_Id__s": "old-image"}],
            Listings=[{"Interested_Listings": {"id": other}}],
            AssociatedUser=[{"User": {"id": str(z.ids["alice@example.com"])}}],
        ),
    )
    assert deal == SAMPLE_DEAL
    z.set_row_ids(deal, "image_upload", [int(SAMPLE_IMAGE_ROW)])
    z.set_row_ids(deal, "listings", [int(SAMPLE_LISTING_ROW)])
    z.set_row_ids(deal, "associateduser", [int(SAMPLE_USER_ROW)])
    before = time.time()
    with z.client() as c:
        r = c.put("/zoho/crm/v7/Deals", content=SAMPLE_INPUT, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    (entry,) = r.json()["data"]
    assert (
        entry["code"] == "SUCCESS" and entry["status"] == "success" and entry["message"] == "record updated"
    )
    d = entry["details"]
    assert set(d) == {"Modified_Time", "Modified_By", "Created_Time", "id", "Created_By"}
    assert d["id"] == SAMPLE_DEAL
    assert d["Modified_By"] == {"name": "Admin", "id": str(z.ids["admin@example.com"])}
    assert d["Created_By"] == d["Modified_By"]
    modified = datetime.fromisoformat(d["Modified_Time"])
    assert modified.tzinfo is not None and "." not in d["Modified_Time"]
    assert modified.timestamp() >= int(before) - 1
    # read back through the native API: the same record
    rec = z.native("zoho_deals", SAMPLE_DEAL)
    assert rec["deal_name"] == "v7 Update" and rec["stage"] == "Closed Won"
    assert rec["pipeline"] == "Standard (Standard)"
    assert rec["foreign_languages"] == ["Korean", "Spanish"]
    assert [row["file_id__s"] for row in rec["image_upload"]] == ["2cxx2fa"]
    assert [row["interested_listings"] for row in rec["listings"]] == [int(SAMPLE_LISTING)]
    assert [row["user"] for row in rec["associateduser"]] == [int(SAMPLE_USER)]
    # the cadence was skipped; the workflow rule ran (probability 100)
    assert rec["next_step"] is None and rec["probability"] == 100
    # and through Zoho's get
    with z.client() as c:
        got = c.get(f"/zoho/crm/v7/Deals/{SAMPLE_DEAL}").json()["data"][0]
    assert got["Listings"][0]["Interested_Listings"] == {"name": "Harbour View", "id": SAMPLE_LISTING}
    assert got["AssociatedUser"][0]["User"]["name"] == "J Smith"
    assert got["AssociatedUser"][0]["User"]["id"] == SAMPLE_USER
    assert got["Image_Upload"][0]["File_Id__s"] == "2cxx2fa"
    assert got["id"] == SAMPLE_DEAL
