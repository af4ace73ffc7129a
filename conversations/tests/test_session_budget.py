"""What a widget session costs: at most one query and one Redis round trip, every check kept.

The figures are counts, not timings: queries through pytest-django, Redis round trips by
counting the commands (or pipelines, or scripts) every redis-py connection sends. The
agent's snapshot is compiled by a first session; what is measured is the next one, as on
a live server where the snapshot is already in memory.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from conftest import SITE_ORIGIN
from conversations.models import Conversation, Message
from widgets.publishing.drafts import widget_draft_update

SESSION_URL = "/api/v2/widget/session"
REFRESH_URL = "/api/v2/widget/session/refresh"

pytestmark = pytest.mark.django_db


class RoundTrips:
    """Counts what every redis-py connection of this process sends (one send, one reply)."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def redis_round_trips(monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    if not settings.REDIS_URL:
        pytest.skip("counts Redis round trips: run with REDIS_URL")
    from redis.connection import AbstractConnection

    counter = RoundTrips()
    send = AbstractConnection.send_packed_command

    def counting(self: Any, command: Any, check_health: bool = True) -> None:
        counter.count += 1
        send(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return counter


def start(client: Client, agent_id: str, **body: Any) -> Any:
    return client.post(
        SESSION_URL,
        data=json.dumps({"agentId": agent_id, **body}),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    )


def refresh(client: Client, token: str) -> Any:
    return client.post(
        REFRESH_URL,
        data=json.dumps({"refreshToken": token}),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    )


def returning(client: Client, agent: Any) -> dict[str, Any]:
    """A first session (which also compiles the agent's snapshot): the visitor it made."""
    first = start(client, agent.public_id)
    assert first.status_code == 200
    return dict(first.json())


def test_a_new_visitors_session_asks_the_database_nothing(
    client: Client, agent: Any, django_assert_num_queries: Any
) -> None:
    returning(client, agent)
    with django_assert_num_queries(0):
        response = start(client, agent.public_id)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE_ORIGIN


def test_a_returning_visitors_session_is_one_query(
    client: Client, agent: Any, django_assert_num_queries: Any
) -> None:
    visitor = returning(client, agent)
    again = {"visitorId": visitor["visitorId"], "visitorSecret": visitor["visitorSecret"]}
    with django_assert_num_queries(1):
        assert start(client, agent.public_id, **again).json()["conversation"] is None
    conversation = Conversation.objects.create(agent=agent, visitor_id=visitor["visitorId"])
    for n in range(3):
        Message.objects.create(conversation=conversation, role="customer", text=f"m{n}")
    Message.objects.create(conversation=conversation, role="note", text="staff only")
    with django_assert_num_queries(1):
        body = start(client, agent.public_id, **again).json()
    shown = body["conversation"]
    assert shown["id"] == conversation.public_id and shown["hasMore"] is False
    assert [m["text"] for m in shown["messages"]] == ["m0", "m1", "m2"]


def test_a_long_conversation_resumes_with_its_latest_page(
    client: Client, agent: Any, settings: Any
) -> None:
    settings.WIDGET_HISTORY_PAGE_SIZE = 2
    visitor = returning(client, agent)
    conversation = Conversation.objects.create(agent=agent, visitor_id=visitor["visitorId"])
    for n in range(3):
        Message.objects.create(conversation=conversation, role="customer", text=f"m{n}")
    body = start(
        client,
        agent.public_id,
        visitorId=visitor["visitorId"],
        visitorSecret=visitor["visitorSecret"],
    ).json()
    assert [m["text"] for m in body["conversation"]["messages"]] == ["m1", "m2"]
    assert body["conversation"]["hasMore"] is True


def test_a_refresh_is_one_query(client: Client, agent: Any, django_assert_num_queries: Any) -> None:
    session = returning(client, agent)
    with django_assert_num_queries(1):
        response = refresh(client, session["refreshToken"])
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE_ORIGIN


def test_a_session_is_one_redis_round_trip(
    client: Client, agent: Any, redis_round_trips: RoundTrips, settings: Any
) -> None:
    settings.RATE_LIMITS_ENABLED = True
    visitor = returning(client, agent)
    before = redis_round_trips.count
    response = start(client, agent.public_id)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE_ORIGIN  # the CORS check included
    assert redis_round_trips.count - before == 1
    before = redis_round_trips.count
    again = {"visitorId": visitor["visitorId"], "visitorSecret": visitor["visitorSecret"]}
    assert start(client, agent.public_id, **again).status_code == 200
    assert redis_round_trips.count - before == 1


def test_a_refresh_is_one_redis_round_trip(
    client: Client, agent: Any, redis_round_trips: RoundTrips, settings: Any
) -> None:
    settings.RATE_LIMITS_ENABLED = True
    session = returning(client, agent)
    refresh(client, returning(client, agent)["refreshToken"])  # the script is loaded now
    before = redis_round_trips.count
    response = refresh(client, session["refreshToken"])
    assert response.status_code == 200
    assert redis_round_trips.count - before == 1
    # The token was spent in that round trip: using it again revokes the family.
    assert refresh(client, session["refreshToken"]).status_code == 401
    assert refresh(client, response.json()["refreshToken"]).status_code == 401


def test_the_fast_path_still_counts_the_limit(
    client: Client, agent: Any, settings: Any, django_assert_max_num_queries: Any
) -> None:
    settings.RATE_LIMITS_ENABLED = True
    widget_draft_update(agent=agent, values={"rateLimits": {"session_per_ip": 3}})
    assert [start(client, agent.public_id).status_code for _ in range(3)] == [200] * 3
    with django_assert_max_num_queries(0):
        refused = start(client, agent.public_id)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert refused["Access-Control-Allow-Origin"] == SITE_ORIGIN  # the site can read why


def test_a_refused_address_does_not_use_up_the_sites_limit(
    client: Client, agent: Any, settings: Any
) -> None:
    """Counting stops at the first limit refused: one noisy address cannot exhaust the
    per-site limit every visitor of the site shares."""
    settings.RATE_LIMITS_ENABLED = True
    widget_draft_update(
        agent=agent,
        values={"rateLimits": {"session_per_ip": 2, "session_per_agent_domain": 4}},
    )
    statuses = [start(client, agent.public_id).status_code for _ in range(6)]
    assert statuses == [200, 200, 429, 429, 429, 429]
    widget_draft_update(agent=agent, values={"rateLimits": {"session_per_agent_domain": 4}})
    assert [start(client, agent.public_id).status_code for _ in range(3)] == [200, 200, 429]


def test_an_unknown_agent_costs_one_query_and_is_remembered(
    client: Client, agent: Any, django_assert_num_queries: Any
) -> None:
    assert start(client, "agt_doesnotexist").status_code == 404
    with django_assert_num_queries(1):  # the installation check's own lookup, nothing more
        response = start(client, "agt_doesnotexist")
    assert response.status_code == 404
    assert "Access-Control-Allow-Origin" not in response
