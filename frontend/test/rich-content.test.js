// Cards, quick replies and streaming bubbles: the pure normalisation and the keyed render.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDelta, normalizeMessage, storableMessages, upsertMessage } from '../src/core/messages.js';
import { installFakeDocument } from './fake-dom.js';

installFakeDocument();
const { createMessageList } = await import('../src/core/ui/message-list.js');

const richFrame = {
  id: 'm1',
  role: 'agent',
  text: 'Two tents **in stock**:',
  createdAt: '2025-01-01T10:00:00Z',
  cards: [
    {
      title: 'Ridgeline 2',
      imageUrl: 'https://cdn.acme.example/r2.jpg',
      price: '$289',
      url: 'https://acme.example/r2',
      buttons: [{ label: 'Add to cart', value: 'add r2' }, { label: 'Specs', url: 'https://acme.example/r2/specs' }],
    },
    { title: 'Insecure', imageUrl: 'http://cdn.acme.example/x.jpg', url: 'javascript:alert(1)', price: 99 },
    { price: '$1' },
  ],
  quickReplies: [{ label: 'Yes please', value: 'yes' }, { label: 'No' }, { value: 'no label' }],
};

test('it keeps valid cards and quick replies and drops unsafe parts', () => {
  const message = normalizeMessage(richFrame);
  assert.equal(message.cards.length, 2);
  assert.deepEqual(message.cards[1], { title: 'Insecure', price: '99' }); // no http image, no javascript: link
  assert.deepEqual(message.cards[0].buttons, [
    { label: 'Add to cart', value: 'add r2' },
    { label: 'Specs', url: 'https://acme.example/r2/specs' },
  ]);
  assert.deepEqual(message.quickReplies, [{ label: 'Yes please', value: 'yes' }, { label: 'No' }]);
  assert.equal(storableMessages([{ ...message, state: 'sent' }])[0].cards.length, 2);
});

test('a cards-only message without text is still shown', () => {
  const list = upsertMessage([], normalizeMessage({ id: 'm2', role: 'agent', cards: [{ title: 'Pack' }] }));
  assert.equal(list.length, 1);
});

function setup() {
  const container = document.createElement('div');
  const chosen = [];
  const view = createMessageList(container, { onChoose: (text) => chosen.push(text) });
  return { container, view, chosen };
}

test('agent text is rendered as Markdown, visitor text stays plain', () => {
  const { container, view } = setup();
  view.render([
    { clientId: 'c1', role: 'customer', text: '**<b>hi</b>**', state: 'sending' },
    { id: 'm1', role: 'agent', text: '**bold**', state: 'sent' },
  ]);
  const [visitor, agent] = container.children;
  assert.equal(visitor.childNodes.length, 1);
  assert.equal(visitor.textContent, '**<b>hi</b>**');
  assert.equal(String(agent.querySelector('strong')), '<strong>bold</strong>');
});

test('cards render with a fixed-size https image and the chips send their value once', () => {
  const { container, view, chosen } = setup();
  const message = { ...normalizeMessage(richFrame), state: 'sent' };
  view.render([message]);
  const img = container.querySelector('img');
  assert.equal(img.getAttribute('src'), 'https://cdn.acme.example/r2.jpg');
  assert.equal(img.getAttribute('width'), '240');
  assert.equal(img.getAttribute('height'), '135');
  assert.equal(container.querySelectorAll('img').length, 1);
  const links = container.querySelectorAll('a');
  assert.ok(links.every((a) => a.getAttribute('rel') === 'noopener noreferrer' && a.getAttribute('target') === '_blank'));

  const chips = container.querySelector('[data-ca=quick-replies]');
  assert.deepEqual(chips.children.map((b) => b.textContent), ['Yes please', 'No']);
  chips.children[1].dispatch('click');
  assert.deepEqual(chosen, ['No']); // no value: the label is sent
  assert.equal(container.querySelector('[data-ca=quick-replies]'), null);
  view.render([message]);
  assert.equal(container.querySelector('[data-ca=quick-replies]'), null, 'chosen chips do not come back');

  container.querySelector('.cb').dispatch('click');
  assert.deepEqual(chosen, ['No', 'add r2']);
});

test('quick replies show only under the newest message', () => {
  const { container, view } = setup();
  const message = { ...normalizeMessage(richFrame), state: 'sent' };
  view.render([message]);
  assert.ok(container.querySelector('[data-ca=quick-replies]'));
  view.render([message, { clientId: 'c1', role: 'customer', text: 'typed instead', state: 'sending' }]);
  assert.equal(container.querySelector('[data-ca=quick-replies]'), null);
});

test('a streaming bubble is marked, grows in place and becomes the final message', () => {
  const { container, view } = setup();
  let list = applyDelta([], { id: 'm5', delta: 'We ship ' });
  view.render(list);
  const bubble = container.children[0];
  assert.equal(bubble.getAttribute('data-state'), 'streaming');
  assert.equal(bubble.getAttribute('aria-busy'), 'true');
  list = applyDelta(list, { id: 'm5', delta: 'in **3** days' });
  view.render(list);
  assert.equal(container.children[0], bubble);
  assert.equal(bubble.textContent, 'We ship in 3 days');
  list = upsertMessage(list, normalizeMessage({ id: 'm5', role: 'agent', text: 'We ship in **3-5** days.', createdAt: '2025-01-01T10:00:00Z' }));
  view.render(list);
  assert.equal(container.children.length, 1);
  assert.equal(bubble.getAttribute('data-state'), 'sent');
  assert.equal(bubble.getAttribute('aria-busy'), null);
  assert.equal(bubble.textContent, 'We ship in 3-5 days.');
});
