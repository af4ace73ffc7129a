"""Identity through the widget API: verified sessions, enforcement, linking, switching users."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from django.test import Client

from agents.models import Agent
from conftest import SITE_ORIGIN
from conversations.models import Conversation, Message
from conversations.parties import Party
from conversations.services import message_receive
from conversations.tests.test_widget_api import error_code, start
from customers.keys import identity_secret_rotate
from customers.models import Customer, CustomerMemory
from customers.sessions import session_token_verify

pytestmark = pytest.mark.django_db
CUSTOMER_URL = "/api/v2/widget/customer"


@pytest.fixture
def secret(agent: Agent) -> str:
    return identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)[1]


def token_for(agent: Agent, secret: str, sub: str = "cust_ana", **claims: Any) -> str:
    now = datetime.now(UTC)
    body = {
        "sub": sub,
        "name": "Ana Souza",
        "email": "ana@example.com",
        "attributes": {"plan": "pro"},
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=30)).timestamp()),
        "aud": agent.public_id,
        **claims,
    }
    return jwt.encode(body, secret, algorithm="HS256")


def say(agent: Agent, session: dict[str, Any], text: str, client_id: str) -> Message:
    """A visitor's message, as the websocket would store it for this session."""
    party = Party.of(session_token_verify(session["token"]))
    return message_receive(agent=agent, party=party, client_id=client_id, text=text).message


def identify(client: Client, token: str, body: dict[str, Any], origin: str = SITE_ORIGIN) -> Any:
    return client.post(
        CUSTOMER_URL,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_ORIGIN=origin,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_a_verified_session_carries_the_customer(client: Client, agent: Agent, secret: str) -> None:
    response = start(client, agent.public_id, customerToken=token_for(agent, secret))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["customer"] == {
        "id": "cust_ana",
        "verified": True,
        "email": "ana@example.com",
        "name": "Ana Souza",
    }
    session = session_token_verify(body["token"])
    assert session.customer_verified and session.owner_key.startswith("c-")
    customer = Customer.objects.get(external_id="cust_ana", is_verified=True)
    assert customer.attributes == {"plan": "pro"}
    fact = CustomerMemory.objects.get(customer=customer, key="plan")
    assert (fact.value, fact.source) == ("pro", "signed")


def test_the_session_never_outlives_the_customer_token(
    client: Client, agent: Agent, secret: str
) -> None:
    short = token_for(
        agent, secret, exp=int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
    )
    body = start(client, agent.public_id, customerToken=short).json()
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert expires <= datetime.now(UTC) + timedelta(minutes=5, seconds=1)
    refresh = jwt.decode(body["refreshToken"], options={"verify_signature": False})
    assert refresh["exp"] <= int((datetime.now(UTC) + timedelta(minutes=5, seconds=1)).timestamp())


def test_a_bad_token_is_a_401_never_a_500(client: Client, agent: Agent, secret: str) -> None:
    for token in ("garbage", token_for(agent, "f" * 64), token_for(agent, secret, aud="agt_x")):
        response = start(client, agent.public_id, customerToken=token)
        assert response.status_code == 401
        assert error_code(response) == "invalid_customer_token"
    response = start(client, agent.public_id, customer={"id": "x"}, userHash="0" * 64)
    assert response.status_code == 401


def test_identity_required_refuses_anonymous_and_claimed_visitors(
    client: Client, agent: Agent, secret: str
) -> None:
    agent.identity_required = True
    agent.save()
    extras: list[dict[str, Any]] = [{}, {"customer": {"id": "cust_ana", "name": "Ana"}}]
    for extra in extras:
        response = start(client, agent.public_id, **extra)
        assert response.status_code == 401
        assert error_code(response) == "invalid_customer_token"
    assert start(client, agent.public_id, customerToken=token_for(agent, secret)).status_code == 200
    user_hash = hmac.new(secret.encode(), b"cust_ben", hashlib.sha256).hexdigest()
    response = start(client, agent.public_id, customer={"id": "cust_ben"}, userHash=user_hash)
    assert response.status_code == 200 and response.json()["customer"]["verified"] is True


def test_an_anonymous_conversation_joins_the_customer_who_signs_in(
    client: Client, agent: Agent, secret: str
) -> None:
    anonymous = start(client, agent.public_id).json()
    say(agent, anonymous, "Where is my order?", "c-1")
    response = identify(client, anonymous["token"], {"customerToken": token_for(agent, secret)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["visitorId"] == anonymous["visitorId"]
    assert body["customer"]["id"] == "cust_ana" and body["token"] != anonymous["token"]
    texts = [m["text"] for m in body["conversation"]["messages"]]
    assert texts[0] == "Where is my order?"
    conversation = Conversation.objects.get()
    assert conversation.customer is not None and conversation.customer.external_id == "cust_ana"
    # The browser's anonymous visitor no longer reaches the conversation: it is the customer's.
    again = start(
        client,
        agent.public_id,
        visitorId=anonymous["visitorId"],
        visitorSecret=anonymous["visitorSecret"],
    ).json()
    assert again["visitorId"] == anonymous["visitorId"]
    assert again["conversation"] is None


def test_a_verified_customer_sees_their_conversation_on_any_device(
    client: Client, agent: Agent, secret: str
) -> None:
    laptop = start(client, agent.public_id, customerToken=token_for(agent, secret)).json()
    say(agent, laptop, "Hello from my laptop", "c-1")
    phone = start(client, agent.public_id, customerToken=token_for(agent, secret)).json()
    assert phone["visitorId"] != laptop["visitorId"]
    assert phone["conversation"]["messages"][0]["text"] == "Hello from my laptop"
    say(agent, phone, "and from my phone", "c-2")
    assert Conversation.objects.count() == 1
    history = client.get(
        f"/api/v2/widget/conversations/{phone['conversation']['id']}/messages",
        HTTP_ORIGIN=SITE_ORIGIN,
        HTTP_AUTHORIZATION=f"Bearer {laptop['token']}",
    )
    assert [m["text"] for m in history.json()["messages"]][:2] == [
        "Hello from my laptop",
        "and from my phone",
    ]


def test_signing_in_on_a_second_device_merges_its_open_conversation(
    client: Client, agent: Agent, secret: str
) -> None:
    laptop = start(client, agent.public_id, customerToken=token_for(agent, secret)).json()
    say(agent, laptop, "first, signed in", "c-1")
    phone = start(client, agent.public_id).json()
    say(agent, phone, "then, anonymous on the phone", "c-2")
    body = identify(client, phone["token"], {"customerToken": token_for(agent, secret)}).json()
    texts = [m["text"] for m in body["conversation"]["messages"]]
    assert texts[:2] == ["first, signed in", "then, anonymous on the phone"]
    assert Conversation.objects.count() == 1


def test_switching_users_on_one_browser_never_shows_the_previous_users_messages(
    client: Client, agent: Agent, secret: str
) -> None:
    ana = start(client, agent.public_id, customerToken=token_for(agent, secret)).json()
    say(agent, ana, "Ana's private question", "c-1")
    browser = {"visitorId": ana["visitorId"], "visitorSecret": ana["visitorSecret"]}
    ben = start(
        client,
        agent.public_id,
        **browser,
        customerToken=token_for(agent, secret, sub="cust_ben", name="Ben"),
    ).json()
    assert ben["visitorId"] == ana["visitorId"] and ben["conversation"] is None
    anonymous = start(client, agent.public_id, **browser).json()
    assert anonymous["visitorId"] == ana["visitorId"] and anonymous["conversation"] is None
    ana_conversation = ana["conversation"] or {"id": Conversation.objects.get().public_id}
    for session in (ben, anonymous):
        response = client.get(
            f"/api/v2/widget/conversations/{ana_conversation['id']}/messages",
            HTTP_ORIGIN=SITE_ORIGIN,
            HTTP_AUTHORIZATION=f"Bearer {session['token']}",
        )
        assert response.status_code == 404
    # Ben signing in on Ana's browser does not take her conversation.
    assert Conversation.objects.get().customer.external_id == "cust_ana"  # type: ignore[union-attr]


def test_a_claimed_id_never_reaches_the_verified_customer_with_that_id(
    client: Client, agent: Agent, secret: str
) -> None:
    ana = start(client, agent.public_id, customerToken=token_for(agent, secret)).json()
    say(agent, ana, "Ana's private question", "c-1")
    impostor = start(
        client,
        agent.public_id,
        customer={"id": "cust_ana", "email": "evil@example.com", "customAttributes": {"plan": "x"}},
    ).json()
    assert impostor["customer"]["verified"] is False
    assert impostor["conversation"] is None
    verified = Customer.objects.get(external_id="cust_ana", is_verified=True)
    assert verified.email == "ana@example.com" and verified.attributes == {"plan": "pro"}
    claimed = Customer.objects.get(external_id="cust_ana", is_verified=False)
    assert claimed.email == "evil@example.com"
    assert CustomerMemory.objects.get(customer=claimed).source == "claimed"
    say(agent, impostor, "let me see Ana's orders", "c-9")
    assert Conversation.objects.filter(customer=verified).count() == 1
    assert Conversation.objects.filter(customer=claimed).count() == 1


def test_identify_refuses_bad_input_and_other_origins(
    client: Client, agent: Agent, secret: str
) -> None:
    session = start(client, agent.public_id).json()
    assert identify(client, session["token"], {}).status_code == 401
    assert identify(client, session["token"], {"customerToken": "x.y.z"}).status_code == 401
    response = identify(
        client,
        session["token"],
        {"customerToken": token_for(agent, secret)},
        origin="https://evil.test",
    )
    assert response.status_code == 403
    response = client.post(
        CUSTOMER_URL,
        data="{",
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
        HTTP_AUTHORIZATION=f"Bearer {session['token']}",
    )
    assert response.status_code == 400
    response = identify(client, "not-a-session", {"customerToken": token_for(agent, secret)})
    assert response.status_code == 401


def test_an_erased_customers_open_session_talks_on_unlinked(
    client: Client, agent: Agent, secret: str
) -> None:
    from customers.profiles import customer_erase

    ana = start(client, agent.public_id, customerToken=token_for(agent, secret)).json()
    say(agent, ana, "before", "c-1")
    customer_erase(customer=Customer.objects.get(external_id="cust_ana"), by=None)
    say(agent, ana, "after the erasure", "c-2")
    conversation = Conversation.objects.get()
    assert conversation.customer is None
    assert conversation.messages.count() == 2
    refreshed = client.post(
        "/api/v2/widget/session/refresh",
        data=json.dumps({"refreshToken": ana["refreshToken"]}),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    )
    assert refreshed.status_code == 200 and refreshed.json()["customer"] is None
