// Two tabs of one browser that start their first session together are one visitor: the
// first mints it, the second waits (Web Locks) and resumes it.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createSession } from '../src/core/session.js';
import { createStore } from '../src/core/storage.js';
import { fakeFetch, fakeTimers, MemoryStorage } from './helpers.js';

/** navigator.locks as browsers grant it: one holder per name, the others queued. */
function fakeLocks() {
  const tails = new Map();
  return {
    request(name, callback) {
      const before = tails.get(name) || Promise.resolve();
      const held = before.then(() => callback());
      tails.set(name, held.catch(() => {}));
      return held;
    },
  };
}

function tab(storage, fetchImpl) {
  return createSession({
    base: 'http://platform.test',
    agentId: 'agt_1',
    identity: {},
    store: createStore(storage, 'agt_1'),
    page: { href: 'https://acme.example/', referrer: '' },
    fetchImpl,
    timers: fakeTimers(),
    random: () => 0.5,
    now: () => Date.now(),
    onSession: () => {},
    onFatal: (error) => assert.fail(String(error)),
  });
}

function platform() {
  let minted = 0;
  return fakeFetch({
    '/api/v2/widget/session': async (url, init) => {
      const body = JSON.parse(init.body);
      await new Promise((resolve) => setTimeout(resolve, 5)); // both requests in flight
      const visitorId = body.visitorId || `vis_${++minted}`;
      const expiresAt = new Date(Date.now() + 3600_000).toISOString();
      return [200, { token: `tok-${visitorId}`, refreshToken: 'r', expiresAt, visitorId, visitorSecret: `s-${visitorId}` }];
    },
  });
}

/** Runs `body` with `globalThis.navigator` set to `navigator` (Node 20 has none). */
async function withNavigator(navigator, body) {
  Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true });
  try {
    await body();
  } finally {
    delete globalThis.navigator;
  }
}

test('two tabs opening together share one visitor', () => withNavigator({ locks: fakeLocks() }, async () => {
  const storage = new MemoryStorage();
  const { fetchImpl, calls } = platform();
  await Promise.all([tab(storage, fetchImpl).open(), tab(storage, fetchImpl).open()]);
  const asked = calls.map((call) => call.body.visitorId || null);
  assert.deepEqual(asked, [null, 'vis_1']);
}));

test('without Web Locks each tab still gets a session', () => withNavigator({}, async () => {
  const storage = new MemoryStorage();
  const { fetchImpl, calls } = platform();
  await Promise.all([tab(storage, fetchImpl).open(), tab(storage, fetchImpl).open()]);
  assert.equal(calls.length, 2);
}));
