"""Hosts as the installation check compares them: the platform's own and allowed-domains cover."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from security.domains import ANY_HOST, parse_pattern


def platform_host() -> str:
    return (urlsplit(settings.PUBLIC_BASE_URL).hostname or "").lower()


def pattern_covers(entry: str, host: str) -> bool:
    """Whether an allowed-domains entry covers `host`, whatever the scheme and port (the
    analytics events keep the host only)."""
    pattern = parse_pattern(entry)
    if pattern is None:
        return False
    if pattern.host == ANY_HOST:
        return True
    if pattern.wildcard:
        return host.endswith("." + pattern.host)
    return host == pattern.host
