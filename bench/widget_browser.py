"""Driving the widget's page in Chromium: the visits of one run, and what each one saw.

Each run uses fresh browser contexts, so the HTTP cache is cold, then loads the page again
in the same context (warm: a returning visitor, whose loader comes from the cache and who
has a visitor id and the agent's theme stored). The same page with the two snippet tags
stripped is the baseline for main-thread long tasks. Two more fresh contexts show intent:
one points at the launcher, pauses and clicks (the core is prefetched on hover), the other
clicks at once.

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

from typing import Any
from urllib.parse import urlsplit

# A visitor doing nothing for this long after `load` shows no intent: the page view's cost.
IDLE_WINDOW_MS = 1000
HOVER_PAUSE_MS = 200  # pointing at the launcher, then clicking: a person's pace
VIEWPORT = {"width": 1280, "height": 800}
VISIT_TIMEOUT_MS = 15_000

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


def one_run(
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
