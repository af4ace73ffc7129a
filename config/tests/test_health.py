from __future__ import annotations

import pytest
from django.test import Client

from config import health


def test_healthz_answers_without_touching_services(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_cache_and_channel_layer(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"] == checks["cache"] == checks["channel_layer"] == "ok"


@pytest.mark.django_db
def test_readyz_names_what_is_failing(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> bool:
        raise ConnectionError("down")

    monkeypatch.setitem(health.CHECKS, "cache", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]


def test_unknown_api_paths_answer_json_404(client: Client) -> None:
    response = client.get("/api/v2/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_platform_pages_carry_a_strict_content_security_policy(client: Client) -> None:
    policy = client.get("/admin/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
