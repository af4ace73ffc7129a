// The loader as built (src/loader.js through esbuild, as build.mjs makes /widget.js), run in
// a sandbox window: a page view without intent asks only for the page config; the core is
// imported on intent, a trigger firing or something to restore.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { fakeTimers, MemoryStorage, settle } from './helpers.js';

const built = await esbuild.build({
  entryPoints: [new URL('../src/loader.js', import.meta.url).pathname],
  bundle: true,
  minify: true,
  target: 'es2020',
  format: 'iife',
  write: false,
  define: { __CORE_PATH__: JSON.stringify('/widget/core.js'), __PINNED__: 'false' },
});
// The sandbox cannot load modules: the loader's one import() goes to the page's stand-in.
const LOADER = built.outputFiles[0].text.replace('import(', '__import(');
assert.equal(LOADER.split('__import(').length, 2, 'the loader has one dynamic import');

const BASE = 'https://platform.test';
const AGENT = 'agt_1';
const CONFIG_URL = `${BASE}/api/v2/widget/config/${AGENT}`;

/** localStorage as browsers have it: its keys are the object's own enumerable properties. */
function webStorage(entries) {
  const store = new MemoryStorage(entries);
  return new Proxy(store, {
    ownKeys: () => [...store.map.keys()],
    getOwnPropertyDescriptor: (target, key) =>
      store.map.has(key) ? { value: store.map.get(key), enumerable: true, configurable: true } : undefined,
  });
}

function element() {
  const listeners = {};
  const classes = new Set();
  return {
    attributes: {},
    style: {
      setProperty(name, value) {
        this[name] = value;
      },
    },
    classList: {
      toggle: (name, force) => (force ?? !classes.has(name) ? classes.add(name) : classes.delete(name)),
      contains: (name) => classes.has(name),
    },
    setAttribute(name, value) {
      this.attributes[name] = value;
    },
    addEventListener(type, fn) {
      (listeners[type] = listeners[type] || []).push(fn);
    },
    dispatch(type, event = {}) {
      for (const fn of listeners[type] || []) fn(event);
    },
  };
}

/** A page embedding the snippet: `doc` is what the config GET answers (null: it fails). */
function page({ doc = { config: {}, identityRequired: false, launcher: { vars: {}, left: false, icon: 'M0' }, trigger: null }, stored = {}, snippet = {}, href = 'https://shop.example/pricing' } = {}) {
  const timers = fakeTimers();
  const storage = webStorage(Object.fromEntries(Object.entries(stored).map(([k, v]) => [`ca:${AGENT}:${k}`, v])));
  const fetched = [];
  const imported = [];
  const mounted = [];
  const path = element();
  const launcher = { ...element(), firstChild: { firstChild: path } };
  const host = element();
  host.attachShadow = () => ({ lastChild: launcher, set innerHTML(html) {} });
  const win = element();
  const core = { calls: [] };
  for (const name of ['open', 'close', 'toggle', 'identify', 'logout', 'sendMessage', 'track', 'trigger']) {
    core[name] = (...args) => core.calls.push(name);
  }
  Object.assign(win, {
    CustomerAgent: { agentId: AGENT, ...snippet },
    document: {
      currentScript: { src: `${BASE}/widget.js`, getAttribute: () => null },
      querySelector: () => null,
      createElement: () => host,
      body: { appendChild() {} },
      addEventListener() {},
      documentElement: { scrollHeight: 2800 },
    },
    localStorage: storage,
    location: { href },
    scrollY: 0,
    innerHeight: 800,
    setTimeout: timers.setTimeout,
    console: { warn() {} },
    URL,
    RegExp,
    Object,
    JSON,
    String,
    Promise,
    fetch: (url) => {
      fetched.push(url);
      return doc ? Promise.resolve({ json: () => Promise.resolve(doc) }) : Promise.reject(new Error('offline'));
    },
    __import: (url) => {
      imported.push(url);
      return Promise.resolve({ mount: (ctx) => (mounted.push(ctx), core) });
    },
  });
  win.window = win;
  vm.runInContext(LOADER, vm.createContext(win));
  return { win, timers, storage, fetched, imported, mounted, launcher, host, path, core, api: win.CustomerAgent };
}

test('a page view without intent asks for the page config and nothing else', async () => {
  const view = page();
  await settle();
  assert.deepEqual(view.fetched, [CONFIG_URL]);
  assert.deepEqual(view.imported, []);
  assert.equal(view.timers.pending(), 0, 'no import waiting for the browser to be idle');
  assert.equal(typeof view.api.on, 'function', 'the API is there at once');
});

test('pointing at, pressing or focusing the launcher imports the core, once', async () => {
  for (const intent of ['pointerenter', 'pointerdown', 'focus']) {
    const view = page();
    await settle();
    view.launcher.dispatch(intent);
    view.launcher.dispatch(intent);
    await settle();
    assert.deepEqual(view.imported, [`${BASE}/widget/core.js?agent=${AGENT}&retry=0`], intent);
    assert.equal(view.mounted[0].published.config && true, true, 'the core gets the page config');
    assert.deepEqual(view.core.calls, [], 'no call made: hovering is not opening');
  }
});

test('a click before the core is in opens the chat once it is', async () => {
  const view = page();
  view.launcher.dispatch('click');
  await settle();
  assert.equal(view.imported.length, 1);
  assert.deepEqual(view.core.calls, ['toggle']);
});

test('a conversation, an unsent message or an open panel is restored at once, without the config GET', async () => {
  for (const key of ['history', 'outbox', 'open']) {
    const view = page({ stored: { [key]: '"x"' } });
    await settle();
    assert.equal(view.imported.length, 1, key);
    assert.deepEqual(view.fetched, [], key);
  }
});

test('another tab starting a conversation brings the core in', async () => {
  const view = page();
  await settle();
  view.win.dispatch('storage');
  assert.equal(view.imported.length, 0, 'nothing to restore yet');
  view.storage.setItem(`ca:${AGENT}:history`, '{"conversationId":"cnv_1","messages":[]}');
  view.win.dispatch('storage');
  assert.equal(view.imported.length, 1);
});

test('the launcher takes the published look; guests of a verified-only agent get none', async () => {
  const look = { vars: { '--ca-primary': '#0f766e' }, left: true, icon: 'M7 2v11h3v9l7-12h-4l4-8z' };
  const view = page({ doc: { config: {}, identityRequired: true, launcher: look, trigger: null } });
  await settle();
  assert.equal(view.host.style['--ca-primary'], '#0f766e');
  assert.equal(view.launcher.classList.contains('left'), true);
  assert.equal(view.path.attributes.d, look.icon);
  assert.equal(view.launcher.style.display, 'none');
  const signedIn = page({ doc: { config: {}, identityRequired: true, launcher: look, trigger: null }, snippet: { customerToken: 'a.b.c' } });
  await settle();
  assert.notEqual(signedIn.launcher.style.display, 'none');
});

test('without the config the launcher keeps the look the core stored on the last visit', async () => {
  const view = page({ doc: null, stored: { theme: JSON.stringify({ vars: { '--ca-primary': '#111111' }, left: false }) } });
  await settle();
  assert.equal(view.host.style['--ca-primary'], '#111111');
  assert.deepEqual(view.imported, []);
});

const withTrigger = (trigger) => ({ config: {}, identityRequired: false, launcher: { vars: {}, left: false, icon: 'M0' }, trigger });

test('a trigger fires on its moment: the core comes in and is told', async () => {
  const view = page({ doc: withTrigger({ delayMs: 5000 }) });
  await settle();
  assert.deepEqual(view.timers.delays(), [5000]);
  assert.deepEqual(view.imported, []);
  view.timers.runNext();
  await settle();
  assert.equal(view.imported.length, 1);
  assert.deepEqual(view.core.calls, ['trigger']);
});

test('scrolling far enough or heading for the tabs fires it, once', async () => {
  const view = page({ doc: withTrigger({ scroll: 0.495, exitIntent: true }) });
  await settle();
  view.win.scrollY = 500; // a quarter of the scrollable 2,000 px
  view.win.dispatch('scroll');
  view.win.dispatch('mouseout', { relatedTarget: {}, clientY: -1 }); // into another element
  view.win.dispatch('mouseout', { relatedTarget: null, clientY: 300 }); // out of the side
  await settle();
  assert.deepEqual(view.imported, []);
  view.win.scrollY = 990;
  view.win.dispatch('scroll');
  view.win.dispatch('mouseout', { relatedTarget: null, clientY: -2 });
  await settle();
  assert.equal(view.imported.length, 1);
  assert.deepEqual(view.core.calls, ['trigger']);
});

test('a page the rules leave out, a dismissed teaser or too few page views fire nothing', async () => {
  const other = page({ doc: withTrigger({ page: '^(?:.*/blog.*)$', delayMs: 0 }) });
  const teased = page({ doc: withTrigger({ delayMs: 0 }), stored: { teased: 'true' } });
  const early = page({ doc: withTrigger({ views: 3, delayMs: 0 }), stored: { views: '1' } });
  await settle();
  for (const view of [other, teased, early]) assert.equal(view.timers.pending(), 0);
  assert.equal(early.storage.getItem(`ca:${AGENT}:views`), '2', 'this page view was counted');
  const third = page({ doc: withTrigger({ views: 3, delayMs: 0 }), stored: { views: '2' } });
  await settle();
  assert.deepEqual(third.timers.delays(), [0]);
});

test('with consent first, page views are counted only once the visitor let the widget store', async () => {
  const stranger = page({ doc: withTrigger({ views: 2, held: true, delayMs: 0 }) });
  const known = page({ doc: withTrigger({ views: 2, held: true, delayMs: 0 }), stored: { visitor: '{"id":"v","secret":"s"}', views: '1' } });
  await settle();
  assert.equal(stranger.storage.getItem(`ca:${AGENT}:views`), null);
  assert.equal(known.storage.getItem(`ca:${AGENT}:views`), '2');
  assert.deepEqual(known.timers.delays(), [0]);
});

test('logout() before the core is in forgets this agent only, and imports nothing', async () => {
  const view = page({ stored: { visitor: '"v"' } });
  view.storage.setItem('ca:agt_2:visitor', '"w"');
  view.storage.setItem('site:cart', '3');
  view.api.logout();
  await settle();
  assert.equal(view.storage.getItem(`ca:${AGENT}:visitor`), null);
  assert.equal(view.storage.getItem('ca:agt_2:visitor'), '"w"');
  assert.equal(view.storage.getItem('site:cart'), '3');
  assert.deepEqual(view.imported, []);
});
