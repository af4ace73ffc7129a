"""Which pages may open a cookie-authenticated websocket: only the platform's own."""

from __future__ import annotations

import pytest
from django.test import override_settings

from security.same_origin import same_origin


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://localhost:8000", "localhost:8000"),
        ("https://localhost", "localhost"),
        ("https://localhost", "localhost:443"),
        ("HTTP://LOCALHOST:8000", "localhost:8000"),
    ],
)
def test_the_platforms_own_pages_may(origin: str, host: str) -> None:
    assert same_origin(origin, host)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://localhost:8001", "localhost:8000"),  # another port is another site
        ("https://evil.example", "localhost:8000"),
        ("null", "localhost:8000"),
        ("", "localhost:8000"),
        ("http://localhost:8000@evil.example", "localhost:8000"),
        ("http://rebound.example", "rebound.example"),  # a host we do not serve
    ],
)
def test_other_pages_may_not(origin: str, host: str) -> None:
    assert not same_origin(origin, host)


@override_settings(
    PUBLIC_BASE_URL="https://chat.example.com", CSRF_TRUSTED_ORIGINS=["https://ops.example.com"]
)
def test_behind_a_proxy_the_public_url_and_trusted_origins_may() -> None:
    assert same_origin("https://chat.example.com", "10.0.0.5:8000")
    assert same_origin("https://ops.example.com", "10.0.0.5:8000")
    assert not same_origin("http://chat.example.com", "10.0.0.5:8000")  # not over https
