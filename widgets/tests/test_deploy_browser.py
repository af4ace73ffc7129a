"""The Deploy panel in Chromium: a staff member copies the snippet, pastes it into a page
on another origin and watches the installation check turn green by itself; a page on a
site that is not allowed shows up as refused, and one click on "Allow" fixes it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agents.models import Agent
from widgets.models import WidgetConfig
from widgets.tests.browser import DESKTOP, off_the_loop, shot
from widgets.tests.live import LiveSites, free_port
from widgets.tests.test_publishing_browser import LAUNCHER, visit_and_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Both loopback (Chrome lets only a loopback page reach the loopback platform), but two
# different hosts: the agent allows 127.0.0.1 and not 127.0.0.2.
ALLOWED_HOST, REFUSED_HOST = "127.0.0.1", "127.0.0.2"


@contextmanager
def page_serving(html: str, host: str) -> Iterator[str]:
    """A customer's page on `host` whose body is `html` (what they pasted)."""
    body = f"<!doctype html><title>My shop</title><body><h1>My shop</h1>{html}</body>".encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, free_port()), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def signed_in_deploy(context: Any, sites: LiveSites, agent: Agent) -> Any:
    page = context.new_page()
    deploy = f"/admin/agents/agent/{agent.pk}/widget/deploy/"
    page.goto(f"{sites.platform_url}/admin/login/?next={deploy}")
    page.fill("#id_username", "owner")
    page.fill("#id_password", "pw-owner")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{deploy}")
    return page


def domain_row(page: Any, pattern: str, status: str = "") -> Any:
    state = f'[data-status="{status}"]' if status else ""
    return page.locator(f'tr[data-ca="domain"][data-pattern="{pattern}"]{state}')


def test_copy_paste_load_and_fix_a_refused_site(
    agent: Agent, owner: Any, settings: Any, sites: LiveSites, browser: Any
) -> None:
    settings.PUBLIC_BASE_URL = sites.platform_url  # the snippet points at the live platform
    context = browser.new_context(
        viewport={"width": 1280, "height": 1000}, permissions=["clipboard-read", "clipboard-write"]
    )
    admin = signed_in_deploy(context, sites, agent)
    errors: list[str] = []
    admin.on("pageerror", lambda exc: errors.append(str(exc)))
    admin.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    assert domain_row(admin, ALLOWED_HOST).get_attribute("data-status") == "waiting"
    shot(admin, "deploy-panel-before.png")

    # Copy: the clipboard holds exactly the snippet shown, and the button says so.
    copy = admin.locator('[data-ca="copy-configured"]')
    copy.click()
    admin.wait_for_function("() => document.querySelector('[data-ca=announce]').textContent")
    assert copy.inner_text() == "Copied ✓"
    copied = str(admin.evaluate("() => navigator.clipboard.readText()"))
    assert copied == admin.locator('[data-ca="snippet-configured"]').inner_text()
    assert agent.public_id in copied and sites.platform_url in copied

    # Pasted into a fresh page of an allowed site: the launcher shows, the chat opens.
    visitor = context.new_page()
    visitor.set_viewport_size(DESKTOP)
    with page_serving(copied, ALLOWED_HOST) as url:
        visit_and_open(visitor, url)
        assert visitor.locator(LAUNCHER).is_visible()
        # The check turns green by itself once the widget's load beacon lands.
        admin.bring_to_front()
        domain_row(admin, ALLOWED_HOST, "ok").wait_for(timeout=20_000)
    row = domain_row(admin, ALLOWED_HOST)
    assert row.locator('[data-ca="domain-last-load"]').inner_text() == "just now"
    assert row.locator("time").get_attribute("title")  # the exact time, on hover
    row.scroll_into_view_if_needed()
    shot(admin, "deploy-panel.png")

    # A site that is not allowed: the launcher draws, but the check names it and the fix.
    with page_serving(copied, REFUSED_HOST) as url:
        visitor.goto(url)
        visitor.locator(LAUNCHER).wait_for(state="visible", timeout=10_000)
        visitor.locator(LAUNCHER).hover()  # intent: the core is imported, carrying the Origin
        admin.bring_to_front()
        refusal = admin.locator(f'tr[data-ca="refusal"][data-host="{REFUSED_HOST}"]')
        refusal.wait_for(timeout=20_000)
        assert refusal.locator('[data-ca="refusal-sentence"]').inner_text() == (
            f"origin not allowed: add {REFUSED_HOST}"
        )
        refusal.scroll_into_view_if_needed()
        shot(admin, "deploy-refused.png")

        refusal.locator('[data-ca="allow"]').click()
        admin.wait_for_url("**#installation-check")
        assert f"{REFUSED_HOST} is allowed now" in admin.locator(".messagelist").inner_text()
        domains = off_the_loop(lambda: WidgetConfig.objects.get(agent=agent).allowed_domains)
        assert REFUSED_HOST in domains
        # Reloaded, the site gets its widget; the refusal clears and the host turns green.
        visit_and_open(visitor, url)
        domain_row(admin, REFUSED_HOST, "ok").wait_for(timeout=20_000)
        assert admin.locator(f'tr[data-ca="refusal"][data-host="{REFUSED_HOST}"]').count() == 0
    admin.locator("#installation-check").scroll_into_view_if_needed()
    shot(admin, "deploy-fixed.png")
    assert errors == []
    context.close()


def test_dark_mode_keeps_the_panel_readable(
    agent: Agent, owner: Any, sites: LiveSites, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, color_scheme="dark")
    admin = signed_in_deploy(context, sites, agent)
    pre = admin.locator('[data-ca="snippet-configured"]')
    color = pre.evaluate("el => getComputedStyle(el).color")
    background = pre.evaluate("el => getComputedStyle(el.closest('pre')).backgroundColor")
    assert color != background
    assert color not in ("rgb(0, 0, 0)", "rgb(51, 51, 51)")  # light text on a dark page
    admin.locator("#installation-check").scroll_into_view_if_needed()
    shot(admin, "deploy-panel-dark.png")
    context.close()
