"""security.signin, security.staff_tokens and their clean-up task, piece by piece."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from core.errors import InvalidRefreshToken
from security.signin import signin_client_ip, signin_locked_out_response
from security.staff_tokens import refresh_token_spend, staff_token_user
from security.tasks import prune_staff_sign_in_records

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Any:
    return get_user_model().objects.create_user(
        username="ana", password="pw-ana-long-enough", is_staff=True
    )


def test_two_requests_racing_with_one_refresh_token_spend_it_once(staff: Any) -> None:
    presented: Any = str(RefreshToken.for_user(staff))  # the stubs say Token; str is what works
    # Both verified (neither saw it spent) before either spends it.
    first, second = RefreshToken(presented), RefreshToken(presented)
    refresh_token_spend(first)
    with pytest.raises(InvalidRefreshToken):
        refresh_token_spend(second)
    assert BlacklistedToken.objects.count() == 1


def test_a_deleted_user_has_no_token_user(staff: Any) -> None:
    token = RefreshToken.for_user(staff)
    staff.delete()
    with pytest.raises(InvalidRefreshToken):
        staff_token_user(token)


def test_the_address_is_ours_not_the_raw_header(settings: Any) -> None:
    request = RequestFactory().post(
        "/admin/login/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.66"
    )
    assert signin_client_ip(request) == "10.0.0.5"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert signin_client_ip(request) == "192.0.2.66"


def test_an_api_lockout_answers_in_the_contract_shape() -> None:
    response = signin_locked_out_response(RequestFactory().post("/api/v2/auth/token"))
    assert response.status_code == 429
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert json.loads(response.content)["error"]["code"] == "locked_out"


def test_the_clean_up_forgets_only_what_no_longer_counts(staff: Any) -> None:
    live = RefreshToken.for_user(staff)
    OutstandingToken.objects.create(
        user=staff,
        jti="expired-one",
        token="x",
        created_at=timezone.now() - timedelta(days=3),
        expires_at=timezone.now() - timedelta(days=2),
    )
    recent = AccessAttempt.objects.create(
        username="ana", ip_address="192.0.2.1", user_agent="t", failures_since_start=2
    )
    stale = AccessAttempt.objects.create(
        username="ana", ip_address="192.0.2.2", user_agent="t", failures_since_start=9
    )
    cooled_off = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1)
    AccessAttempt.objects.filter(pk=stale.pk).update(attempt_time=cooled_off)  # auto_now_add
    assert prune_staff_sign_in_records() >= 1
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [live["jti"]]
    assert list(AccessAttempt.objects.all()) == [recent]


def test_beat_runs_the_clean_up() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["security-prune-staff-sign-in-records"]
    current_app.loader.import_default_modules()
    assert entry["task"] in current_app.tasks
