"""The widget on a customer page, in a real headless Chromium on localhost.

The platform runs as deployed, next to the demo customer site (bench.widget_sites); each
run visits the page cold, warm, without the widget and with intent (bench.widget_browser);
the runs are summed up against the goals (bench.widget_metrics) and printed
(bench.widget_report). The page without the widget is the demo page as served, minus the
two snippet tags, served from here the way serve_demo serves it.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.procs import BenchSetupError, free_port
from bench.stack import Stack
from bench.stats import load_average
from bench.widget_browser import one_run
from bench.widget_metrics import judge_goals, summarize
from bench.widget_sites import Sites

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SNIPPET = re.compile(
    rb"<script>\s*window\.CustomerAgent\s*=.*?</script>\s*<script[^>]*widget\.js[^>]*></script>",
    re.S,
)
WIDGET_SCRIPT = re.compile(rb"<script[^>]*widget\.js", re.S)


@dataclass(frozen=True)
class WidgetBenchConfig:
    runs: int = 15
    cap_s: float = 75.0  # measuring stops after this long, whatever the count


def _without_snippet(demo_url: str) -> bytes:
    """The demo page as served, minus the two snippet tags: the page without the widget."""
    parts = urlsplit(demo_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
    try:
        conn.request("GET", "/")
        page = conn.getresponse().read()
    finally:
        conn.close()
    stripped, count = SNIPPET.subn(b"", page)
    if count != 1 or WIDGET_SCRIPT.search(stripped):
        raise BenchSetupError("could not strip the widget snippet from the demo page")
    return stripped


@contextlib.contextmanager
def _bare_site(page: bytes) -> Iterator[str]:
    """Serves the page without the widget the way serve_demo serves it (http.server, a
    thread per request), so both pages reach the browser the same way."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _measure(demo_url: str, platform: str, config: WidgetBenchConfig) -> dict[str, Any]:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    runs: list[dict[str, Any]] = []
    failures: list[str] = []
    with _bare_site(_without_snippet(demo_url)) as bare_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            chromium = browser.version
            # Unmeasured: warms the server.
            one_run(browser, demo_url, bare_url, platform, bare_first=False)
            started = time.monotonic()
            for index in range(config.runs):
                if time.monotonic() - started > config.cap_s:
                    failures.append(f"stopped after {index} runs: {config.cap_s:.0f}s cap")
                    break
                try:
                    runs.append(one_run(browser, demo_url, bare_url, platform, index % 2 == 1))
                except PlaywrightError as exc:
                    failures.append(f"run {index}: {str(exc).splitlines()[0][:300]}")
            measuring_s = round(time.monotonic() - started, 1)
        finally:
            browser.close()
    return {
        "chromium": chromium,
        "playwright": version("playwright"),
        "measuring_s": measuring_s,
        "runs_done": len(runs),
        "failures": failures,
        "runs": runs,
    }


def run_widget(quick: bool = False, config: WidgetBenchConfig | None = None) -> dict[str, Any]:
    """Start the stack, measure, tear everything down. `ok` is False when a goal is missed;
    `error` is set (and nothing measured) when set-up failed."""
    config = config or (WidgetBenchConfig(runs=5, cap_s=30) if quick else WidgetBenchConfig())
    if not Path(CHROMIUM).exists():
        return {"ok": False, "setup_failed": True, "error": f"{CHROMIUM} is not installed"}
    result: dict[str, Any] = {"config": asdict(config), "chromium_args": CHROMIUM_ARGS}
    stack = Stack.create()
    sites = Sites(stack)
    problems: list[str] = []
    try:
        stack.acquire()
        stack.prepare_app(worker=False)  # page views send no messages: no Celery worker
        sites.start()
        result.update(
            mode=stack.mode,
            mode_description=stack.description,
            tuning_env=stack.tuning,
            server={"name": "uvicorn", "version": version("uvicorn"), "startup_s": sites.startup_s},
            load_average_before=load_average(),
        )
        result.update(_measure(sites.demo_url, sites.platform_url, config))
        result["load_average_after"] = load_average()
    except BenchSetupError as exc:
        result.update(ok=False, setup_failed=True, error=str(exc))
    except Exception as exc:  # e.g. Chromium would not start: reported, never a traceback
        result.update(ok=False, setup_failed=True, error=f"{type(exc).__name__}: {exc}"[:2000])
    finally:
        with contextlib.suppress(Exception):
            result["server_log_problems"] = sites.stop()
        problems = stack.close()
    result["cleanup_problems"] = problems
    if result.get("setup_failed"):
        return result
    runs = result.get("runs") or []
    if not runs:
        result.update(ok=False, error="no run completed: " + "; ".join(result["failures"]))
        return result
    result["metrics"] = summarize(runs)
    result["goals"] = judge_goals(result["metrics"])
    result["ok"] = all(goal["pass"] for goal in result["goals"].values())
    return result


def widget_status(result: dict[str, Any]) -> int:
    """The bench's exit status: 2 set-up or clean-up failed, 1 a goal missed, else 0."""
    if result.get("setup_failed") or result.get("cleanup_problems"):
        return 2
    return 0 if result.get("ok") else 1
