"""Settings, driven by the environment alone.

Two run modes share one code path: without DATABASE_URL / REDIS_URL the project runs
embedded (SQLite, in-memory channel layer, local-memory cache, eager Celery); with them it
uses PostgreSQL, Redis channel layer, Redis cache and a Redis Celery broker.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

from config.beat import beat_schedule
from core.env import (
    env_bool,
    env_int,
    env_ip_port,
    env_list,
    env_networks,
    env_secret_key,
    env_secret_key_list,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

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

# --- Database ------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "db.sqlite3")}
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (websocket handlers run in a thread pool) must queue for the write
    # lock, not fail: BEGIN IMMEDIATE waits up to `timeout`; WAL lets readers go on meanwhile.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Under ASGI, Django runs each request's sync work in a thread of its own, so persistent
# per-thread connections leak (PostgreSQL soon answers "too many clients"). On PostgreSQL
# a connection pool per process (psycopg_pool, via Django) reuses connections instead.
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 10)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL_MAX_SIZE:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": 10,
        # psycopg_pool retries a refused connection with a doubling delay for this long
        # (default 5 min): after a 70 s outage it tried again only 54 s after PostgreSQL
        # was back. Given up after 10 s, the next request starts afresh (2 s, measured).
        "reconnect_timeout": 10,
    }
    # No CONN_HEALTH_CHECKS (a check per checkout): a dropped connection is handled where it
    # surfaces, and the pool is purged then (core.database_faults says why).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
_test_db_name = env_str("DATABASE_TEST_NAME")
if _test_db_name:
    DATABASES["default"]["TEST"] = {"NAME": _test_db_name}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer, Celery ----------------------------------------------
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "ca")
# Every Redis user in a process has one bounded pool (core.redis_pools): at most this many
# connections each (channel layer, cache, rate limits and presence, Celery's publisher), and
# a caller finding them all busy waits up to REDIS_POOL_TIMEOUT seconds rather than failing.
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 50, minimum=2)
REDIS_POOL_TIMEOUT = env_int("REDIS_POOL_TIMEOUT", 10, minimum=1)
if REDIS_URL:
    CACHES: dict[str, Any] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": {
                "pool_class": "core.redis_pools.SharedBlockingConnectionPool",
                "max_connections": REDIS_MAX_CONNECTIONS,
                "timeout": REDIS_POOL_TIMEOUT,
                "socket_connect_timeout": 5,
                "socket_timeout": 5,
            },
        }
    }
    CHANNEL_LAYERS: dict[str, Any] = {
        "default": {
            "BACKEND": "core.redis_pools.RedisChannelLayer",
            "CONFIG": {
                # Reads must outlast channels_redis's 5 s blocking pop: redis-py 8 times out
                # reads after 5 s by default, which killed every socket idle that long.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "max_connections": REDIS_MAX_CONNECTIONS,
                        "timeout": REDIS_POOL_TIMEOUT,
                    }
                ],
                "prefix": f"{REDIS_KEY_PREFIX}:asgi",
                "capacity": 1000,
                "expiry": 60,
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True

CELERY_TASK_EAGER_PROPAGATES = True
# Embedded mode: run answers and greetings beside the server instead of inside the request
# or websocket handler that caused them, so answers stream (core.task_queue).
EMBEDDED_TASKS_DETACHED = env_bool("EMBEDDED_TASKS_DETACHED", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# A Redis restart must not leave a worker connected to nothing (docs/operations.md): retry
# the broker forever, at start-up too; drop a dead socket within seconds (keepalive, and
# redis-py's health check pings an idle connection); cancel tasks whose connection was lost
# (acks_late: they are redelivered) rather than letting them ack into a dead channel.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_HEARTBEAT = 10  # AMQP only; Redis relies on the transport options below
# Publishing (web processes queue answers) takes a connection from a pool of this many and
# waits for one when all are busy, bounded like every other Redis pool.
CELERY_BROKER_POOL_LIMIT = env_int("CELERY_BROKER_POOL_LIMIT", 10, minimum=1)
CELERY_BROKER_POOL_ACQUIRE_TIMEOUT = REDIS_POOL_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "global_keyprefix": f"{REDIS_KEY_PREFIX}:celery:",
    "max_connections": REDIS_MAX_CONNECTIONS,
    "socket_keepalive": True,
    "health_check_interval": 10,
    "socket_timeout": 30,
    "socket_connect_timeout": 5,
    "retry_on_timeout": True,
    # A task taken by a worker that died is handed out again after this long (acks_late).
    "visibility_timeout": 3600,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Analytics (docs/analytics.md): raw events are kept this long, then pruned; roll-ups stay.
ANALYTICS_RETENTION_DAYS = env_int("ANALYTICS_RETENTION_DAYS", 90, minimum=2)
ANALYTICS_ROLLUP_SECONDS = env_int("ANALYTICS_ROLLUP_SECONDS", 300, minimum=10)
CELERY_TIMEZONE = "UTC"
# Lost answers (conversations.recovery, docs/operations.md#faults): every REPLY_SWEEP_SECONDS
# the visitor messages left unanswered for REPLY_SWEEP_AFTER_SECONDS (and sent within
# REPLY_SWEEP_WINDOW_SECONDS) have their answer queued again.
REPLY_SWEEP_SECONDS = env_int("REPLY_SWEEP_SECONDS", 10, minimum=1)
REPLY_SWEEP_AFTER_SECONDS = env_int("REPLY_SWEEP_AFTER_SECONDS", 20, minimum=5)
REPLY_SWEEP_WINDOW_SECONDS = env_int("REPLY_SWEEP_WINDOW_SECONDS", 24 * 60 * 60, minimum=60)
# What beat runs when (config/beat.py); `make run` runs it in-process (embedded_beat).
CELERY_BEAT_SCHEDULE = beat_schedule(
    rollup_seconds=ANALYTICS_ROLLUP_SECONDS, sweep_seconds=REPLY_SWEEP_SECONDS
)

# --- Monitoring and alerts (docs/monitoring.md) ---------------------------------------
# /metrics answers these client addresses (after TRUSTED_PROXIES) or the bearer token.
METRICS_ALLOWED_IPS = env_networks("METRICS_ALLOWED_IPS") or ["127.0.0.0/8", "::1/128"]
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters long")
# Read by prometheus_client itself (several processes share their metrics through it).
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfigured(
        f"Unexpected value PROMETHEUS_MULTIPROC_DIR={PROMETHEUS_MULTIPROC_DIR!r}, "
        "use an existing directory"
    )
# /readyz reports the worker stale when its heartbeat (every 30 s) is older than this.
WORKER_STALE_MINUTES = env_int("WORKER_STALE_MINUTES", 5, minimum=1)
# Alert webhooks never reach private or loopback addresses unless this is on (tests, dev).
ALERT_WEBHOOK_ALLOW_PRIVATE = env_bool("ALERT_WEBHOOK_ALLOW_PRIVATE", False)
# MCP servers are customer-typed URLs too: no private or reserved addresses unless this is
# set (`make run` sets it for the demo store on 127.0.0.1; see
# agents.integrations.mcp.mcp_url_check).
MCP_ALLOW_PRIVATE_URLS = env_bool("MCP_ALLOW_PRIVATE_URLS", False)
ALERT_WEBHOOK_TIMEOUT_SECONDS = env_int("ALERT_WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set at most one of EMAIL_USE_TLS and EMAIL_USE_SSL")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CustomerAgent <alerts@localhost>")

# --- Auth, i18n, static ----------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [FRONTEND_DIST / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # The widget core is content-hashed by its own build; a manifest storage would hash
    # it twice and break the path the loader was built with.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
# Every widget build's core and versioned loader (widgets.publishing.core_builds): cached forever.
WHITENOISE_IMMUTABLE_FILE_TEST = r"^.+/widget/(?:core|loader)\.[A-Za-z0-9]{6,}\.js$"

# --- REST API --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "agents.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Staff users, and API keys (writing only with "can write"): docs/security.md.
    "DEFAULT_PERMISSION_CLASSES": ["security.api_access.IntegratorAccess"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Outside JSON is read strictly everywhere (security.untrusted_json).
    "DEFAULT_PARSER_CLASSES": ["security.http.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.openapi.ApiAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CustomerAgent API",
    "DESCRIPTION": "Integrator and widget API of CustomerAgent (v2).",
    "VERSION": "2.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two models have a `status`: name their enums instead of hashing them.
    "ENUM_NAME_OVERRIDES": {
        "ConversationStatusEnum": "conversations.models.Conversation.Status",
        "ExperimentStatusEnum": "experiments.models.Experiment.Status",
    },
}
# Staff JWTs (security.staff_tokens): staff only; a refresh token is good once; a
# password change ends every token (the password-hash fingerprint of CHECK_REVOKE_TOKEN).
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "CHECK_REVOKE_TOKEN": True,
    "UPDATE_LAST_LOGIN": True,
    "TOKEN_OBTAIN_SERIALIZER": "security.staff_tokens.StaffTokenObtainSerializer",
    "TOKEN_REFRESH_SERIALIZER": "security.staff_tokens.StaffTokenRefreshSerializer",
}

# --- Staff sign-in lockout (django-axes, security.signin): admin and API alike ----------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out account or address
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_LOCKOUT_MINUTES", 15, minimum=1))
# Each on its own: guessing one account from many addresses, or many accounts from one.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "security.signin.signin_client_ip"
AXES_LOCKOUT_CALLABLE = "security.signin.signin_locked_out_response"
AXES_DISABLE_ACCESS_LOG = True  # failures are what matter; successes would grow unbounded

# --- CORS: only the public widget API, and only for each agent's allowed origins ----
# The per-request decision is made by widgets.delivery.cors (a check_request_enabled receiver).
# The page config (widgets.api.page_config) is public, the same bytes for every site: its
# view answers `Access-Control-Allow-Origin: *` itself, so a CDN can cache one copy.
CORS_URLS_REGEX = r"^/api/v2/widget/(?!config/).*$"
CORS_ALLOWED_ORIGINS: list[str] = []
CORS_ALLOW_CREDENTIALS = False
CORS_PREFLIGHT_MAX_AGE = 86400
CORS_EXPOSE_HEADERS = ["Retry-After"]
CORS_ALLOW_METHODS = ["GET", "POST", "OPTIONS"]

# --- Abuse controls ------------------------------------------------------------------
# Proxies whose X-Forwarded-For we believe (addresses or CIDRs); nobody else's.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)

# --- Widget ------------------------------------------------------------------------
WIDGET_SESSION_TTL_SECONDS = env_int("WIDGET_SESSION_TTL_SECONDS", 3600, minimum=60)
WIDGET_REFRESH_TTL_SECONDS = env_int("WIDGET_REFRESH_TTL_SECONDS", 86400, minimum=300)
WIDGET_MAX_BODY_BYTES = 16 * 1024
WIDGET_HISTORY_PAGE_SIZE = 50
# Where custom-domain TXT records are looked up (widgets.delivery.custom_domains): host[:port];
# empty uses the system's resolvers.
CUSTOM_DOMAIN_DNS_RESOLVER = env_ip_port("CUSTOM_DOMAIN_DNS_RESOLVER", default_port=53)

# --- Customer identity (customers.identity) ------------------------------------------
# Customer tokens living longer than this are refused, whatever their exp says.
IDENTITY_TOKEN_MAX_LIFETIME_SECONDS = env_int(
    "IDENTITY_TOKEN_MAX_LIFETIME_SECONDS", 86400, minimum=60
)
IDENTITY_TOKEN_LEEWAY_SECONDS = env_int("IDENTITY_TOKEN_LEEWAY_SECONDS", 30, minimum=0)
# How long a rotated-out identity secret keeps verifying (the admin can choose per rotation).
IDENTITY_ROTATION_GRACE_SECONDS = env_int("IDENTITY_ROTATION_GRACE_SECONDS", 86400, minimum=0)

# --- Security headers (production) -------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# A strict policy for the platform's own pages (admin, API docs). Scripts only from us;
# inline style attributes are allowed because Django's admin uses them. Widget loader and
# core responses are scripts, which CSP does not govern; host sites set their own policy
# (docs/security.md).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF, "'unsafe-inline'"],
        "img-src": [CSP_SELF, "data:", "https:"],
        "font-src": [CSP_SELF, "data:"],
        "connect-src": [CSP_SELF, "ws:", "wss:"] if DEBUG else [CSP_SELF, "wss:"],
        "frame-ancestors": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "object-src": [CSP_NONE],
    },
}

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"Unexpected value LOG_LEVEL={LOG_LEVEL!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The MCP client's HTTP library logs every request URL at INFO; a tool server's URL
        # may carry a key in its query string.
        "httpx2": {"level": "WARNING"},
    },
}
