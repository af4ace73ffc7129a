"""Product cards and quick replies from a stored agent message (as a product search through the
store's MCP server leaves it), and the personalized greeting frame, in a real Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from conversations.models import Conversation, Message
from conversations.realtime import broadcast
from widgets.tests.browser import SHADOW, off_the_loop, shot
from widgets.tests.live import LiveSites
from widgets.tests.test_widget_ui import open_panel, visit, wait_until_sent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A 1x1 transparent PNG for the cards' https images (no real network in tests).
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
CARDS = [
    {
        "title": "Ridgeline 2 tent",
        "price": "289.00 USD",
        "imageUrl": "https://cdn.shop.example/ridgeline-2.png",
        "url": "https://shop.example.com/products/ridgeline-2",
    },
    {
        "title": "Summit 40 <b>backpack</b>",
        "price": "$129",
        "imageUrl": "https://cdn.shop.example/summit-40.png",
        "url": "https://shop.example.com/products/summit-40",
    },
]
QUICK_REPLIES = ["More about Ridgeline 2 tent", "More about Summit 40 <b>backpack</b>"]
EARLIER = [
    ("Do you ship to Canada?", "Yes: we ship to Canada in 7-10 days."),
    ("And returns?", "Return any unused item within 30 days of delivery for a full refund."),
    ("Which tents do you have?", "Tents for one to four people; tell me what you plan."),
]
GREETING = "Hi Ana — your order #1042 shipped yesterday."


def live_visitor(page: Any, agent: Any) -> str:
    """The chat open with its socket ready; the visitor's owner key (`v-<visitor id>`)."""
    open_panel(page)
    page.locator('[data-ca="status"]', has_text="Online").wait_for(timeout=15_000)
    # The widget keeps its visitor as {id, secret} (customers.visitors).
    visitor = page.evaluate(
        f"() => JSON.parse(localStorage.getItem('ca:{agent.public_id}:visitor')).id"
    )
    return f"v-{visitor}"


def store_product_answer(agent: Any, owner_key: str) -> Message:
    """A conversation ending with the answer reply_generate stores after a product search
    (written directly, so the test does not wait for a model)."""
    conversation = Conversation.objects.create(
        agent=agent, visitor_id=owner_key[2:], owner_key=owner_key
    )
    # Enough before it that the conversation overflows the panel.
    for number, (question, reply) in enumerate(EARLIER):
        Message.objects.create(
            conversation=conversation, role="customer", text=question, client_id=f"c-{number}"
        )
        Message.objects.create(conversation=conversation, role="agent", text=reply)
    answer = Message.objects.create(
        conversation=conversation,
        role=Message.Role.AGENT,
        text="Here are two ideas:",
        client_id="reply:test-products",
        metadata={"cards": CARDS, "quickReplies": QUICK_REPLIES, "answered": True},
    )
    return answer


def cards_shown(page: Any) -> list[dict[str, Any]]:
    return list(
        page.evaluate(
            f"""() => [...{SHADOW}.querySelectorAll('[data-ca=card]')].map((card) => {{
              const link = card.querySelector('a');
              return {{
                title: card.querySelector('.cdt').textContent,
                price: card.querySelector('.pr').textContent,
                image: card.querySelector('img').getAttribute('src'),
                href: link.getAttribute('href'),
                target: link.getAttribute('target'),
                rel: link.getAttribute('rel'),
                markup: card.querySelectorAll('b').length,
              }};
            }})"""
        )
    )


def test_a_stored_product_answer_shows_cards_and_quick_replies_that_send_their_text(
    agent: Any, sites: LiveSites, browser: Any
) -> None:
    page, errors = visit(browser, sites)
    page.route(
        "https://cdn.shop.example/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PIXEL),
    )
    owner_key = live_visitor(page, agent)
    answer = off_the_loop(lambda: store_product_answer(agent, owner_key))

    # The stored answer comes with the conversation on the next page view (the panel was
    # open, so it comes back open).
    page.reload()
    page.locator('[data-ca="panel"]').wait_for(state="visible", timeout=10_000)
    page.wait_for_function(
        f"() => {SHADOW}.querySelectorAll('[data-ca=card]').length === 2", timeout=10_000
    )
    expected = [
        {
            "title": card["title"],
            "price": card["price"],
            "image": card["imageUrl"],
            "href": card["url"],
            "target": "_blank",
            "rel": "noopener noreferrer",
            "markup": 0,
        }
        for card in CARDS
    ]
    assert cards_shown(page) == expected
    # Whole cards, even when the conversation fills the panel (the list must not squeeze
    # the row of cards to a sliver).
    heights = page.evaluate(
        f"() => [...{SHADOW}.querySelectorAll('[data-ca=card]')].map((card) => card.offsetHeight)"
    )
    assert all(height > 150 for height in heights), heights
    chips = page.locator('[data-ca="quick-replies"] button')
    assert chips.all_inner_texts() == QUICK_REPLIES
    shot(page, "widget-product-cards.png")

    chips.nth(1).click()
    page.locator('[data-ca="quick-replies"]').wait_for(state="detached", timeout=5_000)
    page.locator('[data-ca="message"][data-role="customer"]', has_text="Summit 40").wait_for(
        timeout=10_000
    )
    wait_until_sent(page)
    asked = off_the_loop(
        lambda: list(
            Message.objects.filter(conversation_id=answer.conversation_id, role="customer")
            .order_by("id")
            .values_list("text", flat=True)
        )
    )
    assert asked == [q for q, _ in EARLIER] + ["More about Summit 40 <b>backpack</b>"]
    assert cards_shown(page) == expected  # the cards stay
    assert errors == []
    page.close()


def test_a_greeting_frame_replaces_the_greeting_while_the_chat_is_open(
    agent: Any, sites: LiveSites, browser: Any
) -> None:
    page, errors = visit(browser, sites)
    owner_key = live_visitor(page, agent)

    off_the_loop(
        lambda: broadcast.broadcast_greeting(
            agent_public_id=agent.public_id, owner_key=owner_key, text=GREETING
        )
    )
    greeting = page.locator('[data-ca="greeting"]')
    greeting.filter(has_text=GREETING).wait_for(timeout=10_000)
    assert greeting.count() == 1
    shot(page, "widget-personal-greeting.png")
    assert errors == []
    page.close()
