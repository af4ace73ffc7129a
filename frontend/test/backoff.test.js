import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rateLimitedDelay, reconnectDelay, restartDelay } from '../src/core/backoff.js';

const lowest = () => 0;
const highest = () => 0.999999;

test('it starts at half a second', () => {
  assert.equal(reconnectDelay(0, { random: lowest }), 250);
  assert.equal(reconnectDelay(0, { random: highest }), 500);
});

test('it doubles with every attempt', () => {
  const ceilings = [0, 1, 2, 3, 4].map((attempt) => reconnectDelay(attempt, { random: highest }));
  assert.deepEqual(ceilings, [500, 1000, 2000, 4000, 8000]);
});

test('it never waits more than 30 seconds', () => {
  assert.equal(reconnectDelay(10, { random: highest }), 30000);
  assert.equal(reconnectDelay(1000, { random: highest }), 30000);
});

test('it jitters within the upper half of the window, so no retry is immediate', () => {
  for (let i = 0; i < 200; i++) {
    const delay = reconnectDelay(5);
    assert.ok(delay >= 8000 && delay <= 16000, `delay ${delay}`);
  }
});

test('it spreads clients out instead of synchronising them', () => {
  const delays = new Set(Array.from({ length: 50 }, () => reconnectDelay(5)));
  assert.ok(delays.size > 10);
});

test('it backs off longer after being rate limited', () => {
  assert.equal(rateLimitedDelay(0, { random: lowest }), 15000);
  assert.equal(rateLimitedDelay(20, { random: highest }), 60000);
});

test('after a server restart the first return is spread over 0.5 to 10 seconds', () => {
  assert.equal(restartDelay({ random: lowest }), 500);
  assert.equal(restartDelay({ random: highest }), 10000);
  const delays = Array.from({ length: 200 }, () => restartDelay());
  assert.ok(delays.every((delay) => delay >= 500 && delay <= 10000));
  assert.ok(Math.max(...delays) - Math.min(...delays) > 5000, 'spread over the window');
});
