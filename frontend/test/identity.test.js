// Identity in the widget: who the page names, and never showing one customer's history
// to another on a shared browser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identityOwner, isSomeoneElse, tokenSubject } from '../src/core/identity.js';
import { sessionBody, setup } from './chat-harness.js';
import { MemoryStorage, settle } from './helpers.js';

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwtFor = (sub) => `${b64({ alg: 'HS256' })}.${b64({ sub, exp: 1 })}.sig`;

const anaHistory = () => ({
  'ca:agt_1:visitor': JSON.stringify({ id: 'v_shared', secret: 's_shared' }),
  'ca:agt_1:who': '"cust_ana"',
  'ca:agt_1:history': JSON.stringify({
    conversationId: 'conv_ana',
    messages: [{ id: 'm1', role: 'customer', text: "Ana's secret", createdAt: '2025-01-01T10:00:00Z' }],
  }),
});

test('it reads the customer a token or a claim names', () => {
  assert.equal(tokenSubject(jwtFor('cust_ana')), 'cust_ana');
  assert.equal(tokenSubject(jwtFor(42)), '42');
  assert.equal(tokenSubject('garbage'), '');
  assert.equal(identityOwner({ customerToken: jwtFor('cust_ana') }), 'cust_ana');
  assert.equal(identityOwner({ customerToken: 'garbage' }), '?');
  assert.equal(identityOwner({ customer: { id: 7 } }), '7');
  assert.equal(identityOwner({}), '');
  assert.equal(isSomeoneElse('', { customer: { id: 'a' } }), false); // anonymous signs in: same person
  assert.equal(isSomeoneElse('a', { customer: { id: 'a' } }), false);
  assert.equal(isSomeoneElse('a', {}), true);
  assert.equal(isSomeoneElse('a', { customerToken: jwtFor('b') }), true);
});

test("another customer's cached history is never painted, not even before the session answers", async () => {
  const storage = new MemoryStorage(anaHistory());
  const { chat, sessions } = setup({ storage, identity: { customerToken: jwtFor('cust_ben') } });
  assert.deepEqual(chat.state.messages, []);
  assert.equal(chat.state.conversationId, null);
  await chat.start();
  assert.equal('visitorId' in sessions[0], false, "Ben does not inherit Ana's browser identity");
  assert.equal('visitorSecret' in sessions[0], false);
  assert.equal(storage.getItem('ca:agt_1:history'), null);
});

test('a page that forgot to call logout() does not show the signed-out customer to the next visitor', async () => {
  const storage = new MemoryStorage(anaHistory());
  const { chat } = setup({ storage });
  assert.deepEqual(chat.state.messages, []);
  await chat.start();
  assert.equal(storage.getItem('ca:agt_1:who'), null);
});

test('the same customer coming back keeps their history and browser', async () => {
  const storage = new MemoryStorage(anaHistory());
  const { chat, sessions } = setup({
    storage,
    identity: { customerToken: jwtFor('cust_ana') },
    session: sessionBody({ customer: { id: 'cust_ana', verified: true }, conversation: { id: 'conv_ana', messages: [] } }),
  });
  assert.deepEqual(chat.state.messages.map((m) => m.text), ["Ana's secret"]);
  await chat.start();
  assert.equal(sessions[0].visitorId, 'v_shared');
  assert.equal(sessions[0].visitorSecret, 's_shared');
  assert.equal(storage.getItem('ca:agt_1:who'), '"cust_ana"');
});

test('an anonymous visitor who signs in keeps their browser, so their conversation joins them', async () => {
  const storage = new MemoryStorage({ 'ca:agt_1:visitor': JSON.stringify({ id: 'v_anon', secret: 's_anon' }) });
  const { chat, sessions } = setup({
    storage,
    session: (n) =>
      sessionBody({ visitorId: 'v_anon', visitorSecret: 's_anon', ...(n > 1 ? { customer: { id: 'cust_ana', verified: true } } : {}) }),
  });
  await chat.start();
  chat.identify({ customerToken: jwtFor('cust_ana') });
  await settle();
  assert.equal(sessions[1].visitorId, 'v_anon');
  assert.equal(sessions[1].visitorSecret, 's_anon', 'the proof that this browser is the visitor whose conversation joins');
  assert.equal(sessions[1].customerToken, jwtFor('cust_ana'));
  assert.equal(storage.getItem('ca:agt_1:who'), '"cust_ana"');
});

test('identify() with another customer forgets the previous one first', async () => {
  const storage = new MemoryStorage(anaHistory());
  const { chat, sessions, eventsOf } = setup({ storage, identity: { customerToken: jwtFor('cust_ana') } });
  await chat.start();
  chat.identify({ customerToken: jwtFor('cust_ben') });
  await settle();
  assert.equal('visitorId' in sessions[1], false);
  assert.equal('visitorSecret' in sessions[1], false);
  assert.deepEqual(eventsOf('messages').at(-1).messages, []);
});

test('logout() forgets the customer and starts a fresh anonymous visitor', async () => {
  const storage = new MemoryStorage(anaHistory());
  const { chat, sessions } = setup({ storage, identity: { customerToken: jwtFor('cust_ana') } });
  await chat.start();
  await chat.logout();
  const last = sessions.at(-1);
  assert.equal('visitorId' in last, false);
  assert.equal('visitorSecret' in last, false);
  assert.equal('customerToken' in last, false);
  assert.deepEqual(chat.state.messages, []);
});
