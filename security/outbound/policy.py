"""The rule for every URL a workspace typed in and our servers call.

Only http(s), no credentials in the URL, and only hosts whose every address is public:
loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT, reserved,
documentation, multicast and unspecified addresses are refused, in IPv4 and IPv6 alike,
and so is an IPv6 address that stands for such an IPv4 one (mapped, 6to4, NAT64). The
check names the address it approved (`Target.address`): callers connect to that one, not to
a second DNS answer (security.outbound.pinned).

Each purpose has one switch that lifts the address rule for local development, read here
and nowhere else.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(ValueError):
    """The URL may not be called (scheme, host or address); retrying will not help."""


class OutboundFailed(OSError):
    """The call was made and failed (network, timeout, non-2xx); a retry may succeed."""


class Purpose(StrEnum):
    """What a workspace's URL is for: each has its own development switch."""

    LLM = "llm"  # an agent's own model server (Agent.llm_base_url)
    MCP = "mcp"  # an agent's MCP servers (McpServer.url)
    ALERT_WEBHOOK = "alert_webhook"  # an alert rule's webhook (AlertRule.webhook_url)
    WEBHOOK = "webhook"  # a workspace's event webhooks (webhooks.WebhookEndpoint.url)


# The settings that let a purpose reach private addresses (tests, local development).
PRIVATE_SWITCHES: dict[Purpose, str] = {
    Purpose.LLM: "LLM_ALLOW_PRIVATE_URLS",
    Purpose.MCP: "MCP_ALLOW_PRIVATE_URLS",
    Purpose.ALERT_WEBHOOK: "ALERT_WEBHOOK_ALLOW_PRIVATE",
    Purpose.WEBHOOK: "WEBHOOKS_ALLOW_PRIVATE_URLS",
}

# Refused whatever this Python's `is_global` says (its tables changed between patch
# releases): IANA's special-purpose ranges that are not globally reachable.
NOT_PUBLIC = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local: cloud metadata services
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible form
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",  # Teredo and other IETF protocol ranges
        "2001:db8::/32",
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to `address`; `host` stays for the Host header and TLS."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def private_allowed(purpose: Purpose) -> bool:
    return bool(getattr(settings, PRIVATE_SWITCHES[purpose]))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to (mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def address_is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_is_public(embedded)
    return (
        address.is_global
        and not address.is_multicast
        and not any(address in network for network in NOT_PUBLIC)
    )


def outbound_target(url: str, *, purpose: Purpose) -> Target:
    """Check `url` for `purpose` and pick the address to connect to.

    OutboundRefused says why it may not be called; OutboundFailed that the host does not
    resolve (now: it may later)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("Only http:// and https:// URLs with a host can be called.")
    if parts.username or parts.password:
        raise OutboundRefused("URLs with credentials in them are not called.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundRefused("The URL's port is not a number.") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise OutboundFailed(f"{parts.hostname} does not resolve.") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise OutboundFailed(f"{parts.hostname} does not resolve.")
    if not private_allowed(purpose) and not all(address_is_public(a) for a in addresses):
        raise OutboundRefused(f"{parts.hostname} resolves to a private or reserved address.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))


def outbound_url_problem(url: str, *, purpose: Purpose) -> str | None:
    """Why `url` may not be saved for `purpose`, or None. A host that does not resolve
    (yet) may be saved: the check runs again before every call."""
    try:
        outbound_target(url, purpose=purpose)
    except OutboundRefused as exc:
        return f"{exc} Our servers do not call it (SSRF)."
    except OutboundFailed:
        pass
    return None
