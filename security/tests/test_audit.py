"""Staff manage blocks and limits in the admin; every change is audited, and read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from security.models import AuditEntry, IpBlock


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def agent_form(agent, **widget: str) -> dict[str, str]:
    config = agent.widget_config
    return {
        "workspace": str(agent.workspace_id),
        "name": agent.name,
        "greeting": agent.greeting,
        "avatar_url": "",
        "is_active": "on",
        "pii_masking": "{}",
        "pii_region": "US",
        "responder": "knowledge",
        "llm_max_output_tokens": "600",
        "llm_timeout_seconds": "20",
        "widget_config-TOTAL_FORMS": "1",
        "widget_config-INITIAL_FORMS": "1",
        "widget_config-MIN_NUM_FORMS": "0",
        "widget_config-MAX_NUM_FORMS": "1",
        "widget_config-0-id": str(config.pk),
        "widget_config-0-agent": str(agent.pk),
        "widget_config-0-allowed_domains": widget.get("allowed_domains", '["shop.example.com"]'),
        "widget_config-0-position": "bottom-right",
        "widget_config-0-theme": "{}",
        "widget_config-0-features": '["chat"]',
        "widget_config-0-custom_css": "",
        "widget_config-0-rate_limits": widget.get("rate_limits", "{}"),
        "articles-TOTAL_FORMS": "0",
        "articles-INITIAL_FORMS": "0",
        "mcp_servers-TOTAL_FORMS": "0",
        "mcp_servers-INITIAL_FORMS": "0",
    }


@pytest.mark.django_db
class TestWidgetAccessAudit:
    def test_changing_allowed_domains_is_audited_with_before_and_after(self, owner, agent) -> None:
        response = logged_in(owner).post(
            f"/admin/agents/agent/{agent.pk}/change/",
            agent_form(agent, allowed_domains='["shop.example.com", "*.acme.test"]'),
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        entry = AuditEntry.objects.get(action="widget.access_changed")
        assert entry.actor == owner
        assert entry.workspace_id == agent.workspace_id
        assert entry.changes["allowed_domains"]["to"] == ["shop.example.com", "*.acme.test"]

    def test_a_star_saves_with_a_visible_warning(self, owner, agent) -> None:
        response = logged_in(owner).post(
            f"/admin/agents/agent/{agent.pk}/change/",
            agent_form(agent, allowed_domains='["*"]'),
            follow=True,
        )
        assert "lets any website embed this agent" in response.content.decode()

    def test_unknown_limit_names_are_refused(self, owner, agent) -> None:
        response = logged_in(owner).post(
            f"/admin/agents/agent/{agent.pk}/change/",
            agent_form(agent, rate_limits='{"bogus": 5}'),
        )
        assert response.status_code == 200
        assert "Unknown limits: bogus" in response.content.decode()
        agent.widget_config.refresh_from_db()
        assert agent.widget_config.rate_limits == {}


@pytest.mark.django_db
class TestIpBlockAdmin:
    def test_an_owner_blocks_a_network_for_their_workspace_and_it_is_audited(
        self, owner, workspace
    ) -> None:
        response = logged_in(owner).post(
            "/admin/security/ipblock/add/",
            {"network": "203.0.113.0/24", "workspace": workspace.pk, "reason": "card testing"},
        )
        assert response.status_code == 302
        block = IpBlock.objects.get()
        assert block.created_by == owner
        entry = AuditEntry.objects.get(action="ip_block.added")
        assert entry.target == "203.0.113.0/24"

    def test_only_superusers_block_platform_wide(self, owner) -> None:
        response = logged_in(owner).post(
            "/admin/security/ipblock/add/", {"network": "203.0.113.7", "reason": "x"}
        )
        assert response.status_code == 200
        assert not IpBlock.objects.exists()

    def test_a_bad_network_is_refused(self, owner, workspace) -> None:
        response = logged_in(owner).post(
            "/admin/security/ipblock/add/",
            {"network": "300.1.1.1/99", "workspace": workspace.pk, "reason": "x"},
        )
        assert response.status_code == 200
        assert "is not an IP address or CIDR network" in response.content.decode()

    def test_the_audit_log_is_read_only_and_scoped(self, owner, outsider, other_workspace) -> None:
        entry = AuditEntry.objects.create(action="x", target="theirs", workspace=other_workspace)
        assert logged_in(outsider).get("/admin/security/auditentry/").status_code == 200
        mine = logged_in(owner).get("/admin/security/auditentry/").content.decode()
        assert "theirs" not in mine
        response = logged_in(outsider).post(
            f"/admin/security/auditentry/{entry.pk}/delete/", {"post": "yes"}
        )
        assert response.status_code == 403
        assert AuditEntry.objects.filter(pk=entry.pk).exists()
