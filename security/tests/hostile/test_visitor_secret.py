"""The visitor id is a label, not a credential (issue 13, item 7).

A visitor id (`vis_…`) is shown to staff, in the inbox and by the REST API, so anyone
may learn it. Only the visitor secret the session endpoint gave the victim's browser
resumes the victim's conversation, or joins it to a verified customer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from django.test import Client

from agents.models import Agent
from conversations.models import Conversation, Message
from customers.keys import identity_secret_rotate
from customers.sessions import session_token_verify
from security.tests.hostile.conftest import SITE_A

SESSION_URL = "/api/v2/widget/session"
REFRESH_URL = "/api/v2/widget/session/refresh"
Start = Callable[..., dict[str, Any]]


@pytest.fixture
def identity_secret(agent_a: Agent) -> str:
    return identity_secret_rotate(agent_pk=agent_a.pk, workspace_id=agent_a.workspace_id)[1]


def customer_token(agent: Agent, secret: str, sub: str) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": sub,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=30)).timestamp()),
        "aud": agent.public_id,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.fixture
def victim(agent_a: Agent, visitor_session: Start) -> dict[str, Any]:
    """An anonymous visitor of agent A who has told the chat something private."""
    session = visitor_session(agent_a)
    conversation = Conversation.objects.create(agent=agent_a, visitor_id=session["visitorId"])
    Message.objects.create(
        conversation=conversation, role="customer", text="My address is 1 Elm St", client_id="c1"
    )
    return {**session, "conversation": conversation}


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=body, content_type="application/json", headers={"origin": SITE_A})


def victim_conversation_untouched(victim: dict[str, Any]) -> None:
    conversation = Conversation.objects.get(pk=victim["conversation"].pk)
    assert conversation.owner_key == f"v-{victim['visitorId']}"
    assert conversation.customer_id is None
    assert list(conversation.messages.values_list("text", flat=True)) == ["My address is 1 Elm St"]


def test_the_session_answer_hands_the_browser_a_visitor_secret(victim: dict[str, Any]) -> None:
    assert isinstance(victim["visitorSecret"], str) and len(victim["visitorSecret"]) >= 32
    assert victim["visitorSecret"] != victim["visitorId"]


def test_the_victims_visitor_id_alone_opens_a_new_visitor_with_nothing(
    agent_a: Agent, victim: dict[str, Any], visitor_session: Start, caplog: Any
) -> None:
    with caplog.at_level(logging.WARNING, logger="customeragent.security"):
        attacker = visitor_session(agent_a, visitorId=victim["visitorId"])
    assert attacker["visitorId"] != victim["visitorId"]
    assert attacker["conversation"] is None
    assert any(
        victim["visitorId"] in r.getMessage() and "no visitor secret" in r.getMessage()
        for r in caplog.records
    ), caplog.text
    victim_conversation_untouched(victim)


def test_a_wrong_or_another_visitors_secret_opens_a_new_visitor_with_nothing(
    agent_a: Agent, victim: dict[str, Any], visitor_session: Start, caplog: Any
) -> None:
    someone_else = visitor_session(agent_a)
    forged = [
        "0" * 64,
        someone_else["visitorSecret"],
        victim["visitorSecret"].upper(),
        victim["visitorSecret"][:-1],
    ]
    for secret in forged:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="customeragent.security"):
            attacker = visitor_session(agent_a, visitorId=victim["visitorId"], visitorSecret=secret)
        assert attacker["visitorId"] not in (victim["visitorId"], someone_else["visitorId"])
        assert attacker["conversation"] is None
        assert any("a wrong visitor secret" in r.getMessage() for r in caplog.records)
    victim_conversation_untouched(victim)


def test_a_secret_of_the_same_visitor_id_at_another_agent_does_not_open_it(
    agent_a: Agent, agent_b: Agent, victim: dict[str, Any], visitor_session: Start
) -> None:
    elsewhere = visitor_session(agent_b, origin="https://globex.example.net")
    attacker = visitor_session(
        agent_a, visitorId=victim["visitorId"], visitorSecret=elsewhere["visitorSecret"]
    )
    assert attacker["visitorId"] != victim["visitorId"]
    assert attacker["conversation"] is None


def test_the_attackers_own_customer_token_does_not_take_the_victims_conversation(
    agent_a: Agent, victim: dict[str, Any], visitor_session: Start, identity_secret: str
) -> None:
    mallory = customer_token(agent_a, identity_secret, "cust_mallory")
    # Mallory is a real customer of the shop, with a conversation of her own.
    own = visitor_session(agent_a, customerToken=mallory)
    Conversation.objects.create(
        agent=agent_a,
        visitor_id=own["visitorId"],
        owner_key=session_token_verify(own["token"]).owner_key,
    )
    for secret in (None, "0" * 64):
        body: dict[str, Any] = {"visitorId": victim["visitorId"], "customerToken": mallory}
        if secret:
            body["visitorSecret"] = secret
        attacker = visitor_session(agent_a, **body)
        assert attacker["visitorId"] != victim["visitorId"]
        assert attacker["customer"]["id"] == "cust_mallory"
        assert attacker["conversation"]["messages"] == []
    victim_conversation_untouched(victim)
    assert Conversation.objects.count() == 2


def test_the_victim_with_their_secret_still_resumes(
    agent_a: Agent, victim: dict[str, Any], visitor_session: Start
) -> None:
    again = visitor_session(
        agent_a, visitorId=victim["visitorId"], visitorSecret=victim["visitorSecret"]
    )
    assert again["visitorId"] == victim["visitorId"]
    assert again["visitorSecret"] == victim["visitorSecret"]
    assert again["conversation"]["id"] == victim["conversation"].public_id


def test_the_victim_signing_in_with_their_secret_still_links_their_conversation(
    agent_a: Agent, victim: dict[str, Any], visitor_session: Start, identity_secret: str
) -> None:
    signed_in = visitor_session(
        agent_a,
        visitorId=victim["visitorId"],
        visitorSecret=victim["visitorSecret"],
        customerToken=customer_token(agent_a, identity_secret, "cust_ana"),
    )
    assert signed_in["visitorId"] == victim["visitorId"]
    assert [m["text"] for m in signed_in["conversation"]["messages"]] == ["My address is 1 Elm St"]
    conversation = Conversation.objects.get(pk=victim["conversation"].pk)
    assert conversation.owner_key.startswith("c-")
    assert conversation.customer is not None and conversation.customer.external_id == "cust_ana"


@pytest.mark.parametrize(
    "body",
    [
        {"visitorSecret": 12345},
        {"visitorSecret": ["a"]},
        {"visitorSecret": "a" * 129},
        {"visitorId": {"id": "vis_x"}},
        {"visitorId": "vis_" + "a" * 61},
    ],
)
def test_a_malformed_visitor_id_or_secret_is_a_typed_400(
    client: Client, agent_a: Agent, body: dict[str, Any]
) -> None:
    response = post(client, SESSION_URL, {"agentId": agent_a.public_id, **body})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_refresh_honours_an_agents_raised_per_address_limit(
    client: Client, agent_a: Agent, visitor_session: Start
) -> None:
    config = agent_a.widget_config
    config.rate_limits = {"session_per_ip": 100}
    config.save()
    refresh_token = visitor_session(agent_a)["refreshToken"]
    for _ in range(40):
        response = post(client, REFRESH_URL, {"refreshToken": refresh_token})
        assert response.status_code == 200, response.content
        refresh_token = response.json()["refreshToken"]


def test_refresh_still_limits_an_address_under_the_default(
    client: Client, agent_a: Agent, visitor_session: Start
) -> None:
    refresh_token = visitor_session(agent_a)["refreshToken"]
    for _ in range(29):
        response = post(client, REFRESH_URL, {"refreshToken": refresh_token})
        assert response.status_code == 200, response.content
        refresh_token = response.json()["refreshToken"]
    refused = post(client, REFRESH_URL, {"refreshToken": refresh_token})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"


def test_bad_refresh_tokens_count_against_the_address(client: Client, agent_a: Agent) -> None:
    config = agent_a.widget_config
    config.rate_limits = {"session_per_ip": 100}
    config.save()
    for index in range(30):
        assert post(client, REFRESH_URL, {"refreshToken": f"forged.{index}"}).status_code == 401
    refused = post(client, REFRESH_URL, {"refreshToken": "forged.again"})
    assert refused.status_code == 429
