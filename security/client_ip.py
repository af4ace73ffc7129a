"""The client's IP address, trusting `X-Forwarded-For` only from configured proxies.

Without trusted proxies the peer address is the client. With them, the forwarded chain
is read from the right and the first address that is not a trusted proxy is the client:
a visitor can prepend anything to the header, but cannot forge what our proxies append.

This is the only place that reads the header. The peer must be the real socket peer, so
every server command runs uvicorn with `--no-proxy-headers`: by default uvicorn believes
`X-Forwarded-For` from 127.0.0.1 and puts it in place of the peer before we see it
(security/tests/hostile/test_client_address.py holds the commands to that).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _trusted(networks: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in networks)


def parse_ip(value: str) -> Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_ip(peer: str | None, forwarded_for: str | None) -> str:
    """The client address for a connection from `peer` carrying `forwarded_for`."""
    trusted = _trusted(tuple(settings.TRUSTED_PROXIES))
    peer_ip = parse_ip(peer or "")
    if peer_ip is None:
        return "0.0.0.0"  # noqa: S104 (a placeholder, never a bind address)
    if not trusted or not _in_any(peer_ip, trusted) or not forwarded_for:
        return str(peer_ip)
    hops = [parse_ip(part) for part in forwarded_for.split(",")]
    for hop in reversed(hops):
        if hop is None:
            break  # a malformed hop: stop trusting the rest of the chain
        if not _in_any(hop, trusted):
            return str(hop)
    return str(peer_ip)


def request_client_ip(request: HttpRequest) -> str:
    """The client address of a Django request."""
    return client_ip(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))


def _in_any(address: Address, networks: Iterable[Network]) -> bool:
    return any(address.version == n.version and address in n for n in networks)
