"""Issue 7's promise, walked through as a new staff user in Chromium: sign in, create an
agent, customize it with the live preview, publish, allow the site, paste the snippet into
a page and see the widget there with the installation check green. The walk's duration is
printed (the promise is under five minutes for a person; the figure goes in the notes,
not in an assertion — timing belongs in benchmarks)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from agents.models import Agent
from widgets.models import WidgetConfig
from widgets.tests.browser import DESKTOP, off_the_loop, shot
from widgets.tests.live import live_platform
from widgets.tests.test_customize_browser import TEAL, preview, wait_for_header
from widgets.tests.test_deploy_browser import domain_row, page_serving
from widgets.tests.test_publishing_browser import launcher_color, visit_and_open
from workspaces.models import Membership, Workspace

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


@pytest.fixture
def newcomer() -> Any:
    """A staff member of a brand-new workspace, signing in for the first time."""
    workspace = Workspace.objects.create(name="Trailhead Outfitters", slug="trailhead")
    user = get_user_model().objects.create_user(
        username="newcomer", password="pw-newcomer", is_staff=True
    )
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def platform(settings: Any) -> Iterator[str]:
    with live_platform() as url:
        settings.PUBLIC_BASE_URL = url  # the snippet points at this platform
        yield url


def test_a_new_staff_user_goes_from_sign_in_to_a_working_widget(
    newcomer: Any, platform: str, browser: Any
) -> None:
    started = time.monotonic()
    context = browser.new_context(
        viewport={"width": 1440, "height": 1000}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # 1. Sign in and create an agent from the admin's home page.
    page.goto(f"{platform}/admin/")
    page.fill("#id_username", "newcomer")
    page.fill("#id_password", "pw-newcomer")
    page.click("input[type=submit]")
    page.locator("a[href$='/admin/agents/agent/add/']").first.click()
    page.fill("#id_name", "Trailhead help")
    page.fill("#id_greeting", "Hi! Ask me about boots, tents and your order.")
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    agent = off_the_loop(lambda: Agent.objects.get(name="Trailhead help"))
    assert off_the_loop(lambda: agent.workspace.slug) == "trailhead"

    # 2. Customize with the live preview: the colour shows before anything is saved.
    page.locator('a[data-ca="deploy-page-link"]').click()
    page.locator('a[data-ca="customize-link"]').click()
    preview(page).locator('[data-ca="panel"]').wait_for(state="visible", timeout=10_000)
    page.fill("#ca-primaryColor", "#0f766e")
    wait_for_header(page, TEAL)
    page.click('[data-ca="save"]')
    page.locator('[data-ca="save-status"]', has_text="Saved to the draft").wait_for()

    # 3. Publish.
    page.click('[data-ca="publish-link"]')
    page.fill('[data-ca="publish-note"]', "First look")
    page.click('[data-ca="publish"]')
    page.get_by_text("Published v1").wait_for()

    # 4. Deploy: allow the site, copy the snippet, paste it into the site's page.
    page.locator('a[data-ca="deploy-link"]').click()
    page.fill('textarea[name="allowed_domains"]', "127.0.0.1")
    page.locator('[data-ca="domains-save"]').click()
    page.locator(".messagelist .success").wait_for()
    page.locator('[data-ca="copy-configured"]').click()
    snippet = str(page.evaluate("() => navigator.clipboard.readText()"))
    assert agent.public_id in snippet and platform in snippet

    site = context.new_page()
    site.set_viewport_size(DESKTOP)
    with page_serving(snippet, "127.0.0.1") as url:
        config = visit_and_open(site, url)
        assert config["greeting"] == "Hi! Ask me about boots, tents and your order."
        assert launcher_color(site) == "rgb(15, 118, 110)"  # the published colour
        page.bring_to_front()
        domain_row(page, "127.0.0.1", "ok").wait_for(timeout=20_000)
    elapsed = time.monotonic() - started
    page.locator("#installation-check").scroll_into_view_if_needed()
    shot(page, "first-minutes-installation-green.png")
    print(f"\nsign-in to green installation check, driven by the browser: {elapsed:.1f} s")

    domains = off_the_loop(lambda: WidgetConfig.objects.get(agent=agent).allowed_domains)
    assert domains == ["127.0.0.1"]
    assert errors == []
    context.close()
