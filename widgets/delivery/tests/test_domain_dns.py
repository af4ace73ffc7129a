"""TXT look-ups against a real DNS server on 127.0.0.1: answers, absences and silence."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.env import ip_port_parse
from widgets.delivery import domain_dns
from widgets.delivery.domain_dns import DnsUnavailable, txt_values
from widgets.tests.dns_server import FakeZone, fake_dns
from widgets.tests.live import free_port


@pytest.fixture
def zone(settings: Any) -> Iterator[FakeZone]:
    with fake_dns() as served:
        settings.CUSTOM_DOMAIN_DNS_RESOLVER = served.address
        yield served


def test_every_txt_record_is_read_with_its_pieces_joined(zone: FakeZone) -> None:
    zone.records["_customeragent.chat.example.com"] = ["v=spf1 -all", ("abc", "def")]
    assert sorted(txt_values("_customeragent.Chat.Example.com")) == ["abcdef", "v=spf1 -all"]


def test_a_missing_name_or_record_is_an_answer_of_none(zone: FakeZone) -> None:
    zone.records["_customeragent.empty.example.com"] = []
    assert txt_values("_customeragent.nowhere.example.com") == []
    assert txt_values("_customeragent.empty.example.com") == []


def test_silence_is_no_answer_at_all(zone: FakeZone, monkeypatch: Any) -> None:
    monkeypatch.setattr(domain_dns, "LOOKUP_SECONDS", 0.3)
    zone.silent.add("_customeragent.slow.example.com")
    with pytest.raises(DnsUnavailable, match=r"slow\.example\.com"):
        txt_values("_customeragent.slow.example.com")


def test_a_resolver_that_is_not_there_is_no_answer(settings: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(domain_dns, "LOOKUP_SECONDS", 0.3)
    settings.CUSTOM_DOMAIN_DNS_RESOLVER = f"127.0.0.1:{free_port()}"
    with pytest.raises(DnsUnavailable):
        txt_values("_customeragent.chat.example.com")


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("[2001:db8::1]", ("2001:db8::1", 53)),
    ],
)
def test_the_resolver_setting_is_an_address_with_an_optional_port(
    raw: str, parsed: tuple[str, int]
) -> None:
    assert ip_port_parse(raw, default_port=53) == parsed


@pytest.mark.parametrize("raw", ["dns.example.com", "127.0.0.1:0", "127.0.0.1:x", "[::1]5353"])
def test_anything_else_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        ip_port_parse(raw, default_port=53)
