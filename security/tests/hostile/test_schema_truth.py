"""An integrator who sends what the schema does not allow: another type, an undeclared
field, a malformed page. Each gets the typed 400 the schema declares, and nothing changes.
(The whole API is held to its schema by config/tests/test_openapi_contract.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agents.models import Agent, KnowledgeArticle
from customers.models import Customer
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db


def as_key(key: str) -> dict[str, str]:
    return {"authorization": f"Api-Key {key}"}


@pytest.fixture
def ada(workspace_a: Workspace) -> Customer:
    return Customer.objects.create(
        workspace=workspace_a, external_id="user-1", is_verified=True, name="Ada"
    )


@pytest.mark.parametrize(
    "body",
    # DRF alone would store "42" and "4.2": a number is not a name.
    [{"name": 42}, {"name": 4.2}, {"name": 7, "attributes": {"plan": "pro"}}],
)
def test_a_customer_patch_outside_the_schema_changes_nothing(
    client: Client, write_key: str, ada: Customer, body: dict[str, Any]
) -> None:
    response = client.patch(
        f"/api/v2/customers/{ada.pk}",
        data=body,
        content_type="application/json",
        headers=as_key(write_key),
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    ada.refresh_from_db()
    assert (ada.name, ada.attributes) == ("Ada", {})


def test_a_boolean_spelled_as_text_is_refused(
    client: Client, write_key: str, agent_a: Agent
) -> None:
    article = KnowledgeArticle.objects.create(agent=agent_a, title="Returns", body="30 days")
    response = client.patch(
        f"/api/v2/agents/{agent_a.public_id}/knowledge/{article.pk}",
        data={"isPublished": "no"},
        content_type="application/json",
        headers=as_key(write_key),
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["isPublished"]
    assert KnowledgeArticle.objects.get(pk=article.pk).is_published is True


@pytest.mark.parametrize("query", ["limit=lots", "limit=0", "offset=-5", "offset=1e3"])
def test_a_malformed_page_is_a_typed_400(
    client: Client, read_only_key: str, agent_a: Agent, query: str
) -> None:
    response = client.get(f"/api/v2/customers/?{query}", headers=as_key(read_only_key))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
