"""Zoho's OAuth paths on cardfile's OAuth2 server: /zoho/oauth/v2/auth and /zoho/oauth/v2/token."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from cardfile.auth.clients import add_client
from cardfile.auth.users import add_user
from cardfile.services import Services, open_services
from cardfile.settings import Settings
from tests.conftest import start_live

PASSWORD = "correct horse battery staple"
APP_URI = "https://app.example/zoho-callback"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, Services]]:
    svc = open_services(replace(settings, packs=("zoho",)))
    srv, thread, url = start_live(svc)
    yield url, svc
    srv.should_exit = True
    thread.join(timeout=10)
    svc.close()


def test_code_and_refresh_grants_on_zoho_paths(server: tuple[str, Services]) -> None:
    url, svc = server
    with svc.db.write() as conn:
        add_user(conn, "alice@example.com", role="standard", password=PASSWORD)
        client_id, secret = add_client(
            conn, "Zoho SDK", redirect_uris=[APP_URI], scopes="records.ALL automation.SKIP metadata.READ"
        )
    assert secret is not None
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as http:
        r = http.get(
            "/zoho/oauth/v2/auth",
            params={"response_type": "code", "client_id": client_id, "redirect_uri": APP_URI, "state": "s1",
                    "scope": "ZohoCRM.modules.ALL,ZohoCRM.settings.fields.READ", "access_type": "offline",
                    "code_challenge": challenge, "code_challenge_method": "S256"},
        )  # fmt: skip
        assert r.status_code == 302
        location = r.headers["location"]
        query = urlsplit(location).query
        assert urlsplit(location).path == "/oauth2/authorize"
        assert parse_qs(query)["scope"] == ["automation.SKIP metadata.READ records.ALL"]
        assert "access_type" not in parse_qs(query)
        page = http.get(location)
        assert page.status_code == 200, page.text
        m = CSRF.search(page.text)
        assert m is not None
        r = http.post(location, data={"csrf_token": m.group(1), "email": "alice@example.com",
                                      "password": PASSWORD, "action": "allow"})  # fmt: skip
        assert r.status_code == 302, r.text
        code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
        # Zoho's examples send the parameters in the query string of a POST
        r = http.post(
            "/zoho/oauth/v2/token",
            params={"grant_type": "authorization_code", "client_id": client_id, "client_secret": secret,
                    "redirect_uri": APP_URI, "code": code, "code_verifier": verifier},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        tokens = r.json()
        assert tokens["token_type"] == "Bearer" and tokens["api_domain"] == f"{url}/zoho"
        assert tokens["refresh_token"] and tokens["expires_in"] > 0
        api = tokens["api_domain"]
        auth = {"Authorization": f"Zoho-oauthtoken {tokens['access_token']}"}
        r = http.post(f"{api}/crm/v7/Deals", json={"data": [{"Deal_Name": "Via OAuth", "Stage": "Qualification"}]},
                      headers=auth)  # fmt: skip
        assert r.status_code == 201, r.text
        rid = r.json()["data"][0]["details"]["id"]
        body = {"data": [{"id": rid, "Amount": 10}]}
        assert http.put(f"{api}/crm/v7/Deals", json=body, headers=auth).status_code == 200
        # skipping cadences needs automation.SKIP, which a standard user's role does not grant
        assert tokens["scope"] == "metadata.READ records.ALL"
        skip = {**body, "skip_feature_execution": [{"name": "cadences"}]}
        r = http.put(f"{api}/crm/v7/Deals", json=skip, headers=auth)
        assert r.status_code == 401 and r.json()["code"] == "OAUTH_SCOPE_MISMATCH"
        assert r.json()["details"] == {"required_scope": "automation.SKIP"}
        # refresh, in the urlencoded body this time, narrowed to one module by Zoho's scope name
        r = http.post(
            "/zoho/oauth/v2/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id,
                  "client_secret": secret, "scope": "ZohoCRM.modules.deals.READ"},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        narrow = {"Authorization": f"Zoho-oauthtoken {r.json()['access_token']}"}
        assert http.get(f"{api}/crm/v7/Deals/{rid}", headers=narrow).status_code == 200
        r = http.put(f"{api}/crm/v7/Deals", json=body, headers=narrow)
        assert r.status_code == 401 and r.json()["code"] == "OAUTH_SCOPE_MISMATCH"
        # a wrong secret is OAuth's error, not a token
        r = http.post("/zoho/oauth/v2/token", data={"grant_type": "refresh_token", "client_id": client_id,
                                                    "client_secret": "wrong", "refresh_token": "x"})  # fmt: skip
        assert r.status_code in (400, 401) and "access_token" not in r.text


def test_rate_limit_group_zoho_answers_in_zoho_shape(settings: Settings) -> None:
    limited = replace(settings, packs=("zoho",), rate_limits={**settings.rate_limits, "zoho": "3/minute"})
    svc = open_services(limited)
    srv, thread, url = start_live(svc)
    try:
        assert svc.rate_limiter.groups["zoho"] == "3/minute"
        with httpx.Client(base_url=url, headers={"Authorization": "Zoho-oauthtoken nope"}) as c:
            codes = [c.get("/zoho/crm/v7/Deals").status_code for _ in range(3)]
            assert codes == [401, 401, 401]
            r = c.get("/zoho/crm/v7/Deals")
        assert (
            r.status_code == 429 and r.json()["code"] == "TOO_MANY_REQUESTS" and r.json()["status"] == "error"
        )
        assert int(r.headers["Retry-After"]) >= 1
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        svc.close()
