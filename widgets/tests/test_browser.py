"""One visitor's road in a real Chromium: demo site (another origin) → widget → answer."""

from __future__ import annotations

import pytest

from conversations.models import Message
from widgets.tests.browser import off_the_loop, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_asks_gets_the_answer_and_keeps_it_after_reload(sites, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(sites.demo_url)
    launcher = page.locator('[data-ca="launcher"]')
    launcher.wait_for(state="visible", timeout=10_000)
    # The session comes with the visitor's intent, not with the page view.
    with page.expect_response(lambda r: r.url.endswith("/api/v2/widget/session")) as answer:
        launcher.click()
    first_session = answer.value.json()
    panel = page.locator('[data-ca="panel"]')
    panel.wait_for(state="visible", timeout=10_000)
    # The greeting comes with the session's config (instantly from storage on later visits).
    panel.get_by_text("Hello there!").wait_for(timeout=10_000)

    page.locator('[data-ca="input"]').fill("How long does express shipping take?")
    page.locator('[data-ca="input"]').press("Enter")
    answer = page.locator('[data-ca="message"][data-role="agent"]', has_text="Express shipping")
    answer.wait_for(timeout=15_000)
    assert "1-2 business days" in answer.inner_text()
    sent = page.locator('[data-ca="message"][data-role="customer"]')
    page.wait_for_function(
        "() => [...document.querySelector('#customeragent-widget').shadowRoot"
        ".querySelectorAll('[data-ca=message][data-role=customer]')]"
        ".every(el => el.dataset.state !== 'sending')",
        timeout=10_000,
    )
    assert sent.count() == 1
    shot(page, "widget-answer.png")

    # The browser proves it is the same visitor with the secret it kept, so the server
    # hands back its conversation (not only the copy the widget cached): a conversation to
    # restore brings the session at once.
    with page.expect_response(lambda r: r.url.endswith("/api/v2/widget/session")) as answer:
        page.reload()
    resumed = answer.value.json()
    assert resumed["visitorId"] == first_session["visitorId"]
    assert resumed["conversation"] is not None
    page.locator('[data-ca="launcher"]').wait_for(state="visible", timeout=10_000)
    if not page.locator('[data-ca="panel"]').is_visible():
        page.locator('[data-ca="launcher"]').click()
    restored = page.locator('[data-ca="message"][data-role="agent"]', has_text="Express shipping")
    restored.wait_for(timeout=10_000)
    assert page.locator('[data-ca="message"][data-role="customer"]').count() == 1
    shot(page, "widget-after-reload.png")

    stored = off_the_loop(
        lambda: list(Message.objects.order_by("id").values_list("role", flat=True))
    )
    assert stored == ["customer", "agent"]
    assert errors == []
    page.close()
