from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from conftest import SITE_ORIGIN
from conversations.models import Conversation, Message

SESSION_URL = "/api/v2/widget/session"


def start(client: Client, agent_id: str, origin: str | None = SITE_ORIGIN, **body: Any) -> Any:
    headers: dict[str, Any] = {"HTTP_ORIGIN": origin} if origin else {}
    return client.post(
        SESSION_URL,
        data=json.dumps({"agentId": agent_id, **body}),
        content_type="application/json",
        **headers,
    )


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


@pytest.mark.django_db
class TestSessionStart:
    def test_allowed_origin_gets_a_session_with_cors_headers(self, client: Client, agent) -> None:
        response = start(client, agent.public_id)
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == SITE_ORIGIN
        body = response.json()
        assert body["visitorId"].startswith("vis_")
        assert body["token"] and body["refreshToken"] and body["expiresAt"].endswith("Z")
        assert body["config"]["agentId"] == agent.public_id
        assert body["config"]["greeting"] == "Hello there!"
        assert body["conversation"] is None

    def test_wildcard_subdomain_is_allowed(self, client: Client, agent) -> None:
        response = start(client, agent.public_id, origin="https://blog.example.org")
        assert response.status_code == 200

    @pytest.mark.parametrize(
        "origin", ["https://example.com.evil.net", "https://evilexample.com", "https://evil.test"]
    )
    def test_other_origin_is_refused_without_cors_headers(
        self, client: Client, agent, origin
    ) -> None:
        response = start(client, agent.public_id, origin=origin)
        assert response.status_code == 403
        assert error_code(response) == "origin_not_allowed"
        assert "Access-Control-Allow-Origin" not in response

    def test_missing_origin_is_refused(self, client: Client, agent) -> None:
        response = start(client, agent.public_id, origin=None)
        assert response.status_code == 403
        assert error_code(response) == "origin_not_allowed"

    def test_unknown_agent_is_404(self, client: Client, agent) -> None:
        response = start(client, "agt_doesnotexist0000")
        assert response.status_code == 404
        assert error_code(response) == "agent_not_found"

    def test_inactive_agent_is_404(self, client: Client, agent) -> None:
        agent.is_active = False
        agent.save()
        assert error_code(start(client, agent.public_id)) == "agent_not_found"

    @pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
    def test_malformed_json_is_invalid_request(self, client: Client, agent, body: bytes) -> None:
        response = client.post(
            SESSION_URL, data=body, content_type="application/json", HTTP_ORIGIN=SITE_ORIGIN
        )
        assert response.status_code == 400
        assert error_code(response) == "invalid_request"

    def test_missing_agent_id_is_invalid_request(self, client: Client, agent) -> None:
        response = client.post(
            SESSION_URL, data="{}", content_type="application/json", HTTP_ORIGIN=SITE_ORIGIN
        )
        assert response.status_code == 400

    def test_huge_body_is_413(self, client: Client, agent) -> None:
        response = start(client, agent.public_id, url="https://x/" + "a" * 20000)
        assert response.status_code == 413
        assert error_code(response) == "payload_too_large"

    def test_a_remembered_visitor_id_resumes_their_conversation(
        self, client: Client, agent
    ) -> None:
        first = start(client, agent.public_id).json()
        conversation = Conversation.objects.create(agent=agent, visitor_id=first["visitorId"])
        Message.objects.create(
            conversation=conversation, role="customer", text="hi", client_id="c1"
        )
        again = start(
            client,
            agent.public_id,
            visitorId=first["visitorId"],
            visitorSecret=first["visitorSecret"],
        ).json()
        assert again["visitorId"] == first["visitorId"]
        assert again["conversation"]["id"] == conversation.public_id
        assert [m["text"] for m in again["conversation"]["messages"]] == ["hi"]

    def test_a_forged_visitor_id_is_replaced(self, client: Client, agent) -> None:
        body = start(client, agent.public_id, visitorId="../../etc/passwd").json()
        assert body["visitorId"].startswith("vis_")

    def test_a_visitor_id_without_its_secret_starts_a_new_visitor(
        self, client: Client, agent
    ) -> None:
        first = start(client, agent.public_id).json()
        Conversation.objects.create(agent=agent, visitor_id=first["visitorId"])
        again = start(client, agent.public_id, visitorId=first["visitorId"]).json()
        assert again["visitorId"] != first["visitorId"]
        assert again["visitorSecret"] != first["visitorSecret"]
        assert again["conversation"] is None

    def test_preflight_answers_only_known_origins(self, client: Client, agent) -> None:
        ok = client.options(
            SESSION_URL, HTTP_ORIGIN=SITE_ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
        )
        bad = client.options(
            SESSION_URL, HTTP_ORIGIN="https://evil.test", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
        )
        assert ok["Access-Control-Allow-Origin"] == SITE_ORIGIN
        assert "Access-Control-Allow-Origin" not in bad

    def test_origin_allowed_for_another_agent_gets_no_cors_for_this_one(
        self, client: Client, agent, other_agent
    ) -> None:
        response = start(client, agent.public_id, origin="https://globex.example.net")
        assert response.status_code == 403
        assert "Access-Control-Allow-Origin" not in response

    def test_changing_allowed_domains_takes_effect_at_once(self, client: Client, agent) -> None:
        assert start(client, agent.public_id).status_code == 200
        config = agent.widget_config
        config.allowed_domains = ["elsewhere.example.com"]
        config.save()
        assert start(client, agent.public_id).status_code == 403


@pytest.mark.django_db
class TestHistory:
    def setup_conversation(self, client: Client, agent) -> tuple[dict[str, Any], Conversation]:
        session = start(client, agent.public_id).json()
        conversation = Conversation.objects.create(agent=agent, visitor_id=session["visitorId"])
        for index in range(3):
            Message.objects.create(
                conversation=conversation, role="customer", text=f"m{index}", client_id=f"c{index}"
            )
        return session, conversation

    def get(
        self,
        client: Client,
        conversation_id: str,
        token: str,
        after: str = "",
        origin: str = SITE_ORIGIN,
    ) -> Any:
        url = f"/api/v2/widget/conversations/{conversation_id}/messages"
        return client.get(
            url,
            {"after": after} if after else {},
            HTTP_ORIGIN=origin,
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    def test_it_returns_messages_after_an_id(self, client: Client, agent) -> None:
        session, conversation = self.setup_conversation(client, agent)
        everything = self.get(client, conversation.public_id, session["token"]).json()
        assert [m["text"] for m in everything["messages"]] == ["m0", "m1", "m2"]
        first_id = everything["messages"][0]["id"]
        after = self.get(client, conversation.public_id, session["token"], after=first_id).json()
        assert [m["text"] for m in after["messages"]] == ["m1", "m2"]
        assert after["hasMore"] is False

    def test_it_needs_a_token(self, client: Client, agent) -> None:
        _, conversation = self.setup_conversation(client, agent)
        response = client.get(
            f"/api/v2/widget/conversations/{conversation.public_id}/messages",
            HTTP_ORIGIN=SITE_ORIGIN,
        )
        assert response.status_code == 401

    def test_a_forged_token_is_401(self, client: Client, agent) -> None:
        session, conversation = self.setup_conversation(client, agent)
        forged = session["token"][:-4] + (
            "AAAA" if not session["token"].endswith("AAAA") else "BBBB"
        )
        assert self.get(client, conversation.public_id, forged).status_code == 401

    def test_a_token_from_another_origin_is_403(self, client: Client, agent) -> None:
        session, conversation = self.setup_conversation(client, agent)
        response = self.get(
            client, conversation.public_id, session["token"], origin="https://blog.example.org"
        )
        assert response.status_code == 403

    def test_another_visitors_conversation_is_404(self, client: Client, agent) -> None:
        _, conversation = self.setup_conversation(client, agent)
        stranger = start(client, agent.public_id).json()
        response = self.get(client, conversation.public_id, stranger["token"])
        assert response.status_code == 404
        assert "m0" not in response.content.decode()


@pytest.mark.django_db
class TestRefresh:
    def refresh(self, client: Client, token: str, origin: str = SITE_ORIGIN) -> Any:
        return client.post(
            "/api/v2/widget/session/refresh",
            data=json.dumps({"refreshToken": token}),
            content_type="application/json",
            HTTP_ORIGIN=origin,
        )

    def test_a_refresh_token_works_once_and_reuse_revokes_the_family(self, client, agent) -> None:
        session = start(client, agent.public_id).json()
        first = self.refresh(client, session["refreshToken"])
        assert first.status_code == 200
        assert first["Access-Control-Allow-Origin"] == SITE_ORIGIN
        rotated = first.json()["refreshToken"]
        assert rotated != session["refreshToken"]
        reused = self.refresh(client, session["refreshToken"])
        assert reused.status_code == 401
        assert error_code(reused) == "invalid_refresh_token"
        # The thief's reuse also kills the legitimate, rotated token.
        assert self.refresh(client, rotated).status_code == 401

    def test_an_access_token_is_not_a_refresh_token(self, client, agent) -> None:
        session = start(client, agent.public_id).json()
        assert self.refresh(client, session["token"]).status_code == 401


@pytest.mark.django_db
def test_a_token_for_one_agent_cannot_read_another_agents_conversation(client, agent) -> None:
    from conftest import make_agent

    sibling = make_agent(agent.workspace, name="Sibling", domains=["shop.example.com"])
    session = start(client, agent.public_id).json()
    theirs = Conversation.objects.create(agent=sibling, visitor_id=session["visitorId"])
    Message.objects.create(conversation=theirs, role="customer", text="sibling secret")
    response = client.get(
        f"/api/v2/widget/conversations/{theirs.public_id}/messages",
        HTTP_ORIGIN=SITE_ORIGIN,
        HTTP_AUTHORIZATION=f"Bearer {session['token']}",
    )
    assert response.status_code == 404
    assert "sibling secret" not in response.content.decode()
