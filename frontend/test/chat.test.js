// The conversation controller driven end to end with a fake server: session HTTP API,
// websocket and storage. These are the reliability promises the visitor relies on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, HOUR, outboxOf, sessionBody, setup } from './chat-harness.js';
import { MemoryStorage, settle } from './helpers.js';

test('it creates a session without cookies and remembers the visitor id with its secret', async () => {
  const { chat, calls, storage, sessions } = setup();
  await chat.start();
  assert.deepEqual(sessions[0], { agentId: 'agt_1', url: 'https://acme.example/shop', referrer: 'https://search.example/' });
  assert.equal(calls[0].init.credentials, 'omit');
  assert.deepEqual(JSON.parse(storage.getItem('ca:agt_1:visitor')), { id: 'v_1', secret: 's_1' });
});

test('it proves the stored visitor with its secret on the next page load', async () => {
  const storage = new MemoryStorage({ 'ca:agt_1:visitor': JSON.stringify({ id: 'v_42', secret: 's_42' }) });
  const { chat, sessions } = setup({ storage });
  await chat.start();
  assert.equal(sessions[0].visitorId, 'v_42');
  assert.equal(sessions[0].visitorSecret, 's_42');
});

test('a bare visitor id an older widget stored is not sent: it proves nothing', async () => {
  const storage = new MemoryStorage({ 'ca:agt_1:visitor': '"v_42"' });
  const { chat, sessions } = setup({ storage });
  await chat.start();
  assert.equal('visitorId' in sessions[0], false);
  assert.equal('visitorSecret' in sessions[0], false);
  assert.deepEqual(JSON.parse(storage.getItem('ca:agt_1:visitor')), { id: 'v_1', secret: 's_1' });
});

test('the websocket naming the visitor does not overwrite the stored secret', async () => {
  const { chat, storage, lastSocket } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverReady({ visitorId: 'v_1' });
  assert.deepEqual(JSON.parse(storage.getItem('ca:agt_1:visitor')), { id: 'v_1', secret: 's_1' });
});

test('it sends identity fields with the session request', async () => {
  const { chat, sessions } = setup();
  chat.identify({ customer: { id: 'c1', email: 'ann@example.com' }, userHash: 'abc', ignored: 1 });
  await settle();
  assert.equal(sessions.length, 0, 'identify() before any intent asks for no session');
  await chat.wake();
  assert.deepEqual(sessions.at(-1).customer, { id: 'c1', email: 'ann@example.com' });
  assert.equal(sessions.at(-1).userHash, 'abc');
  assert.equal('ignored' in sessions.at(-1), false);
});

test('it does not open a websocket for a visitor who has not engaged', async () => {
  const { chat, sockets } = setup();
  await chat.start();
  assert.equal(sockets.length, 0);
  chat.goLive();
  assert.equal(sockets.length, 1);
});

test('it authenticates the websocket by subprotocol, never in the URL', async () => {
  const { chat, lastSocket, calls } = setup();
  await chat.start();
  chat.goLive();
  assert.equal(lastSocket().url, 'ws://platform.test/ws/widget/');
  assert.deepEqual(lastSocket().protocols, ['customeragent.v2', 'auth.tok-1']);
  assert.ok(calls.every((call) => !call.url.includes('tok-1')));
});

test('a message is stored in the outbox before it is sent, and leaves it on ack', async () => {
  const { chat, storage, lastSocket, eventsOf } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  const clientId = chat.send('  Where is my order?  ');
  assert.deepEqual(outboxOf(storage).map((e) => [e.clientId, e.text]), [[clientId, 'Where is my order?']]);
  assert.deepEqual(lastSocket().sent.at(-1), { type: 'message.send', clientId, text: 'Where is my order?' });
  assert.equal(chat.state.messages[0].state, 'sending');

  lastSocket().serverSend({ type: 'message.ack', clientId, id: 'm1', createdAt: '2025-01-01T10:00:00Z' });
  assert.deepEqual(outboxOf(storage), []);
  assert.equal(chat.state.messages[0].state, 'sent');
  assert.deepEqual(eventsOf('messages').at(-1).fresh.map((m) => m.id), ['m1']);
});

test('a message written while offline is delivered after connecting', async () => {
  const { chat, lastSocket, sockets } = setup();
  const clientId = chat.send('hello?'); // before the session even exists
  await chat.start();
  assert.equal(sockets.length, 1); // something to deliver: connect
  lastSocket().serverReady();
  assert.deepEqual(lastSocket().sent, [{ type: 'message.send', clientId, text: 'hello?' }]);
});

test('unacknowledged messages are resent with their original clientId after a reconnect', async () => {
  const { chat, lastSocket, sockets, timers } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  const first = chat.send('one');
  lastSocket().serverSend({ type: 'message.ack', clientId: first, id: 'm1', createdAt: '2025-01-01T10:00:00Z' });
  const second = chat.send('two');
  lastSocket().serverClose(1006); // lost before the ack
  assert.equal(timers.runNext() > 0, true); // backoff, not a tight loop
  assert.equal(sockets.length, 2);
  lastSocket().serverReady({ conversationId: 'conv_1' });
  assert.deepEqual(lastSocket().sent, [
    { type: 'sync', after: 'm1' },
    { type: 'message.send', clientId: second, text: 'two' },
  ]);
});

test('the outbox survives a reload and is delivered by the next page', async () => {
  const storage = new MemoryStorage();
  const first = setup({ storage });
  await first.chat.start();
  const clientId = first.chat.send('sent just before the reload');

  const second = setup({ storage });
  assert.deepEqual(second.chat.state.messages.map((m) => [m.clientId, m.state]), [[clientId, 'sending']]);
  await second.chat.start();
  second.lastSocket().serverReady();
  assert.deepEqual(second.lastSocket().sent, [{ type: 'message.send', clientId, text: 'sent just before the reload' }]);
});

test('an agent message is shown and announced once, however often it is repeated', async () => {
  const { chat, lastSocket, eventsOf } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  const frame = { type: 'message', id: 'm7', role: 'agent', text: 'Hi Ann', createdAt: '2025-01-01T10:00:00Z', clientId: null };
  lastSocket().serverSend(frame);
  lastSocket().serverSend(frame);
  assert.equal(chat.state.messages.length, 1);
  assert.equal(eventsOf('messages').flatMap((p) => p.fresh).length, 1);
});

test('streamed deltas show as they arrive and hide the typing dots', async () => {
  const { chat, lastSocket, eventsOf } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  lastSocket().serverSend({ type: 'typing', role: 'agent', state: true });
  assert.equal(eventsOf('typing').at(-1), true);
  lastSocket().serverSend({ type: 'message.delta', id: 'm8', delta: 'Sure, ' });
  assert.equal(eventsOf('typing').at(-1), false);
  lastSocket().serverSend({ type: 'message.delta', id: 'm8', delta: 'one moment' });
  assert.equal(chat.state.messages[0].text, 'Sure, one moment');
  lastSocket().serverSend({ type: 'message', id: 'm8', role: 'agent', text: 'Sure, one moment.', createdAt: '2025-01-01T10:00:00Z' });
  assert.equal(chat.state.messages.length, 1);
  assert.equal(chat.state.messages[0].text, 'Sure, one moment.');
});

test('on close 4401 it gets a new session and reconnects with the new token', async () => {
  const { chat, lastSocket, sockets, timers, sessions } = setup({ session: (n) => sessionBody({ token: `tok-${n}` }) });
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  lastSocket().serverClose(4401);
  await settle();
  assert.equal(sessions.length, 2); // the spent refresh token was refused, so a new session
  timers.runNext();
  assert.equal(sockets.length, 2);
  assert.deepEqual(lastSocket().protocols, ['customeragent.v2', 'auth.tok-2']);
});

test('on close 4401 it prefers the refresh endpoint when it works', async () => {
  const { chat, lastSocket, sessions, calls } = setup({
    routes: { '/api/v2/widget/session/refresh': () => [200, { token: 'tok-r', refreshToken: 'ref-2', expiresAt: new Date(Date.now() + HOUR).toISOString() }] },
  });
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  lastSocket().serverClose(4401);
  await settle();
  assert.equal(sessions.length, 1);
  assert.deepEqual(calls.at(-1).body, { refreshToken: 'ref-1' });
  assert.equal(chat.token(), 'tok-r');
});

test('on close 4403 it shows an error and stops reconnecting', async () => {
  const { chat, lastSocket, sockets, timers, eventsOf } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverClose(4403);
  assert.equal(eventsOf('error').at(-1).fatal, true);
  assert.equal(timers.delays().length, 1); // only the token renewal remains scheduled
  assert.equal(sockets.length, 1);
});

test('on close 4429 it waits at least 15 seconds', async () => {
  const { chat, lastSocket, timers } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverClose(4429);
  assert.ok(Math.min(...timers.delays()) >= 15000);
});

test('it renews the session a minute before it expires', async () => {
  const { chat, timers } = setup({ session: sessionBody({ expiresAt: new Date(Date.now() + 10 * 60 * 1000).toISOString() }) });
  await chat.start();
  const [delay] = timers.delays();
  assert.ok(delay > 8.9 * 60 * 1000 && delay <= 9 * 60 * 1000, `renews after ${delay} ms`);
});

test('it retries the session after a network error', async () => {
  let failures = 1;
  const { chat, timers, sessions } = setup({
    session: () => {
      if (failures-- > 0) throw new TypeError('Failed to fetch');
      return sessionBody();
    },
  });
  await chat.start();
  assert.equal(sessions.length, 1);
  timers.runNext();
  await settle();
  assert.equal(sessions.length, 2);
  assert.equal(chat.token(), 'tok-1');
});

test('it reports a refused session as a fatal error', async () => {
  const { chat, eventsOf, timers } = setup({
    routes: { '/api/v2/widget/session': () => [403, { error: { code: 'origin_not_allowed', message: 'Not on this site' } }] },
  });
  await chat.start();
  assert.deepEqual(eventsOf('error'), [{ code: 'origin_not_allowed', message: 'Not on this site', fatal: true }]);
  assert.equal(timers.pending(), 0);
});

test('it paints the cached conversation at once, then loads what it missed with the token in a header', async () => {
  const storage = new MemoryStorage({
    'ca:agt_1:history': JSON.stringify({
      conversationId: 'conv_1',
      messages: [{ id: 'm1', role: 'agent', text: 'cached', createdAt: '2025-01-01T10:00:00Z', clientId: null }],
    }),
  });
  const { chat, calls } = setup({
    storage,
    session: sessionBody({ conversation: { id: 'conv_1', status: 'open' } }),
    routes: {
      '/conversations/conv_1/messages': () => [
        200,
        { messages: [{ id: 'm2', role: 'agent', text: 'new', createdAt: '2025-01-01T10:01:00Z', clientId: null }], hasMore: false },
      ],
    },
  });
  assert.deepEqual(chat.state.messages.map((m) => m.text), ['cached']);
  await chat.start();
  await settle();
  const history = calls.find((c) => c.url.includes('/messages'));
  assert.equal(history.url, `${BASE}/api/v2/widget/conversations/conv_1/messages?after=m1`);
  assert.equal(history.init.headers.Authorization, 'Bearer tok-1');
  assert.deepEqual(chat.state.messages.map((m) => m.text), ['cached', 'new']);
  assert.equal(JSON.parse(storage.getItem('ca:agt_1:history')).messages.length, 2);
});

test('it follows the history pages while the server says there are more', async () => {
  const pages = {
    '': { messages: [{ id: 'm1', role: 'agent', text: 'a', createdAt: '2025-01-01T10:00:00Z' }], hasMore: true },
    m1: { messages: [{ id: 'm2', role: 'agent', text: 'b', createdAt: '2025-01-01T10:01:00Z' }], hasMore: false },
  };
  const { chat } = setup({
    session: sessionBody({ conversation: { id: 'conv_1', status: 'open' } }),
    routes: { '/conversations/conv_1/messages': (url) => [200, pages[new URL(url).searchParams.get('after') || '']] },
  });
  await chat.start();
  await settle();
  await settle();
  assert.deepEqual(chat.state.messages.map((m) => m.id), ['m1', 'm2']);
});

test('it uses the messages in the session answer without fetching history', async () => {
  const { chat, calls } = setup({
    session: sessionBody({ conversation: { id: 'conv_1', status: 'open', messages: [{ id: 'm1', role: 'staff', text: 'Hello from Sam', createdAt: '2025-01-01T10:00:00Z' }] } }),
  });
  await chat.start();
  assert.deepEqual(chat.state.messages.map((m) => m.text), ['Hello from Sam']);
  assert.ok(!calls.some((c) => c.url.includes('/messages')));
});

// ---- nothing before intent -------------------------------------------------------------

test('a visitor who shows no intent costs the platform nothing', async () => {
  const { chat, sessions, sockets, calls } = setup();
  assert.equal(chat.hasWork(), false);
  chat.identify({ customer: { id: 'c1' }, userHash: 'h' });
  chat.logout();
  await settle();
  assert.deepEqual([sessions.length, sockets.length, calls.length], [0, 0, 0]);
});

test('opening the chat starts the session and goes live, once', async () => {
  const { chat, sessions, sockets } = setup();
  chat.goLive();
  chat.goLive();
  await settle();
  assert.equal(sessions.length, 1);
  assert.equal(sockets.length, 1);
});

test('a message written before any session starts one and goes out once it is ready', async () => {
  const { chat, sessions, lastSocket, storage } = setup();
  const clientId = chat.send('Where is my order?');
  assert.equal(outboxOf(storage)[0].clientId, clientId, 'kept before anything was asked');
  await settle();
  assert.equal(sessions.length, 1);
  lastSocket().serverReady();
  assert.deepEqual(
    lastSocket().sent.filter((frame) => frame.type === 'message.send').map((frame) => frame.clientId),
    [clientId],
  );
});

test('a conversation or an unsent message from an earlier page view is work to restore', () => {
  const withHistory = new MemoryStorage({ 'ca:agt_1:history': JSON.stringify({ conversationId: 'cnv_1', messages: [] }) });
  assert.equal(setup({ storage: withHistory }).chat.hasWork(), true);
  // A conversation started on the last page view: its id came with no frame, its messages did.
  const message = { id: 'm1', role: 'customer', text: 'hi', createdAt: '2026-01-01T00:00:00Z' };
  const withMessages = new MemoryStorage({ 'ca:agt_1:history': JSON.stringify({ conversationId: null, messages: [message] }) });
  assert.equal(setup({ storage: withMessages }).chat.hasWork(), true);
  const withOutbox = new MemoryStorage({
    'ca:agt_1:outbox': JSON.stringify([{ clientId: 'c-1', text: 'hi', createdAt: '2026-01-01T00:00:00Z' }]),
  });
  assert.equal(setup({ storage: withOutbox }).chat.hasWork(), true);
});

test('identify() and logout() after the session began start a new one at once', async () => {
  const { chat, sessions } = setup();
  await chat.wake();
  chat.identify({ customerToken: 'a.b.c' });
  await settle();
  assert.equal(sessions.length, 2);
  assert.equal(sessions[1].customerToken, 'a.b.c');
  chat.logout();
  await settle();
  assert.equal(sessions.length, 3);
  assert.equal('customerToken' in sessions[2], false);
});
