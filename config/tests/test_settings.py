"""Settings are chosen by the environment alone and refuse bad values by name."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s;"
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'],"
    " 'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'cache': s.CACHES['default']['BACKEND'],"
    " 'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL}))"
)
BASE_ENV = {
    "PATH": os.environ["PATH"],
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": secrets.token_urlsafe(50),
}


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_embedded_mode_without_services() -> None:
    result = run(PROBE)
    assert result.returncode == 0, result.stderr
    chosen = json.loads(result.stdout)
    assert chosen["db"] == "django.db.backends.sqlite3"
    assert chosen["layer"] == "channels.layers.InMemoryChannelLayer"
    assert chosen["cache"].endswith("LocMemCache")
    assert chosen["eager"] is True


def test_services_mode_with_database_and_redis_urls() -> None:
    result = run(
        PROBE,
        DATABASE_URL="postgres://u@db.internal:5432/ca",
        REDIS_URL="redis://cache.internal:6379/3",
    )
    assert result.returncode == 0, result.stderr
    chosen = json.loads(result.stdout)
    assert chosen["db"] == "django.db.backends.postgresql"
    assert chosen["layer"] == "core.redis_pools.RedisChannelLayer"
    assert chosen["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert chosen["eager"] is False
    assert chosen["broker"] == "redis://cache.internal:6379/3"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://nope"),
        ("REDIS_URL", "http://not-redis"),
        ("PUBLIC_BASE_URL", "ftp://x"),
        ("WIDGET_SESSION_TTL_SECONDS", "soon"),
        ("LLM_BASE_URL", "not a url"),
        ("LOG_LEVEL", "LOUD"),
        ("TRUSTED_PROXIES", "10.0.0.0/8,not-an-ip"),
        ("SIGNIN_FAILURE_LIMIT", "0"),
        ("SIGNIN_LOCKOUT_MINUTES", "soon"),
        ("CUSTOM_DOMAIN_DNS_RESOLVER", "dns.example.com:53"),
        ("CUSTOM_DOMAIN_DNS_RESOLVER", "127.0.0.1:99999"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(name: str, value: str) -> None:
    result = run(PROBE, **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_secret_key_is_required_when_debug_is_off() -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


PUBLIC_KEYS = [
    "change-me-to-a-long-random-string-before-any-real-use-0123456789",  # compose's old one
    "dev-insecure-only-for-local-debug-runs-never-in-production-0123456789",
    "django-insecure-" + secrets.token_urlsafe(40),
    "please-change-me-" + secrets.token_urlsafe(30),
    secrets.token_urlsafe(16),  # random but short
    "ab" * 40,  # long but two characters
]


@pytest.mark.parametrize("key", PUBLIC_KEYS)
def test_a_published_placeholder_or_weak_key_stops_start_up(key: str) -> None:
    result = run(PROBE, SECRET_KEY=key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr
    assert key not in result.stderr  # the message names the variable, never the key


def test_a_weak_fallback_key_stops_start_up_too() -> None:
    result = run(
        PROBE,
        SECRET_KEY_FALLBACKS=f"{secrets.token_urlsafe(50)},change-me-1234567890-abcdefghijklmnop",
    )
    assert result.returncode != 0 and "SECRET_KEY_FALLBACKS" in result.stderr


def test_with_debug_on_any_key_or_none_will_do() -> None:
    assert run(PROBE, DEBUG="true", SECRET_KEY="").returncode == 0
    assert run(PROBE, DEBUG="true", SECRET_KEY="change-me").returncode == 0


def test_docker_compose_takes_the_key_from_the_environment_only() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    key = compose["services"]["app"]["environment"]["SECRET_KEY"]
    assert key.startswith("${SECRET_KEY:?"), key  # no default: compose refuses to start


def test_docker_compose_starts_again_every_service_whose_process_dies() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    policies = {name: service.get("restart") for name, service in compose["services"].items()}
    assert set(policies.values()) == {"unless-stopped"}, policies


def test_deploy_check_is_clean_in_a_proper_production_environment() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            **BASE_ENV,
            "SECRET_KEY": "k8#Qz!vR2@mW5^tY7&uP0*eL3(oN6)jH9_bG1+cF4=dS" + "xZ" * 8,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "agent.example.com",
            "PUBLIC_BASE_URL": "https://agent.example.com",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="CI runs against real services")
def test_ci_runs_against_real_postgres_and_redis() -> None:
    # Under CI a silent fall-back to the embedded mode would hide real-service bugs.
    assert connection.vendor == "postgresql"
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "core.redis_pools.RedisChannelLayer"
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
