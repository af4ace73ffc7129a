// Clients that come back: the web process under the widget restarts (1012), asks it to come
// back later because PostgreSQL or Redis failed (1013), or dies (1006),
// or the session request finds the platform down. The widget comes back by itself, spread
// out by the backoff's jitter, and catches up without losing or doubling a message.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outboxOf, sessionBody, setup } from './chat-harness.js';
import { settle } from './helpers.js';

// The harness's random() is 0.5: each wait is three quarters of its window (equal jitter),
// and the first wait after a restart is the middle of 0.5-10 s.
const WAITS = [375, 750, 1500, 3000];
const FIRST_WAIT = { 1006: 375, 1012: 5250, 1013: 5250 };

for (const code of [1012, 1013, 1006]) {
  test(`after a close with ${code} it reconnects by itself, waiting longer while the server stays down`, async () => {
    const { chat, lastSocket, sockets, timers, eventsOf } = setup();
    await chat.start();
    chat.goLive();
    lastSocket().serverReady();
    lastSocket().serverClose(code);
    const waits = [];
    for (let i = 0; i < 3; i++) {
      waits.push(timers.runNext());
      // Refused, or accepted by a server still starting and closed before session.ready:
      // neither counts as being back.
      if (i === 1) lastSocket().serverOpen();
      lastSocket().serverClose(1006);
    }
    waits.push(timers.runNext());
    assert.deepEqual(waits, [FIRST_WAIT[code], ...WAITS.slice(1)]);
    lastSocket().serverReady();
    assert.equal(sockets.length, 5);
    assert.equal(eventsOf('status').at(-1), 'online');
    // Back in: the next drop starts again from the first wait.
    lastSocket().serverClose(code);
    assert.equal(timers.runNext(), FIRST_WAIT[code]);
  });
}

test('a visitor who writes during a reconnect wait is reconnected at once', async () => {
  const { chat, lastSocket, sockets, timers } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  lastSocket().serverClose(1012);
  assert.ok(timers.delays().includes(5250));
  const clientId = chat.send('Still there?');
  assert.equal(sockets.length, 2);
  assert.ok(!timers.delays().includes(5250));
  lastSocket().serverReady({ conversationId: null });
  assert.deepEqual(lastSocket().sent, [{ type: 'message.send', clientId, text: 'Still there?' }]);
});

test('writing while the session is being renewed does not open a socket with the old token', async () => {
  let renewed;
  const { chat, lastSocket, sockets } = setup({
    routes: { '/api/v2/widget/session/refresh': () => new Promise((resolve) => (renewed = resolve)) },
  });
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  lastSocket().serverClose(4401);
  chat.send('hello?');
  assert.equal(sockets.length, 1);
  renewed([200, sessionBody({ token: 'tok-2', refreshToken: 'ref-2' })]);
  await settle();
  assert.equal(chat.token(), 'tok-2');
});

test('it keeps asking for a session while the platform is down, then delivers what was written meanwhile', async () => {
  const answers = [
    () => {
      throw new TypeError('Failed to fetch'); // nothing listening
    },
    () => [503, {}], // a proxy with no web process behind it
    () => [502, null],
    () => [200, sessionBody()],
  ];
  let asked = 0;
  const { chat, lastSocket, sockets, timers } = setup({ routes: { '/api/v2/widget/session': () => answers[asked++]() } });
  await chat.start();
  const clientId = chat.send('Is anyone there?');
  const waits = [];
  while (asked < answers.length) {
    waits.push(timers.runNext());
    await settle();
  }
  assert.deepEqual(waits, WAITS.slice(0, 3));
  assert.equal(chat.token(), 'tok-1');
  assert.equal(sockets.length, 1);
  lastSocket().serverReady();
  assert.deepEqual(lastSocket().sent, [{ type: 'message.send', clientId, text: 'Is anyone there?' }]);
});

test('a first message stored just before the process died is shown once, with the answer written meanwhile', async () => {
  const { chat, lastSocket, timers, storage } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  const text = 'Do you ship to Canada?';
  const clientId = chat.send(text);
  lastSocket().serverClose(1006); // stored and answered, but the ack died with the process
  timers.runNext();
  lastSocket().serverReady({ conversationId: 'conv_1' });
  // Nothing is confirmed on screen: the latest page is asked for, then the message resent.
  assert.deepEqual(lastSocket().sent, [{ type: 'sync' }, { type: 'message.send', clientId, text }]);
  const stored = { id: 'm1', role: 'customer', text, createdAt: '2025-01-01T10:00:00.100000Z', clientId };
  lastSocket().serverSend({ type: 'message', ...stored });
  lastSocket().serverSend({ type: 'message', id: 'm2', role: 'agent', text: 'Yes, in 7-10 days.', createdAt: '2025-01-01T10:00:01.5Z', clientId: null });
  lastSocket().serverSend({ type: 'message.ack', clientId, id: 'm1', createdAt: stored.createdAt }); // the resend's
  assert.deepEqual(
    chat.state.messages.map((m) => [m.id, m.role, m.state]),
    [
      ['m1', 'customer', 'sent'],
      ['m2', 'agent', 'sent'],
    ],
  );
  assert.deepEqual(outboxOf(storage), []);
});

test('a visitor with no conversation on the server is not sent a replay', async () => {
  const { chat, lastSocket, timers } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  lastSocket().serverClose(1012);
  timers.runNext();
  lastSocket().serverReady({ conversationId: null });
  assert.deepEqual(lastSocket().sent, []);
});
