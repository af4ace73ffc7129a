"""The ground every other settings module stands on: paths, keys, addresses, the apps
and middleware."""

from __future__ import annotations

from pathlib import Path

from core.env import (
    env_bool,
    env_list,
    env_secret_key,
    env_secret_key_list,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DEBUG = env_bool("DEBUG", False)

# With DEBUG off a published, placeholder or weak key stops start-up (core.env).
SECRET_KEY = env_secret_key("SECRET_KEY", checked=not DEBUG)
# Older keys still accepted while a new SECRET_KEY rolls out (signatures, sealed secrets).
SECRET_KEY_FALLBACKS = env_secret_key_list("SECRET_KEY_FALLBACKS", checked=not DEBUG)
if not SECRET_KEY:  # DEBUG only: a local run needs no key of its own
    SECRET_KEY = "dev-insecure-only-for-local-debug-runs-never-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
PUBLIC_BASE_URL = env_url(
    "PUBLIC_BASE_URL", schemes=("http", "https"), default="http://localhost:8000"
).rstrip("/")

DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))
SERVICES_MODE = bool(REDIS_URL)

LLM_BASE_URL = env_url("LLM_BASE_URL", schemes=("http", "https"))
LLM_API_KEY = env_str("LLM_API_KEY")
LLM_MODEL = env_str("LLM_MODEL")
# LLM_BASE_URL is the operator's and may be private; an agent's own llm_base_url is typed by
# a workspace and may not reach private or reserved addresses unless this is set (local
# model servers in development; security.outbound reads it).
LLM_ALLOW_PRIVATE_URLS = env_bool("LLM_ALLOW_PRIVATE_URLS", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    "channels",
    "django_celery_beat",
    "security",
    "workspaces",
    "customers",
    "agents",
    "analytics",
    "widgets",
    "experiments",
    "webhooks",
    "conversations",
]
# The demo (seed, demo site, demo store, traffic): only `make run` and the tests install it.
DEMO_APP = env_bool("DEMO_APP", False)
if DEMO_APP:
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    # First, so the latency it reports includes every other middleware.
    "analytics.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a sign-in lockout into security.signin's answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
