"""The outbound policy (security.outbound): which addresses a workspace URL may reach, the
switch of each purpose, and clients that connect only where the check said yes."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from typing import Any

import httpx2
import pytest

from security.outbound import (
    OutboundBlocked,
    OutboundFailed,
    OutboundRefused,
    PinnedTransport,
    Purpose,
    address_is_public,
    outbound_target,
    outbound_url_problem,
    pinned_async_client,
    pinned_client,
    post_json,
)
from security.tests.network import (
    LoopbackOnly,
    RebindingDns,
    RecordingListener,
    TlsRecordingListener,
    self_signed,
)

PUBLIC = "93.184.215.14"
NOT_PUBLIC = [
    "0.0.0.0",
    "127.0.0.1",
    "127.255.0.9",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.0.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "192.0.2.1",
    "198.18.0.1",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "::",
    "::1",
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "2001:db8::1",
]
PUBLIC_ADDRESSES = ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"]


@pytest.fixture(autouse=True)
def _guard_on(settings: Any) -> None:
    settings.LLM_ALLOW_PRIVATE_URLS = False
    settings.MCP_ALLOW_PRIVATE_URLS = False
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> LoopbackOnly:
    return LoopbackOnly().install(monkeypatch)


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_internal_and_reserved_addresses_are_not_public(address: str) -> None:
    assert not address_is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_are(address: str) -> None:
    assert address_is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("purpose", list(Purpose))
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8399/v1",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:7f00:1]/",
        "http://localhost/",
        "http://2130706433/",  # 127.0.0.1 as one number
        "http://0x7f.1/",
        "http://127.1/",
    ],
)
def test_every_purpose_refuses_internal_hosts(purpose: Purpose, url: str) -> None:
    with pytest.raises(OutboundRefused, match="private or reserved"):
        outbound_target(url, purpose=purpose)
    assert "private or reserved" in str(outbound_url_problem(url, purpose=purpose))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://files.example.com/x", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("gopher://127.0.0.1:6379/_INFO", "Only http:// and https://"),
        ("http:///no-host", "Only http:// and https://"),
        ("https://user:secret@models.example.com/v1", "credentials"),
        ("https://models.example.com:99999/v1", "port"),
    ],
)
def test_urls_of_the_wrong_shape_are_refused(url: str, reason: str) -> None:
    with pytest.raises(OutboundRefused, match=reason):
        outbound_target(url, purpose=Purpose.LLM)


def test_each_switch_lifts_the_rule_for_its_own_purpose_only(settings: Any) -> None:
    settings.LLM_ALLOW_PRIVATE_URLS = True
    assert outbound_target("http://127.0.0.1:8399/v1", purpose=Purpose.LLM).address == "127.0.0.1"
    for other in (Purpose.MCP, Purpose.ALERT_WEBHOOK):
        with pytest.raises(OutboundRefused):
            outbound_target("http://127.0.0.1:8399/v1", purpose=other)


def test_a_switch_never_lifts_the_shape_rules(settings: Any) -> None:
    settings.MCP_ALLOW_PRIVATE_URLS = True
    with pytest.raises(OutboundRefused, match="credentials"):
        outbound_target("http://user:pw@127.0.0.1/mcp", purpose=Purpose.MCP)


def test_a_name_that_does_not_resolve_may_be_saved_but_is_not_called(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def nxdomain(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", nxdomain)
    assert outbound_url_problem("https://models.invalid/v1", purpose=Purpose.LLM) is None
    with pytest.raises(OutboundFailed):
        outbound_target("https://models.invalid/v1", purpose=Purpose.LLM)


def test_any_internal_answer_among_several_refuses_the_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (PUBLIC, 80)),
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("10.0.0.1", 80)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    with pytest.raises(OutboundRefused):
        outbound_target("http://mixed.example.com/", purpose=Purpose.ALERT_WEBHOOK)


# --- Pinning: the connection goes to the checked address, never to a second answer -----


def test_the_sync_client_connects_to_the_address_it_checked(
    monkeypatch: pytest.MonkeyPatch, loopback_only: LoopbackOnly
) -> None:
    with RecordingListener() as listener:
        dns = RebindingDns("models.rebind.test", [PUBLIC, "127.0.0.1"]).install(monkeypatch)
        with (
            pinned_client(purpose=Purpose.LLM, timeout=2) as client,
            pytest.raises(httpx2.ConnectError),
        ):
            client.post(f"http://models.rebind.test:{listener.port}/v1/chat/completions")
        assert loopback_only.refused == [(PUBLIC, listener.port)]  # the checked address
        assert dns.lookups == 1  # and no second lookup that would have said 127.0.0.1
        assert listener.requests == []


def test_the_async_client_connects_to_the_address_it_checked(
    monkeypatch: pytest.MonkeyPatch, loopback_only: LoopbackOnly
) -> None:
    async def call(port: int) -> None:
        async with pinned_async_client(purpose=Purpose.MCP, timeout=2) as client:
            await client.post(f"http://store.rebind.test:{port}/mcp")

    with RecordingListener() as listener:
        dns = RebindingDns("store.rebind.test", [PUBLIC, "127.0.0.1"]).install(monkeypatch)
        with pytest.raises(httpx2.ConnectError):
            asyncio.run(call(listener.port))
        assert loopback_only.refused == [(PUBLIC, listener.port)]
        assert dns.lookups == 1
        assert listener.requests == []


def test_webhooks_connect_to_the_address_they_checked(
    monkeypatch: pytest.MonkeyPatch, loopback_only: LoopbackOnly
) -> None:
    with RecordingListener() as listener:
        dns = RebindingDns("hooks.rebind.test", [PUBLIC, "127.0.0.1"]).install(monkeypatch)
        with pytest.raises(OutboundFailed):
            post_json(
                f"http://hooks.rebind.test:{listener.port}/alert",
                {"state": "firing"},
                timeout=2,
                purpose=Purpose.ALERT_WEBHOOK,
            )
        assert loopback_only.refused == [(PUBLIC, listener.port)]
        assert dns.lookups == 1
        assert listener.requests == []


def test_a_request_whose_name_now_answers_internal_is_blocked_before_connecting(
    monkeypatch: pytest.MonkeyPatch, loopback_only: LoopbackOnly
) -> None:
    with RecordingListener() as listener:
        RebindingDns("models.rebind.test", ["127.0.0.1"]).install(monkeypatch)
        with (
            pinned_client(purpose=Purpose.LLM, timeout=2) as client,
            pytest.raises(OutboundBlocked, match="private or reserved"),
        ):
            client.get(f"http://models.rebind.test:{listener.port}/v1/models")
        assert listener.requests == [] and loopback_only.refused == []


def test_the_host_name_still_goes_in_the_host_header(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.LLM_ALLOW_PRIVATE_URLS = True
    with RecordingListener() as listener:
        RebindingDns("models.local.test", ["127.0.0.1"]).install(monkeypatch)
        with pinned_client(purpose=Purpose.LLM, timeout=2) as client:
            response = client.get(f"http://models.local.test:{listener.port}/v1/models")
        assert response.status_code == 404  # the listener's answer
        assert response.request.url.host == "models.local.test"
        assert listener.requests[0].headers["host"] == f"models.local.test:{listener.port}"


@pytest.mark.parametrize(
    ("certified", "works"), [("models.local.test", True), ("other.test", False)]
)
def test_tls_is_checked_against_the_host_name_not_the_address(
    monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any, certified: str, works: bool
) -> None:
    settings.LLM_ALLOW_PRIVATE_URLS = True
    cert_path, key_path = self_signed(certified, str(tmp_path))
    trusted = ssl.create_default_context(cafile=cert_path)
    with TlsRecordingListener(cert_path, key_path) as listener:
        RebindingDns("models.local.test", ["127.0.0.1"]).install(monkeypatch)
        transport = PinnedTransport(purpose=Purpose.LLM, verify=trusted)
        url = f"https://models.local.test:{listener.port}/v1/models"
        with httpx2.Client(transport=transport, timeout=2) as client:
            if works:  # the name's certificate, though the socket went to 127.0.0.1
                assert client.get(url).status_code == 404
                assert listener.requests[0].headers["host"] == f"models.local.test:{listener.port}"
            else:  # another name's certificate: refused, as without pinning
                with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    client.get(url)
