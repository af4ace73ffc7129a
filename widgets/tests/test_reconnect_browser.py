"""The web process dies under a visitor and a staff member, in Chromium.

The widget is open on the demo site and the staff inbox has the conversation open when
the platform's web process is killed (SIGKILL, a process of its own; see
widgets.tests.web_process for the embedded mode). During the outage the visitor writes a
message and the staff member an internal note: both show as pending, neither is lost.
The process is started again on the same port; the widget comes back by itself, its
message is stored once and answered once, and shows once. The inbox, kept away a little
longer, comes back after that, sends its note once and re-reads the open conversation, so
it shows what was said while it was away — in the server's order, as the widget does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conversations.models import Conversation, Message
from widgets.tests.browser import SHADOW, off_the_loop, shot
from widgets.tests.live import LiveSites, demo_site, free_port
from widgets.tests.test_inbox_browser import inbox_page
from widgets.tests.test_widget_ui import open_panel, send, visit
from widgets.tests.web_process import WebServer, web_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "How long does express shipping take?"
DURING = "Do you ship to Canada?"
NOTE = "Written while the inbox was reconnecting"
BACK_S = 60_000  # ms: a restart, then the rest of a jittered backoff (up to 8-16 s a try)
LATE_DUPLICATE_MS = 2_000


@pytest.fixture
def web(transactional_db: Any, celery_worker: None) -> Iterator[WebServer]:
    server = web_server(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sites(agent: Any, web: WebServer) -> Iterator[LiveSites]:
    """The demo customer site, up all along, embedding the widget from the killable platform."""
    with demo_site(agent.public_id, web.url) as demo:
        yield LiveSites(platform_url=web.url, demo_url=demo)


def widget_messages(page: Any) -> list[dict[str, str]]:
    """What the widget shows, in its order: role, text, id and state of each message."""
    return list(
        page.evaluate(
            f"() => [...{SHADOW}.querySelectorAll('[data-ca=message]')].map(el => ({{"
            "role: el.dataset.role, text: el.textContent, id: el.dataset.id || '',"
            " state: el.dataset.state}))"
        )
    )


def inbox_messages(page: Any) -> list[dict[str, str]]:
    """The inbox transcript, in its order."""
    return list(
        page.evaluate(
            "() => [...document.querySelectorAll('[data-inbox=transcript] li')].map(el => ({"
            "role: el.dataset.role, id: el.dataset.id || '', state: el.dataset.state || '',"
            " text: el.querySelector('.ca-message-text').textContent}))"
        )
    )


def widget_status(page: Any) -> str:
    return str(page.evaluate(f"() => {SHADOW}.querySelector('[data-ca=status]').textContent"))


def agent_answers_shown(page: Any, count: int) -> None:
    page.wait_for_function(
        f"() => {SHADOW}.querySelectorAll('[data-ca=message][data-role=agent][data-id]').length"
        f" >= {count}",
        timeout=BACK_S,
    )


def stored(conversation: Conversation) -> list[tuple[str, str, str]]:
    """The conversation as the server orders it: (public id, role, text)."""
    return off_the_loop(
        lambda: list(
            Message.objects.filter(conversation=conversation)
            .order_by("id")
            .values_list("public_id", "role", "text")
        )
    )


def test_visitor_and_staff_come_back_by_themselves_after_the_web_process_is_killed(
    agent: Any, owner: Any, web: WebServer, sites: LiveSites, browser: Any
) -> None:
    staff, staff_log = inbox_page(browser, sites.platform_url, owner, "pw-owner")
    visitor, visitor_errors = visit(browser, sites)
    open_panel(visitor)
    send(visitor, QUESTION)
    agent_answers_shown(visitor, 1)
    staff.locator('[data-inbox="row"]').first.click()
    staff.locator('[data-inbox="transcript"] [data-role="customer"]', has_text=QUESTION).wait_for(
        timeout=10_000
    )

    web.kill()
    visitor.wait_for_function(
        f"() => {SHADOW}.querySelector('[data-ca=status]').textContent === 'Reconnecting…'",
        timeout=10_000,
    )
    staff.locator('[data-inbox="connection"]', has_text="reconnecting").wait_for(timeout=10_000)
    # The inbox stays away until the widget has moved on, so it must catch up by itself.
    staff.context.set_offline(True)

    send(visitor, DURING)
    staff.locator('[data-inbox="text"]').fill(NOTE)
    staff.click('[data-inbox="note"]')
    visitor.wait_for_timeout(1_500)  # a few reconnect attempts, all refused
    during = [m for m in widget_messages(visitor) if m["text"] == DURING]
    assert [m["state"] for m in during] == ["sending"], during  # pending, not lost
    assert widget_status(visitor) == "Reconnecting…"
    note = staff.locator('[data-inbox="transcript"] [data-state="sending"]', has_text=NOTE)
    assert note.count() == 1 and staff.locator('[data-inbox="text"]').input_value() == ""
    shot(visitor, "widget-web-process-down.png")
    shot(staff, "inbox-web-process-down.png")

    web.start()
    visitor.wait_for_function(
        f"() => [...{SHADOW}.querySelectorAll('[data-ca=message][data-role=customer]')]"
        f".some(el => el.textContent === {DURING!r} && el.dataset.state === 'sent')",
        timeout=BACK_S,
    )
    agent_answers_shown(visitor, 2)
    assert widget_status(visitor) == "Online"

    assert staff.locator('[data-inbox="connection"]').inner_text() == "reconnecting…"
    staff.context.set_offline(False)
    staff.locator('[data-inbox="connection"]', has_text="live").wait_for(timeout=BACK_S)
    staff.locator('[data-inbox="transcript"] [data-role="note"][data-id]', has_text=NOTE).wait_for(
        timeout=10_000
    )
    staff.locator('[data-inbox="transcript"] [data-role="customer"]', has_text=DURING).wait_for(
        timeout=10_000
    )
    visitor.wait_for_timeout(LATE_DUPLICATE_MS)  # room for a doubled send or answer to show

    conversation = off_the_loop(lambda: Conversation.objects.get(agent=agent))
    rows = stored(conversation)
    # Each question stored once and answered once; the note, sent when the inbox came
    # back (after the answer), stored once.
    assert [role for _, role, _ in rows] == ["customer", "agent", "customer", "agent", "note"]
    assert [text for _, role, text in rows if role in ("customer", "note")] == [
        QUESTION,
        DURING,
        NOTE,
    ]

    # Once each, in the server's order, in the widget (notes are staff-only) and the inbox.
    shown = widget_messages(visitor)
    assert [m["id"] for m in shown] == [pid for pid, role, _ in rows if role != "note"]
    assert [m["state"] for m in shown] == ["sent"] * len(shown)
    transcript = inbox_messages(staff)
    assert [m["id"] for m in transcript] == [pid for pid, _, _ in rows]

    shot(visitor, "widget-reconnected.png")
    shot(staff, "inbox-reconnected.png")
    assert visitor_errors == []
    assert [entry for entry in staff_log if entry != "socket closed"] == []
    staff.close()
    visitor.close()
