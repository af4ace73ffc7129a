"""The customizer in a real Chromium: the preview (the real widget, offline) follows every
unsaved change as you type, a CSS syntax error is reported with its line, saving changes
only the draft, publishing from the admin changes the demo site after a reload and a
rollback brings the old look back; staff of another workspace reach none of it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from agents.models import Agent
from widgets.models import WidgetConfig
from widgets.publishing.releases import widget_publish
from widgets.tests.browser import DESKTOP, off_the_loop, shot
from widgets.tests.dns_server import fake_dns
from widgets.tests.live import LiveSites
from widgets.tests.test_publishing_browser import launcher_color, visit_and_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1440, "height": 1000}


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 96), (15, 118, 110)).save(buffer, format="PNG")
    return buffer.getvalue()


LOGO = png()
TEAL = "rgb(15, 118, 110)"
INDIGO = "rgb(79, 70, 229)"


def signed_in(browser: Any, platform_url: str, user: Any, next_url: str, **options: Any) -> Any:
    page = browser.new_page(viewport=WIDE, **options)
    page.goto(f"{platform_url}/admin/login/?next={next_url}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", f"pw-{user.username}")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    return page


def customizer(browser: Any, sites: LiveSites, agent: Agent, user: Any, **options: Any) -> Any:
    path = f"/admin/agents/agent/{agent.pk}/widget/customize/"
    page = signed_in(browser, sites.platform_url, user, path, **options)
    page.wait_for_url(f"**{path}")
    preview(page).locator('[data-ca="panel"]').wait_for(state="visible", timeout=10_000)
    return page


def preview(page: Any) -> Any:
    return page.frame_locator('[data-ca="preview"]')


def header_color(page: Any) -> str:
    return str(preview(page).locator(".hd").evaluate("el => getComputedStyle(el).backgroundColor"))


def wait_for_header(page: Any, color: str) -> None:
    page.wait_for_function(
        "(color) => { const d = document.querySelector('[data-ca=preview]').contentDocument;"
        " const hd = d.querySelector('#customeragent-widget').shadowRoot.querySelector('.hd');"
        " return getComputedStyle(hd).backgroundColor === color; }",
        arg=color,
        timeout=5_000,
    )


def saved_theme(agent: Agent) -> dict[str, Any]:
    return dict(off_the_loop(lambda: WidgetConfig.objects.get(agent=agent).theme))


def test_the_preview_follows_unsaved_changes_and_publishing_reaches_the_demo(
    agent: Agent, owner: Any, sites: LiveSites, browser: Any
) -> None:
    off_the_loop(lambda: widget_publish(agent=Agent.objects.get(pk=agent.pk), note="v1"))
    before = saved_theme(agent)
    page = customizer(browser, sites, agent, owner)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    assert header_color(page) == INDIGO

    # Typing a colour repaints the preview at once; nothing is saved.
    page.fill("#ca-primaryColor", "#0f766e")
    wait_for_header(page, TEAL)
    assert page.locator('[data-ca="dirty"]').inner_text() == "Unsaved changes"
    assert saved_theme(agent) == before
    page.fill("#ca-greeting", "Spring sale: ask me anything!")
    page.locator('[data-ca="scene"]').select_option("welcome")
    preview(page).get_by_text("Spring sale: ask me anything!").wait_for(timeout=5_000)
    page.fill("#ca-prompt-1", "Where is my order?")
    preview(page).locator('[data-ca="starter"]', has_text="Where is my order?").wait_for()

    # A CSS syntax error is reported with its line while typing, and saving refuses it.
    page.fill("#ca-css", ".nm { letter-spacing: 1px }\n.ti { color red }")
    css_error = page.locator('[data-ca="css-errors"] li').first
    css_error.wait_for(timeout=5_000)
    assert css_error.inner_text().startswith("Line 2, column")
    page.click('[data-ca="save"]')
    page.locator('[data-ca="save-status"]', has_text="Not saved").wait_for(timeout=5_000)
    assert (
        page.locator('[data-error-for="customCss"]')
        .inner_text()
        .startswith("The CSS has syntax errors: line 2")
    )
    assert saved_theme(agent) == before
    page.fill("#ca-css", ".nm { letter-spacing: 1px }")
    page.wait_for_function(
        "() => !document.querySelector('[data-ca=css-errors] li')", timeout=5_000
    )
    # The preview applies custom CSS too.
    spacing = preview(page).locator(".nm").evaluate("el => getComputedStyle(el).letterSpacing")
    assert spacing == "1px"

    # Sending in the preview answers locally.
    page.locator('[data-ca="scene"]').select_option("conversation")
    preview(page).locator('[data-ca="input"]').fill("Do you ship to Canada?")
    preview(page).locator('[data-ca="input"]').press("Enter")
    preview(page).get_by_text("This is a preview", exact=False).wait_for(timeout=5_000)
    page.evaluate("() => window.scrollTo(0, 0)")
    shot(page, "customizer-desktop.png")

    page.click('[data-ca="save"]')
    page.locator('[data-ca="save-status"]', has_text="Saved to the draft").wait_for()
    assert page.locator('[data-ca="dirty"]').inner_text() == "No unsaved changes"
    assert saved_theme(agent)["primaryColor"] == "#0f766e"

    # The saved draft is not live: the demo still shows v1.
    visitor = browser.new_page(viewport=DESKTOP)
    assert visit_and_open(visitor, sites.demo_url)["greeting"] == "Hello there!"
    assert launcher_color(visitor) == INDIGO

    # Publish from the admin: the demo shows it after a reload.
    page.click('[data-ca="publish-link"]')
    page.fill('[data-ca="publish-note"]', "Spring look")
    page.click('[data-ca="publish"]')
    page.get_by_text("Published v2").wait_for()
    assert visit_and_open(visitor, sites.demo_url)["greeting"] == "Spring sale: ask me anything!"
    assert launcher_color(visitor) == TEAL

    # Roll back to v1 from the admin: the old look is back after a reload.
    page.click('[data-ca="rollback-1"]')
    page.get_by_text("Rolled back").wait_for()
    assert visit_and_open(visitor, sites.demo_url)["greeting"] == "Hello there!"
    assert launcher_color(visitor) == INDIGO
    assert errors == []
    visitor.close()
    page.close()


def test_mobile_size_dark_mode_teaser_and_contrast_warnings(
    agent: Agent, owner: Any, sites: LiveSites, browser: Any
) -> None:
    page = customizer(browser, sites, agent, owner, color_scheme="dark")
    page.click('[data-ca="size-mobile"]')
    # A phone's viewport: 375 px wide inside the frame.
    page.wait_for_function(
        "() => document.querySelector('[data-ca=preview]').contentWindow.innerWidth === 375"
    )
    # Under 480 px the real widget goes full screen, as on a phone.
    panel = preview(page).locator('[data-ca="panel"]')
    assert panel.evaluate("el => [el.getBoundingClientRect().left, el.offsetWidth]") == [0, 375]
    shot(page, "customizer-mobile.png")

    page.click('[data-ca="size-desktop"]')
    page.select_option("#ca-launcherIcon", "bolt")
    preview(page).locator('[data-ca="launcher"] path[d="M7 2v11h3v9l7-12h-4l4-8z"]').wait_for(
        state="attached", timeout=5_000
    )
    page.check('[data-ca="mode-dark"]')
    page.wait_for_function(
        "() => document.querySelector('[data-ca=preview]').contentDocument"
        ".querySelector('#customeragent-widget').shadowRoot.querySelector('.p.dark')",
        timeout=5_000,
    )
    page.fill("#ca-textColor", "#333333")
    warning = page.locator('[data-ca="contrast"] li').first
    warning.wait_for(timeout=5_000)
    assert "dark mode" in warning.inner_text()
    page.fill("#ca-textColor", "")
    page.wait_for_function("() => !document.querySelector('[data-ca=contrast] li')")
    page.locator('[data-ca="scene"]').select_option("teaser")
    preview(page).locator('[data-ca="teaser"]').wait_for(state="visible", timeout=5_000)
    assert preview(page).locator('[data-ca="teaser"]').inner_text().startswith("Hello there!")
    page.locator('[data-ca="scene"]').select_option("conversation")
    preview(page).locator('[data-ca="panel"]').wait_for(state="visible")

    # A logo upload goes into the draft at once and fills the logo field.
    page.set_input_files(
        '[data-ca="logo"]', files=[{"name": "logo.png", "mimeType": "image/png", "buffer": LOGO}]
    )
    page.wait_for_function(
        "() => document.querySelector('#ca-avatar').value.includes('/widget/assets/')"
    )
    avatar = page.locator("#ca-avatar").input_value()
    assert off_the_loop(lambda: Agent.objects.get(pk=agent.pk).avatar_url) == avatar
    page.wait_for_timeout(400)  # the panel's opening animation
    shot(page, "customizer-dark.png")
    page.close()


def test_staff_of_another_workspace_reach_none_of_it(
    agent: Agent, outsider: Any, sites: LiveSites, browser: Any
) -> None:
    base = f"/admin/agents/agent/{agent.pk}/widget/customize/"
    page = signed_in(browser, sites.platform_url, outsider, "/admin/")
    for path in (base, f"{base}preview/"):
        response = page.goto(f"{sites.platform_url}{path}")
        assert response.status == 404
    status = page.evaluate(
        "async (url) => (await fetch(url, {method: 'POST', body: '{}', headers: {'X-CSRFToken':"
        " document.cookie.match(/csrftoken=([^;]+)/)[1]}})).status",
        f"{base}check/",
    )
    assert status == 404
    page.close()


def test_a_saved_custom_domain_shows_its_dns_proof_and_check_now_verifies_it(
    agent: Agent, owner: Any, sites: LiveSites, browser: Any, settings: Any
) -> None:
    page = customizer(browser, sites, agent, owner)
    assert page.locator('[data-ca="domain-proof"]').is_hidden()
    page.fill('[data-field="customDomain"]', "chat.shop.example.com")
    page.click('[data-ca="save"]')
    page.locator('[data-ca="domain-proof"]').wait_for(state="visible", timeout=5_000)
    assert page.text_content('[data-ca="domain-status"]') == "Pending: not yet proven in DNS"
    name = page.text_content('[data-ca="domain-record-name"]')
    value = page.text_content('[data-ca="domain-record-value"]')
    assert name == "_customeragent.chat.shop.example.com"
    with fake_dns() as zone:
        settings.CUSTOM_DOMAIN_DNS_RESOLVER = zone.address
        zone.records[name] = [value]
        page.click('[data-ca="domain-check"]')
        page.wait_for_function(
            "() => document.querySelector('[data-ca=domain-status]').textContent === 'Verified'",
            timeout=10_000,
        )
    shot(page, "customizer-domain-verified.png")
    assert off_the_loop(lambda: WidgetConfig.objects.get(agent=agent).custom_domain_verified_at)
