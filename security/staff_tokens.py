"""Staff JWTs (`POST /api/v2/auth/token`, `…/token/refresh`): who gets one, when one ends.

simplejwt issues and signs the tokens (settings SIMPLE_JWT names these serializers);
what the contract adds is here:
- only active staff users get tokens, and a sign-in locked out by django-axes
  (security.signin) answers 429 `locked_out`, whatever the password;
- a refresh token is good once: it is spent atomically (two requests racing with one
  token cannot both win) and answers 401 `invalid_refresh_token` ever after;
- tokens carry a fingerprint of the password hash (CHECK_REVOKE_TOKEN): simplejwt checks
  it on access tokens and `staff_token_user` on refresh, so a password change ends both,
  as does losing staff status or being deactivated.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import update_last_login
from django.db import transaction
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from core.errors import InvalidRefreshToken, StaffRequired
from security.signin import signin_locked_out


def staff_may_hold_tokens(user: Any) -> bool:
    return bool(user is not None and user.is_active and user.is_staff)


def _token_pair(user: Any) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)  # recorded as outstanding
    return {"refresh": str(refresh), "access": str(refresh.access_token)}


class StaffTokenObtainSerializer(TokenObtainPairSerializer):
    """Username and password → a token pair, for active staff users only."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        request = self.context.get("request")
        try:
            # TokenObtainSerializer.validate: authenticate() through django-axes, which
            # refuses a locked-out account or address before the password is checked.
            super(TokenObtainPairSerializer, self).validate(attrs)
        except AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                raise signin_locked_out(request) from None  # type: ignore[arg-type]
            raise
        if not staff_may_hold_tokens(self.user):
            raise StaffRequired("API tokens are for staff users; ask an administrator.")
        tokens = _token_pair(self.user)
        update_last_login(None, self.user)  # type: ignore[arg-type]
        return tokens


def staff_token_user(refresh: RefreshToken) -> Any:
    """The user a refresh token still speaks for: active staff whose password is the one
    the token was issued under. InvalidRefreshToken otherwise."""
    user_id = refresh.payload.get(api_settings.USER_ID_CLAIM)
    user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    if not staff_may_hold_tokens(user):
        raise InvalidRefreshToken("This account may no longer hold API tokens.")
    claim = refresh.payload.get(api_settings.REVOKE_TOKEN_CLAIM)
    if claim != get_md5_hash_password(user.password):  # type: ignore[union-attr]
        raise InvalidRefreshToken("The password has changed since this token was issued.")
    return user


def refresh_token_spend(refresh: RefreshToken) -> None:
    """Blacklist `refresh`; InvalidRefreshToken if it already was (also by a racing request:
    the blacklist row is unique, so exactly one of them creates it)."""
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=refresh.payload[api_settings.JTI_CLAIM],
        defaults={
            "user_id": refresh.payload.get(api_settings.USER_ID_CLAIM),
            "token": str(refresh),
            "created_at": refresh.current_time,
            "expires_at": datetime_from_epoch(refresh.payload["exp"]),
        },
    )
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise InvalidRefreshToken()


class StaffTokenRefreshSerializer(TokenRefreshSerializer):
    """A refresh token → a new pair; the presented token is spent."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            refresh = RefreshToken(attrs["refresh"])  # signature, expiry, type, blacklist
        except TokenError:
            raise InvalidRefreshToken() from None
        with transaction.atomic():
            user = staff_token_user(refresh)
            refresh_token_spend(refresh)
            return _token_pair(user)
