// The loader served as /widget.js: small enough to be embedded on every page of a site.
// It reads the config, installs `window.CustomerAgent`, draws the launcher, and imports the
// core (src/core) only on intent: pointing at, focusing or pressing the launcher, a click,
// a proactive trigger firing, an API call that needs it, or a conversation to restore.
// Without intent a page view costs this file and one cacheable GET of the agent's public
// config (GET /api/v2/widget/config/<agentId>, docs/widget-api.md): the launcher's look,
// whether guests see it, and the trigger, compiled by the server for this file.
import { createApi } from './loader/api.js';
import { platformBase, readConfig, storagePrefix } from './loader/config.js';
import { SHELL_HTML } from './loader/shell.js';

/* global __CORE_PATH__, __PINNED__ -- set at build time (build.mjs). /widget.js imports
   the hashed core the public config names, else /widget/core.js?agent=<id>, which
   redirects (cached a minute) to the agent's immutable core: its pinned build or the
   stable channel's. A versioned loader (loader.<hash>.js) imports its own build's hashed
   core directly, for Subresource Integrity. */

(() => {
  const w = window;
  const d = document;
  if (w.CustomerAgent?.on) return; // the API is in already: the snippet was pasted twice

  // The loader's own tag; the lookup is for a tag manager that evaluates it in a callback.
  const script = d.currentScript || d.querySelector('script[src*="widget.js"]');
  const config = readConfig(w.CustomerAgent, script);
  const base = script && platformBase(script.src);
  const host = d.createElement('div');
  if (!config || !base) {
    console.warn('CustomerAgent: no agentId');
    return;
  }

  const prefix = storagePrefix(config.agentId);
  const stored = (key) => {
    try {
      return localStorage.getItem(prefix + key);
    } catch (e) {
      // storage blocked: behave as a first visit
    }
  };
  const forget = () => {
    try {
      for (const key of Object.keys(localStorage)) key.indexOf(prefix) || localStorage.removeItem(key);
    } catch (e) {
      // nothing stored, nothing to forget
    }
  };

  host.id = 'customeragent-widget';
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = SHELL_HTML; // the host's style and the launcher (src/loader/shell.js)
  const launcher = root.lastChild;

  // {vars, left, icon}: the CSS variables, corner and icon path of the launcher, as the
  // core stored them on the last visit (`theme`) or as the public config says (`launcher`).
  const paint = (theme) => {
    for (const name in theme.vars) host.style.setProperty(name, theme.vars[name]);
    launcher.classList.toggle('left', theme.left);
    if (theme.icon) launcher.firstChild.firstChild.setAttribute('d', theme.icon); // svg > path
  };
  try {
    paint(JSON.parse(stored('theme')));
  } catch (e) {
    // no usable theme stored
  }

  let loading = null;
  let core = null; // the mounted core's controller
  let failures = 0;
  let published = null; // the public config document, once it arrived
  function load() {
    return (
      loading ||
      // Browsers remember a failed module fetch per URL, so a retry needs a new URL.
      (loading = import(base + __CORE_PATH__ + (__PINNED__ ? '' : `?agent=${config.agentId}&retry=${failures}`))
        .then(
          (mod) => {
            const ctx = { base, agentId: config.agentId, config, host, shadowRoot: root, launcher, api, emit, published };
            attach((core = mod.mount(ctx)));
          },
          (error) => {
            loading = null; // a failed download may be retried on the next sign of intent
            failures++;
            throw error;
          },
        )
        .catch((error) => emit('error', { code: 'load_failed', message: String(error) })))
    );
  }

  const { api, emit, attach } = createApi(config, { wake: load, forget });
  w.CustomerAgent = api;

  // Before the core is in, a click means "open"; afterwards the API routes it to the core.
  launcher.addEventListener('click', () => api.toggle());
  // Pointing at, focusing or pressing the launcher announces a click: download the core now.
  for (const type of ['pointerenter', 'pointerdown', 'focus']) launcher.addEventListener(type, load);

  const attachHost = () => d.body.appendChild(host);
  if (d.body) attachHost();
  else d.addEventListener('DOMContentLoaded', attachHost);

  // A conversation (the messages the core keeps for the next page view), a pending message
  // or an open panel, here or from another tab.
  const restore = () => stored('open') || stored('history') || stored('outbox');
  addEventListener('storage', () => restore() && load());
  if (config.open) api.open();
  else if (restore()) load();
  else
    fetch(`${base}/api/v2/widget/config/${config.agentId}`)
      .then((response) => response.json())
      .then((doc) => {
        published = doc;
        if (core) return; // the core is in: the session's config rules
        paint(doc.launcher);
        // The agent chats with verified customers only: no launcher for a guest.
        if (doc.identityRequired && !config.customerToken && !config.userHash) launcher.style.display = 'none';
        // The proactive trigger, as the server compiled it for this file (null: none is set).
        const trigger = doc.trigger || {};
        const views = ~~stored('views') + 1;
        try {
          // Page views are counted for `minPageViews`; with consent first, only once the
          // visitor let the widget store something.
          if (trigger.views && (!trigger.held || stored('visitor'))) localStorage.setItem(prefix + 'views', views);
        } catch (e) {
          // not counted
        }
        if (!doc.trigger || stored('teased') || views < trigger.views || !RegExp(trigger.page, 'i').test(location.href)) return;
        let fired = 0;
        const fire = () => fired++ || load().then(() => core?.trigger?.());
        if (trigger.delayMs >= 0) setTimeout(fire, trigger.delayMs);
        if (trigger.scroll) {
          addEventListener('scroll', () => scrollY >= trigger.scroll * (d.documentElement.scrollHeight - innerHeight) && fire());
        }
        // The pointer leaving through the top of the window: heading for the tabs or the URL bar.
        if (trigger.exitIntent) addEventListener('mouseout', (event) => !event.relatedTarget && event.clientY <= 0 && fire());
      })
      .catch(() => {}); // no config: the launcher keeps its stored or default look
})();
