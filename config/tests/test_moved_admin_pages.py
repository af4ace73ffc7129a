"""Admin pages of models that moved app (issue 16) answer at their new address, and the
old one sends staff there."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/admin/agents/membership/", "/admin/workspaces/membership/"),
        ("/admin/agents/apikey/add/?workspace=3", "/admin/workspaces/apikey/add/?workspace=3"),
        ("/admin/agents/workspace/7/change/", "/admin/workspaces/workspace/7/change/"),
        ("/admin/analytics/experiment/", "/admin/experiments/experiment/"),
    ],
)
def test_an_old_admin_address_sends_staff_to_the_new_one(old: str, new: str) -> None:
    response = Client().get(old)
    assert response.status_code == 301
    assert response["Location"] == new


def test_the_agents_own_pages_stay_where_they_were() -> None:
    response = Client().get("/admin/agents/agent/")
    assert response.status_code == 302  # the sign-in page, not a redirect to workspaces
    assert "/admin/login/" in response["Location"]
