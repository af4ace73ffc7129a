"""Shared pieces of the Chromium tests (fixtures are in widgets/tests/conftest.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from django.db import connections

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
SHADOW = "document.querySelector('#customeragent-widget').shadowRoot"
DESKTOP = {"width": 1280, "height": 800}


def off_the_loop(query: Any) -> Any:
    """Run an ORM query in a worker thread: Playwright's sync API keeps a loop running here.

    The thread hands its connection back when done; otherwise each call would keep one
    checked out of the pool after the thread is gone.
    """

    def run() -> Any:
        try:
            return query()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))
