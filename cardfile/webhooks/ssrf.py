"""The outbound guard: every URL cardfile calls, or stores for later calls, passes here.

Refused by default: loopback, private (RFC 1918, unique-local), carrier-grade NAT,
link-local (which holds the cloud metadata address 169.254.169.254), unspecified,
multicast, reserved and every other non-global address, IPv4 and IPv6, with IPv4-mapped
and NAT64 IPv6 addresses judged by the IPv4 address inside; and names that are internal
by convention (``localhost``, ``*.localhost``, ``*.internal``, ``*.local``, metadata hosts).

Three checks, by cost:

- ``check_url_static``: the URL alone, no DNS. Literal addresses and internal names.
  Used when a file-field value is saved (a hot path that must work offline).
- ``check_url``: static, then every address the name resolves to. Used when a webhook
  subscription is saved. A name that does not resolve (yet) is accepted here; the
  connect-time check refuses it later if it still does not.
- ``resolve``: at connect time. Resolves once, refuses when any address is refused, and
  returns the address to connect to, so the name cannot be re-resolved elsewhere (DNS
  rebinding) between the check and the connection.

``OutboundPolicy.allow`` lists networks (``127.0.0.1/32``) and host names (``localhost``)
that are reachable anyway: for tests and internal deployments, never by default.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

__all__ = [
    "OutboundPolicy",
    "Target",
    "UrlNotAllowed",
    "blocked_class",
    "check_url",
    "check_url_static",
    "default_policy",
    "resolve",
]

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Net = ipaddress.IPv4Network | ipaddress.IPv6Network

_INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")
_INTERNAL_NAMES = frozenset(
    {"localhost", "localhost.localdomain", "metadata", "instance-data", "metadata.google.internal"}
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UrlNotAllowed(ValueError):
    """The URL points (or may point) at a network cardfile must not call."""

    code = "URL_NOT_ALLOWED"


@dataclass(frozen=True)
class OutboundPolicy:
    allow_networks: tuple[Net, ...] = ()
    allow_hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str | None) -> OutboundPolicy:
        """``"127.0.0.1/32, ::1/128, localhost"``: networks and host names, comma-separated."""
        nets: list[Net] = []
        hosts: set[str] = set()
        for part in (text or "").split(","):
            item = part.strip()
            if not item:
                continue
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(tuple(nets), frozenset(hosts))

    def allows_ip(self, ip: IP) -> bool:
        return any(ip.version == n.version and ip in n for n in self.allow_networks)


@lru_cache(maxsize=8)
def _policy_from(text: str) -> OutboundPolicy:
    return OutboundPolicy.parse(text)


def default_policy() -> OutboundPolicy:
    """The policy of ``CARDFILE_OUTBOUND_ALLOW`` (what file fields use at save)."""
    return _policy_from(os.environ.get("CARDFILE_OUTBOUND_ALLOW", ""))


def blocked_class(ip: IP) -> str | None:
    """Why this address is refused (``"loopback"``, ``"private"``…), or None when public."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return blocked_class(ip.ipv4_mapped)
        if ip in _NAT64:
            return blocked_class(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"  # includes the metadata service 169.254.169.254 and fe80::/10
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "shared"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-global"
    return None


def _split(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UrlNotAllowed(f"{url!r} is not an absolute http(s) URL")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UrlNotAllowed(f"{url!r} has an invalid port") from None
    return scheme, parts.hostname.lower().rstrip("."), port


def _literal(host: str) -> IP | None:
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    # the shorthand forms resolvers accept for IPv4: 2130706433, 0x7f.1, 0177.0.0.1
    try:
        packed = socket.inet_aton(host)
    except OSError:
        return None
    return ipaddress.IPv4Address(packed)


def _check_ip(ip: IP, policy: OutboundPolicy, host: str) -> None:
    if policy.allows_ip(ip):
        return
    why = blocked_class(ip)
    if why is not None:
        shown = host if host == str(ip) else f"{host} ({ip})"
        raise UrlNotAllowed(f"{shown} is a {why} address; outbound calls to it are not allowed")


def check_url_static(url: str, policy: OutboundPolicy | None = None) -> None:
    """Refuse literal internal addresses and internal names, without DNS."""
    policy = policy or default_policy()
    _scheme, host, _port = _split(url)
    ip = _literal(host)
    if ip is not None:
        _check_ip(ip, policy, host)
        return
    if host in policy.allow_hosts:
        return
    if host in _INTERNAL_NAMES or host.endswith(_INTERNAL_SUFFIXES) or "." not in host:
        raise UrlNotAllowed(f"{host} is an internal host name; outbound calls to it are not allowed")


def _addresses(host: str, port: int) -> list[IP]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[IP] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if ip not in out:
            out.append(ip)
    return out


def check_url(url: str, policy: OutboundPolicy | None = None) -> None:
    """``check_url_static``, then every address of the name; an unresolvable name passes."""
    policy = policy or default_policy()
    check_url_static(url, policy)
    _scheme, host, port = _split(url)
    if _literal(host) is not None:
        return
    try:
        addresses = _addresses(host, port)
    except (OSError, UnicodeError):
        return
    for ip in addresses:
        _check_ip(ip, policy, host)


@dataclass(frozen=True)
class Target:
    """Where to connect: the checked address, plus the name for Host and TLS (SNI, certificate)."""

    scheme: str
    host: str
    port: int
    ip: IP

    def url(self, original: str) -> str:
        """``original`` with its host replaced by the checked address."""
        parts = urlsplit(original)
        addr = f"[{self.ip}]" if self.ip.version == 6 else str(self.ip)
        netloc = f"{addr}:{self.port}"
        return parts._replace(netloc=netloc).geturl()

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def resolve(url: str, policy: OutboundPolicy | None = None) -> Target:
    """The connect-time check: resolve once, refuse if any address is refused."""
    policy = policy or default_policy()
    check_url_static(url, policy)
    scheme, host, port = _split(url)
    literal = _literal(host)
    if literal is not None:
        return Target(scheme, host, port, literal)
    try:
        addresses = _addresses(host, port)
    except (OSError, UnicodeError) as exc:
        raise UrlNotAllowed(f"{host} does not resolve: {exc}") from None
    if not addresses:
        raise UrlNotAllowed(f"{host} does not resolve")
    for ip in addresses:
        _check_ip(ip, policy, host)
    return Target(scheme, host, port, addresses[0])
