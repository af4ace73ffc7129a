// The chat controller, continued: history, outbox delivery, typing and ratings.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, outboxOf, sessionBody, setup } from './chat-harness.js';
import { createChat } from '../src/core/chat.js';
import { createStore } from '../src/core/storage.js';
import { fakeFetch, fakeTimers, fakeWebSocketClass, MemoryStorage, settle } from './helpers.js';

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
