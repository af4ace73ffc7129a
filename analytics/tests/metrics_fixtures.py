"""Roll-up buckets written by hand, shared by the API and dashboard tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from analytics.histograms import histogram_of
from analytics.models import MetricsBucket
from analytics.rollups import day_start


def bucket(agent: Any, start: datetime, grain: str = "day", **values: Any) -> MetricsBucket:
    return MetricsBucket.objects.create(
        workspace_id=agent.workspace_id,
        agent_id=agent.public_id,
        grain=grain,
        start=start,
        **values,
    )


def days_ago(n: int) -> datetime:
    return day_start(timezone.now().date() - timedelta(days=n))


@pytest.fixture
def buckets(agent: Any, other_agent: Any) -> None:
    """Two days of one agent on two sites, and the outsider's agent."""
    bucket(
        agent,
        days_ago(2),
        domain="shop.example.com",
        loads=100,
        opens=25,
        visitors=80,
        conversations=10,
        customer_messages=30,
        agent_messages=30,
        resolved_bot=6,
        resolved_human=2,
        handoffs=3,
        csat_count=4,
        csat_sum=18,
        errors=1,
        load_time_hist=histogram_of([99.9] * 10),
        first_response_hist=histogram_of([999.0] * 10),
    )
    bucket(agent, days_ago(1), domain="shop.example.com", loads=50, opens=5, conversations=0)
    bucket(agent, days_ago(1), domain="blog.example.org", variant="greet:b", loads=50, opens=20)
    for hour in range(3):
        bucket(agent, days_ago(1) + timedelta(hours=hour), grain="hour", loads=10 + hour)
    bucket(other_agent, days_ago(1), domain="globex.example.net", loads=999)
