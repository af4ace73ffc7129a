"""Publishing as a visitor on the demo site sees it, in a real Chromium: a draft change
stays invisible, a published one shows after a reload, a rollback brings the old one back,
the core comes through the per-agent redirect, and a snippet pinned with Subresource
Integrity loads its build — and refuses a tampered one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.conf import settings

from agents.models import Agent
from widgets.installation.snippet import widget_snippets
from widgets.models import WidgetConfig
from widgets.publishing.core_builds import core_builds_register
from widgets.publishing.releases import widget_publish, widget_release_rollback
from widgets.tests.browser import DESKTOP, SHADOW, off_the_loop, shot
from widgets.tests.live import LiveSites, free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAUNCHER = '[data-ca="launcher"]'


def visit_and_open(page: Any, url: str) -> dict[str, Any]:
    """Load (or reload) `url`, open the chat, and return the config the session answered
    with, once the widget shows that config's greeting."""
    with page.expect_response(
        lambda r: r.url.endswith("/api/v2/widget/session") and r.request.method == "POST"
    ) as answered:
        page.goto(url)
        page.wait_for_function("() => typeof window.CustomerAgent?.open === 'function'")
        page.evaluate("() => window.CustomerAgent.open()")  # open, whatever it was before
    config: dict[str, Any] = answered.value.json()["config"]
    page.locator('[data-ca="panel"]').wait_for(state="visible", timeout=10_000)
    page.wait_for_function(
        f"(text) => {SHADOW}.querySelector('[data-ca=greeting]')?.textContent === text",
        arg=config["greeting"],
        timeout=10_000,
    )
    return config


def launcher_color(page: Any) -> str:
    return str(page.locator(LAUNCHER).evaluate("el => getComputedStyle(el).backgroundColor"))


def edit_draft(agent: Agent, *, greeting: str, color: str) -> None:
    def run() -> None:
        Agent.objects.filter(pk=agent.pk).update(greeting=greeting)
        config = WidgetConfig.objects.get(agent=agent)
        config.theme = {"primaryColor": color}
        config.save()

    off_the_loop(run)


def test_a_published_change_shows_after_reload_and_a_draft_does_not(
    sites: LiveSites, browser: Any, agent: Agent
) -> None:
    v1 = off_the_loop(lambda: widget_publish(agent=Agent.objects.get(pk=agent.pk), note="v1"))
    page = browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    core_requests: list[Any] = []
    page.on("requestfinished", lambda r: core_requests.append(r) if "/core." in r.url else None)

    assert visit_and_open(page, sites.demo_url)["greeting"] == "Hello there!"
    # The core came through the per-agent redirect to the immutable, hashed file.
    final = next(r for r in core_requests if "/static/widget/core." in r.url)
    assert final.redirected_from is not None
    # `retry` changes only after a failed download: browsers remember a failed module URL.
    assert final.redirected_from.url.endswith(f"/widget/core.js?agent={agent.public_id}&retry=0")
    redirect = final.redirected_from.response()
    assert redirect.status == 302
    assert redirect.headers["cache-control"] == "public, max-age=60"
    assert redirect.headers["access-control-allow-origin"] == "*"

    edit_draft(agent, greeting="Spring sale: ask me anything!", color="#0f766e")
    assert visit_and_open(page, sites.demo_url)["greeting"] == "Hello there!"
    assert launcher_color(page) == "rgb(79, 70, 229)"  # still the published default

    off_the_loop(lambda: widget_publish(agent=Agent.objects.get(pk=agent.pk), note="Spring"))
    assert visit_and_open(page, sites.demo_url)["greeting"] == "Spring sale: ask me anything!"
    assert launcher_color(page) == "rgb(15, 118, 110)"
    shot(page, "widget-published-release.png")

    off_the_loop(lambda: widget_release_rollback(release=v1))
    assert visit_and_open(page, sites.demo_url)["greeting"] == "Hello there!"
    assert launcher_color(page) == "rgb(79, 70, 229)"
    assert errors == []
    page.close()


def pinned_snippet(agent: Agent, platform_url: str) -> dict[str, Any]:
    """Register the real build, pin the agent to it, and return its SRI snippet."""

    def run() -> dict[str, Any]:
        result = core_builds_register(dist=settings.FRONTEND_DIST)
        config = WidgetConfig.objects.get(agent=agent)
        config.core_version = result.current or ""
        config.save()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(settings, "PUBLIC_BASE_URL", platform_url)
            pinned = widget_snippets(agent.public_id, config.core_version)["pinned"]
        assert pinned is not None
        return dict(pinned)

    result: dict[str, Any] = off_the_loop(run)
    return result


@contextmanager
def site_serving(html: str) -> Iterator[str]:
    """Another customer site on 127.0.0.1 whose page is `html` (a real server: Chrome lets
    only a loopback page reach the loopback platform)."""
    body = f"<!doctype html><title>Pinned</title><body>{html}</body>".encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_snippet_pinned_with_integrity_loads_and_refuses_a_tampered_core(
    sites: LiveSites, browser: Any, agent: Agent
) -> None:
    pinned = pinned_snippet(agent, sites.platform_url)
    page = browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with site_serving(pinned["snippet"]) as url:
        assert visit_and_open(page, url)["greeting"] == "Hello there!"
    assert errors == []
    page.close()

    tampered = pinned["snippet"].replace(pinned["coreIntegrity"], "sha384-" + "A" * 64)
    page = browser.new_page(viewport=DESKTOP)
    with site_serving(tampered) as url:
        page.goto(url)
        page.locator(LAUNCHER).wait_for(state="visible", timeout=10_000)
        page.evaluate(
            "() => { window.__failed = []; "
            "CustomerAgent.on('error', (e) => window.__failed.push(e.code)); }"
        )
        page.locator(LAUNCHER).click()
        page.wait_for_function("() => window.__failed.includes('load_failed')", timeout=10_000)
        assert not page.locator('[data-ca="panel"]').is_visible()
    page.close()
