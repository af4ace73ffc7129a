"""The dashboard in Chromium: the owner signs in, and Chart.js draws every chart (CSP on)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analytics.tests.metrics_fixtures import buckets  # noqa: F401  (fixture)
from widgets.tests.browser import DESKTOP, shot
from widgets.tests.conftest import browser  # noqa: F401  (fixture)
from widgets.tests.live import live_platform

BUNDLE = Path(__file__).resolve().parents[2] / "frontend/dist/static/analytics/dashboard.js"
CHARTS = ("traffic", "funnel", "rates", "timing")

pytestmark = pytest.mark.django_db(transaction=True)


def drawn_pixels(page: Any, name: str) -> int:
    """How many pixels of the chart's canvas are not transparent."""
    return int(
        page.evaluate(
            """(name) => {
                const canvas = document.querySelector(`canvas[data-chart="${name}"]`);
                const context = canvas.getContext('2d');
                const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
                let painted = 0;
                for (let i = 3; i < data.length; i += 4) if (data[i]) painted++;
                return painted;
            }""",
            name,
        )
    )


def test_the_dashboard_draws_its_charts(
    owner: Any,
    agent: Any,
    buckets: None,  # noqa: F811
    browser: Any,  # noqa: F811  (last: Playwright runs an event loop in this thread)
) -> None:
    assert BUNDLE.exists(), "build the front end first: cd frontend && npm run build"
    with live_platform() as platform_url:
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on(
            "response",
            lambda r: (
                problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{platform_url}/admin/login/?next=/admin/")
        page.fill("#id_username", "owner")
        page.fill("#id_password", "pw-owner")
        page.click("input[type=submit]")
        page.wait_for_url(f"{platform_url}/admin/")
        page.click("a[href='/admin/analytics/dashboard/']")  # linked from the admin's home
        page.select_option("select[name=agent]", agent.public_id)
        page.click("[data-dashboard=filters] button[type=submit]")
        try:
            page.wait_for_selector("[data-dashboard=root][data-charts-ready=true]", timeout=15_000)
        except Exception:
            shot(page, "analytics-dashboard-failed.png")
            raise AssertionError(f"the charts were never drawn: {problems}") from None
        for name in CHARTS:
            assert drawn_pixels(page, name) > 500, f"the {name} chart is empty"
        assert page.inner_text("[data-dashboard=live]") == "0"
        assert page.locator("tr[data-dashboard=domain]").count() == 2
        shot(page, "analytics-dashboard.png")
        context.close()
    # No CSP violation, no script error, no missing file (the browser's own favicon aside).
    assert [p for p in problems if not p.startswith("Failed to load resource")] == []
