"""Identity: strict access tokens, scopes, roles, ownership, disabled users, no secret in logs."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import hashes, hmac
from joserfc import jwt
from joserfc.jwk import ECKey

from cardfile.auth.clients import add_client
from cardfile.auth.scopes import default_for_role as scopes_for
from cardfile.auth.users import add_user, set_active
from cardfile.errors import Unauthenticated, UserInactive
from cardfile.services import Services
from tests.conftest import LiveServer


@dataclass
class People:
    live: LiveServer
    admin: str
    alice: str  # standard, owns deals
    bob: str  # standard
    reader: str  # read-only
    ids: dict[str, int]

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.live.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def token(self, email: str, scopes: str | None = None, ttl: int | None = None) -> str:
        from cardfile.auth import scopes as rules

        svc = self.live.services
        with svc.db.write() as conn:
            uid = self.ids[email]
            role = {"admin@example.com": "admin", "reader@example.com": "read-only"}.get(email, "standard")
            wanted = rules.parse(scopes) if scopes is not None else rules.default_for_role(role)
            return svc.auth.tokens.issue(
                conn, subject=f"user:{uid}", scopes=rules.normalize(wanted), ttl_s=ttl
            )[0]


PASSWORD = "correct horse battery"


@pytest.fixture
def people(live: LiveServer) -> People:
    svc = live.services
    ids = {}
    with svc.db.write() as conn:
        for email, role in (
            ("admin@example.com", "admin"),
            ("alice@example.com", "standard"),
            ("bob@example.com", "standard"),
            ("reader@example.com", "read-only"),
        ):
            ids[email] = add_user(conn, email, role=role, password=PASSWORD).id
    p = People(live, "", "", "", "", ids)
    p.admin, p.alice, p.bob = (
        p.token("admin@example.com"),
        p.token("alice@example.com"),
        p.token("bob@example.com"),
    )
    p.reader = p.token("reader@example.com")
    return p


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _forge(header: dict[str, object], claims: dict[str, object], signature: bytes = b"") -> str:
    return f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}.{_b64(signature)}"


def _claims(svc: Services, uid: int, **over: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {"iss": "cardfile", "aud": "cardfile", "sub": f"user:{uid}", "iat": now,
                               "exp": now + 300, "scope": "records.ALL"}  # fmt: skip
    base.update(over)
    return base


def _signing_kid(svc: Services) -> tuple[str, ECKey]:
    with svc.db.write() as conn:
        key = svc.auth.tokens.keys.signing_key(conn)
    return str(key.kid), key


def _attacks(svc: Services, uid: int) -> Iterator[tuple[str, str]]:
    kid, key = _signing_kid(svc)
    good = jwt.encode({"alg": "ES256", "kid": kid}, _claims(svc, uid), key)
    yield "alg none", _forge({"alg": "none", "kid": kid}, _claims(svc, uid))
    # HS256 "signed" with the public key: the classic algorithm confusion
    public = key.as_pem(private=False)
    h, c = _b64(orjson.dumps({"alg": "HS256", "kid": kid})), _b64(orjson.dumps(_claims(svc, uid)))
    mac = hmac.HMAC(public, hashes.SHA256())
    mac.update(f"{h}.{c}".encode())
    yield "HS256 with the public key", f"{h}.{c}.{_b64(mac.finalize())}"
    yield (
        "expired",
        jwt.encode({"alg": "ES256", "kid": kid}, _claims(svc, uid, exp=int(time.time()) - 120), key),
    )
    yield (
        "wrong audience",
        jwt.encode({"alg": "ES256", "kid": kid}, _claims(svc, uid, aud="someone-else"), key),
    )
    yield "wrong issuer", jwt.encode({"alg": "ES256", "kid": kid}, _claims(svc, uid, iss="evil"), key)
    yield (
        "issued in the future",
        jwt.encode({"alg": "ES256", "kid": kid}, _claims(svc, uid, iat=int(time.time()) + 600), key),
    )
    stranger = ECKey.generate_key("P-256", parameters={"kid": "not-ours"})
    yield "unknown kid", jwt.encode({"alg": "ES256", "kid": "not-ours"}, _claims(svc, uid), stranger)
    yield "our kid, foreign key", jwt.encode({"alg": "ES256", "kid": kid}, _claims(svc, uid), stranger)
    head, _, rest = good.partition(".")
    _payload, _, sig = rest.partition(".")
    tampered = _b64(orjson.dumps(_claims(svc, uid, scope="records.ALL metadata.WRITE", sub="user:1")))
    yield "tampered payload", f"{head}.{tampered}.{sig}"
    yield "oversize", jwt.encode({"alg": "ES256", "kid": kid}, _claims(svc, uid, pad="x" * 9000), key)
    yield "garbage", "not-a-token"
    yield (
        "no subject",
        jwt.encode(
            {"alg": "ES256", "kid": kid}, {k: v for k, v in _claims(svc, uid).items() if k != "sub"}, key
        ),
    )


def test_token_attacks_are_refused(people: People) -> None:
    svc = people.live.services
    uid = people.ids["admin@example.com"]
    kid, key = _signing_kid(svc)
    with people.client(jwt.encode({"alg": "ES256", "kid": kid}, _claims(svc, uid), key)) as c:
        assert c.get("/api/records/contacts").status_code == 200  # the control: a well-formed token works
    for name, token in _attacks(svc, uid):
        with people.client(token) as c:
            r = c.get("/api/records/contacts")
            assert r.status_code == 401, (name, r.text)
            assert r.json()["code"] == "UNAUTHENTICATED", name
            assert token not in r.text


def test_rotated_key_verifies_during_overlap_only(people: People) -> None:
    svc = people.live.services
    old = people.token("admin@example.com")
    with svc.db.write() as conn:
        svc.auth.tokens.keys.rotate(conn)
    with people.client(old) as c:
        assert c.get("/api/records/contacts").status_code == 200
    svc.auth.tokens.keys.overlap_us = 0  # the overlap window ends
    with people.client(old) as c:
        assert c.get("/api/records/contacts").status_code == 401
    with people.client(people.token("admin@example.com")) as c:
        assert c.get("/api/records/contacts").status_code == 200


def test_scope_matrix(people: People) -> None:
    with people.client(people.admin) as c:
        contact = c.post("/api/records/contacts", json={"last_name": "Scoped"}).json()["id"]
        company = c.post("/api/records/companies", json={"name": "Scoped Co"}).json()["id"]
    cases = [
        # scopes, method, path, body, expected status
        ("records.contacts.READ", "GET", f"/api/records/contacts/{contact}", None, 200),
        ("records.contacts.READ", "PATCH", f"/api/records/contacts/{contact}", {"score": 1}, 403),
        ("records.contacts.READ", "GET", f"/api/records/companies/{company}", None, 403),
        ("records.contacts.WRITE", "PATCH", f"/api/records/contacts/{contact}", {"score": 2}, 200),
        ("records.contacts.WRITE", "GET", f"/api/records/contacts/{contact}", None, 403),
        ("records.contacts.UPDATE", "POST", "/api/records/contacts", {"last_name": "x"}, 403),
        ("records.contacts.CREATE", "POST", "/api/records/contacts", {"last_name": "x"}, 201),
        ("records.contacts.ALL", "DELETE", f"/api/records/contacts/{contact}", None, 200),
        ("records.companies.ALL", "GET", "/api/records/companies", None, 200),
        ("records.ALL", "GET", "/api/types", None, 403),
        ("metadata.READ", "GET", "/api/types", None, 200),
    ]
    for scopes, method, path, body, status in cases:
        with people.client(people.token("alice@example.com", scopes)) as c:
            r = c.request(method, path, json=body)
            assert r.status_code == status, (scopes, method, path, r.text)
            if status == 403:
                assert r.json()["code"] == "INSUFFICIENT_SCOPE"


def test_ownership_and_roles(people: People) -> None:
    with (
        people.client(people.alice) as alice,
        people.client(people.bob) as bob,
        people.client(people.reader) as reader,
    ):
        mine = alice.post("/api/records/deals", json={"name": "Alice's deal"})
        assert mine.status_code == 201, mine.text
        deal = mine.json()["record"]
        assert deal["owner"] == people.ids["alice@example.com"]  # the creator owns it
        did = deal["id"]
        bobs = bob.post("/api/records/deals", json={"name": "Bob's deal"}).json()["id"]
        # Bob guesses Alice's id: it does not exist for him, and nothing changes
        assert bob.get(f"/api/records/deals/{did}").status_code == 404
        assert bob.patch(f"/api/records/deals/{did}", json={"name": "mine now"}).status_code == 404
        assert bob.delete(f"/api/records/deals/{did}").status_code == 404
        assert bob.get(f"/api/records/deals/{did}/history").status_code == 404
        bulk = bob.patch(
            "/api/records/deals", json={"records": [{"id": did, "name": "x"}], "all_or_none": False}
        )
        assert bulk.json()["results"][0]["error"]["code"] == "NOT_FOUND"
        assert [d["id"] for d in bob.get("/api/records/deals").json()["items"]] == [bobs]
        assert (
            bob.post(
                "/api/records/deals", json={"name": "For Alice", "owner": people.ids["alice@example.com"]}
            ).status_code
            == 403
        )
        got = alice.get(f"/api/records/deals/{did}").json()
        assert (got["name"], got["version"]) == ("Alice's deal", 1)
        # following a deal makes it visible
        alice.patch(f"/api/records/deals/{did}", json={"followers": [people.ids["bob@example.com"]]})
        assert bob.get(f"/api/records/deals/{did}").status_code == 200
        # read-only: reads, never writes (a permission, not a scope, problem)
        cid = alice.post("/api/records/contacts", json={"last_name": "Shared"}).json()["id"]
        assert reader.get(f"/api/records/contacts/{cid}").status_code == 200
        r = reader.patch(f"/api/records/contacts/{cid}", json={"score": 3})
        assert (r.status_code, r.json()["code"]) == (403, "PERMISSION_DENIED")
        # admin-only field
        co = alice.post("/api/records/companies", json={"name": "Guarded"}).json()["id"]
        r = alice.patch(
            f"/api/records/companies/{co}", json={"annual_revenue": {"currency": "USD", "value": 1}}
        )
        assert (r.status_code, r.json()["errors"][0]["code"]) == (403, "ADMIN_ONLY_FIELD")
        # metadata writes: admins only
        r = alice.post("/api/types/contacts/fields", json={"name": "nick", "type": "text"})
        assert r.status_code == 403
    with people.client(people.admin) as admin:
        assert admin.get(f"/api/records/deals/{did}").status_code == 200
        assert (
            admin.post("/api/types/contacts/fields", json={"name": "nick", "type": "text"}).status_code == 201
        )
        r = admin.patch(
            f"/api/records/companies/{co}", json={"annual_revenue": {"currency": "USD", "value": 1}}
        )
        assert r.status_code == 200
        history = admin.get(f"/api/records/deals/{did}/history").json()["items"]
        assert [h["actor"] for h in history] == ["alice@example.com", "alice@example.com"]


def test_disabled_user_can_do_nothing(people: People) -> None:
    svc = people.live.services
    with svc.db.write() as conn:
        set_active(conn, "bob@example.com", False)
    with people.client(people.bob) as bob:
        for method, path in (("GET", "/api/records/contacts"), ("POST", "/api/records/contacts")):
            r = bob.request(method, path, json={"last_name": "x"} if method == "POST" else None)
            assert (r.status_code, r.json()["code"]) == (403, "USER_INACTIVE")


def test_token_or_password(people: People) -> None:
    """``Authenticator.authenticate_either`` (the Tracker widget's body credentials): a valid
    token, else the password; a bad token with no password is the token's refusal; a
    disabled user is refused whichever credential is valid."""
    svc = people.live.services
    either = svc.auth.authenticate_either
    with svc.db.write() as conn:
        by_token = either(conn, people.alice, None, None)
        assert (by_token.name, by_token.kind) == ("alice@example.com", "user")
        by_password = either(conn, "not-a-token", "Alice@Example.com", PASSWORD)
        assert (by_password.name, by_password.role) == ("alice@example.com", "standard")
        assert by_password.scopes == scopes_for("standard")
        for token, email, password in (
            ("not-a-token", None, None),
            (None, "alice@example.com", "wrong " + PASSWORD),
            (None, "nobody@example.com", PASSWORD),
            (None, "alice@example.com", None),
            (None, None, None),
        ):
            with pytest.raises(Unauthenticated):
                either(conn, token, email, password)
        set_active(conn, "bob@example.com", False)
        for token, password in ((people.bob, None), ("not-a-token", PASSWORD), (people.bob, PASSWORD)):
            with pytest.raises(UserInactive):
                either(conn, token, "bob@example.com", password)


def test_client_id_is_recorded_in_history(people: People) -> None:
    svc = people.live.services
    with svc.db.write() as conn:
        client_id, _ = add_client(conn, "Importer", redirect_uris=[], scopes="records.ALL")
        token = svc.auth.tokens.issue(
            conn, subject=f"user:{people.ids['alice@example.com']}", scopes="records.ALL", client_id=client_id
        )[0]
    with people.client(token) as c:
        rid = c.post("/api/records/contacts", json={"last_name": "Via client"}).json()["id"]
    from sqlalchemy import select

    from cardfile.store import tables

    with svc.db.read() as conn:
        row = conn.execute(select(tables.history).where(tables.history.c.record_id == rid)).one()
        event = conn.execute(select(tables.outbox).where(tables.outbox.c.record_id == rid)).one()
    assert (row.actor, row.client_id, row.channel) == ("alice@example.com", client_id, "api")
    assert event.payload["client_id"] == client_id


def test_no_secret_in_logs_at_any_level(people: People, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "uvicorn", "uvicorn.error", "cardfile", "httpx", "authlib"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        svc = people.live.services
        secrets_seen = [people.alice, people.live.key, PASSWORD]
        with svc.db.write() as conn:
            add_user(conn, "logged@example.com", password="another secret pw")
        secrets_seen.append("another secret pw")
        with people.client(people.alice) as c:
            c.post("/api/records/contacts", json={"last_name": "Logged"})
            c.get("/api/records/contacts/999999")
        with people.client(people.alice + "tampered") as c:
            c.get("/api/records/contacts")
        with people.client(people.live.key) as c:
            c.get("/api/records/contacts")
        from cardfile.auth.users import authenticate_password

        with svc.db.read() as conn, pytest.raises(Unauthenticated):
            authenticate_password(conn, "alice@example.com", "wrong " + PASSWORD)
        secrets_seen.append("wrong " + PASSWORD)
    finally:
        for name in ("sqlalchemy.engine", "uvicorn", "uvicorn.error", "cardfile", "httpx", "authlib"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert len(caplog.records) > 0  # logging really was on
    for secret in secrets_seen:
        assert secret not in text
