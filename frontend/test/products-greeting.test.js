// Product cards and quick replies as the platform sends them (from a tool such as a Shopify
// product search), and the personalized greeting frame.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeMessage } from '../src/core/messages.js';
import { pickStrings } from '../src/core/strings.js';
import { setup, sessionBody } from './chat-harness.js';
import { MemoryStorage } from './helpers.js';
import { installFakeDocument } from './fake-dom.js';

installFakeDocument();
const { createPanel } = await import('../src/core/ui/panel.js');

// A stored agent message as GET .../messages and the `message` frame carry it.
const productFrame = {
  id: 'msg_1',
  role: 'agent',
  text: 'Here are two tents:',
  createdAt: '2025-01-01T10:00:00Z',
  clientId: null,
  cards: [
    {
      title: 'Ridgeline 2 tent <img src=x onerror=alert(1)>',
      price: '289.00 USD',
      imageUrl: 'https://cdn.shop.example/ridgeline-2.png',
      url: 'https://shop.example.com/products/ridgeline-2',
    },
    { title: 'Trail stove', price: '59.50 USD', imageUrl: 'data:image/png;base64,AAAA', url: 'javascript:alert(1)' },
  ],
  quickReplies: [{ label: 'More about Ridgeline 2 tent' }, 'More about Trail stove', { label: '' }, 7],
};

function panelSetup() {
  const sent = [];
  const panel = createPanel({
    strings: pickStrings('en'),
    onSend: (text) => (sent.push(text), `c${sent.length}`),
    onTyping() {},
    onClose() {},
    onRate: () => true,
  });
  return { panel, list: panel.element.querySelector('[data-ca=messages]'), sent };
}

test('quick replies may be objects with a label or plain text', () => {
  const message = normalizeMessage(productFrame);
  assert.deepEqual(message.quickReplies, [{ label: 'More about Ridgeline 2 tent' }, { label: 'More about Trail stove' }]);
  assert.deepEqual(message.cards[1], { title: 'Trail stove', price: '59.50 USD' }, 'no data: image, no javascript: link');
});

test('product cards render as text with links that open a new tab', () => {
  const { panel, list } = panelSetup();
  panel.renderMessages([{ ...normalizeMessage(productFrame), state: 'sent' }]);
  const cards = list.querySelectorAll('[data-ca=card]');
  assert.equal(cards.length, 2);
  const [ridgeline, stove] = cards;
  assert.equal(ridgeline.querySelector('img').getAttribute('src'), 'https://cdn.shop.example/ridgeline-2.png');
  const link = ridgeline.querySelector('a');
  assert.equal(link.getAttribute('href'), 'https://shop.example.com/products/ridgeline-2');
  assert.equal(link.getAttribute('target'), '_blank');
  assert.match(link.getAttribute('rel'), /noopener/);
  assert.equal(link.childNodes[0].nodeType, 3, 'the title is a Text node');
  assert.equal(link.textContent, 'Ridgeline 2 tent <img src=x onerror=alert(1)>');
  assert.equal(ridgeline.querySelector('.pr').textContent, '289.00 USD');
  assert.equal(stove.querySelector('a'), null);
  assert.equal(stove.querySelector('img'), null);
});

test('a quick reply sends its text as the visitor and goes away', () => {
  const { panel, list, sent } = panelSetup();
  panel.renderMessages([{ ...normalizeMessage(productFrame), state: 'sent' }]);
  const chips = list.querySelector('[data-ca=quick-replies]');
  assert.deepEqual(chips.children.map((chip) => chip.textContent), ['More about Ridgeline 2 tent', 'More about Trail stove']);
  chips.children[1].dispatch('click');
  assert.deepEqual(sent, ['More about Trail stove']);
  assert.equal(list.querySelector('[data-ca=quick-replies]'), null);
});

test('a greeting frame replaces the greeting and is shared with the other tabs', async () => {
  const storage = new MemoryStorage();
  const a = setup({ storage, session: sessionBody({ conversation: { id: 'cnv_1', messages: [] } }) });
  await a.chat.start();
  a.lastSocket().serverReady({ conversationId: 'cnv_1' });
  a.lastSocket().serverSend({ type: 'greeting', text: '  Hi Ana — your order #1042 shipped yesterday.  ' });
  assert.deepEqual(a.eventsOf('greeting'), ['Hi Ana — your order #1042 shipped yesterday.']);
  assert.equal(a.chat.state.config.greeting, 'Hi Ana — your order #1042 shipped yesterday.');

  const b = setup({ storage });
  await b.chat.start();
  for (const frame of a.eventsOf('frame')) b.chat.receive(frame);
  assert.deepEqual(b.eventsOf('greeting'), ['Hi Ana — your order #1042 shipped yesterday.']);
});

test('an empty or malformed greeting frame changes nothing', async () => {
  const t = setup({ session: sessionBody({ conversation: { id: 'cnv_1', messages: [] } }) });
  await t.chat.start();
  t.lastSocket().serverReady({ conversationId: 'cnv_1' });
  for (const text of ['', '   ', 42, null]) t.lastSocket().serverSend({ type: 'greeting', text });
  assert.deepEqual(t.eventsOf('greeting'), []);
  assert.equal(t.chat.state.config.greeting, 'Hi!');
});

test('the panel swaps its greeting bubble in place', () => {
  const { panel, list } = panelSetup();
  panel.setConfig({ greeting: 'Hi! How can I help?' });
  panel.renderMessages([]);
  panel.setGreeting('Hi Ana — your order #1042 shipped yesterday.');
  const greetings = list.querySelectorAll('[data-ca=greeting]');
  assert.equal(greetings.length, 1);
  assert.equal(greetings[0].textContent, 'Hi Ana — your order #1042 shipped yesterday.');
  assert.equal(list.children[0], greetings[0], 'still first');
});
