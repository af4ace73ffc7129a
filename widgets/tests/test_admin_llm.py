"""The agent's model settings in the admin: the API key is write-only and stored sealed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agents.models import Agent
from security.models import AuditEntry
from security.sealing import seal, unseal

SECRET = "sk-live-0123456789abcdef"


def change_form(agent: Agent, **fields: str) -> dict[str, Any]:
    return {
        "workspace": agent.workspace_id,
        "name": agent.name,
        "greeting": agent.greeting,
        "is_active": "on",
        "pii_masking": "{}",
        "pii_region": "US",
        "responder": "llm",
        "llm_base_url": "https://models.example.com/v1",
        "llm_model": "small-model",
        "llm_max_output_tokens": "400",
        "llm_timeout_seconds": "15",
        "monthly_token_budget": "2000000",
        "customer_daily_token_budget": "20000",
        "widget_config-TOTAL_FORMS": "0",
        "widget_config-INITIAL_FORMS": "0",
        "articles-TOTAL_FORMS": "0",
        "articles-INITIAL_FORMS": "0",
        "mcp_servers-TOTAL_FORMS": "0",
        "mcp_servers-INITIAL_FORMS": "0",
        **fields,
    }


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
class TestModelSettingsInTheAdmin:
    def url(self, agent: Agent) -> str:
        return f"/admin/agents/agent/{agent.pk}/change/"

    def test_the_owner_sets_a_model_and_a_key_that_is_stored_sealed(self, owner, agent) -> None:
        response = logged_in(owner).post(self.url(agent), change_form(agent, llm_api_key=SECRET))
        assert response.status_code == 302
        agent.refresh_from_db()
        assert agent.responder == "llm" and agent.llm_model == "small-model"
        assert agent.monthly_token_budget == 2_000_000
        assert SECRET not in agent.llm_api_key_sealed
        assert unseal(agent.llm_api_key_sealed) == SECRET
        entry = AuditEntry.objects.get(action="agent.llm_changed")
        assert entry.changes["llm_api_key"] == {"from": "unset", "to": "set"}
        assert SECRET not in str(entry.changes)

    def test_the_key_is_never_shown_back_only_whether_one_is_set(self, owner, agent) -> None:
        agent.llm_api_key_sealed = seal(SECRET)
        agent.save()
        page = logged_in(owner).get(self.url(agent)).content.decode()
        assert SECRET not in page and agent.llm_api_key_sealed not in page
        assert "Set (sealed" in page

    def test_saving_without_a_new_key_keeps_the_old_one(self, owner, agent) -> None:
        agent.llm_api_key_sealed = seal(SECRET)
        agent.save()
        logged_in(owner).post(self.url(agent), change_form(agent))
        agent.refresh_from_db()
        assert unseal(agent.llm_api_key_sealed) == SECRET

    def test_the_key_can_be_forgotten(self, owner, agent) -> None:
        agent.llm_api_key_sealed = seal(SECRET)
        agent.save()
        logged_in(owner).post(self.url(agent), change_form(agent, llm_api_key_clear="on"))
        agent.refresh_from_db()
        assert agent.llm_api_key_sealed == ""

    def test_a_model_agent_needs_a_server_somewhere(self, owner, agent, settings) -> None:
        settings.LLM_BASE_URL = ""
        response = logged_in(owner).post(self.url(agent), change_form(agent, llm_base_url=""))
        assert response.status_code == 200
        assert "needs a server URL and a model name" in response.content.decode()

    def test_a_teammate_cannot_change_the_key(self, teammate, agent) -> None:
        response = logged_in(teammate).post(self.url(agent), change_form(agent, llm_api_key="x"))
        assert response.status_code == 403
        agent.refresh_from_db()
        assert agent.llm_api_key_sealed == ""
