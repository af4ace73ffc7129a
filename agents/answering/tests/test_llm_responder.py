"""The LLM responder against a real OpenAI-compatible server
(agents/answering/tests/llm_server.py)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from agents.answering.responders import responder_for
from agents.answering.responders.knowledge import NO_ANSWER, KnowledgeBaseResponder
from agents.answering.responders.llm import LlmResponder
from agents.answering.tests.llm_server import LlmServer, Script
from agents.contracts import CustomerContext, HistoryItem, Reply, ToolContext, ToolResult, ToolSpec
from agents.models import Agent, ModelUsage
from customers.profiles import Fact
from security.sealing import seal

pytestmark = pytest.mark.django_db

OWNER = "v-vis_aaaaaaaaaaaaaaaa"
SHIPPING = "How long does express shipping take?"


@pytest.fixture
def llm() -> Iterator[LlmServer]:
    with LlmServer() as server:
        yield server


def use_llm(agent: Agent, server: LlmServer, **fields: Any) -> Agent:
    values = {
        "responder": Agent.ResponderKind.LLM,
        "llm_base_url": server.base_url,
        "llm_model": "test-model",
        "llm_timeout_seconds": 1,
        **fields,
    }
    for name, value in values.items():
        setattr(agent, name, value)
    agent.save()
    return agent


def ask(
    agent: Agent,
    question: str = SHIPPING,
    *,
    responder: LlmResponder | None = None,
    history: list[HistoryItem] | None = None,
    customer: CustomerContext | None = None,
    owner_key: str = OWNER,
    deltas: list[str] | None = None,
) -> Reply:
    return (responder or LlmResponder()).respond(
        agent=agent,
        question=question,
        history=history or [],
        customer=customer,
        conversation_id="cnv_test",
        owner_key=owner_key,
        on_delta=deltas.append if deltas is not None else None,
    )


def system_prompt(server: LlmServer, index: int = -1) -> str:
    return str(server.bodies()[index]["messages"][0]["content"])


class TestAnswering:
    def test_an_llm_agent_gets_the_llm_responder(self, agent, llm) -> None:
        assert isinstance(responder_for(agent), KnowledgeBaseResponder)
        assert isinstance(responder_for(use_llm(agent, llm)), LlmResponder)

    def test_tokens_stream_in_order_and_make_up_the_answer(self, agent, llm) -> None:
        llm.script(Script(text="Express takes one to two days.", token_delay_s=0.01))
        deltas: list[str] = []
        reply = ask(use_llm(agent, llm), deltas=deltas)
        assert deltas == ["Express ", "takes ", "one ", "to ", "two ", "days."]
        assert reply.text == "Express takes one to two days."
        assert reply.answered and not reply.handoff_suggested
        body = llm.bodies()[0]
        assert body["stream"] is True and body["model"] == "test-model"
        assert body["stream_options"] == {"include_usage": True}
        assert body["max_tokens"] == agent.llm_max_output_tokens

    def test_the_agents_instructions_and_the_knowledge_reach_the_model(self, agent, llm) -> None:
        use_llm(agent, llm, system_prompt="You are Trailhead's cheerful outdoor expert.")
        ask(agent)
        system = system_prompt(llm)
        assert system.startswith("You are Trailhead's cheerful outdoor expert.")
        assert "[1] Shipping times (https://shop.example.com/help)" in system
        assert "Express shipping takes 1-2 business days" in system
        assert llm.bodies()[0]["messages"][-1] == {"role": "user", "content": SHIPPING}

    def test_cited_articles_become_the_replys_sources(self, agent, llm) -> None:
        llm.script(Script(text="Express shipping takes 1-2 business days [1]."))
        deltas: list[str] = []
        reply = ask(use_llm(agent, llm), deltas=deltas)
        assert reply.sources == [
            {
                "articleId": agent.articles.get(title="Shipping times").pk,
                "title": "Shipping times",
                "url": "https://shop.example.com/help",
            }
        ]
        assert reply.text.endswith("Sources:\n[1] Shipping times — https://shop.example.com/help")
        assert "".join(deltas) == reply.text  # the citation is streamed too

    def test_an_answer_citing_nothing_lists_no_sources(self, agent, llm) -> None:
        llm.script(Script(text="Hello! How can I help?"))
        reply = ask(use_llm(agent, llm), "hello")
        assert reply.sources == [] and reply.text == "Hello! How can I help?"

    def test_only_a_bounded_window_of_history_reaches_the_model(self, agent, llm) -> None:
        history = [
            HistoryItem(role="customer" if n % 2 == 0 else "agent", text=f"turn {n}")
            for n in range(30)
        ]
        history.append(HistoryItem(role="system", text="Conversation resolved"))
        ask(use_llm(agent, llm), history=history)
        messages = llm.bodies()[0]["messages"]
        dialogue = messages[1:-1]
        assert [m["content"] for m in dialogue] == [f"turn {n}" for n in range(19, 30)]
        assert {m["role"] for m in dialogue} == {"user", "assistant"}

    def test_a_verified_customers_facts_are_marked_and_claims_stay_claims(self, agent, llm) -> None:
        customer = CustomerContext(
            external_id="cus-42",
            verified=True,
            name="Ana",
            facts=[
                Fact("plan", "gold", "signed", "", "2024-01-01T00:00:00+00:00"),
                Fact("nickname", "Boss", "claimed", "", "2024-01-01T00:00:00+00:00"),
            ],
        )
        ask(use_llm(agent, llm), customer=customer)
        system = system_prompt(llm)
        assert "Customer (verified by the website (signed)):" in system
        assert "- name: Ana" in system
        assert "- plan: gold (verified)" in system
        assert "- nickname: Boss (unverified, claimed)" in system

    def test_an_identified_but_unverified_customer_is_flagged(self, agent, llm) -> None:
        customer = CustomerContext(
            external_id="cus-7",
            verified=False,
            name="Ben",
            facts=[Fact("plan", "platinum", "signed", "", "2024-01-01T00:00:00+00:00")],
        )
        ask(use_llm(agent, llm), customer=customer)
        system = system_prompt(llm)
        assert "NOT verified" in system
        assert "- plan: platinum (unverified, claimed)" in system

    def test_an_anonymous_visitor_is_described_as_such(self, agent, llm) -> None:
        ask(use_llm(agent, llm))
        assert "Customer: an anonymous visitor." in system_prompt(llm)


class TestConfiguration:
    def test_the_sealed_agent_key_is_sent_to_the_server(self, agent, llm) -> None:
        ask(use_llm(agent, llm, llm_api_key_sealed=seal("sk-agent-secret")))
        assert llm.requests[0].headers["authorization"] == "Bearer sk-agent-secret"

    def test_empty_agent_settings_use_the_environment(self, agent, llm, settings) -> None:
        settings.LLM_BASE_URL = llm.base_url
        settings.LLM_MODEL = "env-model"
        settings.LLM_API_KEY = "sk-from-env"
        use_llm(agent, llm, llm_base_url="", llm_model="")
        reply = ask(agent)
        assert llm.bodies()[0]["model"] == "env-model"
        assert llm.requests[0].headers["authorization"] == "Bearer sk-from-env"
        assert reply.metadata["model"] == "env-model"

    def test_without_a_model_server_the_knowledge_base_answers(self, agent, settings) -> None:
        settings.LLM_BASE_URL = ""
        agent.responder = Agent.ResponderKind.LLM
        agent.save()
        reply = ask(agent)
        assert "Express shipping takes 1-2 business days" in reply.text
        assert reply.metadata["llmFallback"] == "unconfigured"


class TestFallback:
    def test_a_model_that_never_answers_times_out_and_the_knowledge_base_answers(
        self, agent, llm
    ) -> None:
        llm.default = Script(hang=True)
        reply = ask(use_llm(agent, llm))
        assert "Express shipping takes 1-2 business days" in reply.text
        assert reply.sources[0]["title"] == "Shipping times"
        assert reply.metadata["llmFallback"] == "timeout"
        assert len(llm.requests) == 2  # the SDK retried once, then we gave up

    def test_a_stream_that_stalls_is_not_retried(self, agent, llm) -> None:
        llm.script(Script(text="Express shipping is quick and", stall_after=2))
        deltas: list[str] = []
        reply = ask(use_llm(agent, llm), deltas=deltas)
        assert deltas == ["Express ", "shipping "]
        assert reply.metadata["llmFallback"] == "timeout"
        assert "Express shipping takes 1-2 business days" in reply.text
        assert len(llm.requests) == 1

    def test_a_server_error_is_retried_once_then_falls_back(self, agent, llm) -> None:
        llm.default = Script(status=500)
        reply = ask(use_llm(agent, llm))
        assert reply.metadata["llmFallback"] == "error"
        assert reply.answered
        assert len(llm.requests) == 2

    def test_a_passing_server_error_is_absorbed_by_the_retry(self, agent, llm) -> None:
        llm.script(Script(status=503), Script(text="All good."))
        reply = ask(use_llm(agent, llm))
        assert reply.text == "All good." and "llmFallback" not in reply.metadata

    def test_when_the_knowledge_base_cannot_help_either_a_person_is_offered(
        self, agent, llm
    ) -> None:
        llm.default = Script(status=500)
        reply = ask(use_llm(agent, llm), "What's the weather in Paris?")
        assert reply.text == NO_ANSWER
        assert reply.handoff_suggested and not reply.answered

    def test_an_empty_answer_falls_back(self, agent, llm) -> None:
        llm.script(Script(text=""))
        reply = ask(use_llm(agent, llm))
        assert reply.metadata["llmFallback"] == "empty"


class TestUsageAndBudgets:
    def test_each_call_records_its_tokens_for_the_agent_and_owner(self, agent, llm) -> None:
        llm.default = Script(text="Quick.", prompt_tokens=120, completion_tokens=30)
        use_llm(agent, llm)
        reply = ask(agent)
        ask(agent)
        row = ModelUsage.objects.get(agent=agent, owner_key=OWNER)
        assert (row.calls, row.prompt_tokens, row.completion_tokens) == (2, 240, 60)
        assert row.day == timezone.now().date()
        meta = reply.metadata
        assert meta["model"] == "test-model" and meta["responder"] == "llm"
        assert meta["usage"] == {"promptTokens": 120, "completionTokens": 30, "calls": 1}
        assert meta["latencyMs"] >= meta["firstTokenMs"] >= 0

    def test_a_server_that_reports_no_usage_is_estimated(self, agent, llm) -> None:
        llm.default = Script(text="A fairly short answer.", report_usage=False)
        reply = ask(use_llm(agent, llm))
        assert reply.metadata["usage"]["estimated"] is True
        row = ModelUsage.objects.get(agent=agent)
        assert row.prompt_tokens > 0 and row.completion_tokens > 0

    def test_an_agent_over_its_monthly_budget_does_not_call_the_model(self, agent, llm) -> None:
        use_llm(agent, llm, monthly_token_budget=1000)
        ModelUsage.objects.create(
            agent=agent, owner_key="v-someone-else", day=timezone.now().date(), prompt_tokens=1000
        )
        reply = ask(agent)
        assert llm.requests == []
        assert reply.metadata["llmFallback"] == "budget"
        assert "Express shipping takes 1-2 business days" in reply.text

    def test_last_months_usage_does_not_count(self, agent, llm) -> None:
        use_llm(agent, llm, monthly_token_budget=1000)
        last_month = timezone.now().date().replace(day=1) - datetime.timedelta(days=1)
        ModelUsage.objects.create(agent=agent, owner_key=OWNER, day=last_month, prompt_tokens=5000)
        ask(agent)
        assert len(llm.requests) == 1

    def test_a_visitor_over_their_daily_budget_is_answered_from_knowledge(self, agent, llm) -> None:
        llm.default = Script(text="Sure.", prompt_tokens=40, completion_tokens=20)
        use_llm(agent, llm, customer_daily_token_budget=50)
        assert "llmFallback" not in ask(agent).metadata  # 60 tokens: now over budget
        assert ask(agent).metadata["llmFallback"] == "budget"
        assert len(llm.requests) == 1
        # Someone else still gets the model.
        assert "llmFallback" not in ask(agent, owner_key="v-vis_bbbbbbbbbbbbbbbb").metadata
        assert len(llm.requests) == 2


class OrderStatus:
    """A tool as the MCP integration would provide one."""

    spec = ToolSpec(
        name="order_status",
        description="The status of one of the customer's orders.",
        parameters={
            "type": "object",
            "properties": {"order": {"type": "string"}},
            "required": ["order"],
        },
    )

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], ToolContext]] = []

    def call(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        self.calls.append((arguments, context))
        return ToolResult(
            ok=True,
            text=f"Order {arguments.get('order')} shipped yesterday.",
            cards=[
                {"title": "Ridgeline tent", "price": "$249", "url": "https://shop.example.com/t"}
            ],
            quick_replies=["Track my parcel"],
        )


class TestTools:
    def responder(self, tool: OrderStatus) -> LlmResponder:
        return LlmResponder(tools=lambda agent, customer: [tool])

    def test_the_model_calls_a_tool_and_answers_with_its_result(self, agent, llm) -> None:
        tool = OrderStatus()
        llm.script(
            Script(tool_calls=(("order_status", {"order": "1042"}),)),
            Script(text="Your order 1042 shipped yesterday."),
        )
        customer = CustomerContext(external_id="cus-42", verified=True, name="Ana")
        reply = ask(
            use_llm(agent, llm),
            "Where is my order 1042?",
            responder=self.responder(tool),
            customer=customer,
        )
        assert reply.text == "Your order 1042 shipped yesterday."
        assert reply.cards == [
            {"title": "Ridgeline tent", "price": "$249", "url": "https://shop.example.com/t"}
        ]
        assert reply.quick_replies == ["Track my parcel"]
        arguments, context = tool.calls[0]
        assert arguments == {"order": "1042"}
        assert context.customer == customer and context.conversation_public_id == "cnv_test"
        first, second = llm.bodies()
        assert first["tools"][0]["function"]["name"] == "order_status"
        assert first["tools"][0]["function"]["parameters"] == OrderStatus.spec.parameters
        asked, answered = second["messages"][-2:]
        assert asked["tool_calls"][0]["function"] == {
            "name": "order_status",
            "arguments": '{"order": "1042"}',
        }
        assert answered == {
            "role": "tool",
            "tool_call_id": asked["tool_calls"][0]["id"],
            "content": "Order 1042 shipped yesterday.",
        }
        assert reply.metadata["toolCalls"] == [{"name": "order_status", "ok": True}]
        assert reply.metadata["usage"]["calls"] == 2

    def test_a_model_that_keeps_asking_for_tools_must_answer_after_three_rounds(
        self, agent, llm
    ) -> None:
        tool = OrderStatus()
        llm.default = Script(
            text="I could not find more.", tool_calls=(("order_status", {"order": "1"}),)
        )
        reply = ask(use_llm(agent, llm), responder=self.responder(tool))
        assert len(tool.calls) == 3
        bodies = llm.bodies()
        assert len(bodies) == 4
        assert bodies[-1]["tool_choice"] == "none"
        assert reply.text == "I could not find more."

    def test_an_unknown_tool_or_bad_arguments_are_told_to_the_model(self, agent, llm) -> None:
        tool = OrderStatus()
        llm.script(
            Script(tool_calls=(("delete_everything", {}),)),
            Script(text="Sorry, I cannot do that."),
        )
        reply = ask(use_llm(agent, llm), responder=self.responder(tool))
        assert tool.calls == []
        assert llm.bodies()[1]["messages"][-1]["content"] == (
            "There is no tool named 'delete_everything'."
        )
        assert reply.text == "Sorry, I cannot do that."

    def test_without_tools_none_are_offered(self, agent, llm) -> None:
        ask(use_llm(agent, llm))
        assert "tools" not in llm.bodies()[0]
