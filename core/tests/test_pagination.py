"""Lists take `limit` and `offset` as whole numbers, and refuse anything else."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from agents.models import Agent

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_pages_with_limit_and_offset(owner: Any, agent: Agent) -> None:
    page = api(owner).get(f"/api/v2/agents/{agent.public_id}/knowledge?limit=2&offset=1").json()
    assert page["count"] == 4
    assert len(page["results"]) == 2
    assert "offset=3" in page["next"]


@pytest.mark.parametrize(
    "query",
    [
        "limit=abc",
        "limit=0",
        "limit=-1",
        "limit=201",
        "offset=-1",
        "offset=null",
        "offset=1000000001",
        "offset=99999999999999999999",  # beyond PostgreSQL's bigint: was a 500
    ],
)
def test_it_refuses_a_malformed_limit_or_offset(owner: Any, agent: Agent, query: str) -> None:
    response = api(owner).get(f"/api/v2/agents/{agent.public_id}/knowledge?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
