import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApi } from '../src/loader/api.js';

function setup() {
  const woken = [];
  const forgotten = [];
  const widget = createApi({ agentId: 'agt_1', locale: 'en' }, { wake: () => woken.push(1), forget: () => forgotten.push(1) });
  return { ...widget, woken, forgotten };
}

function recordingCore() {
  const calls = [];
  const core = {};
  for (const name of ['open', 'close', 'toggle', 'identify', 'logout', 'sendMessage', 'track']) {
    core[name] = (...args) => calls.push([name, ...args]);
  }
  return { core, calls };
}

test('it keeps the config fields readable on the API', () => {
  const { api } = setup();
  assert.equal(api.agentId, 'agt_1');
  assert.equal(api.locale, 'en');
});

test('it queues calls made before the core loads and replays them in order', () => {
  const { api, attach } = setup();
  api.track('viewed_pricing', { plan: 'pro' });
  api.sendMessage('hello');
  api.close();
  const { core, calls } = recordingCore();
  attach(core);
  assert.deepEqual(calls, [['track', 'viewed_pricing', { plan: 'pro' }], ['sendMessage', 'hello'], ['close']]);
});

test('it forwards calls straight to the core once attached', () => {
  const { api, attach } = setup();
  const { core, calls } = recordingCore();
  attach(core);
  api.open();
  api.identify({ customer: { id: 'c1' } });
  assert.deepEqual(calls, [['open'], ['identify', { customer: { id: 'c1' } }]]);
});

test('it loads the core for calls that need it, and not for the others', () => {
  const { api, woken } = setup();
  api.track('x');
  api.close();
  assert.equal(woken.length, 0);
  api.open();
  api.toggle();
  api.identify({});
  api.sendMessage('hi');
  assert.equal(woken.length, 4);
});

test('it delivers events to handlers registered before the core loaded', () => {
  const { api, emit } = setup();
  const seen = [];
  api.on('message', (m) => seen.push(m.text));
  emit('message', { text: 'Hi there' });
  assert.deepEqual(seen, ['Hi there']);
});

test('it stops calling a handler after off()', () => {
  const { api, emit } = setup();
  const seen = [];
  const handler = () => seen.push(1);
  api.on('open', handler).on('open', handler);
  api.off('open', handler);
  emit('open');
  assert.deepEqual(seen, []);
});

test('it keeps calling other handlers when one of them throws', () => {
  const { api, emit } = setup();
  const seen = [];
  api.on('ready', () => {
    throw new Error('site bug');
  });
  api.on('ready', () => seen.push('second'));
  const deferred = [];
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = (fn) => deferred.push(fn);
  try {
    emit('ready');
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  assert.deepEqual(seen, ['second']);
  // The error is rethrown later, outside the widget, so it still shows in the console.
  assert.throws(deferred[0], /site bug/);
});

test('it forgets stored state on logout without loading the core', () => {
  const { api, woken, forgotten } = setup();
  api.logout();
  assert.equal(forgotten.length, 1);
  assert.equal(woken.length, 0);
});

test('it hands logout to the core once attached', () => {
  const { api, attach, forgotten } = setup();
  const { core, calls } = recordingCore();
  attach(core);
  api.logout();
  assert.deepEqual(calls, [['logout']]);
  assert.equal(forgotten.length, 0);
});

test('a ready handler added after the widget became ready is called at once', () => {
  const { api, emit } = setup();
  emit('ready', { visitorId: 'v_1' });
  const seen = [];
  api.on('ready', (info) => seen.push(info.visitorId));
  api.on('open', () => seen.push('open'));
  assert.deepEqual(seen, ['v_1']);
});
