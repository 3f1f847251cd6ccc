"""The SSRF guard and the one POST a delivery makes.

A partner's URL is checked when the subscription is saved and again before every attempt, on the
addresses its host resolves to at that moment (a name that resolved to a public address yesterday may
resolve to 10.0.0.5 today: DNS rebinding). The POST then connects to the very address that was
checked, sending the host name for TLS (SNI and certificate check) and in the Host header, follows no
redirect, goes through no proxy, and reads at most the first kilobyte of the answer.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

from workflows.webhooks.errors import UnsafeWebhookUrl

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
RESPONSE_EXCERPT_BYTES = 1024
USER_AGENT = "OTC-Webhooks/1.0"


@dataclass(frozen=True)
class Target:
    """Where a URL's POST goes: the checked address, and the names the server must see."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        default_port = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default_port else f"{host}:{self.port}"


@dataclass(frozen=True)
class Answer:
    status: int
    body_excerpt: str


def resolve_target(url: str) -> Target:
    """Check the URL's form and every address its host resolves to now; raise UnsafeWebhookUrl."""
    parts = _checked_parts(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port)
    for address in addresses:
        if reason := _refusal(address):
            shown = host if _is_literal(host) else f"{host} resolves to {address}, which"
            raise UnsafeWebhookUrl(f"{shown} is {reason}; webhooks go only to public addresses.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url=url, scheme=parts.scheme, host=host, port=port, path=path, address=str(addresses[0]))


def _checked_parts(url: str):
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        raise UnsafeWebhookUrl(f"Not a valid URL: {error}.") from error
    allowed = {"https", "http"} if settings.OTC_WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed:
        raise UnsafeWebhookUrl(f"The URL must start with https:// (not {parts.scheme or 'nothing'}://).")
    if not parts.hostname:
        raise UnsafeWebhookUrl("The URL has no host name.")
    if parts.username or parts.password:
        raise UnsafeWebhookUrl("The URL must not carry a user name or password; the signature authenticates us.")
    if parts.fragment:
        raise UnsafeWebhookUrl("The URL must not have a #fragment.")
    return parts


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeWebhookUrl(f"The host {host} cannot be resolved ({error}).") from error
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeWebhookUrl(f"The host {host} has no address.")
    return addresses


def _refusal(address: IPAddress) -> str | None:
    """Why webhooks may not go to this address, or None when they may."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            reason = _refusal(embedded)
            kind = "an IPv4-mapped" if address.ipv4_mapped else "a 6to4"
            return f"{kind} form of {embedded}, {reason}" if reason else None
    if address.is_loopback:
        return None if settings.OTC_WEBHOOK_ALLOW_LOOPBACK else "a loopback address"
    for kind, label in (
        ("is_unspecified", "an unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(address, kind):
            return label
    return None if address.is_global else "not a public address"


def post(target: Target, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to the checked address; raises urllib3's errors (timeouts, refused, TLS) as they come."""
    timeout = urllib3.Timeout(connect=settings.OTC_WEBHOOK_TIMEOUT_SECONDS, read=settings.OTC_WEBHOOK_TIMEOUT_SECONDS)
    pool_kwargs = {"timeout": timeout, "retries": False, "maxsize": 1}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address, target.port, server_hostname=target.host, assert_hostname=target.host, **pool_kwargs
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **pool_kwargs)
    request_headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers,
    }
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=request_headers,
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            excerpt = response.read(RESPONSE_EXCERPT_BYTES)
        finally:
            response.close()
        return Answer(status=response.status, body_excerpt=excerpt.decode("utf-8", errors="replace"))
    finally:
        pool.close()
