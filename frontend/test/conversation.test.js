// The conversation's reducer (src/core/conversation.js): frames in, state and effects out,
// with no socket, storage or timer. createChat's own behaviour is in chat*.test.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addPending,
  adoptConversation,
  emptyConversation,
  forgetConversation,
  mergeServerMessages,
  reduce,
} from '../src/core/conversation.js';
import { csatRate } from '../src/core/csat.js';

const AT = '2026-01-05T10:00:00.000Z';
const LATER = '2026-01-05T10:00:05.000Z';

/** The reducer must never change what it was given. */
function frozen(value) {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) frozen(inner);
  }
  return value;
}

function conversation(overrides = {}) {
  return frozen({ ...emptyConversation(), ...overrides }); // its `announced` Set is checked by size
}

const types = (effects) => effects.map((e) => (e.type === 'emit' ? `emit:${e.event}` : e.type));
const sent = (effects) => effects.filter((e) => e.type === 'send').map((e) => e.frame);
const agentSaid = { id: 'm1', role: 'agent', text: 'Hello!', createdAt: AT };
const visitorSaid = { id: 'm0', role: 'customer', text: 'Hi', createdAt: AT, clientId: 'c0', state: 'sent' };

test('an agent message is added, announced once, stored, and stops the typing dots', () => {
  const before = conversation();
  const { state, effects } = reduce(before, frozen({ type: 'message', ...agentSaid }));
  assert.deepEqual(state.messages.map((m) => [m.id, m.text, m.state]), [['m1', 'Hello!', 'sent']]);
  assert.deepEqual(types(effects), ['agentTyping', 'persist', 'emit:messages']);
  assert.deepEqual(effects[0], { type: 'agentTyping', typing: false });
  assert.deepEqual(effects[2].payload.fresh, [{ id: 'm1', role: 'agent', text: 'Hello!', createdAt: AT, clientId: null }]);
  assert.ok(state.announced.has('m1'));
  assert.equal(before.messages.length, 0, 'the old state is untouched');
  assert.equal(before.announced.size, 0);

  const again = reduce(state, { type: 'message', ...agentSaid });
  assert.deepEqual(again.effects[2].payload.fresh, [], 'a replayed message is not announced twice');
});

test("the visitor's own message, echoed, keeps the dots and clears its outbox entry", () => {
  const pending = { clientId: 'c1', text: 'Where is my order?', createdAt: AT };
  const before = conversation({ messages: [{ ...pending, role: 'customer', state: 'sending' }] });
  const echo = { type: 'message', id: 'm2', clientId: 'c1', role: 'customer', text: pending.text, createdAt: AT };
  const { state, effects } = reduce(before, echo, { outbox: [pending, { clientId: 'c9', text: 'later' }] });
  assert.deepEqual(types(effects), ['delivered', 'persist', 'emit:messages']);
  assert.deepEqual(effects[0], { type: 'delivered', clientId: 'c1' });
  assert.deepEqual(state.messages.map((m) => [m.id, m.clientId, m.state]), [['m2', 'c1', 'sent']]);
});

test('an ack confirms the pending message with the text kept in the outbox', () => {
  const pending = { clientId: 'c1', text: 'Hi there', createdAt: AT };
  const before = conversation({ messages: [{ ...pending, role: 'customer', state: 'sending' }] });
  const ack = { type: 'message.ack', clientId: 'c1', id: 'm5', createdAt: LATER };
  const { state, effects } = reduce(before, ack, { outbox: [pending] });
  assert.deepEqual(state.messages.map((m) => [m.id, m.text, m.state, m.createdAt]), [['m5', 'Hi there', 'sent', LATER]]);
  assert.deepEqual(types(effects), ['delivered', 'persist', 'emit:messages']);

  // From another tab: this page never showed it, but the outbox (shared storage) has it.
  const elsewhere = reduce(conversation(), ack, { outbox: [pending] });
  assert.deepEqual(elsewhere.state.messages.map((m) => [m.id, m.text]), [['m5', 'Hi there']]);
  const unknown = reduce(conversation(), ack, { outbox: [] });
  assert.deepEqual(unknown.state.messages, [], 'an ack without a text shows nothing');
});

test('deltas stream into one bubble, shown but not stored, and the final message replaces it', () => {
  let state = conversation();
  let effects;
  ({ state, effects } = reduce(state, { type: 'message.delta', id: 'm3', delta: 'Hel' }));
  assert.deepEqual(types(effects), ['agentTyping', 'emit:messages']);
  ({ state } = reduce(state, { type: 'message.delta', id: 'm3', delta: 'lo' }));
  assert.deepEqual(state.messages.map((m) => [m.id, m.text, !!m.streaming]), [['m3', 'Hello', true]]);
  ({ state, effects } = reduce(state, { type: 'message', id: 'm3', role: 'agent', text: 'Hello.', createdAt: AT }));
  assert.deepEqual(state.messages.map((m) => [m.id, m.text, !!m.streaming]), [['m3', 'Hello.', false]]);
  assert.equal(effects[2].payload.fresh.length, 1, 'announced once complete');
});

test('typing frames switch the agent dots; the visitor typing in another tab does not', () => {
  const state = conversation();
  assert.deepEqual(reduce(state, { type: 'typing', state: true, role: 'agent' }).effects, [{ type: 'agentTyping', typing: true }]);
  assert.deepEqual(reduce(state, { type: 'typing', state: true, role: 'customer' }).effects, [{ type: 'agentTyping', typing: false }]);
  assert.deepEqual(reduce(state, { type: 'typing', state: false }).effects, [{ type: 'agentTyping', typing: false }]);
});

test('session.ready adopts the conversation, drops a cut stream, syncs and resends', () => {
  const rating = { type: 'csat', conversationId: 'cnv_0', score: 5, comment: '' };
  const before = conversation({
    messages: [
      { ...visitorSaid },
      { id: 'm1', role: 'agent', text: 'Half', state: 'sent', streaming: true },
      { clientId: 'c2', role: 'customer', text: 'unsent', state: 'sending' },
    ],
    pendingCsat: rating,
  });
  const outbox = [{ clientId: 'c2', text: 'unsent', createdAt: AT }];
  const { state, effects } = reduce(before, { type: 'session.ready', conversationId: 'cnv_1' }, { outbox });
  assert.equal(state.conversationId, 'cnv_1');
  assert.deepEqual(state.messages.map((m) => m.id || m.clientId), ['m0', 'c2']);
  assert.deepEqual(types(effects), ['persist', 'emit:messages', 'send', 'send', 'send']);
  assert.deepEqual(sent(effects), [{ type: 'sync', after: 'm0' }, { type: 'message.send', clientId: 'c2', text: 'unsent' }, rating]);
});

test('session.ready with nothing confirmed syncs the latest page only if there is a conversation', () => {
  const first = reduce(conversation(), { type: 'session.ready', conversationId: 'cnv_1' });
  assert.deepEqual(sent(first.effects), [{ type: 'sync' }]);
  const none = reduce(conversation(), { type: 'session.ready' });
  assert.deepEqual(none.effects, []);
  const known = reduce(conversation({ conversationId: 'cnv_1' }), { type: 'session.ready', conversationId: 'cnv_1' });
  assert.deepEqual(types(known.effects), ['send'], 'a known conversation is not stored again');
});

test('a resolved conversation is forgotten and its rating asked, once', () => {
  const before = conversation({ conversationId: 'cnv_1', messages: [{ ...visitorSaid }] });
  const { state, effects } = reduce(before, { type: 'conversation.status', conversationId: 'cnv_1', status: 'resolved' }, { rated: null });
  assert.equal(state.conversationId, null);
  assert.equal(state.messages.length, 1, 'the transcript stays on screen');
  assert.deepEqual(state.csat, { conversationId: 'cnv_1', phase: 'prompt' });
  assert.deepEqual(types(effects), ['persist', 'emit:csat']);

  const asked = reduce(state, { type: 'conversation.status', conversationId: 'cnv_1', status: 'resolved' });
  assert.deepEqual(asked.effects, [], 'already asked');
  const rated = reduce(before, { type: 'conversation.status', conversationId: 'cnv_1', status: 'resolved' }, { rated: ['cnv_1'] });
  assert.deepEqual(types(rated.effects), ['persist'], 'already rated in this browser');
  assert.equal(rated.state.csat, null);
  for (const frame of [{ status: 'assigned', conversationId: 'cnv_1' }, { status: 'resolved' }]) {
    const other = reduce(before, { type: 'conversation.status', ...frame });
    assert.equal(other.state, before);
    assert.deepEqual(other.effects, []);
  }
});

test('a rating is sent, acked, remembered and thanked for', () => {
  const prompted = conversation({ csat: { conversationId: 'cnv_1', phase: 'prompt' } });
  assert.equal(csatRate(prompted, 6, ''), null, 'scores are 1-5');
  assert.equal(csatRate(conversation(), 5, ''), null, 'nothing to rate');
  const rated = csatRate(prompted, 4, ' Quick ');
  const frame = { type: 'csat', conversationId: 'cnv_1', score: 4, comment: 'Quick' };
  assert.deepEqual(rated.state.pendingCsat, frame);
  assert.deepEqual(rated.effects, [{ type: 'send', frame }]);

  const { state, effects } = reduce(rated.state, { type: 'csat.ack', conversationId: 'cnv_1' });
  assert.equal(state.pendingCsat, null);
  assert.deepEqual(state.csat, { conversationId: 'cnv_1', phase: 'thanks' });
  assert.deepEqual(effects, [
    { type: 'rated', conversationId: 'cnv_1' },
    { type: 'emit', event: 'rated', payload: { conversationId: 'cnv_1', score: 4 } },
    { type: 'emit', event: 'csat', payload: { conversationId: 'cnv_1', phase: 'thanks' } },
  ]);
  // Another tab's rating: remembered here too, but this tab did not rate.
  assert.deepEqual(reduce(conversation(), { type: 'csat.ack', conversationId: 'cnv_1' }).effects, [{ type: 'rated', conversationId: 'cnv_1' }]);
  assert.deepEqual(reduce(conversation(), { type: 'csat.ack' }).effects, []);
});

test('a greeting replaces the config greeting, trimmed and capped; an empty one is ignored', () => {
  const before = conversation({ config: frozen({ name: 'Acme', greeting: 'Hi!' }) });
  const { state, effects } = reduce(before, { type: 'greeting', text: `  Welcome back, Ana ${'!'.repeat(600)}` });
  assert.equal(state.config.name, 'Acme');
  assert.equal(state.config.greeting.length, 500);
  assert.ok(state.config.greeting.startsWith('Welcome back, Ana !'));
  assert.deepEqual(types(effects), ['emit:greeting']);
  assert.equal(reduce(before, { type: 'greeting', text: '   ' }).state, before);
  assert.equal(reduce(conversation(), { type: 'greeting', text: 'Hey' }).state.config.greeting, 'Hey');
});

test('error frames become non-fatal errors; unknown frames change nothing', () => {
  const before = conversation();
  assert.deepEqual(reduce(before, { type: 'error', code: 'rate_limited', message: 'Slow down' }).effects, [
    { type: 'emit', event: 'error', payload: { code: 'rate_limited', message: 'Slow down', fatal: false } },
  ]);
  assert.deepEqual(reduce(before, { type: 'error' }).effects[0].payload, { code: 'error', message: '', fatal: false });
  const future = reduce(before, { type: 'reaction.add', id: 'm1' });
  assert.equal(future.state, before);
  assert.deepEqual(future.effects, []);
});

test("the session's conversation: another one drops what was confirmed, keeps what is pending", () => {
  const before = conversation({
    conversationId: 'cnv_old',
    messages: [{ ...visitorSaid }, { clientId: 'c2', role: 'customer', text: 'unsent', state: 'sending' }],
  });
  const fresh = adoptConversation(before, { id: 'cnv_new', messages: [{ ...agentSaid }] });
  assert.equal(fresh.state.conversationId, 'cnv_new');
  assert.deepEqual(fresh.state.messages.map((m) => m.id || m.clientId), ['m1', 'c2']);
  assert.deepEqual(types(fresh.effects), ['persist', 'emit:messages']);
  assert.deepEqual(fresh.effects[1].payload.fresh, [], 'history is not announced');

  const same = adoptConversation(before, { id: 'cnv_old', messages: [] });
  assert.deepEqual(same.state.messages.map((m) => m.id || m.clientId), ['m0', 'c2']);
  assert.deepEqual(types(same.effects), ['persist', 'emit:messages', 'fetchHistory'], 'no messages in the answer: read them');

  const gone = adoptConversation(before, null);
  assert.equal(gone.state.conversationId, null);
  assert.deepEqual(gone.state.messages.map((m) => m.clientId), ['c2']);
});

test('a history page merges without announcing, and clears delivered outbox entries', () => {
  const before = conversation({ messages: [{ clientId: 'c2', role: 'customer', text: 'unsent', state: 'sending' }] });
  const page = [{ id: 'm7', clientId: 'c2', role: 'customer', text: 'unsent', createdAt: AT }, { ...agentSaid, createdAt: LATER }];
  const { state, effects } = mergeServerMessages(before, page, { outbox: [{ clientId: 'c2', text: 'unsent' }] });
  assert.deepEqual(state.messages.map((m) => [m.id, m.state]), [['m7', 'sent'], ['m1', 'sent']]);
  assert.deepEqual(types(effects), ['delivered', 'persist', 'emit:messages']);
  assert.equal(state.announced.size, 0);
});

test('a message the visitor writes is shown pending and ends the rating prompt', () => {
  const before = conversation({ csat: { conversationId: 'cnv_1', phase: 'thanks' } });
  const { state, effects } = addPending(before, { clientId: 'c3', text: 'One more thing', createdAt: AT });
  assert.equal(state.csat, null);
  assert.deepEqual(state.messages.map((m) => [m.clientId, m.role, m.state]), [['c3', 'customer', 'sending']]);
  assert.deepEqual(types(effects), ['emit:csat', 'emit:messages']);
  assert.deepEqual(types(addPending(conversation(), { clientId: 'c4', text: 'x' }).effects), ['emit:messages']);
});

test('forgetting the conversation empties it and tells the UI', () => {
  const before = conversation({ conversationId: 'cnv_1', messages: [{ ...visitorSaid }], csat: { conversationId: 'cnv_1', phase: 'prompt' } });
  const { state, effects } = forgetConversation(reduce(before, { type: 'message', ...agentSaid }).state);
  assert.deepEqual([state.conversationId, state.messages, state.csat, state.pendingCsat, state.announced.size], [null, [], null, null, 0]);
  assert.deepEqual(effects, [
    { type: 'emit', event: 'csat', payload: null },
    { type: 'emit', event: 'messages', payload: { messages: [], fresh: [] } },
  ]);
});
