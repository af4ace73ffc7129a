"""Handoff end to end in Chromium: a visitor on the demo site asks for a person, a staff
member in the admin inbox takes over live, they talk (typing indicators both ways), the
staff member resolves and the visitor rates the help."""

from __future__ import annotations

from typing import Any

import pytest

from analytics.models import WidgetEvent
from conversations.models import Conversation, Message
from widgets.tests.browser import SHADOW, off_the_loop, shot
from widgets.tests.test_widget_ui import open_panel, send, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1440, "height": 900}


def inbox_page(browser: Any, platform_url: str, user: Any, password: str) -> tuple[Any, list[str]]:
    """The admin inbox, signed in through the admin's own login form."""
    page = browser.new_page(viewport=WIDE)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Failed scripts, styles or socket upgrades (the browser's own favicon probe is not one).
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("websocket", lambda ws: ws.on("close", lambda _: errors.append("socket closed")))
    page.goto(f"{platform_url}/admin/login/?next=/admin/inbox/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/inbox/")
    page.locator('[data-inbox="connection"]', has_text="live").wait_for(timeout=10_000)
    return page, errors


def widget_typing_shown(page: Any) -> bool:
    return bool(page.evaluate(f"() => !{SHADOW}.querySelector('[data-ca=typing]').hidden"))


def test_a_person_takes_over_live_and_the_visitor_rates_them(agent, owner, sites, browser) -> None:
    def name_the_owner() -> None:
        owner.first_name = "Sam"
        owner.save(update_fields=["first_name"])

    off_the_loop(name_the_owner)
    staff, staff_errors = inbox_page(browser, sites.platform_url, owner, "pw-owner")
    visitor, visitor_errors = visit(browser, sites)
    open_panel(visitor)

    # The visitor asks for a person: the bot steps aside and the inbox hears it at once.
    send(visitor, "Can I talk to a real person please?")
    visitor.locator(
        '[data-ca="message"][data-role="system"]', has_text="Connecting you with a person"
    ).wait_for(timeout=15_000)
    row = staff.locator('[data-inbox="row"][data-status="waiting"]')
    row.wait_for(timeout=10_000)
    row.click()
    staff.locator(
        '[data-inbox="transcript"] [data-role="customer"]', has_text="real person"
    ).wait_for(timeout=10_000)
    assert staff.locator('[data-inbox="verified"]').inner_text() == "anonymous"
    assert "127.0.0.1" in staff.locator('[data-inbox="page"]').inner_text()

    staff.click('[data-inbox="take"]')
    staff.locator('[data-inbox="status"]', has_text="assigned").wait_for(timeout=10_000)
    visitor.locator(
        '[data-ca="message"][data-role="system"]', has_text="Sam joined the conversation"
    ).wait_for(timeout=10_000)

    # Staff typing shows in the widget; the reply arrives live.
    staff.locator('[data-inbox="text"]').press_sequentially("Hi, I'm Sam", delay=40)
    visitor.wait_for_function(
        f"() => !{SHADOW}.querySelector('[data-ca=typing]').hidden", timeout=10_000
    )
    staff.locator('[data-inbox="text"]').press_sequentially(" - how can I help?", delay=10)
    staff.click('[data-inbox="reply"]')
    visitor.locator('[data-ca="message"][data-role="staff"]', has_text="how can I help?").wait_for(
        timeout=10_000
    )

    # The visitor's typing shows in the inbox; their answer arrives live.
    visitor.locator('[data-ca="input"]').press_sequentially("My order <b>1042</b>", delay=40)
    staff.locator('[data-inbox="typing"]').wait_for(state="visible", timeout=10_000)
    visitor.locator('[data-ca="input"]').press("Enter")
    answer = staff.locator('[data-inbox="transcript"] [data-role="customer"]', has_text="1042")
    answer.wait_for(timeout=10_000)
    assert answer.locator("b").count() == 0  # visitor text is text, never markup

    staff.locator('[data-inbox="text"]').fill("Refund approved by finance")
    staff.click('[data-inbox="note"]')
    staff.locator('[data-inbox="transcript"] [data-role="note"]').wait_for(timeout=10_000)
    shot(staff, "inbox-live.png")

    staff.click('[data-inbox="resolve"]')
    staff.locator('[data-inbox="status"]', has_text="resolved").wait_for(timeout=10_000)
    visitor.locator('[data-ca="csat"]').wait_for(timeout=10_000)
    visitor.locator('[data-ca="csat-score"][data-score="5"]').click()
    visitor.locator('[data-ca="csat-submit"]').click()
    visitor.locator('[data-ca="csat-thanks"]').wait_for(timeout=10_000)
    shot(visitor, "widget-after-handoff.png")

    assert "Refund approved" not in visitor.evaluate(f"() => {SHADOW}.textContent")
    conversation = off_the_loop(lambda: Conversation.objects.get(agent=agent))
    assert (conversation.status, conversation.resolved_by, conversation.csat_score) == (
        "resolved",
        "human",
        5,
    )
    assert conversation.assigned_to_id == owner.pk
    roles = off_the_loop(
        lambda: list(
            Message.objects.filter(conversation=conversation).values_list("role", flat=True)
        )
    )
    assert "agent" not in roles  # the bot stayed silent from the request on
    events = off_the_loop(lambda: set(WidgetEvent.objects.values_list("event", flat=True)))
    assert {"handed_off", "resolved", "csat"} <= events
    assert staff_errors == [] and visitor_errors == []
    staff.close()
    visitor.close()
