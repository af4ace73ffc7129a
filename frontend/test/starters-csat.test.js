// Starter prompts and the rating prompt, rendered with the fake DOM.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickStrings } from '../src/core/strings.js';
import { installFakeDocument } from './fake-dom.js';

installFakeDocument();
const { createMessageList } = await import('../src/core/ui/message-list.js');
const { createPanel } = await import('../src/core/ui/panel.js');

const hooks = (root, name) => root.querySelectorAll(`[data-ca=${name}]`);

function panelSetup(lang = 'en') {
  const sent = [];
  const ratings = [];
  let accept = true;
  const panel = createPanel({
    strings: pickStrings(lang),
    onSend: (text) => (sent.push(text), `c${sent.length}`),
    onTyping() {},
    onClose() {},
    onRate: (score, comment) => (ratings.push([score, comment]), accept),
  });
  const list = panel.element.querySelector('[data-ca=messages]');
  return { panel, list, sent, ratings, refuse: () => (accept = false) };
}

test('starter prompts show as chips under the greeting while there are no messages', () => {
  const { panel, list } = panelSetup();
  panel.setConfig({ greeting: 'Hi!', starterPrompts: ['Track my order', '<b>Returns</b>', '', 3] });
  panel.renderMessages([]);
  const chips = hooks(list, 'starter');
  assert.deepEqual(chips.map((c) => c.textContent), ['Track my order', '<b>Returns</b>']);
  assert.equal(chips[1].childNodes[0].nodeType, 3, 'inserted as text');
  assert.equal(chips[0].getAttribute('class'), 'q', 'quick-reply styling');
  assert.equal(list.children[0].getAttribute('data-ca'), 'greeting');
  assert.equal(list.children[1].getAttribute('data-ca'), 'starters');
});

test('a starter chip sends its text like a typed message and the chips go for good', () => {
  const { panel, list, sent } = panelSetup();
  panel.setConfig({ greeting: 'Hi!', starterPrompts: ['Track my order', 'Returns'] });
  panel.renderMessages([]);
  hooks(list, 'starter')[1].dispatch('click');
  assert.deepEqual(sent, ['Returns']);
  assert.deepEqual(hooks(list, 'starter'), []);
  panel.renderMessages([{ clientId: 'c1', role: 'customer', text: 'Returns', state: 'sending' }]);
  assert.deepEqual(hooks(list, 'starter'), []);
});

test('starter prompts never show when the conversation already has messages (e.g. after a reload)', () => {
  const { panel, list } = panelSetup();
  panel.renderMessages([{ id: 'm1', role: 'agent', text: 'Welcome back', state: 'sent' }]);
  panel.setConfig({ starterPrompts: ['Track my order'] });
  assert.deepEqual(hooks(list, 'starter'), []);
  // after a logout the list is empty again: an unused set of starters comes back
  const container = document.createElement('div');
  const view = createMessageList(container);
  view.setStarters(['A']);
  view.render([{ id: 'm1', role: 'agent', text: 'x', state: 'sent' }]);
  assert.deepEqual(hooks(container, 'starter'), []);
  view.render([]);
  assert.deepEqual(hooks(container, 'starter').map((c) => c.textContent), ['A']);
});

test('the rating prompt follows the last message, has five labelled scores and submits score and comment', () => {
  const { panel, list, ratings } = panelSetup();
  panel.renderMessages([{ id: 'm1', role: 'agent', text: 'Done!', state: 'sent' }]);
  panel.setCsat({ conversationId: 'cnv_1', phase: 'prompt' });
  const prompt = hooks(list, 'csat')[0];
  assert.equal(list.children.at(-1), prompt);
  assert.match(prompt.textContent, /How did we do\?/);
  const scores = hooks(prompt, 'csat-score');
  assert.deepEqual(scores.map((b) => b.getAttribute('aria-label')), ['1 out of 5', '2 out of 5', '3 out of 5', '4 out of 5', '5 out of 5']);
  const submit = hooks(prompt, 'csat-submit')[0];
  assert.equal(submit.getAttribute('disabled'), '', 'nothing to send before a score');
  prompt.dispatch('submit');
  assert.deepEqual(ratings, []);

  scores[3].dispatch('click');
  assert.deepEqual(scores.map((b) => b.getAttribute('aria-pressed')), ['false', 'false', 'false', 'true', 'false']);
  hooks(prompt, 'csat-comment')[0].value = 'Great help';
  prompt.dispatch('submit');
  assert.deepEqual(ratings, [[4, 'Great help']]);
  assert.equal(submit.disabled, true, 'sent: no double submit while waiting for the ack');

  // a new message render keeps the prompt last
  panel.renderMessages([{ id: 'm1', role: 'agent', text: 'Done!', state: 'sent' }]);
  assert.equal(list.children.at(-1), prompt);
});

test('the comment is optional and the prompt becomes a thank-you line on ack', () => {
  const { panel, list, ratings } = panelSetup('fr');
  panel.renderMessages([]);
  panel.setCsat({ conversationId: 'cnv_1', phase: 'prompt' });
  const prompt = hooks(list, 'csat')[0];
  hooks(prompt, 'csat-score')[4].dispatch('click');
  prompt.dispatch('submit');
  assert.deepEqual(ratings, [[5, undefined]]);
  panel.setCsat({ conversationId: 'cnv_1', phase: 'thanks' });
  assert.deepEqual(hooks(list, 'csat'), []);
  assert.equal(hooks(list, 'csat-thanks')[0].textContent, 'Merci pour votre avis !');
  panel.setCsat(null);
  assert.deepEqual(hooks(list, 'csat-thanks'), []);
});

test('a refused rating keeps the prompt and its submit button usable', () => {
  const { panel, list, refuse } = panelSetup();
  panel.setCsat({ conversationId: 'cnv_1', phase: 'prompt' });
  refuse();
  const prompt = hooks(list, 'csat')[0];
  hooks(prompt, 'csat-score')[0].dispatch('click');
  prompt.dispatch('submit');
  assert.equal(hooks(list, 'csat')[0], prompt);
  assert.equal(hooks(prompt, 'csat-submit')[0].disabled, false);
});

test('the rating strings exist in every language', () => {
  for (const lang of ['en', 'fr', 'ar']) {
    const { t } = pickStrings(lang);
    for (const key of ['csatQuestion', 'csatComment', 'csatSubmit', 'csatThanks']) assert.ok(t(key), `${lang} ${key}`);
    assert.match(t('csatScore', { n: 3 }), /3.*5/);
  }
});
