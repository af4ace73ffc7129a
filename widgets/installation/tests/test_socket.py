"""The widget websocket notes a site it refuses for not being allowed (not a token that
was merely replayed from another allowed site)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from conftest import SITE_ORIGIN
from conversations.tests.test_consumer import connect, issue
from widgets.models import InstallationRefusal, WidgetConfig

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]

CLOSED_4403 = {"type": "websocket.close", "code": 4403}


def drop_shop(agent: Any) -> None:
    config = WidgetConfig.objects.get(agent=agent)
    config.allowed_domains = ["*.example.org"]
    config.save()


async def test_a_site_dropped_from_the_allowed_domains_is_noted(agent: Any) -> None:
    token, _ = issue(agent)
    await sync_to_async(drop_shop)(agent)
    communicator, _, _ = await connect(token)
    assert await communicator.receive_output(timeout=5) == CLOSED_4403
    rows = [(r.host, r.reason) async for r in InstallationRefusal.objects.filter(agent=agent)]
    assert rows == [("shop.example.com", "origin_not_allowed")]


async def test_a_token_replayed_on_another_allowed_site_is_not_a_refused_site(agent: Any) -> None:
    token, _ = issue(agent, origin=SITE_ORIGIN)
    communicator, _, _ = await connect(token, origin="https://blog.example.org")
    assert await communicator.receive_output(timeout=5) == CLOSED_4403
    assert not await InstallationRefusal.objects.filter(agent=agent).aexists()
