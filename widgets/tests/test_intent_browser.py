"""Nothing before intent, in a real Chromium: a page view whose visitor does nothing costs
the loader and the page config; the core and the session come when the visitor points at
or clicks the launcher, when a trigger fires, or when there is a conversation to restore."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from analytics.models import WidgetEvent
from widgets.models import WidgetConfig
from widgets.tests.browser import DESKTOP, off_the_loop
from widgets.tests.live import LiveSites

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAUNCHER = '[data-ca="launcher"]'


class PlatformTraffic:
    """What a page asks the platform for: `METHOD /path` of every request, and websockets."""

    def __init__(self, page: Any, platform_url: str) -> None:
        self.seen: list[str] = []
        page.on("request", self._request(platform_url))
        page.on("websocket", lambda socket: self.seen.append(f"WS {urlsplit(socket.url).path}"))

    def _request(self, platform_url: str) -> Any:
        def record(request: Any) -> None:
            if request.url.startswith(platform_url):
                self.seen.append(f"{request.method} {urlsplit(request.url).path}")

        return record

    def asked(self, fragment: str) -> bool:
        return any(fragment in entry for entry in self.seen)


def fresh_page(browser: Any, sites: LiveSites) -> tuple[Any, PlatformTraffic, list[str]]:
    page = browser.new_context(viewport=DESKTOP).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, PlatformTraffic(page, sites.platform_url), errors


def configure_widget(agent: Any, **fields: Any) -> None:
    def run() -> None:
        config = WidgetConfig.objects.get(agent=agent)
        for name, value in fields.items():
            setattr(config, name, value)
        config.save()  # a save, so every cached copy of the agent's widget is replaced

    off_the_loop(run)


def test_a_page_view_without_intent_costs_the_loader_and_the_page_config(
    agent: Any, sites: LiveSites, browser: Any
) -> None:
    page, traffic, errors = fresh_page(browser, sites)
    page.goto(sites.demo_url)
    page.locator(LAUNCHER).wait_for(state="visible", timeout=10_000)
    page.wait_for_timeout(2_000)  # long past the browser being idle: a visitor doing nothing
    assert traffic.seen == ["GET /widget.js", f"GET /api/v2/widget/config/{agent.public_id}"]
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('ca:'))") == []
    assert off_the_loop(lambda: WidgetEvent.objects.count()) == 0  # no beacon either
    assert errors == []
    page.context.close()


def test_the_launcher_wears_the_published_look_before_any_intent(
    agent: Any, sites: LiveSites, browser: Any
) -> None:
    configure_widget(
        agent, theme={"primaryColor": "#0f766e", "launcherSize": 64}, position="bottom-left"
    )
    page, traffic, errors = fresh_page(browser, sites)
    page.goto(sites.demo_url)
    launcher = page.locator(LAUNCHER)
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('#customeragent-widget').shadowRoot"
        ".querySelector('[data-ca=launcher]')).backgroundColor === 'rgb(15, 118, 110)'",
        timeout=10_000,
    )
    box = launcher.bounding_box()
    assert box is not None and round(box["width"]) == 64 and box["x"] == 20
    assert not traffic.asked("/widget/core") and not traffic.asked("/session")
    assert errors == []
    page.context.close()


def test_pointing_at_the_launcher_brings_the_core_and_a_click_the_chat(
    agent: Any, sites: LiveSites, browser: Any
) -> None:
    page, traffic, errors = fresh_page(browser, sites)
    page.goto(sites.demo_url)
    launcher = page.locator(LAUNCHER)
    launcher.wait_for(state="visible", timeout=10_000)
    with page.expect_response(lambda r: "/static/widget/core." in r.url):
        launcher.hover()
    page.locator('[data-ca="panel"]').wait_for(state="attached", timeout=10_000)
    page.wait_for_timeout(300)
    assert not traffic.asked("/session"), "pointing at the launcher is not opening it"
    page.evaluate(
        "() => { window.__ready = 0; CustomerAgent.on('ready', () => window.__ready++); }"
    )
    with page.expect_response(lambda r: r.url.endswith("/api/v2/widget/session")):
        launcher.click()
    page.locator('[data-ca="panel"]').wait_for(state="visible", timeout=10_000)
    page.wait_for_function("() => window.__ready === 1", timeout=10_000)
    page.locator('[data-ca="input"]').fill("Do you ship to Canada?")
    page.locator('[data-ca="input"]').press("Enter")
    page.locator('[data-ca="message"][data-role="agent"]', has_text="Canada").wait_for(
        timeout=15_000
    )
    assert errors == []
    page.context.close()


def test_a_visitor_with_a_conversation_gets_it_back_without_lifting_a_finger(
    agent: Any, sites: LiveSites, browser: Any
) -> None:
    page, traffic, errors = fresh_page(browser, sites)
    page.goto(sites.demo_url)
    page.locator(LAUNCHER).click()
    page.locator('[data-ca="input"]').fill("What payment methods do you accept?")
    page.locator('[data-ca="input"]').press("Enter")
    page.locator('[data-ca="message"][data-role="agent"]', has_text="PayPal").wait_for(
        timeout=15_000
    )
    page.locator('[data-ca="close"]').click()
    traffic.seen.clear()
    with page.expect_response(lambda r: r.url.endswith("/api/v2/widget/session")):
        page.reload()
    page.locator('[data-ca="message"][data-role="agent"]', has_text="PayPal").wait_for(
        state="attached", timeout=10_000
    )
    assert not traffic.asked("/widget/config/"), "the session brings the config"
    assert errors == []
    page.context.close()


def test_a_trigger_fires_its_teaser_for_a_visitor_who_did_nothing(
    agent: Any, sites: LiveSites, browser: Any
) -> None:
    configure_widget(agent, triggers={"delayMs": 800, "urlInclude": ["/*"]})
    page, traffic, errors = fresh_page(browser, sites)
    page.goto(sites.demo_url)
    teaser = page.locator('[data-ca="teaser"]')
    teaser.wait_for(state="visible", timeout=10_000)
    assert "Hello there!" in teaser.inner_text()
    assert traffic.asked("POST /api/v2/widget/session"), "a trigger is intent: the session starts"
    teaser.locator(".tzt").click()
    page.locator('[data-ca="panel"]').wait_for(state="visible", timeout=10_000)
    assert errors == []
    page.context.close()

    # Once the visitor has opened the chat, the trigger never comes back.
    page, traffic, errors = fresh_page(browser, sites)
    page.goto(sites.demo_url)
    page.locator(LAUNCHER).click()
    page.locator('[data-ca="panel"]').wait_for(state="visible", timeout=10_000)
    page.locator('[data-ca="close"]').click()
    page.reload()
    page.locator(LAUNCHER).wait_for(state="visible", timeout=10_000)
    page.wait_for_timeout(1_500)
    assert not page.locator('[data-ca="teaser"]').is_visible()
    assert errors == []
    page.context.close()
