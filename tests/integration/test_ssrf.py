"""The outbound guard: every blocked address class is refused when a URL is saved (webhook
subscriptions, file fields) and again when cardfile connects; the allow-list opens it."""

from __future__ import annotations

import dataclasses
import ipaddress

import httpx
import pytest

from cardfile.engine.commands import Context, CreateCommand, FieldOp
from cardfile.errors import ValidationFailed
from cardfile.services import Services
from cardfile.webhooks import ssrf
from cardfile.webhooks.config import WebhookConfig
from cardfile.webhooks.delivery import Sender
from tests.conftest import LiveServer
from tests.integration.webhook_receiver import Receiver

# one address per blocked class, IPv4 and IPv6, and the spellings that hide them
BLOCKED = {
    "loopback": ["127.0.0.1", "127.1.2.3", "[::1]", "2130706433", "0x7f.1", "0177.0.0.1"],
    "private": ["10.0.0.1", "172.16.5.4", "192.168.1.1", "[fd00::1]", "[fd00:ec2::254]"],
    "link-local": ["169.254.169.254", "169.254.1.1", "[fe80::1]"],
    "unspecified": ["0.0.0.0", "[::]"],
    "multicast": ["224.0.0.1", "239.255.255.250", "[ff02::1]"],
    "reserved": ["240.0.0.1", "255.255.255.255"],
    "shared": ["100.64.0.1"],
    "mapped": ["[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]", "[::ffff:169.254.169.254]", "[64:ff9b::7f00:1]"],
}
CASES = [(cls, host) for cls, hosts in BLOCKED.items() for host in hosts]
NAMES = ["localhost", "db.localhost", "metadata.google.internal", "metadata", "printer.local", "intranet"]
OPEN = ssrf.OutboundPolicy()


@pytest.mark.parametrize(("cls", "host"), CASES)
def test_each_blocked_class_is_refused_without_dns(cls: str, host: str) -> None:
    with pytest.raises(ssrf.UrlNotAllowed, match="address"):
        ssrf.check_url_static(f"https://{host}/x", OPEN)
    with pytest.raises(ssrf.UrlNotAllowed):
        ssrf.resolve(f"http://{host}:8080/hook", OPEN)  # connect time, too
    if cls != "mapped":
        ip = ipaddress.ip_address(
            ssrf.resolve(f"http://{host}/", ssrf.OutboundPolicy.parse("0.0.0.0/0,::/0")).ip
        )
        assert ssrf.blocked_class(ip) is not None


@pytest.mark.parametrize("name", NAMES)
def test_internal_names_are_refused(name: str) -> None:
    with pytest.raises(ssrf.UrlNotAllowed, match="internal host name"):
        ssrf.check_url_static(f"https://{name}/x", OPEN)


def test_public_addresses_and_the_allow_list() -> None:
    ssrf.check_url_static("https://93.184.215.14/x", OPEN)
    ssrf.check_url_static("https://[2606:4700:4700::1111]/x", OPEN)
    ssrf.check_url_static("https://example.com/x", OPEN)
    allow = ssrf.OutboundPolicy.parse("127.0.0.1/32, ::1/128, 10.1.0.0/16")
    ssrf.check_url_static("http://127.0.0.1:9/x", allow)
    ssrf.check_url_static("http://[::1]:9/x", allow)
    ssrf.check_url_static("http://10.1.2.3/x", allow)
    with pytest.raises(ssrf.UrlNotAllowed):
        ssrf.check_url_static("http://10.2.0.1/x", allow)
    with pytest.raises(ssrf.UrlNotAllowed):
        ssrf.check_url_static("http://localhost/x", allow)  # names are listed by name


def test_a_name_that_resolves_to_loopback_is_refused_at_save_and_at_connect() -> None:
    # the name itself is let through, so the check that refuses is the one of its addresses
    names_only = ssrf.OutboundPolicy.parse("localhost")
    with pytest.raises(ssrf.UrlNotAllowed, match="localhost .*loopback"):
        ssrf.check_url("http://localhost:8080/hook", names_only)
    with pytest.raises(ssrf.UrlNotAllowed, match="loopback"):
        ssrf.resolve("http://localhost:8080/hook", names_only)
    target = ssrf.resolve(
        "http://localhost:8080/hook", ssrf.OutboundPolicy.parse("localhost,127.0.0.1/32,::1/128")
    )
    assert target.ip.is_loopback and target.host_header == "localhost:8080"
    assert target.url("http://localhost:8080/hook?a=1").endswith(":8080/hook?a=1")
    with pytest.raises(ssrf.UrlNotAllowed, match="does not resolve"):
        ssrf.resolve("http://no-such-host.invalid/x", OPEN)
    ssrf.check_url("http://no-such-host.invalid/x", OPEN)  # at save an unresolvable name passes


def test_the_sender_connects_to_the_checked_address_and_refuses_at_connect() -> None:
    receiver = Receiver().start()
    port = receiver.url.split(":")[2].split("/")[0]
    try:
        cfg = WebhookConfig(outbound_allow="localhost,127.0.0.1/32,::1/128", timeout_s=5)
        sender = Sender(cfg)
        secret = "whsec_" + "A" * 44
        out = sender.post(f"http://localhost:{port}/hook", "msg_1_1", b"{}", [secret])
        assert out.ok, out
        (got,) = receiver.snapshot()
        assert got.headers["host"] == f"localhost:{port}"  # the name in Host, the checked IP on the wire
        sender.close()
        # the allow-list off: refused when connecting, nothing sent
        sender = Sender(dataclasses.replace(cfg, outbound_allow=""))
        for url in (
            f"http://localhost:{port}/hook",
            f"http://127.0.0.1:{port}/hook",
            f"http://[::ffff:127.0.0.1]:{port}/",
        ):
            out = sender.post(url, "msg_1_1", b"{}", [secret])
            assert not out.ok and out.error and out.error.startswith("URL_NOT_ALLOWED"), out
        sender.close()
        assert len(receiver.snapshot()) == 1
    finally:
        receiver.stop()


def test_webhook_urls_are_refused_at_save(live: LiveServer, api: httpx.Client) -> None:
    live.services.settings = dataclasses.replace(
        live.services.settings, webhooks=WebhookConfig(outbound_allow="")
    )
    for host in [hosts[0] for hosts in BLOCKED.values()] + ["localhost", "metadata.google.internal"]:
        r = api.post("/api/webhooks", json={"url": f"https://{host}/hook"})
        assert r.status_code == 422, (host, r.text)
        (error,) = r.json()["errors"]
        assert (error["field"], error["code"]) == ("url", "URL_NOT_ALLOWED"), host
        r = api.post("/api/webhooks", json={"url": "https://93.184.215.14/ok"})
        assert r.status_code == 201 and api.delete(f"/api/webhooks/{r.json()['id']}").status_code == 204
        r = api.patch(f"/api/webhooks/{api.post('/api/webhooks', json={'url': 'https://93.184.215.14/'}).json()['id']}",
                      json={"url": f"http://{host}/"})  # fmt: skip
        assert r.status_code == 422, (host, r.text)
    assert api.get("/api/webhooks").json()["items"][0]["url"] == "https://93.184.215.14/"


def test_file_field_urls_are_refused_at_save(svc: Services) -> None:
    ctx = Context("tester", "api")
    bad = [f"https://{h}/f.pdf" for _c, hosts in BLOCKED.items() for h in hosts[:1]] + [
        "https://localhost/f.pdf"
    ]
    ops = (FieldOp("name", "set", "D"), FieldOp("attachments", "replace", bad))
    with pytest.raises(ValidationFailed) as exc:
        svc.engine.create(CreateCommand("deals", ops), ctx)
    errors = exc.value.errors
    assert [e.field for e in errors] == [f"attachments[{i}].url" for i in range(len(bad))]
    assert {e.code for e in errors} == {"URL_NOT_ALLOWED"}
    ok = (FieldOp("name", "set", "D"), FieldOp("attachments", "replace", ["https://files.example.com/f.pdf"]))
    assert svc.engine.create(CreateCommand("deals", ok), ctx).record["attachments"][0]["name"] == "f.pdf"
