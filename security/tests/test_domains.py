from __future__ import annotations

import pytest

from security.domains import allows_any_site, domain_hash, invalid_patterns, origin_allowed

ALLOWED = ["shop.example.com", "*.example.org", "localhost:8001", "https://secure.example.net"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://shop.example.com",
        "http://shop.example.com",
        "https://SHOP.Example.COM",
        "https://shop.example.com.",
        "https://a.example.org",
        "https://deep.sub.example.org:8443",
        "http://localhost:8001",
        "https://secure.example.net",
    ],
)
def test_it_allows_listed_hosts_and_wildcard_subdomains(origin: str) -> None:
    assert origin_allowed(origin, ALLOWED)


@pytest.mark.parametrize(
    "origin",
    [
        "https://example.com.evil.net",
        "https://evilexample.com",
        "https://shop.example.com.evil.net",
        "https://example.com@evil.net",
        "https://shop.example.com@evil.net",
        "https://evil.net/shop.example.com",
        "https://example.org",  # the apex is not covered by *.example.org
        "https://notexample.org",
        "http://localhost:9999",
        "http://secure.example.net",  # the pattern pins https
        "null",
        "",
        "javascript:alert(1)",
        "https://shöp.example.com",
    ],
)
def test_it_refuses_lookalikes_and_other_hosts(origin: str) -> None:
    assert not origin_allowed(origin, ALLOWED)


def test_idn_hosts_compare_in_punycode() -> None:
    assert origin_allowed("https://xn--bcher-kva.example", ["bücher.example"])
    assert origin_allowed("https://bücher.example", ["xn--bcher-kva.example"])


def test_it_reports_invalid_patterns() -> None:
    assert invalid_patterns(
        ["ok.example.com", "*.ok.com", "bad host", "ftp://x.com", "a:99999"]
    ) == ["bad host", "ftp://x.com", "a:99999"]


def test_a_lone_star_allows_any_site_and_is_reported() -> None:
    assert origin_allowed("https://anything.example", ["*"])
    assert allows_any_site([" * "]) and not allows_any_site(["*.example.com"])


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://[::1]:3000", ["[::1]:3000"]),
        ("http://192.168.1.20:8080", ["192.168.1.20"]),
        ("http://localhost:5173", ["localhost"]),
    ],
)
def test_ip_literals_and_localhost_for_development(origin: str, allowed: list[str]) -> None:
    assert origin_allowed(origin, allowed)


def test_domain_hash_is_stable_per_host() -> None:
    assert domain_hash("https://Shop.Example.com") == domain_hash("https://shop.example.com:443")
    assert domain_hash("https://a.example.com") != domain_hash("https://b.example.com")
