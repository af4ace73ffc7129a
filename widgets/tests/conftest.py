from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from widgets.tests.browser import CHROMIUM, CHROMIUM_ARGS
from widgets.tests.live import LiveSites, live_sites


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; missing, it skips — except in CI, where it fails."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing in CI: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def sites(agent: Any, celery_worker: None) -> Iterator[LiveSites]:
    """The live platform and the demo customer site (another origin) for `agent`."""
    with live_sites(agent.public_id) as live:
        yield live
