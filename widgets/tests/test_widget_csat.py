"""Starter prompts start a conversation; resolving it asks the visitor for a rating."""

from __future__ import annotations

import pytest

from conversations.lifecycle import conversation_status_set
from conversations.models import Conversation
from widgets.tests.browser import off_the_loop, shot
from widgets.tests.test_widget_ui import configure_widget, open_panel, visit, wait_until_sent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_starter_prompt_asks_and_a_resolution_collects_a_rating(agent, sites, browser) -> None:
    configure_widget(agent, starter_prompts=["Do you ship to Canada?", "Returns"])
    page, errors = visit(browser, sites)
    open_panel(page)
    starter = page.locator('[data-ca="starter"]', has_text="Do you ship to Canada?")
    starter.wait_for(timeout=10_000)
    starter.click()
    page.locator('[data-ca="message"][data-role="agent"]', has_text="Canada").wait_for(
        timeout=15_000
    )
    wait_until_sent(page)
    assert page.locator('[data-ca="starter"]').count() == 0

    conversation = off_the_loop(lambda: Conversation.objects.get(agent=agent))
    off_the_loop(lambda: conversation_status_set(conversation=conversation, status="resolved"))
    page.locator('[data-ca="csat"]').wait_for(timeout=10_000)
    page.locator('[data-ca="csat-score"][data-score="5"]').click()
    page.locator('[data-ca="csat-comment"]').fill("Quick and clear")
    page.locator('[data-ca="csat-submit"]').click()
    page.locator('[data-ca="csat-thanks"]').wait_for(timeout=10_000)
    shot(page, "widget-csat-thanks.png")

    rated = off_the_loop(lambda: Conversation.objects.get(pk=conversation.pk))
    assert (rated.csat_score, rated.csat_comment) == (5, "Quick and clear")
    assert errors == []
    page.close()
