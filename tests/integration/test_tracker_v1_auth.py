"""Tracker's auth flow over real HTTP, on SQLite and PostgreSQL: Authorize (sign-in page and
HTTP Basic), Token (authorization code and refresh token, the client named EvoApi_1.0),
ExchangeToken for a JWT, the JWT on API calls, an expired JWT (401) and re-exchange, and
cardfile's own access tokens."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.test_api_support import assert_problem
from tests.integration.test_tracker_v1_world import BACKENDS, PASSWORD, REDIRECT, World, world

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
AUTHORIZE = {
    "client_id": "EvoApi_1.0",
    "response_type": "code",
    "scope": "read,write",
    "redirect_uri": REDIRECT,
}


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from world(request, tmp_path_factory)


def browser(w: World) -> httpx.Client:
    return httpx.Client(base_url=w.url + "/tracker", timeout=30, follow_redirects=False)


def code_by_login(w: World, state: str, email: str = "owner@example.com", scope: str = "read,write") -> str:
    """Authorize through the sign-in page: GET shows it, its form's POST redirects with a code."""
    with browser(w) as b:
        params = {**AUTHORIZE, "scope": scope, "state": state}
        page = b.get("/oAuth2/Authorize", params=params)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"], page.text
        m = CSRF.search(page.text)
        assert m is not None
        form = {"csrf_token": m.group(1), "email": email, "password": PASSWORD, "action": "allow"}
        r = b.post("/oAuth2/Authorize", params=params, data=form)
        assert r.status_code == 302, r.text
        target = urlsplit(r.headers["location"])
        assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
        query = parse_qs(target.query)
        assert query["state"] == [state]
        return query["code"][0]


def token_form(w: World, **fields: str) -> dict[str, str]:
    # Tracker's clients send every field, empty or not
    base = {"client_id": "EvoApi_1.0", "redirect_uri": REDIRECT, "grant_type": "", "client_secret": w.client_secret,
            "code": "", "refresh_token": ""}  # fmt: skip
    return {**base, **fields}


def get_token(w: World, code: str) -> str:
    with browser(w) as b:
        r = b.post("/oAuth2/Token", data=token_form(w, grant_type="authorization_code", code=code))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        assert isinstance(body["Token"], str) and body["Token"]
        assert r.headers["cache-control"] == "no-store"
        return body["Token"]


def exchange(w: World, token: str, **kw: Any) -> httpx.Response:
    with browser(w) as b:
        return b.post("/api/Auth/ExchangeToken", **(kw or {"json": {"token": token}}))


def test_full_flow_sign_in_token_exchange_call(w: World) -> None:
    code = code_by_login(w, "st-1")
    token = get_token(w, code)
    r = exchange(w, token)
    assert r.status_code == 200, r.text
    jwt = r.json()["token"]
    assert jwt.count(".") == 2 and r.json()["expiresIn"] > 0
    with w.http(token=jwt) as c:
        r = c.post("/api/v1/Client", json={"name": "Flow Co"})
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        assert c.get(f"/api/v1/Client/{rid}").json()["name"] == "Flow Co"
    with w.native() as n:
        hist = n.get(f"/api/records/client/{rid}/history").json()["items"][0]
        assert hist["actor"] == "owner@example.com"
    # the scheme may be left out
    with httpx.Client(base_url=w.url + "/tracker", headers={"Authorization": jwt}) as c:
        assert c.get(f"/api/v1/Client/{rid}").status_code == 200
    # the same code twice: refused
    with browser(w) as b:
        r = b.post("/oAuth2/Token", data=token_form(w, grant_type="authorization_code", code=code))
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_basic_authorize_answers_code_and_state(w: World) -> None:
    basic = "Basic " + base64.b64encode(f"owner@example.com:{PASSWORD}".encode()).decode()
    with browser(w) as b:
        r = b.get("/oAuth2/Authorize", params={**AUTHORIZE, "state": "xyz"}, headers={"Authorization": basic})
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"code", "state"} and body["state"] == "xyz"
        wrong = "Basic " + base64.b64encode(b"owner@example.com:nope").decode()
        r = b.get("/oAuth2/Authorize", params={**AUTHORIZE, "state": "xyz"}, headers={"Authorization": wrong})
        assert_problem(r, 401, "UNAUTHENTICATED")
    assert exchange(w, get_token(w, body["code"])).status_code == 200


def test_authorize_refusals(w: World) -> None:
    with browser(w) as b:
        r = b.get("/oAuth2/Authorize", params={**AUTHORIZE, "client_id": "NoSuchClient", "state": "s"})
        assert r.status_code == 400 and r.json()["error"] == "invalid_client"
        r = b.get(
            "/oAuth2/Authorize", params={**AUTHORIZE, "redirect_uri": "https://evil.example/", "state": "s"}
        )
        assert r.status_code == 400 and r.json()["error"] == "invalid_request"
        r = b.get("/oAuth2/Authorize", params={**AUTHORIZE, "response_type": "token", "state": "s"})
        assert r.status_code in (302, 400)
        if r.status_code == 302:
            assert "error=unsupported_response_type" in r.headers["location"]
        # a wrong client secret at the token endpoint
        code = code_by_login(w, "st-2")
        r = b.post(
            "/oAuth2/Token", data=token_form(w, grant_type="authorization_code", code=code, client_secret="x")
        )
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
        r = b.post("/oAuth2/Token", json={"grant_type": "authorization_code"})
        assert_problem(r, 400, "BAD_REQUEST")


def test_refresh_rotates_the_token(w: World) -> None:
    old = get_token(w, code_by_login(w, "st-3"))
    with browser(w) as b:
        r = b.post("/oAuth2/Token", data=token_form(w, grant_type="refresh_token", refresh_token=old))
        assert r.status_code == 200, r.text
        new = r.json()["Token"]
    assert new != old
    assert exchange(w, new).status_code == 200
    assert_problem(exchange(w, old), 401, "UNAUTHENTICATED")


def test_expired_jwt_gets_401_and_reexchange_works(w: World) -> None:
    token = get_token(w, code_by_login(w, "st-4"))
    with w.svc.db.write() as conn:
        expired, _ = w.svc.auth.tokens.issue(
            conn, subject=f"user:{w.ids['owner']}", scopes="records.ALL", ttl_s=-120
        )
    with w.http(token=expired) as c:
        r = c.get("/api/v1/Client/1")
        assert_problem(r, 401, "UNAUTHENTICATED")
        assert r.headers["www-authenticate"].startswith("Bearer")
    fresh = exchange(w, token).json()["token"]
    with w.http(token=fresh) as c:
        assert c.get("/api/v1/Client/1").status_code in (200, 204)


def test_exchange_accepts_its_spellings_and_cardfile_tokens(w: World) -> None:
    token = get_token(w, code_by_login(w, "st-5"))
    for kw in (
        {"json": token},  # a bare JSON string
        {"json": {"oAuthToken": token}},
        {"data": {"token": token}},
        {"headers": {"Authorization": f"Bearer {token}"}},
    ):
        r = exchange(w, token, **kw)
        assert r.status_code == 200, (kw, r.text)
    # a cardfile access token (as `cardfile token create` prints) works as the JWT and exchanges
    with w.svc.db.write() as conn:
        access, _ = w.svc.auth.tokens.issue(conn, subject=f"user:{w.ids['owner']}", scopes="records.ALL")
    with w.http(token=access) as c:
        assert c.get("/api/v1/MetaData/recordTypes").status_code == 200
    assert exchange(w, access).status_code == 200
    assert_problem(exchange(w, "nonsense"), 401, "UNAUTHENTICATED")
    assert_problem(exchange(w, "", json={}), 401, "UNAUTHENTICATED")


def test_read_scope_cannot_write(w: World) -> None:
    token = get_token(w, code_by_login(w, "st-6", scope="read"))
    jwt = exchange(w, token).json()["token"]
    with w.http(token=jwt) as c:
        assert c.post("/api/v1/Client/Search", json={}).status_code in (200, 204)
        assert_problem(c.post("/api/v1/Client", json={"name": "x"}), 403, "INSUFFICIENT_SCOPE")


def test_token_principal_for_other_channels(w: World) -> None:
    from cardfile.auth.oauth2.exchange import token_principal
    from cardfile.errors import Unauthenticated

    token = get_token(w, code_by_login(w, "st-7"))
    with w.svc.db.read() as conn:
        p = token_principal(w.svc, conn, token)
        assert p.kind == "user" and p.user_id == w.ids["owner"] and "records.ALL" in p.scopes
        assert token_principal(w.svc, conn, w.key).kind == "apikey"
        with pytest.raises(Unauthenticated):
            token_principal(w.svc, conn, "nonsense")
