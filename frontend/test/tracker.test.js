import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTracker } from '../src/core/tracker.js';
import { fakeTimers } from './helpers.js';

function setup(token = 'tok') {
  const sent = [];
  const timers = fakeTimers();
  let currentToken = token;
  const tracker = createTracker({
    base: 'http://platform',
    getToken: () => currentToken,
    transport: (url, body) => sent.push({ url, body: JSON.parse(body) }),
    timers,
    now: () => Date.UTC(2025, 0, 1),
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
      { type: 'open', ts: '2025-01-01T00:00:00.000Z', metadata: {} },
      { type: 'clicked_pricing', ts: '2025-01-01T00:00:00.000Z', metadata: { plan: 'pro' } },
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
