"""The knowledge index: articles tokenized once per process and change, and every change —
added, edited, unpublished, deleted — reaching the very next answer in every process."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from agents.answering.responders import KnowledgeBaseResponder
from agents.contracts import Reply
from agents.knowledge.search import (
    KnowledgeIndexes,
    knowledge_changed,
    knowledge_index,
    knowledge_indexes_drop_local,
)
from agents.models import Agent, KnowledgeArticle
from security.redis_client import redis_sync_client

GIFT_CARDS = "Do gift cards expire?"


def ask(agent: Agent, question: str) -> Reply:
    return KnowledgeBaseResponder().respond(agent=agent, question=question, history=[])


def forget_every_stamp(settings: Any) -> None:
    """As a Redis restart without persistence would."""
    if settings.REDIS_URL:
        redis_sync_client().flushdb()
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _no_index_from_an_earlier_test() -> None:
    knowledge_indexes_drop_local()


@pytest.mark.django_db
class TestEveryChangeReachesTheNextAnswer:
    def test_a_new_article_answers_the_next_question(self, agent: Agent) -> None:
        assert not ask(agent, GIFT_CARDS).answered
        KnowledgeArticle.objects.create(
            agent=agent, title="Gift cards", body="Gift cards never expire."
        )
        reply = ask(agent, GIFT_CARDS)
        assert reply.answered
        assert reply.sources[0]["title"] == "Gift cards"

    def test_an_edited_article_answers_with_its_new_text(self, agent: Agent) -> None:
        assert "Canada in 7-10 days" in ask(agent, "How long does shipping to Canada take?").text
        article = agent.articles.get(title="Shipping times")
        article.body = "We ship to Canada in 3 days with our new partner."
        article.save()
        reply = ask(agent, "How long does shipping to Canada take?")
        assert "Canada in 3 days" in reply.text
        assert "7-10" not in reply.text

    def test_an_unpublished_article_is_never_cited_again(self, agent: Agent) -> None:
        assert ask(agent, "do you accept paypal").answered
        article = agent.articles.get(title="Payment methods")
        article.is_published = False
        article.save()
        assert not ask(agent, "do you accept paypal").answered
        article.is_published = True
        article.save()
        assert ask(agent, "do you accept paypal").sources[0]["title"] == "Payment methods"

    def test_a_deleted_article_is_never_cited_again(self, agent: Agent) -> None:
        assert ask(agent, "Is my tent covered by a warranty?").answered
        agent.articles.get(title="Warranty").delete()
        reply = ask(agent, "Is my tent covered by a warranty?")
        assert all(source["title"] != "Warranty" for source in reply.sources)

    def test_articles_of_another_agent_never_leak_in(
        self, agent: Agent, other_agent: Agent
    ) -> None:
        ask(agent, GIFT_CARDS)
        ask(other_agent, GIFT_CARDS)
        KnowledgeArticle.objects.create(
            agent=other_agent, title="Gift cards", body="Gift cards never expire."
        )
        assert not ask(agent, GIFT_CARDS).answered
        assert ask(other_agent, GIFT_CARDS).answered


@pytest.mark.django_db
class TestOnePerProcessAndChange:
    def test_an_unchanged_knowledge_base_answers_without_a_query(
        self, agent: Agent, django_assert_num_queries: Any
    ) -> None:
        ask(agent, "do you accept paypal")
        with django_assert_num_queries(0):
            assert ask(agent, "Can I return a tent I bought?").answered

    def test_every_process_finds_a_change_on_its_next_search(self, agent: Agent) -> None:
        # Two processes' indexes: a change replaces the shared stamp and nothing else, so
        # each one, including one that never heard of the write, rebuilds on its own.
        first, second = KnowledgeIndexes(), KnowledgeIndexes()
        before = first.index_for(agent)
        assert second.index_for(agent) is not before  # each builds its own
        assert first.index_for(agent) is before  # and keeps it while nothing changes
        KnowledgeArticle.objects.create(
            agent=agent, title="Gift cards", body="Gift cards never expire."
        )
        assert first.held(agent.pk) is before  # the write did not touch its memory ...
        for process in (first, second):  # ... yet both answer from the new article
            assert process.index_for(agent).search(GIFT_CARDS)[0].article.title == "Gift cards"

    def test_losing_every_stamp_rebuilds_rather_than_trusting_an_old_index(
        self, agent: Agent, settings: Any
    ) -> None:
        held = knowledge_index(agent)
        forget_every_stamp(settings)
        rebuilt = knowledge_index(agent)
        assert rebuilt is not held
        assert knowledge_index(agent) is rebuilt  # with a stamp of its own again

    def test_a_write_without_signals_shows_once_it_says_so(self, agent: Agent) -> None:
        ask(agent, "do you accept paypal")
        KnowledgeArticle.objects.filter(agent=agent, title="Payment methods").update(
            is_published=False
        )
        knowledge_changed(agent_pk=agent.pk)
        assert not ask(agent, "do you accept paypal").answered

    def test_an_index_is_never_lent_to_another_agent_with_the_same_pk(self, agent: Agent) -> None:
        held = knowledge_index(agent)
        impostor = Agent(pk=agent.pk, public_id="agt_someoneelse", workspace=agent.workspace)
        assert knowledge_index(impostor) is not held

    def test_the_least_recently_used_index_goes_first(
        self, agent: Agent, other_agent: Agent
    ) -> None:
        indexes = KnowledgeIndexes(limit=1)
        indexes.index_for(agent)
        indexes.index_for(other_agent)
        assert indexes.held(agent.pk) is None
        assert indexes.held(other_agent.pk) is not None


@pytest.mark.django_db
def test_passages_come_from_the_paragraph_that_matches(agent: Agent) -> None:
    KnowledgeArticle.objects.create(
        agent=agent,
        title="Store hours",
        body="Our stores open at nine.\n\nOn Sundays stores close at noon.\n\nParking is free.",
    )
    reply = ask(agent, "When do stores close on Sundays?")
    assert reply.text.startswith("On Sundays stores close at noon.")
    assert "Source: Store hours" in reply.text
