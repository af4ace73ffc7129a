// The admin customizer's preview (src/admin/preview-chat.js): the real core's chat contract
// with no network, a sample conversation, a canned reply, and only the framing page may
// drive it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPreviewChat, memoryStorage, PREVIEW_REPLY, previewCommand, REPLY_DELAY_MS } from '../src/admin/preview-chat.js';

function fakeTimers() {
  const pending = [];
  return {
    setTimeout: (fn, ms) => pending.push({ fn, ms }) - 1,
    clearTimeout: (id) => id != null && pending[id] && (pending[id].fn = null),
    runAll() {
      for (const entry of pending.splice(0)) if (entry.fn) entry.fn();
    },
    pending,
  };
}

function started(config = { greeting: 'Hi', theme: { primaryColor: '#0f766e' } }) {
  const events = [];
  const timers = fakeTimers();
  let ids = 0;
  const chat = createPreviewChat({ config, timers, newId: () => `c${++ids}`, onEvent: (type, payload) => events.push([type, payload]) });
  chat.start();
  return { chat, events, timers };
}

test('it answers the session itself with the draft config and shows a sample conversation', async () => {
  const { chat, events } = started();
  assert.equal(events[0][0], 'session');
  assert.deepEqual(events[0][1].config.theme, { primaryColor: '#0f766e' });
  assert.deepEqual(events[0][1].variants, {});
  const messages = events.find(([type]) => type === 'messages')[1].messages;
  assert.deepEqual(
    messages.map((m) => m.role),
    ['customer', 'agent'],
  );
  assert.equal(chat.token(), null); // so the core's tracker never sends anything
  await chat.identify({});
});

test('a new config is applied like a new session', () => {
  const { chat, events } = started();
  chat.configure({ theme: { mode: 'dark' } });
  const [type, payload] = events.at(-1);
  assert.equal(type, 'session');
  assert.deepEqual(payload.config, { theme: { mode: 'dark' } });
});

test('sending shows the message at once and a canned reply after a moment', () => {
  const { chat, events, timers } = started();
  assert.equal(chat.send('   '), null);
  assert.equal(chat.send('Do you ship to Canada?'), 'c1');
  assert.equal(chat.state.messages.at(-1).text, 'Do you ship to Canada?');
  assert.deepEqual(events.at(-1), ['typing', true]);
  assert.equal(timers.pending[0].ms, REPLY_DELAY_MS);
  timers.runAll();
  const [type, { messages, fresh }] = events.at(-1);
  assert.equal(type, 'messages');
  assert.equal(messages.at(-1).text, PREVIEW_REPLY);
  assert.deepEqual(fresh, [messages.at(-1)]);
});

test('the welcome scene has no messages, so the greeting and starter prompts show', () => {
  const { chat } = started();
  chat.setScene('welcome');
  assert.deepEqual(chat.state.messages, []);
  chat.setScene('conversation');
  assert.equal(chat.state.messages.length, 2);
});

test('memory storage behaves like Web Storage and writes nothing to the browser', () => {
  const storage = memoryStorage({ 'ca:preview:open': 'true' });
  assert.equal(storage.length, 1);
  assert.equal(storage.key(0), 'ca:preview:open');
  storage.setItem('ca:preview:theme', { a: 1 });
  assert.equal(storage.getItem('ca:preview:theme'), '[object Object]');
  storage.removeItem('ca:preview:open');
  assert.equal(storage.getItem('ca:preview:open'), null);
  assert.equal(storage.key(5), null);
});

test('only the framing page of the same origin may drive the preview', () => {
  const parent = {};
  const win = { location: { origin: 'https://admin.example.com' }, parent };
  const config = { type: 'ca-preview:config', config: { greeting: 'Yo' } };
  const from = (origin, source, data = config) => previewCommand({ origin, source, data }, win);
  assert.equal(from('https://admin.example.com', parent), config);
  assert.equal(from('https://evil.example', parent), null);
  assert.equal(from('https://admin.example.com', {}), null);
  assert.equal(from('https://admin.example.com', parent, { type: 'ca-preview:scene', scene: 'teaser' }).scene, 'teaser');
  assert.equal(from('https://admin.example.com', parent, { type: 'ca-preview:scene', scene: 'x' }), null);
  assert.equal(from('https://admin.example.com', parent, { type: 'ca-preview:config' }), null);
  assert.equal(from('https://admin.example.com', parent, 'text'), null);
  // A page that is not framed is its own parent: its own messages are not commands.
  const alone = { location: win.location };
  alone.parent = alone;
  assert.equal(previewCommand({ origin: 'https://admin.example.com', source: alone, data: config }, alone), null);
});
