"""Shared fixtures: the personas (owner, teammate, outsider) and their workspaces."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from agents.models import Agent, KnowledgeArticle
from widgets.models import WidgetConfig
from workspaces.models import Membership, Workspace

SITE_ORIGIN = "https://shop.example.com"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Close each connection pool before the test database is dropped.

    Pooled connections (PostgreSQL) otherwise keep the database "in use" and it stays behind
    on the shared server.
    """
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all(initialized_only=True):
            close_pool = getattr(connection, "close_pool", None)
            if close_pool is not None:
                close_pool()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    from django.core.cache import cache

    from security.blocks import ip_blocks_drop_local
    from security.ratelimit import rate_limits_reset
    from widgets.delivery.snapshots import widget_snapshots_drop_local

    cache.clear()
    rate_limits_reset()
    # The compiled copies each process keeps (their stamps are in the cache just cleared).
    widget_snapshots_drop_local()
    ip_blocks_drop_local()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _test_servers_on_this_machine(settings: Any) -> None:
    """The suite's MCP and model servers listen on 127.0.0.1, which the SSRF guard
    (security.outbound) refuses in production; agents/integrations/tests/test_mcp_ssrf.py and
    security/tests/hostile/test_outbound.py turn the guard back on."""
    settings.MCP_ALLOW_PRIVATE_URLS = True
    settings.LLM_ALLOW_PRIVATE_URLS = True


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    """Every test gets its own channel layer.

    Each async test runs on its own event loop, while a channel layer keeps asyncio locks
    (channels_redis's receive lock) bound to the loop that first used them; a consumer left
    receiving at the end of one test would otherwise break every later test's consumers
    with "bound to a different event loop".
    """
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def workspace(db: Any) -> Workspace:
    return Workspace.objects.create(name="Acme", slug="acme")


@pytest.fixture
def other_workspace(db: Any) -> Workspace:
    return Workspace.objects.create(name="Globex", slug="globex")


def _user(username: str, **extra: Any) -> Any:
    user = get_user_model().objects.create_user(
        username=username, password="pw-" + username, is_staff=True, **extra
    )
    return user


@pytest.fixture
def owner(workspace: Workspace) -> Any:
    user = _user("owner")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def teammate(workspace: Workspace) -> Any:
    user = _user("teammate")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.AGENT)
    return user


@pytest.fixture
def outsider(other_workspace: Workspace) -> Any:
    user = _user("outsider")
    Membership.objects.create(workspace=other_workspace, user=user, role=Membership.Role.OWNER)
    return user


def make_agent(
    workspace: Workspace, *, name: str = "Helper", domains: list[str] | None = None
) -> Agent:
    agent = Agent.objects.create(workspace=workspace, name=name, greeting="Hello there!")
    WidgetConfig.objects.create(
        agent=agent, allowed_domains=domains if domains is not None else ["shop.example.com"]
    )
    return agent


@pytest.fixture
def agent(workspace: Workspace) -> Agent:
    agent = make_agent(workspace, domains=["shop.example.com", "*.example.org", "127.0.0.1"])
    for title, body in KNOWLEDGE:
        KnowledgeArticle.objects.create(
            agent=agent, title=title, body=body, source_url="https://shop.example.com/help"
        )
    return agent


@pytest.fixture
def other_agent(other_workspace: Workspace) -> Agent:
    return make_agent(other_workspace, name="Globex bot", domains=["globex.example.net"])


KNOWLEDGE = [
    (
        "Shipping times",
        "Standard shipping takes 3-5 business days. Express shipping takes "
        "1-2 business days and costs $15. We ship to Canada in 7-10 days.",
    ),
    (
        "Returns and refunds",
        "Return any unused item within 30 days of delivery for a full "
        "refund. Refunds reach your card within 5 business days.",
    ),
    ("Warranty", "Tents and backpacks have a lifetime warranty against manufacturing defects."),
    ("Payment methods", "We accept Visa, Mastercard, PayPal and Apple Pay."),
]


@pytest.fixture
def celery_worker(transactional_db: Any) -> Iterator[None]:
    """A real Celery worker when a broker is configured; eager mode needs none."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        yield
        return
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    import conversations.tasks  # noqa: F401  (registers the tasks with the app)
    from config.celery import app

    # A `celery worker` process hands its connections back after each task through Celery's
    # Django fix-up; this in-thread worker does not install it, and its thread's connection
    # would stay checked out of the pool for good once the thread ends.
    task_postrun.connect(_close_connections, weak=False, dispatch_uid="test-worker-close")
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        task_postrun.disconnect(dispatch_uid="test-worker-close")


def _close_connections(**kwargs: Any) -> None:
    from django.db import connections

    connections.close_all()
