"""Frames the backend does not send yet (streamed deltas, cards, quick replies), and a lost
connection, proven in a real Chromium.

The widget's websocket is routed through Playwright (`page.route_web_socket`): it still
connects to the live platform, every frame both ways is recorded, and a test can push extra
server frames into the page as if the platform had sent them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from conversations.models import Message
from widgets.tests.browser import DESKTOP, SHADOW, off_the_loop, shot
from widgets.tests.live import LiveSites

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AGENT_BUBBLE = '[data-ca="message"][data-role="agent"]'
CUSTOMER_BUBBLE = '[data-ca="message"][data-role="customer"]'
# A 1x1 transparent PNG, served for the cards' https images (no real network in tests).
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class SocketTap:
    """Routes the widget's websocket to the live platform, recording frames both ways."""

    def __init__(self) -> None:
        self.pages: list[Any] = []  # the page-side WebSocketRoute of each connection
        self.to_server: list[dict[str, Any]] = []
        self.to_page: list[dict[str, Any]] = []
        self.connections = 0

    def handle(self, page_side: Any) -> None:
        self.connections += 1
        server_side = page_side.connect_to_server()
        self.pages.append(page_side)

        def from_page(message: str | bytes) -> None:
            self.to_server.append(json.loads(message))
            server_side.send(message)

        def from_server(message: str | bytes) -> None:
            self.to_page.append(json.loads(message))
            page_side.send(message)

        page_side.on_message(from_page)
        server_side.on_message(from_server)

    def push(self, frame: dict[str, Any]) -> None:
        """A frame to the page, as if the platform had sent it on the current socket."""
        self.pages[-1].send(json.dumps(frame))

    def sent(self, kind: str) -> list[dict[str, Any]]:
        return [frame for frame in self.to_server if frame.get("type") == kind]

    def received(self, kind: str) -> list[dict[str, Any]]:
        return [frame for frame in self.to_page if frame.get("type") == kind]


def wait_until(page: Any, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for Python-side state the route handlers update (they run while Playwright
    waits, so this keeps Playwright's loop turning rather than sleeping)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        page.wait_for_timeout(20)


@pytest.fixture
def context(sites: LiveSites, browser: Any) -> Iterator[Any]:
    # After `sites`: the database rows exist before Playwright's loop runs in this thread.
    context = browser.new_context(viewport=DESKTOP)
    try:
        yield context
    finally:
        context.close()


def open_chat(context: Any, sites: LiveSites) -> tuple[Any, SocketTap, list[str]]:
    """The demo site with the chat open and the widget's socket ready (through the tap)."""
    tap = SocketTap()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route_web_socket(lambda url: url.endswith("/ws/widget/"), tap.handle)
    page.goto(sites.demo_url)
    page.locator('[data-ca="launcher"]').click()
    panel = page.locator('[data-ca="panel"]')
    panel.wait_for(state="visible", timeout=10_000)
    panel.get_by_text("Hello there!").wait_for(timeout=10_000)
    page.locator('[data-ca="status"]', has_text="Online").wait_for(timeout=10_000)
    assert len(tap.received("session.ready")) == 1
    return page, tap, errors


def in_shadow(page: Any, expression: str) -> Any:
    """Evaluate `expression` with `root` bound to the widget's shadow root."""
    return page.evaluate(f"() => {{ const root = {SHADOW}; return {expression}; }}")


def settle(page: Any) -> None:
    """Let queued work run: a broken image's error event (a round trip to the demo site,
    as `src=x` would be) and then two animation frames."""
    page.evaluate(
        """() => new Promise((done) => {
          const probe = new Image();
          probe.onload = probe.onerror = () =>
            requestAnimationFrame(() => requestAnimationFrame(done));
          probe.src = 'x?settle=' + Date.now();
        })"""
    )


# --------------------------------------------------------------------------------------------

STREAM_ID = "msg_stream_test_1"
STREAM_CHUNKS = [
    "Here is **the",
    " plan** for you:\n",
    "- pack the tent\n- check the ",
    "weather\n\nSee [the guide](https://shop.example.com/guide) ",
    "or [this](javascript:window.__pwned=1) for more.",
]
# Text each chunk brings to the screen (once rendered as Markdown).
STREAM_MARKERS = ["Here is", "plan", "check the", "the guide", "for more."]
STREAM_TEXT = "".join(STREAM_CHUNKS)


def test_streamed_deltas_grow_one_bubble_that_the_final_message_replaces(context, sites) -> None:
    page, tap, errors = open_chat(context, sites)
    bubble = page.locator(AGENT_BUBBLE)
    assert bubble.count() == 0

    lengths = [0]
    for chunk, marker in zip(STREAM_CHUNKS, STREAM_MARKERS, strict=True):
        tap.push({"type": "message.delta", "id": STREAM_ID, "delta": chunk})
        # Still one bubble, streaming, its text growing chunk by chunk.
        page.wait_for_function(
            f"""(marker) => {{
              const els = {SHADOW}.querySelectorAll('[data-ca=message][data-role=agent]');
              return els.length === 1 && els[0].textContent.includes(marker);
            }}""",
            arg=marker,
            timeout=5_000,
        )
        assert bubble.count() == 1
        assert bubble.get_attribute("data-state") == "streaming"
        assert bubble.get_attribute("data-id") == STREAM_ID
        assert bubble.get_attribute("aria-busy") == "true"
        lengths.append(len(bubble.inner_text()))
    assert lengths == sorted(lengths)
    assert len(set(lengths)) == len(lengths)

    # Mid-stream the Markdown is already elements: bold, a list, the https link.
    assert bubble.locator("strong").inner_text() == "the plan"
    assert bubble.locator("ul > li").all_inner_texts() == ["pack the tent", "check the weather"]
    assert bubble.locator("a").count() == 1
    assert bubble.locator("a").get_attribute("href") == "https://shop.example.com/guide"
    shot(page, "widget-streaming.png")

    tap.push(
        {
            "type": "message",
            "id": STREAM_ID,
            "role": "agent",
            "text": STREAM_TEXT,
            "createdAt": now_iso(),
            "clientId": None,
        }
    )
    page.wait_for_function(
        f"() => {SHADOW}.querySelector('[data-ca=message][data-role=agent]')"
        ".dataset.state === 'sent'",
        timeout=5_000,
    )
    assert bubble.count() == 1
    assert bubble.get_attribute("data-id") == STREAM_ID
    assert bubble.get_attribute("aria-busy") is None
    assert bubble.locator("strong").inner_text() == "the plan"
    assert bubble.locator("ul > li").count() == 2
    links = bubble.locator("a")
    assert links.count() == 1
    assert links.get_attribute("href") == "https://shop.example.com/guide"
    assert links.inner_text() == "the guide"
    assert links.get_attribute("target") == "_blank"
    assert "noopener" in (links.get_attribute("rel") or "")
    # The javascript: link stays the text it was written as.
    assert "[this](javascript:window.__pwned=1)" in bubble.inner_text()
    assert "**" not in bubble.inner_text()

    # A late chunk for a message already final changes nothing.
    tap.push({"type": "message.delta", "id": STREAM_ID, "delta": " DUPLICATE"})
    settle(page)
    assert bubble.count() == 1
    assert "DUPLICATE" not in bubble.inner_text()
    assert page.evaluate("() => window.__pwned") is None
    assert errors == []
    shot(page, "widget-streamed-final.png")


def test_cards_and_quick_replies_render_and_a_chip_sends_its_value(context, sites) -> None:
    held: list[Any] = []  # image requests, answered once the empty box is measured
    context.route("https://img.example.com/**", lambda route: held.append(route))
    page, tap, errors = open_chat(context, sites)
    tap.push(
        {
            "type": "message",
            "id": "msg_rich_test_1",
            "role": "agent",
            "text": "Two tents **in stock**:",
            "createdAt": now_iso(),
            "cards": [
                {
                    "title": "Ridgeline 2 Tent",
                    "imageUrl": "https://img.example.com/ridgeline.png",
                    "price": "$289",
                    "url": "https://shop.example.com/ridgeline",
                    "buttons": [{"label": "Details", "url": "https://shop.example.com/r2"}],
                },
                {
                    "title": "Basecamp 4 Tent",
                    "imageUrl": "http://img.example.com/plain-http.png",
                    "price": 449,
                },
            ],
            "quickReplies": [
                {"label": "Track my order", "value": "Where is my order?"},
                {"label": "Talk to a human"},
            ],
        }
    )
    cards = page.locator('[data-ca="card"]')
    cards.first.wait_for(timeout=5_000)
    assert cards.count() == 2
    first, second = cards.nth(0), cards.nth(1)
    assert first.locator("a").first.inner_text() == "Ridgeline 2 Tent"
    assert first.locator("a").first.get_attribute("href") == "https://shop.example.com/ridgeline"
    assert "$289" in first.inner_text()
    img = first.locator("img")
    assert img.get_attribute("src") == "https://img.example.com/ridgeline.png"
    # The image box has its final size before the image arrives: no layout shift.
    wait_until(page, lambda: len(held) == 1)
    assert held[0].request.url == "https://img.example.com/ridgeline.png"
    # (Sizes within the card, not page positions: the list may still be scrolling.)
    geometry = "el => [el.offsetWidth, el.offsetHeight, el.closest('.cd').offsetHeight]"
    empty = img.evaluate(geometry)
    held[0].fulfill(status=200, content_type="image/png", body=PIXEL)
    page.wait_for_function(
        f"() => {SHADOW}.querySelector('[data-ca=card] img').naturalWidth === 1", timeout=5_000
    )
    loaded = img.evaluate(geometry)
    assert loaded == empty
    assert round(loaded[0] / loaded[1], 1) == round(240 / 135, 1)
    assert first.get_by_text("Details").get_attribute("href") == "https://shop.example.com/r2"
    # An http: image is not loaded at all; a numeric price is shown as text.
    assert second.locator("img").count() == 0
    assert "449" in second.inner_text()
    assert page.locator(AGENT_BUBBLE).locator("strong").inner_text() == "in stock"

    chips = page.locator('[data-ca="quick-replies"] button')
    assert chips.all_inner_texts() == ["Track my order", "Talk to a human"]
    shot(page, "widget-cards-quick-replies.png")

    chips.first.click()
    page.locator('[data-ca="quick-replies"]').wait_for(state="detached", timeout=5_000)
    wait_until(page, lambda: bool(tap.sent("message.send")))
    sent = tap.sent("message.send")
    assert len(sent) == 1
    assert sent[0]["text"] == "Where is my order?"
    assert sent[0]["clientId"]
    mine = page.locator(CUSTOMER_BUBBLE)
    mine.wait_for(timeout=5_000)
    assert mine.inner_text() == "Where is my order?"
    page.wait_for_function(
        f"() => {SHADOW}.querySelector('[data-ca=message][data-role=customer]')"
        ".dataset.state === 'sent'",
        timeout=10_000,
    )
    acks = tap.received("message.ack")
    assert [ack["clientId"] for ack in acks] == [sent[0]["clientId"]]
    # The chips are gone for good, and the cards stay.
    assert page.locator('[data-ca="quick-replies"]').count() == 0
    assert cards.count() == 2
    stored = off_the_loop(
        lambda: list(Message.objects.filter(role="customer").values_list("text", flat=True))
    )
    assert stored == ["Where is my order?"]
    assert errors == []


def test_a_message_written_offline_is_delivered_once_when_back_online(context, sites) -> None:
    page, tap, errors = open_chat(context, sites)
    text = "Written while offline: do you ship to Canada?"

    context.set_offline(True)
    tap.pages[-1].close(code=1001, reason="network lost")  # the connection drops
    page.locator('[data-ca="status"]', has_text="Reconnecting").wait_for(timeout=10_000)

    page.locator('[data-ca="input"]').fill(text)
    page.locator('[data-ca="input"]').press("Enter")
    bubble = page.locator(CUSTOMER_BUBBLE)
    bubble.wait_for(timeout=5_000)
    assert bubble.get_attribute("data-state") == "sending"
    stored = page.evaluate(
        "() => Object.entries(localStorage).filter(([k]) => k.endsWith(':outbox'))"
        ".map(([, v]) => JSON.parse(v))"
    )
    assert [entry["text"] for entry in stored[0]] == [text]
    # The widget keeps trying while offline, and gets nowhere.
    wait_until(page, lambda: tap.connections >= 3)
    assert len(tap.received("session.ready")) == 1
    assert tap.sent("message.send") == []
    assert bubble.get_attribute("data-state") == "sending"

    context.set_offline(False)  # fires 'online': the widget reconnects without backoff
    page.locator('[data-ca="status"]', has_text="Online").wait_for(timeout=10_000)
    assert len(tap.received("session.ready")) == 2
    page.wait_for_function(
        f"() => {SHADOW}.querySelector('[data-ca=message][data-role=customer]')"
        ".dataset.state === 'sent'",
        timeout=10_000,
    )
    # Give a duplicate every chance to show: the agent's answer comes after the ack.
    page.locator(AGENT_BUBBLE, has_text="Canada").wait_for(timeout=15_000)

    sends = [frame for frame in tap.sent("message.send") if frame["text"] == text]
    assert len(sends) == 1
    acks = [ack for ack in tap.received("message.ack") if ack["clientId"] == sends[0]["clientId"]]
    assert len(acks) == 1
    assert bubble.count() == 1
    assert bubble.get_attribute("data-state") == "sent"
    assert bubble.get_attribute("data-id") == acks[0]["id"]
    rows = off_the_loop(lambda: Message.objects.filter(role="customer", text=text).count())
    assert rows == 1
    assert (
        page.evaluate(
            "() => Object.entries(localStorage).filter(([k]) => k.endsWith(':outbox'))"
            ".map(([, v]) => JSON.parse(v)).flat().length"
        )
        == 0
    )
    assert errors == []


XSS_TEXT = '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=1</script>'


def test_markup_in_an_agent_message_is_text_and_never_runs(context, sites) -> None:
    page, tap, errors = open_chat(context, sites)
    tap.push(
        {
            "type": "message",
            "id": "msg_xss_test_1",
            "role": "agent",
            "text": XSS_TEXT,
            "createdAt": now_iso(),
            "cards": [{"title": '<img src=x onerror="window.__pwned=2">'}],
            "quickReplies": [{"label": "<script>window.__pwned=3</script>"}],
        }
    )
    bubble = page.locator(AGENT_BUBBLE)
    bubble.wait_for(timeout=5_000)
    settle(page)
    assert bubble.inner_text() == XSS_TEXT
    markup = in_shadow(
        page,
        "[...root.querySelectorAll('[data-ca=message], [data-ca=cards], [data-ca=quick-replies]')]"
        ".reduce((n, el) => n + el.querySelectorAll('img,script,iframe,[onerror]').length, 0)",
    )
    assert markup == 0
    assert page.locator('[data-ca="card"]').inner_text() == '<img src=x onerror="window.__pwned=2">'
    assert page.locator('[data-ca="quick-replies"] button').inner_text() == (
        "<script>window.__pwned=3</script>"
    )
    assert page.evaluate("() => window.__pwned") is None
    assert errors == []
