"""A workspace owner points the agent's model server (or an MCP server) at our own network.

The attack (issue 13): `llm_base_url = http://127.0.0.1:8399/v1` (or the cloud metadata
address, `[::1]`, `0.0.0.0`) in the admin, then a widget message: our server POSTed the
conversation to that listener with `Authorization: Bearer <the platform's LLM_API_KEY>` and
streamed the reply into the chat. Every URL here goes through security.outbound; the
platform's key goes only to the platform's own server.

Nothing in this file may leave the machine: `LoopbackOnly` refuses any other connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agents.answering.tests.llm_server import LlmServer, Script
from agents.integrations.mcp import tool_call
from agents.models import Agent, McpServer
from conversations.models import Conversation, Message
from conversations.replies import reply_generate
from security.tests.network import LoopbackOnly, RebindingDns, RecordingListener
from widgets.tests.test_admin_llm import change_form

pytestmark = pytest.mark.django_db

PLATFORM_KEY = "sk-platform-0123456789abcdef"
# A public address for the first DNS answer; never connected to (LoopbackOnly).
PUBLIC = "93.184.215.14"
INTERNAL_BASE_URLS = [
    "http://127.0.0.1:8399/v1",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[::1]:8399/v1",
    "http://0.0.0.0:8399/v1",
    "http://[::]:8399/v1",
    "http://[::ffff:127.0.0.1]:8399/v1",  # IPv4-mapped IPv6
    "http://[::ffff:169.254.169.254]/v1",
    "http://localhost:8399/v1",
    "http://10.0.0.5/v1",
    "http://192.168.1.10/v1",
    "http://100.64.0.1/v1",  # carrier-grade NAT
    "http://[fd00:ec2::254]/v1",  # unique local (the IPv6 metadata address)
]


@pytest.fixture(autouse=True)
def _guard_on(settings: Any) -> None:
    """As in production: no workspace URL may reach private addresses."""
    settings.LLM_ALLOW_PRIVATE_URLS = False
    settings.MCP_ALLOW_PRIVATE_URLS = False
    settings.LLM_API_KEY = PLATFORM_KEY


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> LoopbackOnly:
    return LoopbackOnly().install(monkeypatch)


@pytest.fixture
def llm() -> Iterator[LlmServer]:
    with LlmServer(default=Script(text="Whatever the listener says.")) as server:
        yield server


def model_agent(agent: Agent, base_url: str) -> Agent:
    """The agent as it was stored before the fix (written past the admin's check)."""
    Agent.objects.filter(pk=agent.pk).update(
        responder=Agent.ResponderKind.LLM,
        llm_base_url=base_url,
        llm_model="any-model",
        llm_timeout_seconds=2,
    )
    agent.refresh_from_db()
    return agent


def visitor_asks(agent: Agent, text: str = "What is your refund policy?") -> Message:
    """A widget message, answered as the worker answers it."""
    chat = Conversation.objects.create(agent=agent, visitor_id="vis_hostile0000000")
    question = Message.objects.create(
        conversation=chat, role="customer", text=text, client_id="q-1"
    )
    answer = reply_generate(message_id=question.pk)
    assert answer is not None
    return answer


@pytest.mark.parametrize("base_url", INTERNAL_BASE_URLS)
def test_the_admin_refuses_a_model_server_on_our_network(
    owner_a: Any, agent_a: Agent, admin_client_as: Any, base_url: str
) -> None:
    response = admin_client_as(owner_a).post(
        f"/admin/agents/agent/{agent_a.pk}/change/", change_form(agent_a, llm_base_url=base_url)
    )
    assert response.status_code == 200  # the form again, with the error
    assert "private or reserved address" in response.content.decode()
    agent_a.refresh_from_db()
    assert agent_a.llm_base_url == "" and agent_a.responder == Agent.ResponderKind.KNOWLEDGE


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_stored_model_server_on_our_network_is_never_called(
    agent_a: Agent, llm: LlmServer, host: str
) -> None:
    port = llm.base_url.split(":")[-1].split("/")[0]
    agent = model_agent(agent_a, f"http://{host}:{port}/v1")
    answer = visitor_asks(agent)
    assert llm.requests == []  # not one byte reached the listener
    assert answer.metadata["llmFallback"] == "refused"
    assert "Whatever the listener says" not in answer.text


def test_an_agents_own_server_never_receives_the_platform_key(
    agent_a: Agent, llm: LlmServer, settings: Any
) -> None:
    settings.LLM_ALLOW_PRIVATE_URLS = True  # the listener is on loopback
    agent = model_agent(agent_a, llm.base_url)  # and no key of its own
    visitor_asks(agent)
    assert len(llm.requests) == 1
    headers = llm.requests[0].headers
    assert PLATFORM_KEY not in " ".join(headers.values())
    assert headers["authorization"] == "Bearer not-needed"


def test_the_platform_server_still_gets_the_platform_key(
    agent_a: Agent, llm: LlmServer, settings: Any
) -> None:
    # The operator's LLM_BASE_URL is trusted, even on loopback with the guard on.
    settings.LLM_BASE_URL = llm.base_url
    agent = model_agent(agent_a, "")
    answer = visitor_asks(agent)
    assert llm.requests[0].headers["authorization"] == f"Bearer {PLATFORM_KEY}"
    assert answer.text.startswith("Whatever the listener says.")


def test_a_model_server_name_that_rebinds_onto_our_network_is_not_called(
    agent_a: Agent, llm: LlmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Public when checked, loopback for every later lookup.
    RebindingDns("models.rebind.test", [PUBLIC, "127.0.0.1"]).install(monkeypatch)
    port = llm.base_url.split(":")[-1].split("/")[0]
    agent = model_agent(agent_a, f"http://models.rebind.test:{port}/v1")
    answer = visitor_asks(agent)
    assert llm.requests == []
    assert answer.metadata["responder"] == "knowledge"


def test_an_mcp_server_name_that_rebinds_after_its_check_is_not_called(
    agent_a: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    with RecordingListener() as listener:
        server = McpServer.objects.create(
            agent=agent_a,
            name="Store",
            url=f"http://store.rebind.test:{listener.port}/mcp",
            transport=McpServer.Transport.STREAMABLE_HTTP,
            timeout_seconds=3,
        )
        RebindingDns("store.rebind.test", [PUBLIC, "127.0.0.1"]).install(monkeypatch)
        outcome = tool_call(server, "search_products", {"query": "tent"})
        assert not outcome.ok
        assert listener.requests == []  # the check's answer was public; the call never
        # went to the second, internal one
