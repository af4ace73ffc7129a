"""Connections to workspace URLs that go only where security.outbound.policy said yes.

A name that answers a public address to the check and a private one to the connection
(DNS rebinding) must not slip through, so the check and the connection share one answer:
the socket goes to `Target.address`, while the host name stays for the Host header and for
TLS (SNI and the certificate check). Every request is checked again, redirects included, so
a long-lived client follows a name that legitimately moves. Redirects are not followed
unless the caller's library follows them itself (through the same transport, so checked).
Environment proxies are not used: a proxy would resolve the name itself.

- `post_json`: http.client (alert webhooks).
- `PinnedTransport` / `pinned_client`: httpx2, synchronous (the `openai` SDK's
  `http_client=`).
- `AsyncPinnedTransport` / `pinned_async_client`: httpx2, async (the `mcp` SDK's
  `http_client=` and `httpx_client_factory=`).
"""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any

import anyio.to_thread
import httpx2

from security.outbound.policy import (
    OutboundFailed,
    OutboundRefused,
    Purpose,
    Target,
    outbound_target,
)


class OutboundBlocked(httpx2.ConnectError):
    """The policy refused a request's URL (its cause says why), raised as the failed
    connection it is, so the SDKs above handle it like one: nothing was sent."""


def _checked(request: httpx2.Request, purpose: Purpose) -> Target:
    try:
        return outbound_target(str(request.url), purpose=purpose)
    except (OutboundRefused, OutboundFailed) as exc:
        raise OutboundBlocked(str(exc), request=request) from exc


def post_json(url: str, payload: dict[str, Any], *, timeout: float, purpose: Purpose) -> int:
    """POST `payload` as JSON; the HTTP status when it is 2xx, else OutboundFailed."""
    target = outbound_target(url, purpose=purpose)
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
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


def _to_address(request: httpx2.Request, target: Target) -> httpx2.Request:
    """The same request, sent to the checked address. A new object: the client keeps the
    original (with the host name) for redirects and for its response."""
    return httpx2.Request(
        request.method,
        request.url.copy_with(host=target.address),
        headers=request.headers,  # with Host: the name, as the client set it
        stream=request.stream,
        extensions={**request.extensions, "sni_hostname": target.host},
    )


class PinnedTransport(httpx2.BaseTransport):
    """An httpx2 transport that checks every request's URL for `purpose` and connects only
    to the address the check approved; OutboundBlocked when it may not."""

    def __init__(self, *, purpose: Purpose, **options: Any) -> None:
        self.purpose = purpose
        self._transport = httpx2.HTTPTransport(**options)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        target = _checked(request, self.purpose)
        return self._transport.handle_request(_to_address(request, target))

    def close(self) -> None:
        self._transport.close()


class AsyncPinnedTransport(httpx2.AsyncBaseTransport):
    """`PinnedTransport` for async clients (the name is resolved in a worker thread)."""

    def __init__(self, *, purpose: Purpose, **options: Any) -> None:
        self.purpose = purpose
        self._transport = httpx2.AsyncHTTPTransport(**options)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        target = await anyio.to_thread.run_sync(_checked, request, self.purpose)
        return await self._transport.handle_async_request(_to_address(request, target))

    async def aclose(self) -> None:
        await self._transport.aclose()


def pinned_client(*, purpose: Purpose, **client_options: Any) -> httpx2.Client:
    """An httpx2 client for workspace URLs of `purpose` (options as httpx2.Client's)."""
    client_options.setdefault("follow_redirects", False)
    return httpx2.Client(
        transport=PinnedTransport(purpose=purpose), trust_env=False, **client_options
    )


def pinned_async_client(*, purpose: Purpose, **client_options: Any) -> httpx2.AsyncClient:
    """An httpx2 async client for workspace URLs of `purpose`."""
    client_options.setdefault("follow_redirects", False)
    return httpx2.AsyncClient(
        transport=AsyncPinnedTransport(purpose=purpose), trust_env=False, **client_options
    )
