"""Zoho's OAuth paths on cardfile's OAuth2 server: /zoho/oauth/v2/auth and /zoho/oauth/v2/token.

With PKCE the request goes through /oauth2/authorize; without it (a Zoho server-side
integration) the Zoho path serves the login page itself, for a confidential client only,
and its code is redeemed only with the client secret, never at /oauth2/token."""

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


# -- a Zoho server-side integration: authorization code without PKCE --------------------


def _clients(svc: Services) -> tuple[str, str, str]:
    """(confidential client id, its secret, public client id), and the user alice."""
    with svc.db.write() as conn:
        add_user(conn, "alice@example.com", role="standard", password=PASSWORD)
        client_id, secret = add_client(
            conn,
            "Zoho Server App",
            redirect_uris=[APP_URI],
            scopes="records.ALL automation.SKIP metadata.READ",
        )
        public_id, none = add_client(
            conn,
            "Zoho Browser App",
            redirect_uris=[APP_URI],
            scopes="records.ALL automation.SKIP metadata.READ",
            public=True,
        )
    assert secret is not None and none is None
    return client_id, secret, public_id


def _auth_params(client_id: str, state: str, **extra: str) -> dict[str, str]:
    """What a Zoho integration sends to /oauth/v2/auth: no PKCE."""
    return {"scope": "ZohoCRM.modules.ALL,ZohoCRM.settings.fields.READ", "client_id": client_id,
            "response_type": "code", "access_type": "offline", "redirect_uri": APP_URI, "prompt": "consent",
            "state": state, **extra}  # fmt: skip


def _sign_in(http: httpx.Client, params: dict[str, str], action: str = "allow") -> httpx.Response:
    page = http.get("/zoho/oauth/v2/auth", params=params)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"], page.text
    assert "Authorize Zoho Server App" in page.text
    m = CSRF.search(page.text)
    assert m is not None
    form = {"csrf_token": m.group(1), "email": "alice@example.com", "password": PASSWORD, "action": action}
    return http.post(str(page.url), data=form)


def _code(http: httpx.Client, client_id: str, state: str) -> str:
    r = _sign_in(http, _auth_params(client_id, state))
    assert r.status_code == 302, r.text
    target = urlsplit(r.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == APP_URI
    query = parse_qs(target.query)
    assert query["state"] == [state]
    return query["code"][0]


def _redeem(
    http: httpx.Client, client_id: str, secret: str | None, code: str, **extra: str
) -> httpx.Response:
    form = {"grant_type": "authorization_code", "client_id": client_id, "redirect_uri": APP_URI, "code": code}
    if secret is not None:
        form["client_secret"] = secret
    return http.post("/zoho/oauth/v2/token", data={**form, **extra})


def test_zoho_code_flow_without_pkce_for_a_confidential_client(server: tuple[str, Services]) -> None:
    url, svc = server
    client_id, secret, _ = _clients(svc)
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as http:
        code = _code(http, client_id, "z1")
        r = _redeem(http, client_id, secret, code)
        assert r.status_code == 200, r.text
        tokens = r.json()
        assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
        assert tokens["api_domain"] == f"{url}/zoho" and tokens["refresh_token"]
        assert tokens["scope"] == "metadata.READ records.ALL"  # within alice's role
        assert r.headers["cache-control"] == "no-store"
        api = tokens["api_domain"]
        auth = {"Authorization": f"Zoho-oauthtoken {tokens['access_token']}"}
        r = http.post(f"{api}/crm/v7/Deals", json={"data": [{"Deal_Name": "No PKCE", "Stage": "Qualification"}]},
                      headers=auth)  # fmt: skip
        assert r.status_code == 201, r.text
        rid = r.json()["data"][0]["details"]["id"]
        r = http.put(f"{api}/crm/v7/Deals", json={"data": [{"id": rid, "Amount": 42}]}, headers=auth)
        assert r.status_code == 200, r.text
        assert r.json()["data"][0]["code"] == "SUCCESS"
        # the same code again: refused, and the grant it started is revoked
        r = _redeem(http, client_id, secret, code)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        refresh = {"grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
                   "refresh_token": tokens["refresh_token"]}  # fmt: skip
        r = http.post("/zoho/oauth/v2/token", data=refresh)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_zoho_refresh_after_a_code_without_pkce(server: tuple[str, Services]) -> None:
    url, svc = server
    client_id, secret, _ = _clients(svc)
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as http:
        tokens = _redeem(http, client_id, secret, _code(http, client_id, "z2")).json()
        refresh = {"grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
                   "refresh_token": tokens["refresh_token"]}  # fmt: skip
        r = http.post("/zoho/oauth/v2/token", params=refresh)  # Zoho's examples: the query string
        assert r.status_code == 200, r.text
        fresh = r.json()
        assert fresh["api_domain"] == f"{url}/zoho" and fresh["access_token"] != tokens["access_token"]
        auth = {"Authorization": f"Zoho-oauthtoken {fresh['access_token']}"}
        deal = {"data": [{"Deal_Name": "Refreshed", "Stage": "Qualification"}]}
        r = http.post(f"{url}/zoho/crm/v7/Deals", json=deal, headers=auth)
        assert r.status_code == 201, r.text
        # a refresh needs the secret too, and the presented token was rotated away
        r = http.post("/zoho/oauth/v2/token", data={**refresh, "refresh_token": fresh["refresh_token"],
                                                    "client_secret": "wrong"})  # fmt: skip
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
        r = http.post("/zoho/oauth/v2/token", data=refresh)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_zoho_public_client_without_pkce_is_refused(server: tuple[str, Services]) -> None:
    url, svc = server
    _, _, public_id = _clients(svc)
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as http:
        r = http.get("/zoho/oauth/v2/auth", params=_auth_params(public_id, "p1"))
        assert r.status_code == 302, r.text  # the error goes back to the registered URI
        query = parse_qs(urlsplit(r.headers["location"]).query)
        assert query["error"] == ["invalid_request"] and query["state"] == ["p1"]
        assert "PKCE is required of a public client" in query["error_description"][0]
        assert "code" not in query
        # and the form cannot be posted around the check
        r = http.post(
            "/zoho/oauth/v2/auth", params=_auth_params(public_id, "p1"),
            data={"csrf_token": "1.x", "email": "alice@example.com", "password": PASSWORD, "action": "allow"},
        )  # fmt: skip
        assert r.status_code == 302 and "code=" not in r.headers["location"]


def test_zoho_code_without_pkce_needs_the_secret(server: tuple[str, Services]) -> None:
    url, svc = server
    client_id, secret, public_id = _clients(svc)
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as http:
        code = _code(http, client_id, "s1")
        r = _redeem(http, client_id, "wrong", code)
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
        assert "access_token" not in r.text
        r = _redeem(http, client_id, None, code)  # no secret at all
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
        r = _redeem(http, public_id, None, code)  # another (public) client presenting it
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        # a verifier cannot stand in for the secret, nor be added to a code issued without PKCE
        r = _redeem(http, client_id, secret, code, code_verifier=secrets.token_urlsafe(48))
        assert r.status_code == 400 and r.json()["error"] == "invalid_request"
        # the generic token endpoint requires PKCE of everyone: a code without it is refused there
        code = _code(http, client_id, "s2")
        form = {"grant_type": "authorization_code", "client_id": client_id, "client_secret": secret,
                "redirect_uri": APP_URI, "code": code}  # fmt: skip
        r = http.post("/oauth2/token", data=form)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        assert "without PKCE" in r.json()["error_description"]


def test_zoho_redirect_uri_mismatch_is_refused(server: tuple[str, Services]) -> None:
    url, svc = server
    client_id, secret, _ = _clients(svc)
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as http:
        for uri in ("https://evil.example/zoho-callback", APP_URI + "/more", APP_URI.upper()):
            r = http.get("/zoho/oauth/v2/auth", params=_auth_params(client_id, "r1", redirect_uri=uri))
            assert r.status_code == 400 and r.json()["error"] == "invalid_request", uri  # never redirected
        code = _code(http, client_id, "r2")
        r = _redeem(http, client_id, secret, code, redirect_uri="https://evil.example/zoho-callback")
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        assert "access_token" not in r.text


def test_zoho_pkce_code_needs_its_verifier_on_the_zoho_path(server: tuple[str, Services]) -> None:
    url, svc = server
    client_id, secret, public_id = _clients(svc)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as http:
        for cid in (client_id, public_id):
            page = http.get("/zoho/oauth/v2/auth", params=_auth_params(cid, "k1", code_challenge=challenge,
                                                                       code_challenge_method="S256"))  # fmt: skip
            assert page.status_code == 200 and page.url.path == "/oauth2/authorize", page.text
            m = CSRF.search(page.text)
            assert m is not None
            form = {
                "csrf_token": m.group(1),
                "email": "alice@example.com",
                "password": PASSWORD,
                "action": "allow",
            }
            r = http.post(str(page.url), data=form, follow_redirects=False)
            assert r.status_code == 302, r.text
            code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
            sec = secret if cid == client_id else None
            r = _redeem(http, cid, sec, code)  # the secret does not replace the verifier
            assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
            assert "code_verifier" in r.json()["error_description"]
            r = _redeem(http, cid, sec, code, code_verifier=verifier)
            assert r.status_code == 400  # the code was spent by the refused attempt
        # and with the verifier from the start, it works for the public client without a secret
        page = http.get("/zoho/oauth/v2/auth", params=_auth_params(public_id, "k2", code_challenge=challenge,
                                                                   code_challenge_method="S256"))  # fmt: skip
        m = CSRF.search(page.text)
        assert m is not None
        form = {
            "csrf_token": m.group(1),
            "email": "alice@example.com",
            "password": PASSWORD,
            "action": "allow",
        }
        r = http.post(str(page.url), data=form, follow_redirects=False)
        code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
        r = _redeem(http, public_id, None, code, code_verifier=verifier)
        assert r.status_code == 200 and r.json()["api_domain"] == f"{url}/zoho", r.text


def test_zoho_login_page_deny_and_csrf(server: tuple[str, Services]) -> None:
    url, svc = server
    client_id, _, _ = _clients(svc)
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as http:
        r = _sign_in(http, _auth_params(client_id, "d1"), action="deny")
        assert r.status_code == 302
        query = parse_qs(urlsplit(r.headers["location"]).query)
        assert query["error"] == ["access_denied"] and query["state"] == ["d1"] and "code" not in query
        params = _auth_params(client_id, "d2")
        page = http.get("/zoho/oauth/v2/auth", params=params)
        assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
        assert page.cookies.get("cardfile_oauth2_nonce") is not None
        form = {
            "csrf_token": "1.forged",
            "email": "alice@example.com",
            "password": PASSWORD,
            "action": "allow",
        }
        r = http.post(str(page.url), data=form)
        assert r.status_code == 400 and "text/html" in r.headers["content-type"]
        m = CSRF.search(page.text)
        assert m is not None
        r = http.post(str(page.url), data={**form, "csrf_token": m.group(1), "password": "wrong"})
        assert r.status_code == 200 and "Wrong email or password." in r.text
        # the token was bound to this request: another state cannot reuse it
        other = http.post("/zoho/oauth/v2/auth", params={**params, "state": "d3"},
                          data={**form, "csrf_token": m.group(1)})  # fmt: skip
        assert other.status_code == 400
