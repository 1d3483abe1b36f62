"""The OAuth2 authorization server over real HTTP: authorization code with PKCE through the
login page, client credentials, rotating refresh tokens with reuse detection, revocation,
metadata, and the refusals (PKCE, redirect URIs, replays, passwords, CSRF, scopes)."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import func, select

from cardfile.auth.clients import add_client
from cardfile.auth.users import add_user, set_active
from cardfile.store import tables
from tests.conftest import LiveServer
from tests.integration.test_api_support import assert_problem, history_rows

PASSWORD = "correct horse battery staple"
APP_URI = "https://app.example/callback"
SPA_URI = "http://127.0.0.1:5173/callback"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class World:
    live: LiveServer
    alice: str  # standard user
    alice_id: int
    admin: str
    spa: str  # public client, PKCE only
    webapp: str  # confidential client
    webapp_secret: str
    robot: str  # confidential machine client, contacts read only
    robot_secret: str

    def http(self) -> httpx.Client:
        """A browser-like client: no credentials, keeps cookies, never follows redirects."""
        return httpx.Client(base_url=self.live.url, timeout=30, follow_redirects=False)

    def bearer(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.live.url, timeout=30, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def world(live: LiveServer) -> World:
    svc = live.services
    with svc.db.write() as conn:
        alice = add_user(conn, "alice@example.com", role="standard", password=PASSWORD)
        spa, _ = add_client(
            conn, "Spa", redirect_uris=[SPA_URI], scopes="records.ALL metadata.READ", public=True
        )
        webapp, webapp_secret = add_client(
            conn,
            'Web <App> & "Co"',
            redirect_uris=[APP_URI, "https://app.example/other"],
            scopes="records.ALL metadata.READ metadata.WRITE",
        )
        robot, robot_secret = add_client(conn, "Robot", redirect_uris=[], scopes="records.contacts.READ")
    assert webapp_secret is not None and robot_secret is not None
    return World(
        live, alice.email, alice.id, "admin@example.com", spa, webapp, webapp_secret, robot, robot_secret
    )


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def auth_query(client_id: str, redirect_uri: str | None, challenge: str | None, **extra: str) -> str:
    params = {"response_type": "code", "client_id": client_id, "state": "st-123"}
    if redirect_uri is not None:
        params["redirect_uri"] = redirect_uri
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    params |= extra
    return urlencode(params)


def open_form(http: httpx.Client, query: str) -> str:
    """GET the login page; its CSRF token."""
    r = http.get(f"/oauth2/authorize?{query}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    m = CSRF.search(r.text)
    assert m is not None
    return m.group(1)


def sign_in(
    http: httpx.Client, query: str, *, email: str = "alice@example.com", password: str = PASSWORD
) -> httpx.Response:
    csrf = open_form(http, query)
    return http.post(
        f"/oauth2/authorize?{query}",
        data={"csrf_token": csrf, "email": email, "password": password, "action": "allow"},
    )


def redirect_params(r: httpx.Response, redirect_uri: str) -> dict[str, str]:
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith(redirect_uri + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(
    w: World, http: httpx.Client, client_id: str, redirect_uri: str, challenge: str, **extra: str
) -> str:
    r = sign_in(http, auth_query(client_id, redirect_uri, challenge, **extra))
    got = redirect_params(r, redirect_uri)
    assert got["state"] == "st-123"
    return got["code"]


def exchange(
    http: httpx.Client, code: str, verifier: str | None, *, client_id: str, redirect_uri: str | None,
    secret: str | None = None,
) -> httpx.Response:  # fmt: skip
    data = {"grant_type": "authorization_code", "code": code}
    if redirect_uri is not None:
        data["redirect_uri"] = redirect_uri
    if verifier is not None:
        data["code_verifier"] = verifier
    if secret is None:
        data["client_id"] = client_id
        return http.post("/oauth2/token", data=data)
    return http.post("/oauth2/token", data=data, auth=(client_id, secret))


def spa_tokens(w: World, http: httpx.Client, **extra: str) -> dict[str, Any]:
    verifier, challenge = pkce()
    code = get_code(w, http, w.spa, SPA_URI, challenge, **extra)
    r = exchange(http, code, verifier, client_id=w.spa, redirect_uri=SPA_URI)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def refresh(http: httpx.Client, client_id: str, token: str, **extra: str) -> httpx.Response:
    return http.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id, **extra},
    )


def oauth_error(r: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "location" not in r.headers
    body: dict[str, Any] = r.json()
    assert body["error"] == error, body
    return body


def claims(token: str) -> dict[str, Any]:
    """The payload, unverified (signatures are checked by the API and against the JWKS)."""
    payload = token.split(".")[1]
    out: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return out


def count(live: LiveServer, table: Any) -> int:
    with live.services.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# -- authorization code with PKCE -------------------------------------------------------------


def test_authorization_code_flow_with_pkce(world: World) -> None:
    w = world
    verifier, challenge = pkce()
    query = auth_query(w.spa, SPA_URI, challenge)
    with w.http() as http:
        page = http.get(f"/oauth2/authorize?{query}")
        assert page.status_code == 200
        assert "Spa" in page.text and "records.ALL" in page.text and "metadata.READ" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        m = CSRF.search(page.text)
        assert m is not None
        r = http.post(
            f"/oauth2/authorize?{query}",
            data={
                "csrf_token": m.group(1),
                "email": "Alice@Example.com",
                "password": PASSWORD,
                "action": "allow",
            },
        )
        got = redirect_params(r, SPA_URI)
        assert got["state"] == "st-123" and set(got) == {"code", "state"}

        r = exchange(http, got["code"], verifier, client_id=w.spa, redirect_uri=SPA_URI)
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        tok = r.json()
        assert tok["token_type"] == "Bearer"
        assert tok["scope"] == "metadata.READ records.ALL"
        assert tok["expires_in"] == w.live.services.settings.token_ttl_s
        assert tok["refresh_token"]
        c = claims(tok["access_token"])
        assert c["sub"] == f"user:{w.alice_id}" and c["client_id"] == w.spa
        assert c["scope"] == "metadata.READ records.ALL"

        # the token verifies against the published keys
        keys = http.get("/oauth2/jwks").json()
        decoded = jwt.decode(tok["access_token"], KeySet.import_key_set(keys), algorithms=["ES256"])
        assert decoded.claims["sub"] == f"user:{w.alice_id}"

    with w.bearer(tok["access_token"]) as api:
        assert api.get("/api/records/contacts").status_code == 200
        r = api.post("/api/records/contacts", json={"last_name": "Lovelace"})
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        hist = api.get(f"/api/records/contacts/{rid}/history")
        assert hist.status_code == 200
        assert [e["actor"] for e in hist.json()["items"]] == ["alice@example.com"]
    rows = history_rows(w.live.services, "contacts", rid)
    assert [(row.actor, row.client_id) for row in rows] == [("alice@example.com", w.spa)]


def test_confidential_client_authenticates_at_the_token_endpoint(world: World) -> None:
    w = world
    with w.http() as http:
        verifier, challenge = pkce()
        code = get_code(w, http, w.webapp, APP_URI, challenge)
        # a confidential client cannot redeem its code without its secret
        r = exchange(http, code, verifier, client_id=w.webapp, redirect_uri=APP_URI)
        oauth_error(r, 401, "invalid_client")
        r = exchange(http, code, verifier, client_id=w.webapp, redirect_uri=APP_URI, secret=w.webapp_secret)
        assert r.status_code == 200, r.text
        assert claims(r.json()["access_token"])["client_id"] == w.webapp


def test_consent_page_escapes_everything(world: World) -> None:
    w = world
    _, challenge = pkce()
    query = auth_query(w.webapp, APP_URI, challenge, state='"><script>alert(1)</script>')
    with w.http() as http:
        r = http.get(f"/oauth2/authorize?{query}")
        assert r.status_code == 200
        assert "<script>" not in r.text and "<App>" not in r.text
        assert "Web &lt;App&gt; &amp; &quot;Co&quot;" in r.text


def test_pkce_is_required_with_s256(world: World) -> None:
    w = world
    verifier, challenge = pkce()
    with w.http() as http:
        for query in (
            auth_query(w.spa, SPA_URI, None),  # no challenge
            auth_query(w.spa, SPA_URI, None, code_challenge=verifier, code_challenge_method="plain"),
            auth_query(w.spa, SPA_URI, None, code_challenge=challenge),  # method missing: plain by default
            auth_query(w.spa, SPA_URI, None, code_challenge="short", code_challenge_method="S256"),
        ):
            got = redirect_params(http.get(f"/oauth2/authorize?{query}"), SPA_URI)
            assert got["error"] == "invalid_request" and got["state"] == "st-123"
        assert count(w.live, tables.auth_codes) == 0

        code = get_code(w, http, w.spa, SPA_URI, challenge)
        oauth_error(exchange(http, code, None, client_id=w.spa, redirect_uri=SPA_URI), 400, "invalid_request")
        code = get_code(w, http, w.spa, SPA_URI, challenge)
        wrong = secrets.token_urlsafe(48)
        oauth_error(exchange(http, code, wrong, client_id=w.spa, redirect_uri=SPA_URI), 400, "invalid_grant")
        # a failed redemption burns the code: the right verifier comes too late
        oauth_error(
            exchange(http, code, verifier, client_id=w.spa, redirect_uri=SPA_URI), 400, "invalid_grant"
        )
        # even a confidential client must send the verifier
        code = get_code(w, http, w.webapp, APP_URI, challenge)
        r = exchange(http, code, None, client_id=w.webapp, redirect_uri=APP_URI, secret=w.webapp_secret)
        oauth_error(r, 400, "invalid_request")
    assert count(w.live, tables.refresh_tokens) == 0


def test_redirect_uri_must_match_exactly(world: World) -> None:
    w = world
    verifier, challenge = pkce()
    with w.http() as http:
        for uri in (
            SPA_URI + "/more",
            SPA_URI + "?x=1",
            SPA_URI + "/",
            SPA_URI.replace("127.0.0.1", "localhost"),
            SPA_URI.upper(),
            "https://evil.example/callback",
            'https://evil.example/"quoted\\',
        ):
            r = http.get(f"/oauth2/authorize?{auth_query(w.spa, uri, challenge)}")
            body = oauth_error(r, 400, "invalid_request")
            assert "evil" not in body.get("error_description", "")
        # an unknown client gets no redirect either
        r = http.get(f"/oauth2/authorize?{auth_query('cl_nobody', SPA_URI, challenge)}")
        oauth_error(r, 400, "invalid_client")
        # a client with several URIs must name one
        oauth_error(
            http.get(f"/oauth2/authorize?{auth_query(w.webapp, None, challenge)}"), 400, "invalid_request"
        )

        # one registered URI may be left out; then it must be left out at the token endpoint too
        r = sign_in(http, auth_query(w.spa, None, challenge))
        code = redirect_params(r, SPA_URI)["code"]
        r = exchange(http, code, verifier, client_id=w.spa, redirect_uri=None)
        assert r.status_code == 200, r.text

        # the code is bound to the redirect URI it was issued for
        code = get_code(w, http, w.webapp, APP_URI, challenge)
        r = exchange(
            http, code, verifier, client_id=w.webapp, redirect_uri="https://app.example/other",
            secret=w.webapp_secret,
        )  # fmt: skip
        oauth_error(r, 400, "invalid_grant")


def test_code_is_single_use_and_a_replay_revokes_its_grant(world: World) -> None:
    w = world
    verifier, challenge = pkce()
    with w.http() as http:
        code = get_code(w, http, w.spa, SPA_URI, challenge)
        first = exchange(http, code, verifier, client_id=w.spa, redirect_uri=SPA_URI)
        assert first.status_code == 200
        again = exchange(http, code, verifier, client_id=w.spa, redirect_uri=SPA_URI)
        oauth_error(again, 400, "invalid_grant")
        # what the first redemption got is revoked
        oauth_error(refresh(http, w.spa, first.json()["refresh_token"]), 400, "invalid_grant")
        # a code is bound to its client
        code = get_code(w, http, w.spa, SPA_URI, challenge)
        r = exchange(http, code, verifier, client_id=w.webapp, redirect_uri=SPA_URI, secret=w.webapp_secret)
        oauth_error(r, 400, "invalid_grant")
        oauth_error(
            exchange(http, "not-a-code", verifier, client_id=w.spa, redirect_uri=SPA_URI),
            400,
            "invalid_grant",
        )


def test_wrong_password_shows_the_form_again_and_issues_nothing(world: World) -> None:
    w = world
    _, challenge = pkce()
    with w.http() as http:
        query = auth_query(w.spa, SPA_URI, challenge)
        for email, password in (("alice@example.com", "wrong"), ("nobody@example.com", PASSWORD), ("", "")):
            r = sign_in(http, query, email=email, password=password)
            assert r.status_code == 200 and "location" not in r.headers
            assert "Wrong email or password." in r.text
            assert CSRF.search(r.text) is not None  # the form, ready for another try
            assert "wrong" not in r.text.replace("Wrong email", "")  # the password is not echoed
    assert count(w.live, tables.auth_codes) == 0


def test_disabled_user_is_refused(world: World) -> None:
    w = world
    verifier, challenge = pkce()
    svc = w.live.services
    with w.http() as http:
        code = get_code(w, http, w.spa, SPA_URI, challenge)  # granted while still active
        with svc.db.write() as conn:
            set_active(conn, "alice@example.com", False)
        r = sign_in(http, auth_query(w.spa, SPA_URI, challenge))
        assert r.status_code == 200 and "location" not in r.headers
        assert "This user is disabled" in r.text
        # a code granted before the user was disabled is worthless now
        oauth_error(
            exchange(http, code, verifier, client_id=w.spa, redirect_uri=SPA_URI), 400, "invalid_grant"
        )
    assert count(w.live, tables.refresh_tokens) == 0


def test_deny_redirects_with_access_denied(world: World) -> None:
    w = world
    _, challenge = pkce()
    with w.http() as http:
        query = auth_query(w.spa, SPA_URI, challenge)
        csrf = open_form(http, query)
        r = http.post(f"/oauth2/authorize?{query}", data={"csrf_token": csrf, "action": "deny"})
        got = redirect_params(r, SPA_URI)
        assert got["error"] == "access_denied" and got["state"] == "st-123" and "code" not in got
    assert count(w.live, tables.auth_codes) == 0


def test_the_form_needs_its_csrf_token_and_cookie(world: World) -> None:
    w = world
    _, challenge = pkce()
    query = auth_query(w.spa, SPA_URI, challenge)
    other = auth_query(w.spa, SPA_URI, challenge, state="another")
    login = {"email": "alice@example.com", "password": PASSWORD, "action": "allow"}
    with w.http() as http:
        csrf = open_form(http, query)
        cookie = http.cookies.get("cardfile_oauth2_nonce")
        assert cookie
        for case, q, data in (
            ("no token", query, login),
            ("garbage", query, {**login, "csrf_token": "123.abc"}),
            ("minted for another request", other, {**login, "csrf_token": csrf}),
        ):
            r = http.post(f"/oauth2/authorize?{q}", data=data)
            assert r.status_code == 400 and "location" not in r.headers, case
            assert "This form expired" in r.text, case
    with w.http() as stranger:  # the same token from another browser (no cookie)
        r = stranger.post(f"/oauth2/authorize?{query}", data={**login, "csrf_token": csrf})
        assert r.status_code == 400 and "location" not in r.headers
    assert count(w.live, tables.auth_codes) == 0


# -- client credentials ---------------------------------------------------------------------


def test_client_credentials(world: World) -> None:
    w = world
    with w.http() as http:
        basic = http.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(w.robot, w.robot_secret)
        )
        post = http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": w.robot, "client_secret": w.robot_secret},
        )
        for r in (basic, post):
            assert r.status_code == 200, r.text
            tok = r.json()
            assert "refresh_token" not in tok
            assert tok["scope"] == "records.contacts.READ"
            c = claims(tok["access_token"])
            assert c["sub"] == f"client:{w.robot}" and c["client_id"] == w.robot

        with w.bearer(basic.json()["access_token"]) as api:
            assert api.get("/api/records/contacts").status_code == 200
            assert_problem(api.get("/api/records/deals"), 403, "INSUFFICIENT_SCOPE")

        r = http.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=(w.robot, "wrong"))
        oauth_error(r, 401, "invalid_client")
        assert r.headers["www-authenticate"].startswith("Basic")
        r = http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": w.robot, "client_secret": "wrong"},
        )
        oauth_error(r, 401, "invalid_client")
        r = http.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=("cl_nobody", "x"))
        oauth_error(r, 401, "invalid_client")
        # a public client has no credentials to present
        r = http.post("/oauth2/token", data={"grant_type": "client_credentials", "client_id": w.spa})
        oauth_error(r, 401, "invalid_client")
        # no more than the client's registration
        r = http.post(
            "/oauth2/token", data={"grant_type": "client_credentials", "scope": "records.ALL"},
            auth=(w.robot, w.robot_secret),
        )  # fmt: skip
        oauth_error(r, 400, "invalid_scope")


# -- refresh tokens ---------------------------------------------------------------------------


def test_refresh_rotation_and_reuse_detection(world: World) -> None:
    w = world
    with w.http() as http:
        first = spa_tokens(w, http)
        r = refresh(http, w.spa, first["refresh_token"])
        assert r.status_code == 200, r.text
        second = r.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert claims(second["access_token"])["sub"] == f"user:{w.alice_id}"
        r = refresh(http, w.spa, second["refresh_token"])  # the new one works
        assert r.status_code == 200, r.text
        third = r.json()

        # the first one again: a replay; it and its whole family are revoked
        body = oauth_error(refresh(http, w.spa, first["refresh_token"]), 400, "invalid_grant")
        assert "revoked" in body["error_description"]
        oauth_error(refresh(http, w.spa, third["refresh_token"]), 400, "invalid_grant")
        oauth_error(refresh(http, w.spa, second["refresh_token"]), 400, "invalid_grant")

        # another grant of the same user and client is a different family: unaffected
        other = spa_tokens(w, http)
        assert refresh(http, w.spa, other["refresh_token"]).status_code == 200


def test_concurrent_refreshes_with_one_token_leave_one_winner_and_revoke_the_grant(world: World) -> None:
    w = world
    with w.http() as http:
        tok = spa_tokens(w, http)

    def attempt(_: int) -> httpx.Response:
        with w.http() as c:
            return refresh(c, w.spa, tok["refresh_token"])

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(attempt, range(4)))
    winners = [r for r in results if r.status_code == 200]
    assert len(winners) == 1, [r.text for r in results]
    for r in results:
        if r.status_code != 200:
            oauth_error(r, 400, "invalid_grant")
    # the replays revoked the family, the winner's new token with it
    with w.http() as http:
        oauth_error(refresh(http, w.spa, winners[0].json()["refresh_token"]), 400, "invalid_grant")


def test_refresh_may_narrow_but_not_widen(world: World) -> None:
    w = world
    with w.http() as http:
        tok = spa_tokens(w, http, scope="records.contacts.ALL")
        oauth_error(refresh(http, w.spa, tok["refresh_token"], scope="records.ALL"), 400, "invalid_scope")
        # the refused attempt did not spend the token
        r = refresh(http, w.spa, tok["refresh_token"], scope="records.contacts.READ")
        assert r.status_code == 200, r.text
        assert r.json()["scope"] == "records.contacts.READ"
        # the grant keeps its scope: the next refresh may have all of it again
        r = refresh(http, w.spa, r.json()["refresh_token"])
        assert r.json()["scope"] == "records.contacts.ALL"
        # a refresh token belongs to its client
        r = http.post(
            "/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"]},
            auth=(w.webapp, w.webapp_secret),
        )  # fmt: skip
        oauth_error(r, 400, "invalid_grant")


def test_revocation(world: World) -> None:
    w = world
    with w.http() as http:
        tok = spa_tokens(w, http)
        rotated = refresh(http, w.spa, tok["refresh_token"]).json()
        r = http.post("/oauth2/revoke", data={"token": rotated["refresh_token"], "client_id": w.spa})
        assert r.status_code == 200, r.text
        oauth_error(refresh(http, w.spa, rotated["refresh_token"]), 400, "invalid_grant")
        # unknown tokens are answered 200 (RFC 7009 §2.2)
        r = http.post("/oauth2/revoke", data={"token": "nothing-we-issued", "client_id": w.spa})
        assert r.status_code == 200
        r = http.post("/oauth2/revoke", data={"token": tok["access_token"], "client_id": w.spa})
        oauth_error(r, 400, "unsupported_token_type")


# -- scopes -----------------------------------------------------------------------------------


def test_a_narrow_token_reads_but_cannot_write(world: World) -> None:
    w = world
    with w.http() as http:
        tok = spa_tokens(w, http, scope="records.contacts.READ")
        assert tok["scope"] == "records.contacts.READ"
        with w.bearer(tok["access_token"]) as api:
            r = api.post("/api/records/contacts", json={"last_name": "Scoped"})
            assert_problem(r, 403, "INSUFFICIENT_SCOPE")
        with w.live.client() as admin_api:
            rid = admin_api.post("/api/records/contacts", json={"last_name": "Existing"}).json()["id"]
        with w.bearer(tok["access_token"]) as api:
            assert api.get("/api/records/contacts").status_code == 200
            assert api.get(f"/api/records/contacts/{rid}").status_code == 200
            assert_problem(
                api.patch(f"/api/records/contacts/{rid}", json={"score": 1}), 403, "INSUFFICIENT_SCOPE"
            )


def test_scopes_beyond_the_client_are_refused(world: World) -> None:
    w = world
    with w.http() as http:
        # more than the client may have: refused before the login page
        _, challenge = pkce()
        r = http.get(f"/oauth2/authorize?{auth_query(w.spa, SPA_URI, challenge, scope='metadata.WRITE')}")
        assert redirect_params(r, SPA_URI)["error"] == "invalid_scope"
        r = http.get(f"/oauth2/authorize?{auth_query(w.spa, SPA_URI, challenge, scope='bogus')}")
        assert redirect_params(r, SPA_URI)["error"] == "invalid_scope"


def test_requested_scopes_are_limited_by_the_role(world: World) -> None:
    w = world
    with w.live.services.db.write() as conn:
        add_user(conn, w.admin, role="admin", password=PASSWORD)
    with w.http() as http:
        # within the client, but beyond a standard user's role: narrowed to what the role allows
        verifier, challenge = pkce()
        query = auth_query(w.webapp, APP_URI, challenge, scope="metadata.WRITE records.ALL")
        code = redirect_params(sign_in(http, query), APP_URI)["code"]
        r = exchange(http, code, verifier, client_id=w.webapp, redirect_uri=APP_URI, secret=w.webapp_secret)
        assert r.json()["scope"] == "metadata.READ records.ALL"
        # an admin's role allows it
        code = redirect_params(sign_in(http, query, email=w.admin), APP_URI)["code"]
        r = exchange(http, code, verifier, client_id=w.webapp, redirect_uri=APP_URI, secret=w.webapp_secret)
        assert r.json()["scope"] == "metadata.WRITE records.ALL"
        # none asked for: the client's scopes, within the role
        code = redirect_params(sign_in(http, auth_query(w.webapp, APP_URI, challenge)), APP_URI)["code"]
        r = exchange(http, code, verifier, client_id=w.webapp, redirect_uri=APP_URI, secret=w.webapp_secret)
        assert r.json()["scope"] == "metadata.READ records.ALL"


# -- discovery, malformed requests, logs ------------------------------------------------------


def test_metadata_and_jwks(world: World) -> None:
    w = world
    with w.http() as http:
        meta = http.get("/.well-known/oauth-authorization-server")
        assert meta.status_code == 200
        doc = meta.json()
        base = w.live.url
        assert doc["authorization_endpoint"] == f"{base}/oauth2/authorize"
        assert doc["token_endpoint"] == f"{base}/oauth2/token"
        assert doc["revocation_endpoint"] == f"{base}/oauth2/revoke"
        assert doc["jwks_uri"] == f"{base}/oauth2/jwks"
        assert doc["code_challenge_methods_supported"] == ["S256"]
        assert set(doc["grant_types_supported"]) == {
            "authorization_code",
            "client_credentials",
            "refresh_token",
        }
        assert "records.contacts.READ" in doc["scopes_supported"]
        assert doc["issuer"] == w.live.services.settings.issuer
        spa_tokens(w, http)  # a key exists once a token was signed
        keys = http.get("/oauth2/jwks").json()["keys"]
        assert keys and all(k["alg"] == "ES256" and "d" not in k for k in keys)


def test_malformed_requests_get_oauth_errors_not_500(world: World) -> None:
    w = world
    with w.http() as http:
        oauth_error(
            http.post("/oauth2/token", json={"grant_type": "client_credentials"}), 400, "invalid_request"
        )
        oauth_error(
            http.post("/oauth2/token", data={"grant_type": "password"}), 400, "unsupported_grant_type"
        )
        r = http.post(
            "/oauth2/token", content=b"", headers={"content-type": "application/x-www-form-urlencoded"}
        )
        oauth_error(r, 400, "unsupported_grant_type")
        oauth_error(http.post("/oauth2/token"), 400, "invalid_request")
        r = http.post(
            "/oauth2/token", content=b"grant_type=client_credentials&grant_type=refresh_token",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        oauth_error(r, 400, "invalid_request")
        r = http.post(
            "/oauth2/token",
            content=b"grant_type=\xff",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        oauth_error(r, 400, "invalid_request")
        r = http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode()},
        )
        assert r.status_code in (400, 401) and r.json()["error"] in ("invalid_request", "invalid_client")
        r = http.post("/oauth2/token", data={"grant_type": "client_credentials", "x": "y" * 20000})
        oauth_error(r, 400, "invalid_request")
        _, challenge = pkce()
        for query in (
            auth_query(w.spa, SPA_URI, challenge, response_type='to"ken'),
            auth_query(w.spa, SPA_URI, challenge, response_type="token"),
            auth_query(w.spa, SPA_URI, challenge, response_type="code\u00e9"),
            "client_id=" + w.spa,
            "",
        ):
            r = http.get(f"/oauth2/authorize?{query}")
            assert r.status_code in (302, 400), (query, r.text)
            if r.status_code == 302:
                assert r.headers["location"].startswith(SPA_URI + "?error=")
        r = http.get(f"/oauth2/authorize?{auth_query(w.spa, SPA_URI, challenge)}&client_id=again")
        oauth_error(r, 400, "invalid_request")


def test_no_secret_in_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    w = world
    caplog.set_level(logging.DEBUG)
    for name in ("authlib", "cardfile", "uvicorn", "uvicorn.error", "sqlalchemy.engine"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    seen: list[str] = [PASSWORD, w.webapp_secret, w.robot_secret]
    try:
        with w.http() as http:
            verifier, challenge = pkce()
            code = get_code(w, http, w.webapp, APP_URI, challenge)
            r = exchange(
                http, code, verifier, client_id=w.webapp, redirect_uri=APP_URI, secret=w.webapp_secret
            )
            tok = r.json()
            rotated = http.post(
                "/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]},
                auth=(w.webapp, w.webapp_secret),
            ).json()  # fmt: skip
            machine = http.post(
                "/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": w.robot,
                    "client_secret": w.robot_secret,
                },
            ).json()
            seen += [code, verifier, tok["access_token"], tok["refresh_token"], rotated["access_token"],
                     rotated["refresh_token"], machine["access_token"]]  # fmt: skip
    finally:
        for name in ("authlib", "cardfile", "uvicorn", "uvicorn.error", "sqlalchemy.engine"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    # the server's records (httpx and httpcore are this test's own client, which sees the secrets)
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any(r.name.startswith("authlib") for r in server)  # debug logging really was on
    text = "".join(f"{r.getMessage()} {r.args}" for r in server)
    for secret in seen:
        assert secret not in text
