"""Typed readers for environment variables that fail loudly, naming the variable."""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"Unexpected value {name}={raw!r}, use 'true' or 'false'")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"Unexpected value {name}={raw!r}, use an integer") from None
    if value < minimum:
        raise ImproperlyConfigured(f"Unexpected value {name}={raw!r}, must be >= {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """A comma-separated list of IP addresses or CIDR networks."""
    values = env_list(name, [])
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"Unexpected value {name}={value!r}, use IP addresses or CIDR networks"
            ) from None
    return values


def ip_port_parse(value: str, *, default_port: int) -> tuple[str, int]:
    """`192.0.2.1`, `192.0.2.1:5353`, `::1` or `[::1]:5353` as (address, port); ValueError
    when it is none of those."""
    value = value.strip()
    problem = ValueError(f"not an IP address with an optional port: {value!r}")
    host, port = value, str(default_port)
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise problem
        port = rest[1:] or port
    elif value.count(":") == 1:
        host, port = value.split(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise problem from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise problem
    return str(address), int(port)


def env_ip_port(name: str, *, default_port: int) -> str:
    """An IP address with an optional port (`127.0.0.1:5353`, `[::1]:53`); empty when unset."""
    raw = os.environ.get(name, "").strip()
    if raw:
        try:
            ip_port_parse(raw, default_port=default_port)
        except ValueError:
            raise ImproperlyConfigured(
                f"Unexpected value {name}={raw!r}, use an IP address with an optional port, "
                "e.g. 127.0.0.1:53 or [::1]:53"
            ) from None
    return raw


# Keys that are public (our compose file's old default, the development default, Django's
# project template) or are someone's placeholder: with one of them anybody can forge
# sessions, widget tokens and staff JWTs, and unseal stored secrets.
PUBLIC_SECRET_KEYS = frozenset(
    {
        "change-me-to-a-long-random-string-before-any-real-use-0123456789",
        "dev-insecure-only-for-local-debug-runs-never-in-production-0123456789",
    }
)
PLACEHOLDER_MARKS = ("change-me", "changeme", "change_me", "replace-me", "insecure", "build-only")
SECRET_KEY_MIN_LENGTH = 32
SECRET_KEY_MIN_UNIQUE = 8


def secret_key_problem(value: str) -> str:
    """Why `value` must not sign anything in production; empty when it may."""
    lowered = value.lower()
    if value in PUBLIC_SECRET_KEYS or lowered.startswith("django-insecure-"):
        return "is a published key"
    if any(mark in lowered for mark in PLACEHOLDER_MARKS):
        return "is a placeholder"
    if len(value) < SECRET_KEY_MIN_LENGTH:
        return f"is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    if len(set(value)) < SECRET_KEY_MIN_UNIQUE:
        return f"has fewer than {SECRET_KEY_MIN_UNIQUE} different characters"
    return ""


def _secret_key_checked(name: str, key: str) -> str:
    problem = secret_key_problem(key)
    if problem:  # the message never shows the key
        raise ImproperlyConfigured(
            f"Unexpected value {name}: the key {problem}. Generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    return key


def env_secret_key(name: str, *, checked: bool) -> str:
    """The signing key; with `checked` (DEBUG off) it must be set and must not be a
    published, placeholder or weak key."""
    key = os.environ.get(name, "")
    if checked and not key:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")
    return _secret_key_checked(name, key) if checked else key


def env_secret_key_list(name: str, *, checked: bool) -> list[str]:
    """Comma-separated older signing keys, each held to `env_secret_key`'s rules: a key
    that is still accepted can forge as well as the current one."""
    keys = env_list(name, [])
    return [_secret_key_checked(name, key) for key in keys] if checked else keys


def env_url(name: str, *, schemes: tuple[str, ...], default: str = "") -> str:
    """A URL whose scheme is one of `schemes`; empty when unset."""
    raw = os.environ.get(name, default).strip()
    if not raw:
        return ""
    parsed = urlparse(raw)
    if parsed.scheme not in schemes or not (parsed.netloc or parsed.path):
        raise ImproperlyConfigured(
            f"Unexpected value {name}={raw!r}, use a URL with scheme {' or '.join(schemes)}"
        )
    return raw
