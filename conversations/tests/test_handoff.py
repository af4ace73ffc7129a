"""Handoff rules: who asks for a person, keywords, VIPs, an unsure or failing agent."""

from __future__ import annotations

from typing import Any

import pytest

from agents.contracts import Reply
from agents.models import Agent
from analytics.models import WidgetEvent
from conversations import replies
from conversations.handoff import (
    CONNECTING,
    conversation_hand_off,
    handoff_after_reply,
    handoff_reason_for_message,
)
from conversations.models import Conversation, Message
from conversations.phrases import accepts_offer, asks_for_person, contains_keyword
from conversations.tasks import reply_to_message
from customers.models import Customer
from security.ids import new_visitor_id

ASKS = [
    "human",
    "Human please!",
    "agent please",
    "HUMAN",
    "Can I talk to a real person?",
    "I want to speak with someone",
    "please connect me with customer service",
    "transfer me to a manager",
    "this is useless, let me talk to a human",
    "Why can't I talk to a person?",
    "Je voudrais parler à quelqu\u2019un",
    "je veux parler avec un conseiller",
    "Ich möchte mit einem Menschen sprechen",
    "kann ich mit jemandem sprechen?",
    "quiero hablar con una persona",
    "posso parlare con un operatore?",
    "quero falar com um atendente",
]
DOES_NOT_ASK = [
    "Is this trap humane?",
    "Do you sell human hair wigs?",
    "What is on the agenda?",
    "Who is your shipping agent?",
    "I don't need a human, thanks",
    "Ich will nicht mit einem Menschen sprechen",
    "How do I connect my account?",
    "Do you have a human resources contact?",
    "Personalised engraving?",
]


@pytest.mark.parametrize("text", ASKS)
def test_a_visitor_asking_for_a_person_is_understood(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", DOES_NOT_ASK)
def test_words_that_merely_contain_or_negate_a_request_do_not_count(text: str) -> None:
    assert not asks_for_person(text)


def test_a_short_yes_accepts_an_offer_but_a_question_does_not() -> None:
    assert accepts_offer("Yes please!")
    assert accepts_offer("oui, merci")
    assert not accepts_offer("yes but where is my order?")


def test_keywords_match_whole_words_whatever_the_case_and_accents() -> None:
    assert contains_keyword("I want a REFUND now", ["refund"]) == "refund"
    assert contains_keyword("Remboursement immédiat", ["immediat"]) == "immediat"
    assert contains_keyword("refunding policy", ["refund"]) is None
    assert contains_keyword("talk to my lawyer", ["refund", "my lawyer"]) == "my lawyer"


def visitor_message(agent: Agent, text: str, *, customer: Customer | None = None) -> Message:
    conversation = Conversation.objects.create(
        agent=agent, visitor_id=new_visitor_id(), customer=customer
    )
    return Message.objects.create(conversation=conversation, role="customer", text=text)


@pytest.mark.django_db
class TestMessageRules:
    def test_the_agents_keywords_hand_off(self, agent: Agent) -> None:
        agent.handoff_keywords = ["refund", "chargeback"]
        agent.save()
        assert handoff_reason_for_message(visitor_message(agent, "I want a refund")) == "keyword"
        assert handoff_reason_for_message(visitor_message(agent, "Where is my parcel?")) is None

    def test_a_verified_vip_goes_straight_to_a_person(self, agent: Agent) -> None:
        agent.handoff_vip_attribute = "vip"
        agent.save()
        vip = Customer.objects.create(
            workspace=agent.workspace, external_id="u1", is_verified=True, attributes={"vip": True}
        )
        assert handoff_reason_for_message(visitor_message(agent, "hello", customer=vip)) == "vip"

    @pytest.mark.parametrize(("verified", "value"), [(False, True), (True, "false"), (True, 0)])
    def test_a_claimed_or_false_vip_attribute_does_not(
        self, agent: Agent, verified: bool, value: Any
    ) -> None:
        agent.handoff_vip_attribute = "vip"
        agent.save()
        customer = Customer.objects.create(
            workspace=agent.workspace,
            external_id="u2",
            is_verified=verified,
            attributes={"vip": value},
        )
        assert handoff_reason_for_message(visitor_message(agent, "hi", customer=customer)) is None

    def test_keywords_apply_once_but_an_explicit_request_always(self, agent: Agent) -> None:
        agent.handoff_keywords = ["refund"]
        agent.save()
        message = visitor_message(agent, "refund please")
        assert conversation_hand_off(conversation=message.conversation, reason="keyword")
        Conversation.objects.filter(pk=message.conversation_id).update(status="bot")
        again = Message.objects.create(
            conversation=message.conversation, role="customer", text="refund?"
        )
        assert handoff_reason_for_message(again) is None  # a person released it on purpose
        ask = Message.objects.create(
            conversation=message.conversation, role="customer", text="talk to a human"
        )
        assert handoff_reason_for_message(ask) == "visitor_asked"

    def test_yes_after_the_agent_offered_a_person_hands_off(self, agent: Agent) -> None:
        message = visitor_message(agent, "Do you sell gift cards?")
        Message.objects.create(
            conversation=message.conversation,
            role="agent",
            text="I don't know. Would you like a person?",
            metadata={"answered": False, "handoffSuggested": True},
        )
        yes = Message.objects.create(conversation=message.conversation, role="customer", text="yes")
        assert handoff_reason_for_message(yes) == "visitor_asked"


@pytest.mark.django_db
class TestHandingOff:
    def test_the_visitor_is_told_and_the_event_recorded(self, agent: Agent) -> None:
        conversation = visitor_message(agent, "human").conversation
        assert conversation_hand_off(conversation=conversation, reason="visitor_asked")
        conversation.refresh_from_db()
        assert conversation.status == "waiting"
        assert conversation.handoff_reason == "visitor_asked"
        assert conversation.handed_off_at is not None
        notice = conversation.messages.get(role="system")
        assert notice.text == CONNECTING
        event = WidgetEvent.objects.get(event="handed_off")
        assert event.metadata == {
            "reason": "visitor_asked",
            "conversationId": conversation.public_id,
        }
        # Handing off twice changes nothing.
        assert not conversation_hand_off(conversation=conversation, reason="keyword")

    def test_outside_business_hours_the_away_message_is_shown(self, agent: Agent) -> None:
        agent.business_hours = {"timezone": "UTC", "days": {}}  # never open
        agent.away_message = "We are closed; back Monday 9:00."
        agent.save()
        conversation = visitor_message(agent, "human").conversation
        conversation_hand_off(conversation=conversation, reason="visitor_asked")
        assert conversation.messages.get(role="system").text == "We are closed; back Monday 9:00."


def unsure_again(conversation: Conversation) -> bool:
    """The agent stores another "I don't know"; whether the rules handed off after it."""
    reply = Reply(text="I don't know.", answered=False, handoff_suggested=True)
    answer = Message.objects.create(
        conversation=conversation,
        role="agent",
        text=reply.text,
        metadata={"answered": False, "handoffSuggested": True},
    )
    return handoff_after_reply(answer=answer, reply=reply)


@pytest.mark.django_db
class TestAfterTheReply:
    def test_one_i_dont_know_offers_a_person_the_second_connects_one(self, agent: Agent) -> None:
        conversation = visitor_message(agent, "gift cards?").conversation
        assert not unsure_again(conversation)
        assert unsure_again(conversation)
        conversation.refresh_from_db()
        assert (conversation.status, conversation.handoff_reason) == ("waiting", "responder_unsure")

    def test_a_release_in_between_starts_the_count_afresh(self, agent: Agent) -> None:
        conversation = visitor_message(agent, "gift cards?").conversation
        unsure_again(conversation)
        Message.objects.create(conversation=conversation, role="system", text="back to the bot")
        assert not unsure_again(conversation)

    def test_an_answer_that_still_asks_for_a_person_hands_off_at_once(self, agent: Agent) -> None:
        conversation = visitor_message(agent, "my order is broken").conversation
        answer = Message.objects.create(conversation=conversation, role="agent", text="Sorry!")
        reply = Reply(text="Sorry!", answered=True, handoff_suggested=True)
        assert handoff_after_reply(answer=answer, reply=reply)

    def test_a_good_answer_changes_nothing(self, agent: Agent) -> None:
        conversation = visitor_message(agent, "shipping?").conversation
        answer = Message.objects.create(conversation=conversation, role="agent", text="3-5 days")
        assert not handoff_after_reply(answer=answer, reply=Reply(text="3-5 days", answered=True))

    def test_a_failing_responder_hands_off(
        self, agent: Agent, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        class Broken:
            shows_typing = False

            def respond(self, **kwargs: Any) -> Reply:
                raise TimeoutError("the model server did not answer")

        monkeypatch.setattr(replies, "responder_for", lambda agent: Broken())
        message = visitor_message(agent, "Where is my order?")
        reply_to_message(message.pk)
        conversation = Conversation.objects.get(pk=message.conversation_id)
        assert (conversation.status, conversation.handoff_reason) == ("waiting", "responder_failed")
        assert not conversation.messages.filter(role="agent").exists()
