// The conversation controller driven end to end with a fake server: session HTTP API,
// websocket and storage. These are the reliability promises the visitor relies on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createChat } from '../src/core/chat.js';
import { createStore } from '../src/core/storage.js';
import { fakeFetch, fakeTimers, fakeWebSocketClass, MemoryStorage, settle } from './helpers.js';

const BASE = 'http://platform.test';
const HOUR = 3600 * 1000;

function sessionBody(overrides = {}) {
  return {
    token: 'tok-1',
    refreshToken: 'ref-1',
    expiresAt: new Date(Date.now() + HOUR).toISOString(),
    visitorId: 'v_1',
    config: { agentId: 'agt_1', name: 'Acme Support', greeting: 'Hi!', theme: { primaryColor: '#4f46e5' }, position: 'bottom-right' },
    variants: {},
    customer: null,
    conversation: null,
    ...overrides,
  };
}

function setup({ storage = new MemoryStorage(), routes = {}, session = sessionBody() } = {}) {
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const timers = fakeTimers();
  const sessions = [];
  const { fetchImpl, calls } = fakeFetch({
    '/api/v2/widget/session/refresh': () => [401, { error: { code: 'invalid_refresh_token', message: 'spent' } }],
    '/api/v2/widget/session': (url, init) => {
      sessions.push(JSON.parse(init.body));
      return [200, typeof session === 'function' ? session(sessions.length) : session];
    },
    ...routes,
  });
  const events = [];
  let counter = 0;
  const chat = createChat({
    base: BASE,
    agentId: 'agt_1',
    identity: {},
    store: createStore(storage, 'agt_1'),
    page: { href: 'https://acme.example/shop', referrer: 'https://search.example/' },
    fetchImpl,
    WebSocketImpl: FakeWebSocket,
    timers,
    random: () => 0.5,
    newId: () => `client-${++counter}`,
    onEvent: (type, payload) => events.push([type, payload]),
  });
  const eventsOf = (type) => events.filter(([t]) => t === type).map(([, p]) => p);
  return { chat, storage, sockets, timers, calls, sessions, events, eventsOf, lastSocket: () => sockets[sockets.length - 1] };
}

const outboxOf = (storage) => JSON.parse(storage.getItem('ca:agt_1:outbox') || '[]');

test('it creates a session without cookies and remembers the visitor id', async () => {
  const { chat, calls, storage, sessions } = setup();
  await chat.start();
  assert.deepEqual(sessions[0], { agentId: 'agt_1', url: 'https://acme.example/shop', referrer: 'https://search.example/' });
  assert.equal(calls[0].init.credentials, 'omit');
  assert.equal(storage.getItem('ca:agt_1:visitor'), '"v_1"');
});

test('it reuses the stored visitor id on the next page load', async () => {
  const storage = new MemoryStorage({ 'ca:agt_1:visitor': '"v_42"' });
  const { chat, sessions } = setup({ storage });
  await chat.start();
  assert.equal(sessions[0].visitorId, 'v_42');
});

test('it sends identity fields with the session request', async () => {
  const { chat, sessions } = setup();
  chat.identify({ customer: { id: 'c1', email: 'ann@example.com' }, userHash: 'abc', ignored: 1 });
  await settle();
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

test('it drops a cached conversation the server no longer has for this visitor', async () => {
  const storage = new MemoryStorage({
    'ca:agt_1:history': JSON.stringify({ conversationId: 'conv_old', messages: [{ id: 'm1', role: 'agent', text: 'old', createdAt: '2025-01-01T10:00:00Z' }] }),
  });
  const { chat } = setup({ storage });
  await chat.start();
  assert.deepEqual(chat.state.messages, []);
  assert.equal(storage.getItem('ca:agt_1:history'), null);
});

test('a message the server already stored leaves the outbox even if the ack was lost', async () => {
  const storage = new MemoryStorage({
    'ca:agt_1:outbox': JSON.stringify([{ clientId: 'c-lost', text: 'hi', createdAt: '2025-01-01T10:00:00Z' }]),
  });
  const { chat } = setup({
    storage,
    session: sessionBody({ conversation: { id: 'conv_1', messages: [{ id: 'm1', role: 'customer', text: 'hi', clientId: 'c-lost', createdAt: '2025-01-01T10:00:01Z' }] } }),
  });
  await chat.start();
  assert.deepEqual(outboxOf(storage), []);
  assert.deepEqual(chat.state.messages.map((m) => [m.id, m.state]), [['m1', 'sent']]);
});

test('it refuses empty and over-long messages', async () => {
  const { chat, eventsOf } = setup();
  assert.equal(chat.send('   '), null);
  assert.equal(chat.send('x'.repeat(4001)), null);
  assert.equal(eventsOf('error').at(-1).code, 'message_too_long');
  assert.notEqual(chat.send('x'.repeat(4000)), null);
});

test('logout forgets everything and starts a new anonymous visitor', async () => {
  const storage = new MemoryStorage();
  const { chat, sessions } = setup({ storage });
  chat.identify({ customer: { id: 'c1' } });
  await settle();
  chat.send('private question');
  await chat.logout();
  assert.deepEqual(chat.state.messages, []);
  assert.deepEqual(sessions.at(-1), { agentId: 'agt_1', url: 'https://acme.example/shop', referrer: 'https://search.example/' });
  assert.equal(outboxOf(storage).length, 0);
});

test('visitor typing is throttled and ends with a stop frame', async () => {
  const { chat, lastSocket } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  chat.typing();
  chat.typing();
  chat.typing();
  assert.deepEqual(lastSocket().sent, [{ type: 'typing', state: true }]);
  chat.send('done');
  assert.deepEqual(lastSocket().sent[1], { type: 'typing', state: false });
});

test('a message that history already showed is not announced again when sync replays it', async () => {
  const message = { id: 'm1', role: 'agent', text: 'seen before', createdAt: '2025-01-01T10:00:00Z', clientId: null };
  const { chat, lastSocket, eventsOf } = setup({
    session: sessionBody({ conversation: { id: 'conv_1', messages: [message] } }),
  });
  await chat.start();
  lastSocket().serverReady({ conversationId: 'conv_1' });
  assert.deepEqual(lastSocket().sent, [{ type: 'sync', after: 'm1' }]);
  lastSocket().serverSend({ type: 'message', ...message });
  assert.equal(eventsOf('messages').flatMap((p) => p.fresh).length, 0);
});

test('a streamed message is announced once, when it is complete', async () => {
  const { chat, lastSocket, eventsOf } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  lastSocket().serverSend({ type: 'message.delta', id: 'm2', delta: 'Hel' });
  lastSocket().serverSend({ type: 'message.delta', id: 'm2', delta: 'lo' });
  assert.equal(eventsOf('messages').flatMap((p) => p.fresh).length, 0);
  lastSocket().serverSend({ type: 'message', id: 'm2', role: 'agent', text: 'Hello', createdAt: '2025-01-01T10:00:00Z' });
  assert.deepEqual(eventsOf('messages').flatMap((p) => p.fresh).map((m) => m.text), ['Hello']);
});

test('a final message without any delta shows once', async () => {
  const { chat, lastSocket } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  const final = { type: 'message', id: 'm3', role: 'agent', text: 'Done', createdAt: '2025-01-01T10:00:00Z' };
  lastSocket().serverSend(final);
  lastSocket().serverSend({ type: 'message.delta', id: 'm3', delta: ' late chunk' });
  assert.deepEqual(chat.state.messages.map((m) => [m.id, m.text, !!m.streaming]), [['m3', 'Done', false]]);
});

test('a stream cut by a reconnect is not doubled when the server replays it', async () => {
  const { chat, lastSocket, timers } = setup();
  await chat.start();
  chat.goLive();
  lastSocket().serverReady();
  lastSocket().serverSend({ type: 'message', id: 'm1', role: 'agent', text: 'Hi', createdAt: '2025-01-01T10:00:00Z' });
  lastSocket().serverSend({ type: 'message.delta', id: 'm2', delta: 'Half a' });
  lastSocket().serverClose(1006);
  timers.runNext();
  lastSocket().serverReady({ conversationId: 'conv_1' });
  assert.deepEqual(lastSocket().sent, [{ type: 'sync', after: 'm1' }]); // from the last complete one
  lastSocket().serverSend({ type: 'message.delta', id: 'm2', delta: 'Half a' });
  lastSocket().serverSend({ type: 'message.delta', id: 'm2', delta: 'nswer' });
  lastSocket().serverSend({ type: 'message', id: 'm2', role: 'agent', text: 'Half answer', createdAt: '2025-01-01T10:00:01Z' });
  lastSocket().serverSend({ type: 'message', id: 'm2', role: 'agent', text: 'Half answer', createdAt: '2025-01-01T10:00:01Z' });
  assert.deepEqual(chat.state.messages.map((m) => m.text), ['Hi', 'Half answer']);
});

test('frames and sent messages are offered to other tabs, and frames from them are applied', async () => {
  const storage = new MemoryStorage();
  const a = setup({ storage });
  const b = setup({ storage });
  await a.chat.start();
  await b.chat.start();
  a.chat.goLive();
  a.lastSocket().serverReady();
  const clientId = a.chat.send('from tab A');
  const [entry] = a.eventsOf('sent');
  assert.equal(entry.clientId, clientId);
  b.chat.showPending(entry);
  assert.deepEqual(b.chat.state.messages.map((m) => [m.text, m.state]), [['from tab A', 'sending']]);

  a.lastSocket().serverSend({ type: 'message.ack', clientId, id: 'm1', createdAt: '2025-01-01T10:00:00Z' });
  a.lastSocket().serverSend({ type: 'message', id: 'm2', role: 'agent', text: 'Hello A and B', createdAt: '2025-01-01T10:00:01Z' });
  a.lastSocket().serverSend({ type: 'session.ready' }); // not shared
  const frames = a.eventsOf('frame');
  assert.deepEqual(frames.map((f) => f.type), ['message.ack', 'message']);
  for (const frame of frames) b.chat.receive(frame);
  b.chat.receive({ type: 'session.ready' }); // ignored
  assert.deepEqual(b.chat.state.messages.map((m) => [m.text, m.state]), [['from tab A', 'sent'], ['Hello A and B', 'sent']]);
  assert.deepEqual(b.eventsOf('messages').flatMap((p) => p.fresh).map((m) => m.id), ['m1', 'm2']);
});

test('a bug while handling a frame is reported as an error event, not thrown into the page', async () => {
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const errors = [];
  const chat = createChat({
    base: BASE,
    agentId: 'agt_1',
    identity: {},
    store: createStore(new MemoryStorage(), 'agt_1'),
    page: { href: 'https://acme.example/', referrer: '' },
    fetchImpl: fakeFetch({ '/api/v2/widget/session': () => [200, sessionBody()] }).fetchImpl,
    WebSocketImpl: FakeWebSocket,
    timers: fakeTimers(),
    newId: () => 'c1',
    onEvent: (type, payload) => {
      if (type === 'error') errors.push(payload);
      else if (type === 'messages' && payload.fresh.length) throw new TypeError('boom');
    },
  });
  await chat.start();
  chat.goLive();
  sockets[0].serverReady();
  assert.doesNotThrow(() =>
    sockets[0].serverSend({ type: 'message', id: 'mx', role: 'agent', text: 'ok', createdAt: '2025-01-01T10:00:00Z' }),
  );
  assert.deepEqual(errors, [{ code: 'internal', message: 'TypeError: boom', fatal: false }]);
});

// ---- conversation resolved: the rating (CSAT) -----------------------------------------------

async function resolvedChat(options) {
  const t = setup({ session: sessionBody({ conversation: { id: 'cnv_1', messages: [{ id: 'm1', role: 'agent', text: 'Solved?', createdAt: '2025-01-01T10:00:00Z' }] } }), ...options });
  await t.chat.start();
  t.lastSocket().serverReady({ conversationId: 'cnv_1' });
  t.lastSocket().serverSend({ type: 'conversation.status', conversationId: 'cnv_1', status: 'resolved' });
  return t;
}

test('a resolved conversation asks for a rating and is forgotten as the current one', async () => {
  const { chat, storage, eventsOf } = await resolvedChat();
  assert.deepEqual(eventsOf('csat'), [{ conversationId: 'cnv_1', phase: 'prompt' }]);
  assert.equal(chat.state.conversationId, null);
  assert.equal(JSON.parse(storage.getItem('ca:agt_1:history')).conversationId, null);
  assert.equal(storage.getItem('ca:agt_1:conversation'), null);
  assert.equal(chat.state.messages.length, 1, 'the transcript stays on screen');
});

test('other statuses do not ask for a rating', async () => {
  const { chat, lastSocket, eventsOf } = setup({ session: sessionBody({ conversation: { id: 'cnv_1', messages: [] } }) });
  await chat.start();
  lastSocket().serverReady({ conversationId: 'cnv_1' });
  for (const status of ['bot', 'waiting', 'assigned']) lastSocket().serverSend({ type: 'conversation.status', conversationId: 'cnv_1', status });
  assert.deepEqual(eventsOf('csat'), []);
  assert.equal(chat.state.conversationId, 'cnv_1');
});

test('a rating is sent as a csat frame, thanked on ack, announced and remembered', async () => {
  const { chat, storage, lastSocket, eventsOf } = await resolvedChat();
  assert.equal(chat.rate(4, '  Quick and kind  '), true);
  assert.deepEqual(lastSocket().sent.at(-1), { type: 'csat', conversationId: 'cnv_1', score: 4, comment: 'Quick and kind' });
  assert.equal(storage.getItem('ca:agt_1:csat'), null, 'remembered only once the server has it');
  lastSocket().serverSend({ type: 'csat.ack', conversationId: 'cnv_1' });
  assert.deepEqual(eventsOf('csat').at(-1), { conversationId: 'cnv_1', phase: 'thanks' });
  assert.deepEqual(eventsOf('rated'), [{ conversationId: 'cnv_1', score: 4 }]);
  assert.deepEqual(JSON.parse(storage.getItem('ca:agt_1:csat')), ['cnv_1']);
  assert.equal(chat.rate(5), false, 'no second rating');
});

test('a replayed resolved status for a rated conversation does not ask again, even after a reload', async () => {
  const first = await resolvedChat();
  first.chat.rate(5);
  first.lastSocket().serverSend({ type: 'csat.ack', conversationId: 'cnv_1' });
  first.lastSocket().serverSend({ type: 'conversation.status', conversationId: 'cnv_1', status: 'resolved' });
  assert.equal(first.eventsOf('csat').length, 2); // prompt, thanks; no new prompt

  const second = setup({ storage: first.storage });
  await second.chat.start();
  second.chat.goLive();
  second.lastSocket().serverReady();
  second.lastSocket().serverSend({ type: 'conversation.status', conversationId: 'cnv_1', status: 'resolved' });
  assert.deepEqual(second.eventsOf('csat'), []);
  second.lastSocket().serverSend({ type: 'conversation.status', conversationId: 'cnv_2', status: 'resolved' });
  assert.deepEqual(second.eventsOf('csat'), [{ conversationId: 'cnv_2', phase: 'prompt' }]);
});

test('score and comment are validated before anything is sent', async () => {
  const { chat, lastSocket } = await resolvedChat();
  const before = lastSocket().sent.length;
  for (const score of [0, 6, 2.5, '3', true, null, NaN]) assert.equal(chat.rate(score), false, String(score));
  assert.equal(chat.rate(3, 'x'.repeat(501)), false);
  assert.equal(lastSocket().sent.length, before);
  assert.equal(chat.rate(3, `  ${'x'.repeat(500)}  `), true); // 500 once trimmed
  assert.equal(lastSocket().sent.at(-1).comment.length, 500);
});

test('csatFrame, rememberCsat and starterPrompts are pure and strict', async () => {
  const { csatFrame, rememberCsat, starterPrompts } = await import('../src/core/csat.js');
  assert.deepEqual(csatFrame('cnv_1', 1), { type: 'csat', conversationId: 'cnv_1', score: 1, comment: '' });
  assert.deepEqual(csatFrame('cnv_1', 5, 42), { type: 'csat', conversationId: 'cnv_1', score: 5, comment: '' });
  assert.equal(csatFrame('', 5), null);
  let list = [];
  for (let i = 0; i < 25; i++) list = rememberCsat(list, `cnv_${i}`);
  assert.equal(list.length, 20);
  assert.deepEqual(rememberCsat(['a', 'b'], 'a'), ['b', 'a']);
  assert.deepEqual(starterPrompts({ starterPrompts: [' Track my order ', '', 7, 'Returns', 'Sizes', 'Shipping', 'Fifth'] }), [
    'Track my order',
    'Returns',
    'Sizes',
    'Shipping',
  ]);
  assert.deepEqual(starterPrompts({}), []);
  assert.deepEqual(starterPrompts({ starterPrompts: 'nope' }), []);
});

test('a rating made while offline stays pending and goes out once the socket is ready', async () => {
  const { chat, lastSocket, sockets, timers, eventsOf } = await resolvedChat();
  chat.goLive();
  lastSocket().serverClose(1006);
  assert.equal(chat.rate(2, 'slow'), true);
  timers.runNext();
  assert.equal(sockets.length, 2);
  lastSocket().serverReady();
  assert.deepEqual(lastSocket().sent.at(-1), { type: 'csat', conversationId: 'cnv_1', score: 2, comment: 'slow' });
  lastSocket().serverSend({ type: 'csat.ack', conversationId: 'cnv_1' });
  assert.deepEqual(eventsOf('rated'), [{ conversationId: 'cnv_1', score: 2 }]);
});

test('the next visitor message removes the prompt and starts without a conversation id', async () => {
  const { chat, lastSocket, eventsOf } = await resolvedChat();
  const clientId = chat.send('One more thing');
  assert.equal(eventsOf('csat').at(-1), null);
  assert.deepEqual(lastSocket().sent.at(-1), { type: 'message.send', clientId, text: 'One more thing' });
  assert.equal(chat.state.conversationId, null);
});

test('status and csat.ack frames are shared with other tabs', async () => {
  const storage = new MemoryStorage();
  const a = await resolvedChat({ storage });
  const b = setup({ storage });
  await b.chat.start();
  for (const frame of a.eventsOf('frame')) b.chat.receive(frame);
  assert.deepEqual(b.eventsOf('csat'), [{ conversationId: 'cnv_1', phase: 'prompt' }]);
  a.chat.rate(5);
  a.lastSocket().serverSend({ type: 'csat.ack', conversationId: 'cnv_1' });
  b.chat.receive(a.eventsOf('frame').at(-1));
  assert.deepEqual(b.eventsOf('csat').at(-1), { conversationId: 'cnv_1', phase: 'thanks' });
  assert.deepEqual(b.eventsOf('rated'), [], 'only the tab that rated emits the event');
});

test('with consent first, the remembered rating stays in memory until the store is released', async () => {
  const storage = new MemoryStorage();
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const store = createStore(storage, 'agt_1', { held: true });
  const events = [];
  const chat = createChat({
    base: BASE,
    agentId: 'agt_1',
    identity: {},
    store,
    page: { href: 'https://acme.example/', referrer: '' },
    fetchImpl: fakeFetch({ '/api/v2/widget/session': () => [200, sessionBody()] }).fetchImpl,
    WebSocketImpl: FakeWebSocket,
    timers: fakeTimers(),
    newId: () => 'c1',
    onEvent: (type, payload) => events.push([type, payload]),
  });
  await chat.start();
  chat.goLive();
  sockets[0].serverReady();
  sockets[0].serverSend({ type: 'conversation.status', conversationId: 'cnv_9', status: 'resolved' });
  chat.rate(5);
  sockets[0].serverSend({ type: 'csat.ack', conversationId: 'cnv_9' });
  assert.equal(storage.getItem('ca:agt_1:csat'), null);
  assert.deepEqual(store.read('csat'), ['cnv_9']);
  sockets[0].serverSend({ type: 'conversation.status', conversationId: 'cnv_9', status: 'resolved' });
  assert.equal(events.filter(([t]) => t === 'csat').length, 2); // prompt, thanks
  store.release();
  assert.equal(storage.getItem('ca:agt_1:csat'), '["cnv_9"]');
});
