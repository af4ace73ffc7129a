// The loader served as /widget.js: small enough to be embedded on every page of a site.
// It reads the config, installs `window.CustomerAgent`, draws the launcher, and imports the
// core (src/core) only when the visitor shows intent or the browser is idle.
import { createApi } from './loader/api.js';
import { isWidgetApi, platformBase, readConfig, shopifyCustomerId, storagePrefix } from './loader/config.js';
import { SHELL_HTML } from './loader/shell.js';

/* global __CORE_PATH__, __PINNED__ -- set at build time (build.mjs). /widget.js imports
   /widget/core.js?agent=<id>, which redirects (cached a minute) to the agent's immutable
   core: its pinned build or the stable channel's. A versioned loader (loader.<hash>.js)
   imports its own build's hashed core directly, for Subresource Integrity. */

(() => {
  const w = window;
  const d = document;
  if (isWidgetApi(w.CustomerAgent)) return; // the snippet was pasted twice

  const script =
    d.currentScript ||
    d.querySelector('script[src*="widget.js"][data-agent-id]') ||
    d.querySelector('script[src*="widget.js"]');
  const config = readConfig(w.CustomerAgent, script, shopifyCustomerId(w));
  const base = script && platformBase(script.src);
  const host = d.createElement('div');
  if (!config || !base || !host.attachShadow) {
    console.warn('CustomerAgent: no agentId');
    return;
  }

  const prefix = storagePrefix(config.agentId);
  const stored = (key) => {
    try {
      return localStorage.getItem(prefix + key);
    } catch (e) {
      return null; // storage blocked: behave as a first visit
    }
  };
  const forget = () => {
    try {
      for (let i = localStorage.length; i--; ) {
        const key = localStorage.key(i);
        if (key && key.indexOf(prefix) === 0) localStorage.removeItem(key);
      }
    } catch (e) {
      // nothing stored, nothing to forget
    }
  };

  host.id = 'customeragent-widget';
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = SHELL_HTML; // the host's style and the launcher (src/loader/shell.js)
  const launcher = root.lastChild;

  // Paint the launcher in the agent's colours, size and corner from the last visit, if known.
  try {
    const theme = JSON.parse(stored('theme')) || {};
    for (const name in theme.vars) host.style.setProperty(name, theme.vars[name]);
    if (theme.left) launcher.classList.add('left');
    if (theme.icon) launcher.firstChild.firstChild.setAttribute('d', theme.icon); // svg > path
  } catch (e) {
    // no usable theme stored
  }

  let loading = null;
  let mounted = false;
  let failures = 0;
  function load() {
    return (
      loading ||
      // Browsers remember a failed module fetch per URL, so a retry needs a new URL.
      (loading = import(
        base + __CORE_PATH__ + (__PINNED__ ? '' : `?agent=${config.agentId}` + (failures ? `&retry=${failures}` : '')),
      )
        .then(
          (mod) => {
            const ctx = { base, agentId: config.agentId, config, host, shadowRoot: root, launcher, api, emit };
            attach(mod.mount(ctx));
            mounted = true;
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
  launcher.addEventListener('click', () => (mounted ? api.toggle() : api.open()));
  // Pointing at or focusing the launcher announces a click: start the download now.
  launcher.addEventListener('pointerenter', load);
  launcher.addEventListener('focus', load);

  const attachHost = () => d.body.appendChild(host);
  if (d.body) attachHost();
  else d.addEventListener('DOMContentLoaded', attachHost);

  if (config.open) api.open();
  else if (stored('open') || stored('conversation') || stored('outbox')) load();
  else {
    const idle = () =>
      (w.requestIdleCallback || ((fn) => setTimeout(fn, 2000)))(load, { timeout: 4000 });
    if (d.readyState === 'complete') idle();
    else w.addEventListener('load', idle);
  }
})();
