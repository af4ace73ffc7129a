"""The widget on a customer page, in a real headless Chromium on localhost.

The platform runs as deployed (uvicorn, `DEBUG=false`, static files collected with their
gzip variants, see `platform_application`), next to the demo customer site (`manage.py
serve_demo`, another origin). Each run uses fresh browser contexts, so the HTTP cache is
cold, then loads the page again in the same context (warm: a returning visitor, whose
loader comes from the cache and who has a visitor id and the agent's theme stored).
The same page with the two snippet tags stripped is the baseline for main-thread long tasks.
Two more fresh contexts show intent: one points at the launcher, pauses and clicks (the
core is prefetched on hover), the other clicks at once.

An init script, installed before any page script runs, records with `performance.now()`
(milliseconds since navigation start):
- launcher visible: the first animation frame in which `[data-ca=launcher]` in the shadow
  root of `#customeragent-widget` has a box and passes `checkVisibility()`;
- core ready: the widget's `ready` event (a handler registered the moment the loader turns
  `window.CustomerAgent` into the API; the core is in and the session answered);
- click → chat ready: from the click on the launcher to the later of the panel being
  visible and `ready`;
- long tasks: every `longtask` entry until the page is settled (`IDLE_WINDOW_MS` after
  `load` with no intent, and 250 ms after `ready` when the widget became ready).
A page view's cost is every request the page made to the platform (method and path,
headers and encoded body as Chromium counts them, websockets too) until it settled, split
into those the network answered and those the HTTP cache did. Widget bytes are what the
network delivered for the loader and the core, zero when served from the cache.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.procs import VENV_BIN, BenchSetupError, Proc, free_port, wait_healthy
from bench.stack import Stack
from bench.stats import load_average, percentile

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
STATIC_ROOT_ENV = "CA_BENCH_STATIC_ROOT"
GOAL_LAUNCHER_MS = 200.0  # launcher visible, after navigation start, on localhost (p50)
GOAL_ADDED_LONG_TASK_MS = 0.0  # main-thread long-task time the widget adds (p50)
GOAL_CLICK_READY_MS = 300.0  # click on the launcher → chat ready, after a hover (p50)
GOAL_PAGE_VIEW_REQUESTS = 2  # a page view without intent: the loader and the config GET
# A visitor doing nothing for this long after `load` shows no intent: the page view's cost.
IDLE_WINDOW_MS = 1000
HOVER_PAUSE_MS = 200  # pointing at the launcher, then clicking: a person's pace
VIEWPORT = {"width": 1280, "height": 800}
VISIT_TIMEOUT_MS = 15_000
SNIPPET = re.compile(
    rb"<script>\s*window\.CustomerAgent\s*=.*?</script>\s*<script[^>]*widget\.js[^>]*></script>",
    re.S,
)
WIDGET_SCRIPT = re.compile(rb"<script[^>]*widget\.js", re.S)


@dataclass(frozen=True)
class WidgetBenchConfig:
    runs: int = 15
    cap_s: float = 75.0  # measuring stops after this long, whatever the count


def platform_application() -> Any:
    """`uvicorn --factory bench.widget_perf:platform_application`: the project's ASGI app
    with STATIC_ROOT moved to the bench's temporary directory, filled by collectstatic
    first (the content-hashed core and its .gz, as the Dockerfile's collectstatic makes)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    settings.STATIC_ROOT = Path(os.environ[STATIC_ROOT_ENV])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    from config.asgi import application

    return application


# Installed in every page before its own scripts; everything is read back with `report()`.
INIT_SCRIPT = """
(() => {
  if (window.top !== window || window.__caBench) return;
  const b = (window.__caBench = {
    launcher: null, launcherInDom: null, apiAt: null, ready: null, load: null,
    clickAt: null, panelAt: null, longTasks: [], longTaskSupported: true,
  });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) {
    b.longTaskSupported = false;
  }
  addEventListener('load', () => { b.load = performance.now(); });
  // The click reaches the document retargeted to the widget's host element.
  document.addEventListener('click', (e) => {
    const host = e.target && e.target.id === 'customeragent-widget';
    if (b.clickAt === null && host) b.clickAt = performance.now();
  }, true);

  // The loader replaces the snippet's config object with the API: hear 'ready' from then on.
  let value;
  Object.defineProperty(window, 'CustomerAgent', {
    configurable: true,
    enumerable: true,
    get: () => value,
    set(next) {
      value = next;
      if (b.apiAt === null && next && typeof next.on === 'function') {
        b.apiAt = performance.now();
        next.on('ready', () => { if (b.ready === null) b.ready = performance.now(); });
      }
    },
  });

  const shadow = () => {
    const host = document.getElementById('customeragent-widget');
    return host && host.shadowRoot;
  };
  const frame = () => {
    const root = shadow();
    const el = root && root.querySelector('[data-ca=launcher]');
    if (b.launcher === null && el && el.isConnected) {
      if (b.launcherInDom === null) b.launcherInDom = performance.now();
      const box = el.getBoundingClientRect();
      if (box.width > 0 && box.height > 0 && el.checkVisibility({ visibilityProperty: true })) {
        b.launcher = performance.now();
      }
    }
    const panel = root && root.querySelector('[data-ca=panel]');
    const shown = panel && !panel.hidden && panel.checkVisibility();
    if (b.clickAt !== null && b.panelAt === null && shown) b.panelAt = performance.now();
    const watching = b.launcher === null || b.panelAt === null;
    if (performance.now() < 15000 && watching) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);

  // Once the core is on its way, wait for it to be ready (a loader that imports it without
  // intent, on idle, pays for the session too).
  const coreSeen = () =>
    performance.getEntriesByType('resource').some((e) => /\\/widget\\/core\\./.test(e.name));
  const settledAt = () =>
    b.load === null || (b.ready === null && coreSeen())
      ? Infinity
      : Math.max(b.load + IDLE_WINDOW_MS, b.ready === null ? 0 : b.ready + 250);
  b.settled = () => performance.now() >= settledAt();
  b.chatReady = () => b.clickAt !== null && b.panelAt !== null && b.ready !== null;
  b.report = () => {
    const end = b.clickAt === null ? settledAt() : Infinity;
    const tasks = b.longTasks.filter(([start]) => start <= end);
    const entries = performance.getEntriesByType('resource')
      .filter((e) => /\\/widget\\.js(\\?|$)|\\/widget\\/core\\./.test(e.name))
      .map((e) => ({ name: e.name, start: e.startTime, end: e.responseEnd,
                     deliveryType: e.deliveryType || '' }));
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    return {
      launcher_ms: b.launcher, launcher_in_dom_ms: b.launcherInDom, api_ms: b.apiAt,
      ready_ms: b.ready, load_ms: b.load, fcp_ms: paint ? paint.startTime : null,
      click_ms: b.clickAt, panel_ms: b.panelAt,
      click_to_ready_ms: b.clickAt === null || b.panelAt === null || b.ready === null
        ? null : Math.max(b.panelAt, b.ready) - b.clickAt,
      long_task_ms: tasks.reduce((sum, [, d]) => sum + d, 0),
      long_task_count: tasks.length,
      blocking_ms: tasks.reduce((sum, [, d]) => sum + Math.max(0, d - 50), 0),
      long_task_supported: b.longTaskSupported,
      widget_resources: entries,
    };
  };
})();
""".replace("IDLE_WINDOW_MS", str(IDLE_WINDOW_MS))


def _is_widget_asset(url: str) -> str | None:
    path = url.split("?", 1)[0]
    if path.endswith("/widget.js"):
        return "loader"
    if "/widget/core." in path:  # the redirect (/widget/core.js?agent=) and the hashed core
        return "core"
    return None


def _wait_http(proc: Proc, port: int, path: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise BenchSetupError(f"{proc.name} exited early:\n{proc.log_tail()}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise BenchSetupError(f"{proc.name} did not answer on :{port}:\n{proc.log_tail()}")


class _Sites:
    """The platform and the demo site as child processes of the bench's stack."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.static_root = stack.workdir / "static"
        self.platform: Proc | None = None
        self.demo: Proc | None = None
        self.platform_port = 0
        self.demo_port = 0
        self.startup_s: float | None = None

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        proc = Proc(name, argv, env, self.stack.workdir / f"{name}.log")
        self.stack.started_pgids.append(proc.pgid)
        return proc

    def start(self) -> None:
        self.platform_port = free_port()
        argv = [
            str(VENV_BIN / "uvicorn"),
            "bench.widget_perf:platform_application",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.platform_port),
            "--log-level",
            "warning",
            "--lifespan",
            "off",
        ]
        env = {**self.stack.env, STATIC_ROOT_ENV: str(self.static_root)}
        self.platform = self._spawn("uvicorn-widget", argv, env)
        self.startup_s = round(wait_healthy(self.platform, self.platform_port), 2)
        self.demo_port = free_port()
        demo_env = {**self.stack.env, "PUBLIC_BASE_URL": self.platform_url}
        self.demo = self._spawn(
            "serve_demo",
            [str(VENV_BIN / "python"), "manage.py", "serve_demo", "--port", str(self.demo_port)],
            demo_env,
        )
        _wait_http(self.demo, self.demo_port, "/")

    @property
    def platform_url(self) -> str:
        return f"http://localhost:{self.platform_port}"

    @property
    def demo_url(self) -> str:
        return f"http://127.0.0.1:{self.demo_port}/"

    def stop(self) -> list[str]:
        problems = []
        for proc in (self.demo, self.platform):
            if proc is not None:
                problems += [f"{proc.name}: {p}" for p in proc.log_problems()[:20]]
                proc.stop()
        shutil.rmtree(self.static_root, ignore_errors=True)
        return problems


class _Traffic:
    """Every request a page makes to the platform while it is watched, websockets too."""

    def __init__(self, page: Any, platform: str) -> None:
        self.page = page
        self.platform = platform
        self.requests: list[Any] = []
        self.sockets: list[str] = []
        page.on("request", self._request)
        page.on("websocket", self._socket)

    def _request(self, request: Any) -> None:
        if request.url.startswith(self.platform):
            self.requests.append(request)

    def _socket(self, socket: Any) -> None:
        if socket.url.replace("ws", "http", 1).startswith(self.platform):
            self.sockets.append(urlsplit(socket.url).path)

    def close(self) -> dict[str, Any]:
        self.page.remove_listener("request", self._request)
        self.page.remove_listener("websocket", self._socket)
        network: list[str] = []
        cached: list[str] = []
        transferred = {"loader": 0, "core": 0, "all": 0}
        encodings: dict[str, str] = {}
        for request in self.requests:
            name = f"{request.method} {urlsplit(request.url).path}"
            try:
                sizes = request.sizes()
            except Exception:  # never answered (the page moved on): it still went out
                network.append(name)
                continue
            delivered = int(sizes["responseBodySize"]) + int(sizes["responseHeadersSize"])
            # Only a GET can come from the HTTP cache; a beacon's answer is never seen.
            (cached if request.method == "GET" and delivered <= 0 else network).append(name)
            transferred["all"] += max(0, delivered)
            kind = _is_widget_asset(request.url)
            if kind is None:
                continue
            transferred[kind] += max(0, delivered)
            response = request.response()
            if response is not None:
                encodings[kind] = response.headers.get("content-encoding", "identity")
        return {
            "requests": network + [f"WS {path}" for path in self.sockets],
            "from_cache": cached,
            "bytes": {
                "loader": transferred["loader"],
                "core": transferred["core"],
                "total": transferred["loader"] + transferred["core"],
                "platform": transferred["all"],
            },
            "encodings": encodings,
        }


def _visit(page: Any, url: str, platform: str) -> dict[str, Any]:
    """Navigate, wait until the page is settled (no intent shown), and return what the
    init script saw and what the page asked of the platform."""
    traffic = _Traffic(page, platform)
    try:
        page.goto(url, wait_until="load", timeout=VISIT_TIMEOUT_MS)
        page.wait_for_function(
            "() => window.__caBench && window.__caBench.settled()", timeout=VISIT_TIMEOUT_MS
        )
        result: dict[str, Any] = page.evaluate("() => window.__caBench.report()")
    finally:
        result_traffic = traffic.close()
    return {**result, **result_traffic}


def _intent_visit(page: Any, url: str, platform: str, *, hover_ms: int) -> dict[str, Any]:
    """A cold page view whose visitor points at the launcher, waits `hover_ms` and clicks;
    done once the chat is ready (panel visible, session answered)."""
    traffic = _Traffic(page, platform)
    try:
        page.goto(url, wait_until="load", timeout=VISIT_TIMEOUT_MS)
        launcher = page.locator("[data-ca=launcher]")
        launcher.wait_for(state="visible", timeout=VISIT_TIMEOUT_MS)
        if hover_ms:
            launcher.hover()
            page.wait_for_timeout(hover_ms)
        launcher.click()
        page.wait_for_function("() => window.__caBench.chatReady()", timeout=VISIT_TIMEOUT_MS)
        page.wait_for_timeout(250)  # what the widget sends right after (analytics)
        result: dict[str, Any] = page.evaluate("() => window.__caBench.report()")
    finally:
        result_traffic = traffic.close()
    return {**result, **result_traffic}


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


def _one_run(
    browser: Any, demo_url: str, bare_url: str, platform: str, bare_first: bool
) -> dict[str, Any]:
    """Cold and warm visits with the widget (one context), one visit without (another),
    and two cold visits that click the launcher: after a hover, and at once."""

    def fresh(visit: Any, **kwargs: Any) -> dict[str, Any]:
        context = browser.new_context(viewport=VIEWPORT)
        try:
            context.add_init_script(INIT_SCRIPT)
            return dict(visit(context.new_page(), **kwargs))
        finally:
            context.close()

    run: dict[str, Any] = {}
    if bare_first:
        run["bare"] = fresh(_visit, url=bare_url, platform=platform)
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(INIT_SCRIPT)
        page = context.new_page()
        run["cold"] = _visit(page, demo_url, platform)
        run["warm"] = _visit(page, demo_url, platform)
    finally:
        context.close()
    if not bare_first:
        run["bare"] = fresh(_visit, url=bare_url, platform=platform)
    run["hover_click"] = fresh(
        _intent_visit, url=demo_url, platform=platform, hover_ms=HOVER_PAUSE_MS
    )
    run["click"] = fresh(_intent_visit, url=demo_url, platform=platform, hover_ms=0)
    return run


def _summary(values: list[float | None]) -> dict[str, Any]:
    seen = sorted(float(v) for v in values if v is not None)
    if not seen:
        return {"count": 0, "missing": len(values), "p50": None, "p95": None, "max": None}
    return {
        "count": len(seen),
        "missing": len(values) - len(seen),
        "p50": round(percentile(seen, 0.50), 1),
        "p95": round(percentile(seen, 0.95), 1),
        "min": round(seen[0], 1),
        "max": round(seen[-1], 1),
    }


def _summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for visit in ("cold", "warm"):
        rows = [run[visit] for run in runs]
        metrics[f"launcher_visible_ms_{visit}"] = _summary([r["launcher_ms"] for r in rows])
        metrics[f"launcher_in_dom_ms_{visit}"] = _summary([r["launcher_in_dom_ms"] for r in rows])
        metrics[f"core_ready_ms_{visit}"] = _summary([r["ready_ms"] for r in rows])
        metrics[f"long_task_ms_{visit}"] = _summary([r["long_task_ms"] for r in rows])
        metrics[f"long_task_ms_added_{visit}"] = _summary(
            [run[visit]["long_task_ms"] - run["bare"]["long_task_ms"] for run in runs]
        )
        metrics[f"load_event_ms_{visit}"] = _summary([r["load_ms"] for r in rows])
        metrics[f"first_contentful_paint_ms_{visit}"] = _summary([r["fcp_ms"] for r in rows])
        metrics[f"widget_bytes_{visit}"] = _summary([r["bytes"]["total"] for r in rows])
        metrics[f"loader_bytes_{visit}"] = _summary([r["bytes"]["loader"] for r in rows])
        metrics[f"core_bytes_{visit}"] = _summary([r["bytes"]["core"] for r in rows])
        metrics[f"page_view_requests_{visit}"] = _summary([len(r["requests"]) for r in rows])
        metrics[f"page_view_bytes_{visit}"] = _summary([r["bytes"]["platform"] for r in rows])
        metrics[f"page_view_sessions_{visit}"] = _summary(
            [sum(name.endswith("/widget/session") for name in r["requests"]) for r in rows]
        )
    for visit in ("hover_click", "click"):
        rows = [run[visit] for run in runs]
        metrics[f"click_to_ready_ms_{visit}"] = _summary([r["click_to_ready_ms"] for r in rows])
        metrics[f"requests_{visit}"] = _summary([len(r["requests"]) for r in rows])
        metrics[f"bytes_{visit}"] = _summary([r["bytes"]["platform"] for r in rows])
    bare = [run["bare"] for run in runs]
    metrics["long_task_ms_without_widget"] = _summary([r["long_task_ms"] for r in bare])
    metrics["load_event_ms_without_widget"] = _summary([r["load_ms"] for r in bare])
    metrics["first_contentful_paint_ms_without_widget"] = _summary([r["fcp_ms"] for r in bare])
    # What a page view without intent asked the platform for, e.g. {"GET /widget.js": 15}.
    metrics["page_view_requests_seen_cold"] = _tally(run["cold"]["requests"] for run in runs)
    metrics["page_view_requests_seen_warm"] = _tally(run["warm"]["requests"] for run in runs)
    return metrics


def _tally(visits: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for requests in visits:
        for name in requests:
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def _goals(metrics: dict[str, Any]) -> dict[str, Any]:
    goals: dict[str, Any] = {}
    for visit in ("cold", "warm"):
        launcher = metrics[f"launcher_visible_ms_{visit}"]
        goals[f"launcher_visible_{visit}"] = {
            "goal": f"p50 <= {GOAL_LAUNCHER_MS:.0f} ms",
            "pass": launcher["p50"] is not None
            and launcher["missing"] == 0
            and launcher["p50"] <= GOAL_LAUNCHER_MS,
        }
        added = metrics[f"long_task_ms_added_{visit}"]
        goals[f"long_task_added_{visit}"] = {
            "goal": f"p50 <= {GOAL_ADDED_LONG_TASK_MS:.0f} ms",
            "pass": added["p50"] is not None and added["p50"] <= GOAL_ADDED_LONG_TASK_MS,
        }
        requests = metrics[f"page_view_requests_{visit}"]
        goals[f"page_view_requests_{visit}"] = {
            "goal": f"max <= {GOAL_PAGE_VIEW_REQUESTS}",
            "pass": requests["max"] is not None and requests["max"] <= GOAL_PAGE_VIEW_REQUESTS,
        }
    ready = metrics["click_to_ready_ms_hover_click"]
    goals["click_to_ready_hover_click"] = {
        "goal": f"p50 <= {GOAL_CLICK_READY_MS:.0f} ms",
        "pass": ready["p50"] is not None
        and ready["missing"] == 0
        and ready["p50"] <= GOAL_CLICK_READY_MS,
    }
    return goals


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
            _one_run(browser, demo_url, bare_url, platform, bare_first=False)
            started = time.monotonic()
            for index in range(config.runs):
                if time.monotonic() - started > config.cap_s:
                    failures.append(f"stopped after {index} runs: {config.cap_s:.0f}s cap")
                    break
                try:
                    runs.append(_one_run(browser, demo_url, bare_url, platform, index % 2 == 1))
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
    sites = _Sites(stack)
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
    result["metrics"] = _summarize(runs)
    result["goals"] = _goals(result["metrics"])
    result["ok"] = all(goal["pass"] for goal in result["goals"].values())
    return result


def widget_status(result: dict[str, Any]) -> int:
    """The bench's exit status: 2 set-up or clean-up failed, 1 a goal missed, else 0."""
    if result.get("setup_failed") or result.get("cleanup_problems"):
        return 2
    return 0 if result.get("ok") else 1


TABLE_ROWS = [
    ("launcher visible ms, cold", "launcher_visible_ms_cold", "launcher_visible_cold"),
    ("launcher visible ms, warm", "launcher_visible_ms_warm", "launcher_visible_warm"),
    ("core ready ms without intent, cold", "core_ready_ms_cold", None),
    ("core ready ms without intent, warm", "core_ready_ms_warm", None),
    ("load event ms, no widget", "load_event_ms_without_widget", None),
    ("load event ms, widget cold", "load_event_ms_cold", None),
    ("first contentful paint ms, no widget", "first_contentful_paint_ms_without_widget", None),
    ("first contentful paint ms, widget cold", "first_contentful_paint_ms_cold", None),
    ("long tasks ms, no widget", "long_task_ms_without_widget", None),
    ("long tasks ms, widget cold", "long_task_ms_cold", None),
    ("long tasks ms added, cold", "long_task_ms_added_cold", "long_task_added_cold"),
    ("long tasks ms added, warm", "long_task_ms_added_warm", "long_task_added_warm"),
    ("page view requests (no intent), cold", "page_view_requests_cold", "page_view_requests_cold"),
    ("page view requests (no intent), warm", "page_view_requests_warm", "page_view_requests_warm"),
    ("  sessions started, cold", "page_view_sessions_cold", None),
    ("page view bytes (no intent), cold", "page_view_bytes_cold", None),
    ("page view bytes (no intent), warm", "page_view_bytes_warm", None),
    ("widget bytes (loader+core), cold", "widget_bytes_cold", None),
    ("  loader bytes, cold", "loader_bytes_cold", None),
    ("  core bytes, cold", "core_bytes_cold", None),
    ("widget bytes (loader+core), warm", "widget_bytes_warm", None),
    (
        "click → chat ready ms, after a hover",
        "click_to_ready_ms_hover_click",
        "click_to_ready_hover_click",
    ),
    ("click → chat ready ms, no hover", "click_to_ready_ms_click", None),
    ("  requests to chat ready, after a hover", "requests_hover_click", None),
    ("  bytes to chat ready, after a hover", "bytes_hover_click", None),
]
GOAL_CELLS = {
    "launcher_visible": f"{GOAL_LAUNCHER_MS:.0f}",
    "long_task_added": f"{GOAL_ADDED_LONG_TASK_MS:.0f}",
    "page_view_requests": f"{GOAL_PAGE_VIEW_REQUESTS}",
    "click_to_ready": f"{GOAL_CLICK_READY_MS:.0f}",
}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 1000 or value.is_integer() else f"{value:.1f}"
    return str(value)


def widget_table(result: dict[str, Any]) -> list[str]:
    if "metrics" not in result:
        return [f"Widget in Chromium: {result.get('error', 'not measured')}"]
    metrics, goals = result["metrics"], result["goals"]
    header = f"Widget in Chromium {result['chromium']}, {result['runs_done']} runs"
    lines = [f"{header:<46}{'p50':>9}{'p95':>9}{'goal':>8}  result"]
    for label, key, goal_key in TABLE_ROWS:
        row = metrics[key]
        goal, verdict = "", ""
        if goal_key:
            goal = next(cell for prefix, cell in GOAL_CELLS.items() if goal_key.startswith(prefix))
            verdict = "PASS" if goals[goal_key]["pass"] else "FAIL"
        missing = f"  ({row['missing']} missing)" if row.get("missing") else ""
        lines.append(
            f"  {label:<44}{_cell(row['p50']):>9}{_cell(row['p95']):>9}{goal:>8}  "
            f"{verdict}{missing}".rstrip()
        )
    encodings = sorted(
        {f"{k}={v}" for run in result["runs"] for k, v in run["cold"]["encodings"].items()}
    )
    lines.append(f"  content-encoding (cold): {', '.join(encodings) or '-'}")
    seen = metrics["page_view_requests_seen_cold"]
    lines.append(
        f"  asked for in {result['runs_done']} cold page views without intent: "
        + (", ".join(f"{name} x{count}" for name, count in seen.items()) or "nothing")
    )
    lines.append(f"  mode {result['mode']}: {result['mode_description']}")
    for failure in result.get("failures", []):
        lines.append(f"  {failure}")
    return lines
