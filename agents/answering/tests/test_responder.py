from __future__ import annotations

import pytest

from agents.answering.responders import KnowledgeBaseResponder
from agents.answering.responders.knowledge import NO_ANSWER
from agents.knowledge.text import stem, terms
from agents.models import KnowledgeArticle


@pytest.mark.django_db
class TestKnowledgeBaseResponder:
    def ask(self, agent, question: str):
        return KnowledgeBaseResponder().respond(agent=agent, question=question, history=[])

    @pytest.mark.parametrize(
        ("question", "title", "phrase"),
        [
            ("How long does shipping to Canada take?", "Shipping times", "Canada in 7-10 days"),
            ("Can I get a refund if I return something?", "Returns and refunds", "30 days"),
            ("Is my tent covered by a warranty?", "Warranty", "lifetime warranty"),
            ("do you accept paypal", "Payment methods", "PayPal"),
            ("Can I return a tent I bought?", "Returns and refunds", "30 days"),
        ],
    )
    def test_it_finds_the_right_article_among_several(self, agent, question, title, phrase) -> None:
        reply = self.ask(agent, question)
        assert reply.answered
        assert reply.sources[0]["title"] == title
        assert phrase in reply.text
        assert f"Source: {title}" in reply.text

    @pytest.mark.parametrize(
        "question", ["What's the weather in Paris?", "asdf qwerty", "", "??? !!!", "Hi there"]
    )
    def test_it_says_honestly_when_it_has_no_answer(self, agent, question: str) -> None:
        reply = self.ask(agent, question)
        assert not reply.answered
        assert reply.text == NO_ANSWER
        assert reply.handoff_suggested

    def test_unpublished_and_other_agents_articles_are_never_used(self, agent, other_agent) -> None:
        KnowledgeArticle.objects.create(
            agent=other_agent, title="Gift cards", body="Gift cards never expire."
        )
        KnowledgeArticle.objects.create(
            agent=agent,
            title="Secret sale",
            body="The secret sale code is HUSH.",
            is_published=False,
        )
        assert not self.ask(agent, "Do gift cards expire?").answered
        assert not self.ask(agent, "secret sale code").answered

    def test_sql_metacharacters_in_questions_are_harmless(self, agent) -> None:
        reply = self.ask(agent, "shipping' OR 1=1; -- | & ! :* ( )")
        assert reply.answered
        assert reply.sources[0]["title"] == "Shipping times"


def test_stemming_lets_word_forms_meet() -> None:
    assert stem("shipping") == stem("ships") == stem("shipped") == "ship"
    assert terms("The refunds are returned") == ["refund", "return"]
