"""Which web origins may use an agent: exact hosts and `*.example.com` wildcards.

Hosts are compared lower-cased, without a trailing dot and in punycode, so look-alike
spellings of one host compare equal and different hosts never do.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int


ANY_HOST = "*"


@dataclass(frozen=True)
class DomainPattern:
    host: str  # a punycode host, the suffix after "*." for wildcards, or "*" for any host
    wildcard: bool
    scheme: str | None
    port: int | None


def normalize_host(host: str) -> str | None:
    host = host.strip().rstrip(".").lower()
    if not host or any(c in host for c in "/@\\ \t\r\n?#"):
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:  # an IPv6 literal: compare in its canonical form
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError:
            return None
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


@lru_cache(maxsize=4096)  # a pure function of the header, asked several times a request
def parse_origin(value: str | None) -> Origin | None:
    """Parse a browser `Origin` header value; None when absent, `null` or malformed."""
    if not value or value == "null":
        return None
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    host = normalize_host(parts.hostname or "")
    if host is None:
        return None
    return Origin(parts.scheme, host, port or DEFAULT_PORTS[parts.scheme])


def parse_pattern(value: str) -> DomainPattern | None:
    """Parse an allowed-domain entry: `example.com`, `*.example.com`, optional scheme and port."""
    raw = value.strip()
    scheme: str | None = None
    if "://" in raw:
        scheme, raw = raw.split("://", 1)
        scheme = scheme.lower()
        if scheme not in DEFAULT_PORTS:
            return None
    raw = raw.rstrip("/")
    if raw == ANY_HOST:
        # Any site at all: allowed, but the admin warns whoever saves it.
        return DomainPattern(host=ANY_HOST, wildcard=False, scheme=scheme, port=None)
    wildcard = raw.startswith("*.")
    if wildcard:
        raw = raw[2:]
    port: int | None = None
    if raw.startswith("["):  # [IPv6]:port
        host_part, _, rest = raw[1:].partition("]")
        if rest and (not rest.startswith(":") or not rest[1:].isdigit()):
            return None
        raw, port = host_part, int(rest[1:]) if rest else None
        if port is not None and not 0 < port < 65536:
            return None
    elif raw.count(":") == 1:
        raw, port_text = raw.split(":")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return None
        port = int(port_text)
    host = normalize_host(raw)
    if host is None or "*" in host:
        return None
    return DomainPattern(host=host, wildcard=wildcard, scheme=scheme, port=port)


def pattern_matches(pattern: DomainPattern, origin: Origin) -> bool:
    if pattern.scheme is not None and pattern.scheme != origin.scheme:
        return False
    if pattern.port is not None and pattern.port != origin.port:
        return False
    if pattern.host == ANY_HOST:
        return True
    if pattern.wildcard:
        # Subdomains only: the apex matches only when it is listed on its own.
        return origin.host.endswith("." + pattern.host)
    return origin.host == pattern.host


def origin_allowed(origin: str | None, allowed_domains: list[str]) -> bool:
    parsed = parse_origin(origin)
    if parsed is None:
        return False
    for entry in allowed_domains:
        pattern = parse_pattern(entry)
        if pattern is not None and pattern_matches(pattern, parsed):
            return True
    return False


def allows_any_site(allowed_domains: list[str]) -> bool:
    return any(entry.strip() == ANY_HOST for entry in allowed_domains)


def invalid_patterns(allowed_domains: list[str]) -> list[str]:
    return [entry for entry in allowed_domains if parse_pattern(entry) is None]


def domain_hash(origin: str) -> str:
    """A stable short key for one origin's host (cache keys, analytics)."""
    parsed = parse_origin(origin)
    key = parsed.host if parsed else origin.strip().lower()
    return hashlib.sha256(key.encode()).hexdigest()[:16]
