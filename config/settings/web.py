"""The platform's own HTTP surface: auth, i18n, static files, the REST API, staff sign-in
lockout, CORS."""

from __future__ import annotations

from datetime import timedelta

from config.settings.base import BASE_DIR, DEBUG
from core.env import (
    env_int,
)

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
        "workspaces.api_auth.ApiKeyAuthentication",
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
