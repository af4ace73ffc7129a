"""The widget as a visitor meets it in a real Chromium: safe text, keyboard use, a hostile
host page, the JS API, two tabs, a phone, consent first and the agent's appearance."""

from __future__ import annotations

from typing import Any

import pytest

from widgets.models import WidgetConfig
from widgets.tests.browser import DESKTOP, SHADOW, off_the_loop, shot
from widgets.tests.live import LiveSites

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def visit(browser: Any, sites: LiveSites, **options: Any) -> tuple[Any, list[str]]:
    """A new page on the demo site; uncaught page errors are collected."""
    page = browser.new_page(viewport=options.pop("viewport", DESKTOP), **options)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(sites.demo_url)
    page.locator('[data-ca="launcher"]').wait_for(state="visible", timeout=10_000)
    return page, errors


def open_panel(page: Any) -> Any:
    page.locator('[data-ca="launcher"]').click()
    panel = page.locator('[data-ca="panel"]')
    panel.wait_for(state="visible", timeout=10_000)
    panel.get_by_text("Hello there!").wait_for(timeout=10_000)
    return panel


def send(page: Any, text: str) -> None:
    page.locator('[data-ca="input"]').fill(text)
    page.locator('[data-ca="input"]').press("Enter")


def wait_until_sent(page: Any) -> None:
    page.wait_for_function(
        f"() => [...{SHADOW}.querySelectorAll('[data-ca=message][data-role=customer]')]"
        ".every(el => el.dataset.state === 'sent')",
        timeout=15_000,
    )


def shadow_focus(page: Any) -> str | None:
    """The data-ca hook of the element focused inside the widget, if the widget has focus."""
    return page.evaluate(
        "() => document.activeElement && document.activeElement.id === 'customeragent-widget'"
        f" ? ({SHADOW}.activeElement || {{dataset: {{}}}}).dataset.ca || 'other' : null"
    )


def configure_widget(agent: Any, **fields: Any) -> None:
    off_the_loop(lambda: WidgetConfig.objects.filter(agent=agent).update(**fields))


def test_markup_in_a_visitor_message_is_text_and_never_runs(sites, browser) -> None:
    page, errors = visit(browser, sites)
    open_panel(page)
    payload = (
        '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
        "[x](javascript:window.__pwned=3) **not bold**"
    )
    send(page, payload)
    bubble = page.locator('[data-ca="message"][data-role="customer"]')
    bubble.wait_for(timeout=10_000)
    wait_until_sent(page)

    assert bubble.inner_text() == payload
    markup = page.evaluate(
        f"() => {SHADOW}.querySelector('[data-ca=message][data-role=customer]')"
        ".querySelectorAll('img,script,a,strong').length"
    )
    assert markup == 0
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__pwned") is None
    assert errors == []
    page.close()


def test_the_agent_answer_from_knowledge_renders(sites, browser) -> None:
    page, errors = visit(browser, sites)
    open_panel(page)
    send(page, "How long does express shipping take?")
    answer = page.locator('[data-ca="message"][data-role="agent"]', has_text="Express shipping")
    answer.wait_for(timeout=15_000)
    assert "1-2 business days" in answer.inner_text()
    # Agent messages go through the Markdown renderer (paragraphs), visitor ones do not.
    assert answer.evaluate("el => el.classList.contains('md') && !!el.querySelector('p')")
    assert errors == []
    shot(page, "widget-desktop-open.png")
    page.close()


HOSTILE_CSS = """
* { all: unset !important; }
div { display: none !important; }
button { display: none !important; visibility: hidden !important; }
#customeragent-widget { display: none !important; opacity: 0 !important; }
"""


def test_hostile_host_css_does_not_hide_or_restyle_the_widget(sites, browser) -> None:
    page, errors = visit(browser, sites)
    page.add_style_tag(content=HOSTILE_CSS)
    launcher = page.locator('[data-ca="launcher"]')
    box = launcher.bounding_box()
    assert box is not None
    assert (round(box["width"]), round(box["height"])) == (56, 56)
    assert box["x"] + box["width"] == pytest.approx(DESKTOP["width"] - 20, abs=1)
    assert launcher.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(79, 70, 229)"

    panel = open_panel(page)
    panel_box = panel.bounding_box()
    assert panel_box is not None
    assert round(panel_box["width"]) == 360
    font = panel.evaluate("el => getComputedStyle(el).fontFamily")
    assert "system-ui" in font
    send(page, "still works?")
    page.locator('[data-ca="message"][data-role="customer"]').wait_for(timeout=10_000)
    assert page.locator('[data-ca="send"]').is_visible()
    assert errors == []
    shot(page, "widget-hostile-css.png")
    page.close()


def test_it_can_be_used_with_the_keyboard_alone(sites, browser) -> None:
    page, errors = visit(browser, sites)
    # The launcher is in the page's tab order, after the site's own links and buttons.
    for _ in range(30):
        page.keyboard.press("Tab")
        if shadow_focus(page) == "launcher":
            break
    assert shadow_focus(page) == "launcher"

    page.keyboard.press("Enter")
    page.locator('[data-ca="panel"]').wait_for(state="visible", timeout=10_000)
    page.wait_for_function(f"() => {SHADOW}.activeElement?.dataset.ca === 'input'")
    page.keyboard.type("Hello from the keyboard")
    page.keyboard.press("Enter")
    page.locator(
        '[data-ca="message"][data-role="customer"]', has_text="Hello from the keyboard"
    ).wait_for(timeout=10_000)

    # Focus stays inside the open dialog, both ways round.
    for key in ["Tab"] * 6 + ["Shift+Tab"] * 6:
        page.keyboard.press(key)
        assert shadow_focus(page) not in (None, "launcher"), key

    page.keyboard.press("Escape")
    page.locator('[data-ca="panel"]').wait_for(state="hidden", timeout=5_000)
    assert shadow_focus(page) == "launcher"
    assert page.locator('[data-ca="launcher"]').get_attribute("aria-expanded") == "false"
    assert errors == []
    page.close()


def test_api_calls_made_before_the_core_loads_are_replayed(sites, browser) -> None:
    page = browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Hold the core back until the calls are made, so they are certainly made before load.
    held: list[Any] = []
    # The loader asks /widget/core.js?agent=…, which redirects to the hashed core.
    page.route("**/widget/core.js?agent=*", lambda route: held.append(route))
    page.goto(sites.demo_url, wait_until="commit")
    page.wait_for_function("() => typeof window.CustomerAgent?.on === 'function'")
    core_loaded = page.evaluate(
        f"""() => {{
          window.__events = [];
          for (const type of ['ready', 'open', 'message'])
            window.CustomerAgent.on(type, (p) => window.__events.push(type));
          window.CustomerAgent.sendMessage('Queued before load');
          window.CustomerAgent.open();
          return !!{SHADOW}.querySelector('[data-ca=panel]');
        }}"""
    )
    assert core_loaded is False  # the calls really were made before the core was in
    for _ in range(200):  # open() asks for the core at once; let the held request go
        if held:
            break
        page.wait_for_timeout(25)
    assert held, "the loader never asked for the core"
    for route in held:
        route.continue_()
    page.locator('[data-ca="panel"]').wait_for(state="visible", timeout=10_000)
    page.locator(
        '[data-ca="message"][data-role="customer"]', has_text="Queued before load"
    ).wait_for(timeout=10_000)
    wait_until_sent(page)
    events = page.evaluate("() => window.__events")
    assert {"ready", "open", "message"} <= set(events)
    assert errors == []
    page.close()


def test_two_tabs_stay_in_step(sites, browser) -> None:
    context = browser.new_context(viewport=DESKTOP)
    first = context.new_page()
    second = context.new_page()
    for page in (first, second):
        page.goto(sites.demo_url)
        page.locator('[data-ca="launcher"]').wait_for(state="visible", timeout=10_000)
    # The second tab has no core yet; the first tab's open panel, stored, brings it in.
    assert second.locator('[data-ca="panel"]').count() == 0

    open_panel(first)
    second.locator('[data-ca="panel"]').wait_for(state="visible", timeout=5_000)

    send(first, "What payment methods do you accept?")
    second.locator(
        '[data-ca="message"][data-role="customer"]', has_text="payment methods"
    ).wait_for(timeout=5_000)
    second.locator('[data-ca="message"][data-role="agent"]', has_text="PayPal").wait_for(
        timeout=15_000
    )
    wait_until_sent(second)
    assert second.locator('[data-ca="message"][data-role="customer"]').count() == 1

    first.locator('[data-ca="close"]').click()
    second.locator('[data-ca="panel"]').wait_for(state="hidden", timeout=5_000)
    context.close()


def test_on_a_phone_the_panel_is_full_screen(sites, browser) -> None:
    # Reduced motion: the panel appears without its slide-in, so it is measured in place.
    page, errors = visit(
        browser, sites, viewport=PHONE, is_mobile=True, has_touch=True, reduced_motion="reduce"
    )
    shot(page, "widget-mobile-launcher.png")
    panel = open_panel(page)
    assert panel.evaluate("el => getComputedStyle(el).animationName") == "none"
    box = panel.bounding_box()
    assert box is not None
    assert {key: round(value) for key, value in box.items()} == {
        "x": 0,
        "y": 0,
        "width": PHONE["width"],
        "height": PHONE["height"],
    }
    assert page.locator('[data-ca="close"]').is_visible()
    send(page, "Do you ship to Canada?")
    page.locator('[data-ca="message"][data-role="agent"]', has_text="Canada").wait_for(
        timeout=15_000
    )
    shot(page, "widget-mobile-open.png")
    page.locator('[data-ca="close"]').click()
    panel.wait_for(state="hidden")
    assert page.locator('[data-ca="launcher"]').is_visible()
    assert errors == []
    page.close()


def test_desktop_launcher_screenshot(sites, browser) -> None:
    page, errors = visit(browser, sites)
    page.wait_for_timeout(300)
    shot(page, "widget-desktop-launcher.png")
    assert errors == []
    page.close()


def test_with_consent_first_nothing_is_stored_until_the_visitor_opens_the_chat(
    agent, sites, browser
) -> None:
    configure_widget(agent, features=["chat", "consent_first"])
    page, errors = visit(browser, sites)
    page.locator('[data-ca="launcher"]').hover()  # the core comes in; still no consent
    page.locator('[data-ca="panel"]').wait_for(state="attached", timeout=15_000)
    page.wait_for_timeout(1000)
    stored = "() => Object.keys(localStorage).filter(k => k.startsWith('ca:'))"
    assert page.evaluate(stored) == []
    assert page.evaluate("() => Object.keys(sessionStorage).length") == 0

    open_panel(page)
    page.wait_for_function(f"() => ({stored})().length > 0")
    keys = page.evaluate(stored)
    assert any(key.endswith(":visitor") for key in keys)
    assert errors == []
    page.close()


def test_the_agent_appearance_comes_from_its_config(agent, sites, browser) -> None:
    configure_widget(
        agent,
        theme={
            "primaryColor": "#0f766e",
            "mode": "dark",
            "radius": 20,
            "launcherSize": 64,
            "offsetX": 32,
            "offsetY": 24,
        },
        position="bottom-left",
        features=["chat", "white_label"],
        custom_css=".nm { letter-spacing: 2px }",
    )
    page, errors = visit(browser, sites, locale="ar-EG")
    panel = open_panel(page)
    launcher = page.locator('[data-ca="launcher"]')
    geometry = launcher.evaluate(
        "el => { const s = getComputedStyle(el); return [s.left, s.bottom, s.width]; }"
    )
    assert geometry == ["32px", "24px", "64px"]
    assert launcher.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(15, 118, 110)"
    assert panel.get_attribute("dir") == "rtl"
    assert panel.evaluate("el => getComputedStyle(el).borderRadius") == "20px"
    assert panel.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(17, 24, 39)"
    assert page.locator('[data-ca="powered-by"]').is_hidden()
    name = page.locator(".nm")
    assert name.evaluate("el => getComputedStyle(el).letterSpacing") == "2px"
    # Nothing leaked into the host page: its own header keeps its style.
    assert (
        page.evaluate("() => getComputedStyle(document.querySelector('h1')).letterSpacing") != "2px"
    )
    assert errors == []
    shot(page, "widget-themed-dark-rtl.png")
    page.close()
