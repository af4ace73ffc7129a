"""Identity in a real browser: sign in, switch users on one browser, sign out, come back.

The demo site's own backend signs each customer token, as a real site's server would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conversations.models import Conversation
from customers.keys import identity_secret_rotate
from demo.site import DemoSigningKey
from widgets.tests.browser import SHADOW, off_the_loop, shot
from widgets.tests.live import LiveSites, live_sites
from widgets.tests.test_widget_ui import open_panel, send, visit, wait_until_sent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_sites(agent: Any, celery_worker: None) -> Iterator[LiveSites]:
    key, secret = identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)
    with live_sites(agent.public_id, DemoSigningKey(secret=secret, key_id=key.key_id)) as live:
        yield live


def shown_texts(page: Any) -> list[str]:
    return list(
        page.evaluate(
            f"() => [...{SHADOW}.querySelectorAll('[data-ca=message]')].map(m => m.textContent)"
        )
    )


def sign_in(page: Any, who: str) -> None:
    """As a visitor would: close the chat (it covers the page's corner), click, reopen."""
    was_open = page.locator('[data-ca="panel"]').is_visible()
    if was_open:
        page.locator('[data-ca="launcher"]').click()
        page.locator('[data-ca="panel"]').wait_for(state="hidden", timeout=10_000)
    page.locator(f'.account [data-customer="{who}"]').click()
    page.locator("#account-status", has_text="Signed in as").wait_for(timeout=10_000)
    if was_open:
        open_panel(page)


def ask(page: Any, text: str) -> None:
    send(page, text)
    page.locator('[data-ca="message"][data-role="customer"]', has_text=text).wait_for(
        timeout=10_000
    )
    wait_until_sent(page)


def test_customers_sharing_a_browser_never_see_each_others_messages(
    agent: Any, signed_sites: LiveSites, browser: Any
) -> None:
    page, errors = visit(browser, signed_sites)
    open_panel(page)
    ask(page, "Guest question about shipping")

    sign_in(page, "ana")  # the guest's conversation joins Ana
    page.locator('[data-ca="message"]', has_text="Guest question").wait_for(timeout=10_000)
    ask(page, "Ana asks about her warranty")
    verified, joined = off_the_loop(
        lambda: (
            Conversation.objects.get(customer__external_id="cust_ana").customer.is_verified,  # type: ignore[union-attr]
            Conversation.objects.filter(
                customer__external_id="cust_ana", messages__text__startswith="Guest question"
            ).exists(),
        )
    )
    assert verified and joined

    sign_in(page, "ben")  # another customer on the same browser, without signing out
    page.wait_for_function(
        f"() => ![...{SHADOW}.querySelectorAll('[data-ca=message]')]"
        ".some(m => m.textContent.includes('Ana asks'))",
        timeout=10_000,
    )
    ask(page, "Ben wants to return a tent")
    shot(page, "widget-identity-ben.png")
    page.reload()  # the panel was open, so it comes back open
    page.locator('[data-ca="panel"]').wait_for(state="visible", timeout=10_000)
    page.locator('[data-ca="message"]', has_text="Ben wants").wait_for(timeout=10_000)
    assert not any("Ana" in text or "Guest" in text for text in shown_texts(page))

    page.locator('[data-ca="launcher"]').click()
    page.locator("#sign-out").click()
    open_panel(page)
    page.wait_for_function(
        f"() => {SHADOW}.querySelectorAll('[data-ca=message][data-role=customer]').length === 0",
        timeout=10_000,
    )

    sign_in(page, "ana")  # Ana comes back: her history is hers again
    page.locator('[data-ca="message"]', has_text="Ana asks about her warranty").wait_for(
        timeout=10_000
    )
    assert not any("Ben" in text for text in shown_texts(page))
    conversations = off_the_loop(
        lambda: dict(
            Conversation.objects.filter(customer__isnull=False).values_list(
                "customer__external_id", "public_id"
            )
        )
    )
    assert set(conversations) == {"cust_ana", "cust_ben"}
    assert errors == []
    page.close()


def test_an_agent_for_verified_customers_shows_no_chat_to_guests(
    agent: Any, signed_sites: LiveSites, browser: Any
) -> None:
    agent.identity_required = True
    off_the_loop(lambda: agent.save())
    page = browser.new_page()
    page.goto(signed_sites.demo_url)
    page.wait_for_function(
        f"() => {SHADOW}.querySelector('[data-ca=launcher]')"
        " && getComputedStyle("
        + SHADOW
        + ".querySelector('[data-ca=launcher]')).display === 'none'",
        timeout=15_000,
    )
    sign_in(page, "ana")
    page.locator('[data-ca="launcher"]').wait_for(state="visible", timeout=10_000)
    open_panel(page)
    ask(page, "Signed-in question about warranty")
    page.close()
