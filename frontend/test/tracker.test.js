import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTracker, loadTiming } from '../src/core/tracker.js';
import { fakeTimers } from './helpers.js';

function setup(token = 'tok') {
  const sent = [];
  const timers = fakeTimers();
  let currentToken = token;
  let ids = 0;
  const tracker = createTracker({
    base: 'http://platform',
    getToken: () => currentToken,
    transport: (url, body) => sent.push({ url, body: JSON.parse(body) }),
    timers,
    now: () => Date.UTC(2025, 0, 1),
    newId: () => `event-${++ids}`,
    timing: () => ({ ms: 120, readyMs: 950 }),
  });
  return { tracker, sent, timers, setToken: (t) => (currentToken = t) };
}

test('it batches events into one post to the events endpoint', () => {
  const { tracker, sent, timers } = setup();
  tracker.track('open');
  tracker.track('clicked_pricing', { plan: 'pro' });
  assert.equal(sent.length, 0);
  timers.runNext();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].url, 'http://platform/api/v2/widget/events');
  assert.deepEqual(sent[0].body, {
    token: 'tok',
    events: [
      { id: 'event-1', type: 'open', ts: '2025-01-01T00:00:00.000Z', metadata: {} },
      { id: 'event-2', type: 'clicked_pricing', ts: '2025-01-01T00:00:00.000Z', metadata: { plan: 'pro' } },
    ],
  });
});

test('it holds events until there is a session token', () => {
  const { tracker, sent, timers, setToken } = setup(null);
  tracker.track('load');
  timers.runNext();
  assert.equal(sent.length, 0);
  setToken('tok');
  tracker.flush();
  assert.equal(sent.length, 1);
});

test('it survives metadata that cannot be serialised', () => {
  const { tracker, sent } = setup();
  const circular = {};
  circular.self = circular;
  tracker.track('weird', circular);
  tracker.flush();
  assert.deepEqual(sent[0].body.events[0].metadata, {});
});

test('it ignores a transport failure', () => {
  const timers = fakeTimers();
  const tracker = createTracker({ base: 'http://p', getToken: () => 't', transport: () => { throw new Error('offline'); }, timers });
  tracker.track('open');
  assert.doesNotThrow(() => tracker.flush());
});

test('every event gets its own random id, so the server can drop a resent batch', () => {
  const sent = [];
  const tracker = createTracker({ base: 'http://p', getToken: () => 't', transport: (url, body) => sent.push(JSON.parse(body)), timers: fakeTimers() });
  tracker.track('open');
  tracker.track('open');
  tracker.flush();
  const [first, second] = sent[0].events.map((event) => event.id);
  assert.match(first, /^[0-9a-f-]{36}$/);
  assert.notEqual(first, second);
});

test('the load event carries the load time', () => {
  const { tracker, sent } = setup();
  tracker.track('load', { url: 'https://shop.example.com/' });
  tracker.track('open');
  tracker.flush();
  assert.deepEqual(sent[0].body.events[0].metadata, { ms: 120, readyMs: 950, url: 'https://shop.example.com/' });
  assert.deepEqual(sent[0].body.events[1].metadata, {});
});

test('load timing reads the loader script from the resource timings', () => {
  const perf = {
    getEntriesByType: () => [
      { name: 'https://shop.example.com/app.js', responseEnd: 40 },
      { name: 'https://chat.example.com/widget.js', responseEnd: 183.6 },
    ],
    now: () => 1234.4,
  };
  assert.deepEqual(loadTiming(perf), { ms: 184, readyMs: 1234 });
  assert.deepEqual(loadTiming({ getEntriesByType: () => [], now: () => 10 }), { readyMs: 10 });
  assert.deepEqual(loadTiming(null), {}); // no Performance API at all
});
