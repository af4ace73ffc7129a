"""Requests our servers make to URLs that customers typed in (webhooks): no SSRF.

A customer-supplied URL must not reach our own network: only http(s), and only hosts
whose every address is public. The connection then goes to the very address that was
checked (not a second DNS answer), so a name that changes its answer between the check
and the request (DNS rebinding) cannot slip through. Redirects are not followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(ValueError):
    """The URL may not be called (scheme, host or address); retrying will not help."""


class OutboundFailed(OSError):
    """The call was made and failed (network, timeout, non-2xx); a retry may succeed."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def address_is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def outbound_target(url: str, *, allow_private: bool = False) -> Target:
    """Check `url` and pick the address to connect to; OutboundRefused says why not."""
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
    except socket.gaierror:
        raise OutboundFailed(f"{parts.hostname} does not resolve.") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise OutboundFailed(f"{parts.hostname} does not resolve.")
    if not allow_private and not all(address_is_public(a) for a in addresses):
        raise OutboundRefused(f"{parts.hostname} resolves to a private or reserved address.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))


def post_json(
    url: str, payload: dict[str, Any], *, timeout: float, allow_private: bool = False
) -> int:
    """POST `payload` as JSON; the HTTP status when it is 2xx, else OutboundFailed."""
    target = outbound_target(url, allow_private=allow_private)
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    # The host name stays for the Host header and TLS (SNI and certificate checks); only
    # the socket goes to the address that was checked.
    connection._create_connection = lambda address, *args, **kwargs: socket.create_connection(  # type: ignore[attr-defined]
        (target.address, address[1]), *args, **kwargs
    )
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "CustomerAgent-Alerts/1"}
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)
    except (OSError, http.client.HTTPException) as exc:
        raise OutboundFailed(f"{target.host}: {type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise OutboundFailed(f"{target.host} answered {response.status}.")
    return response.status
