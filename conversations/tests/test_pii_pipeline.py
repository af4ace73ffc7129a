"""Personal data is masked before a visitor's message is stored, as each agent asks."""

from __future__ import annotations

import pytest
from django.test import Client

from conversations.models import Message
from conversations.parties import Party
from conversations.services import message_receive
from security.models import AuditEntry

CARD = "4242 4242 4242 4242"


@pytest.mark.django_db
class TestMaskingBeforeStorage:
    def receive(self, agent, text: str) -> Message:
        return message_receive(
            agent=agent, party=Party(visitor_id="vis_aaaaaaaaaaaaaaaa"), client_id="c-1", text=text
        ).message

    def test_a_card_number_is_never_stored(self, agent) -> None:
        message = self.receive(agent, f"my card is {CARD}, email ana@example.com")
        stored = Message.objects.get(pk=message.pk)
        assert CARD not in stored.text and "4242 4242" not in stored.text
        assert "[card ending 4242]" in stored.text
        assert "ana@example.com" not in stored.text
        assert stored.metadata == {"piiMasked": ["card", "email"]}

    def test_an_agent_can_mask_only_some_kinds(self, agent) -> None:
        agent.pii_masking = {"kinds": ["card"]}
        agent.save()
        stored = self.receive(agent, f"card {CARD}, write to ana@example.com")
        assert "ana@example.com" in stored.text
        assert "[card ending 4242]" in stored.text

    def test_an_agent_can_turn_masking_off(self, agent) -> None:
        agent.pii_masking = {"enabled": False}
        agent.save()
        assert CARD in self.receive(agent, f"card {CARD}").text

    def test_an_unreadable_stored_config_masks_everything(self, agent) -> None:
        agent.pii_masking = {"kinds": ["nonsense"]}
        agent.save()
        assert CARD not in self.receive(agent, f"card {CARD}").text

    def test_ordinary_numbers_stay_readable(self, agent) -> None:
        text = "Order #1042 cost $1,299.00 on 2024-01-15"
        assert self.receive(agent, text).text == text


@pytest.mark.django_db
def test_the_admin_refuses_a_bad_pii_config_and_audits_a_good_one(owner, agent) -> None:
    client = Client()
    client.force_login(owner)
    form = {
        "workspace": agent.workspace_id,
        "name": agent.name,
        "greeting": agent.greeting,
        "is_active": "on",
        "pii_region": "fr",
        "responder": "knowledge",
        "llm_max_output_tokens": "600",
        "llm_timeout_seconds": "20",
        "widget_config-TOTAL_FORMS": "0",
        "widget_config-INITIAL_FORMS": "0",
        "articles-TOTAL_FORMS": "0",
        "articles-INITIAL_FORMS": "0",
        "mcp_servers-TOTAL_FORMS": "0",
        "mcp_servers-INITIAL_FORMS": "0",
    }
    bad = client.post(
        f"/admin/agents/agent/{agent.pk}/change/", {**form, "pii_masking": '{"kinds": ["dna"]}'}
    )
    assert bad.status_code == 200
    assert "Unknown PII kind" in bad.content.decode()
    good = client.post(
        f"/admin/agents/agent/{agent.pk}/change/", {**form, "pii_masking": '{"kinds": ["card"]}'}
    )
    assert good.status_code == 302
    agent.refresh_from_db()
    assert agent.pii_masking == {"kinds": ["card"]} and agent.pii_region == "FR"
    entry = AuditEntry.objects.get(action="agent.pii_changed")
    assert entry.changes["pii_masking"]["to"] == {"kinds": ["card"]}
