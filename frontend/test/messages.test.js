import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyDelta,
  lastConfirmedId,
  mergeMessages,
  messageKey,
  normalizeMessage,
  pendingMessages,
  storableMessages,
  upsertMessage,
} from '../src/core/messages.js';

const agent = (id, text, createdAt) => ({ id, role: 'agent', text, createdAt, clientId: null });
const pending = (clientId, text) => ({ clientId, role: 'customer', text, createdAt: '2025-01-01T10:00:05Z' });

test('it adds a new message as sent when it has an id', () => {
  const list = upsertMessage([], agent('m1', 'Hello', '2025-01-01T10:00:00Z'));
  assert.equal(list.length, 1);
  assert.equal(list[0].state, 'sent');
});

test('it shows a visitor message as sending until the server gives it an id', () => {
  const list = upsertMessage([], pending('c1', 'Hi'));
  assert.equal(list[0].state, 'sending');
});

test('an ack turns the pending message into a sent one in place', () => {
  let list = upsertMessage([], pending('c1', 'Hi'));
  list = upsertMessage(list, { clientId: 'c1', id: 'm9', createdAt: '2025-01-01T10:00:06Z' });
  assert.equal(list.length, 1);
  assert.deepEqual({ id: list[0].id, text: list[0].text, state: list[0].state }, { id: 'm9', text: 'Hi', state: 'sent' });
});

test('the server echo of the visitor message does not show twice', () => {
  let list = upsertMessage([], pending('c1', 'Hi'));
  list = upsertMessage(list, { clientId: 'c1', id: 'm9' }); // ack
  list = upsertMessage(list, { id: 'm9', role: 'customer', text: 'Hi', createdAt: '2025-01-01T10:00:06Z', clientId: 'c1' });
  assert.equal(list.length, 1);
});

test('the echo arriving before the ack also merges by clientId', () => {
  let list = upsertMessage([], pending('c1', 'Hi'));
  list = upsertMessage(list, normalizeMessage({ id: 'm9', role: 'customer', text: 'Hi', createdAt: '2025-01-01T10:00:06Z', clientId: 'c1' }));
  list = upsertMessage(list, { clientId: 'c1', id: 'm9' });
  assert.equal(list.length, 1);
  assert.equal(list[0].state, 'sent');
});

test('a replayed message is not duplicated', () => {
  const message = agent('m1', 'Hello', '2025-01-01T10:00:00Z');
  const list = mergeMessages([], [message, message, { ...message }]);
  assert.equal(list.length, 1);
});

test('a null clientId from the server does not erase the one we know', () => {
  let list = upsertMessage([], pending('c1', 'Hi'));
  list = upsertMessage(list, { clientId: 'c1', id: 'm1' });
  list = upsertMessage(list, normalizeMessage({ id: 'm1', role: 'customer', text: 'Hi', clientId: null }));
  assert.equal(list[0].clientId, 'c1');
});

test('an ack for a message this page never showed adds nothing', () => {
  assert.deepEqual(upsertMessage([], { clientId: 'other-tab', id: 'm5' }), []);
});

test('it orders confirmed messages by server time and keeps pending ones last', () => {
  const list = mergeMessages(pendingMessages([pending('c1', 'later')]), [
    agent('m2', 'second', '2025-01-01T10:00:02Z'),
    agent('m1', 'first', '2025-01-01T10:00:01Z'),
  ]);
  assert.deepEqual(list.map(messageKey), ['m1', 'm2', 'c1']);
});

test('messages stored in the same millisecond keep the server order, whatever order they arrive in', () => {
  // The agent's answer and the handoff notice written right after it, as one tab gets them
  // live and another from a sync (or from the first tab) the other way round.
  const answer = agent('msg_z', "I'm not sure.", '2025-01-01T10:00:00.123400Z');
  const notice = { ...agent('msg_a', 'Connecting you with a person…', '2025-01-01T10:00:00.1239Z'), role: 'system' };
  const tabA = mergeMessages([], [answer, notice]);
  const tabB = mergeMessages([], [notice, answer]);
  assert.deepEqual(tabA.map(messageKey), ['msg_z', 'msg_a']);
  assert.deepEqual(tabB.map(messageKey), ['msg_z', 'msg_a']);
});

test('messages with the very same time are ordered by id, the same in every tab', () => {
  const at = '2025-01-01T10:00:00.123456Z';
  const first = mergeMessages([], [agent('m2', 'b', at), agent('m1', 'a', at)]);
  const second = mergeMessages([], [agent('m1', 'a', at), agent('m2', 'b', at)]);
  assert.deepEqual(first.map(messageKey), ['m1', 'm2']);
  assert.deepEqual(second.map(messageKey), ['m1', 'm2']);
});

test('streamed chunks build up a message that the final frame replaces', () => {
  let list = applyDelta([], { id: 'm3', delta: 'We ship ' });
  list = applyDelta(list, { id: 'm3', delta: 'in 3-5 days' });
  assert.equal(list[0].text, 'We ship in 3-5 days');
  assert.equal(list[0].streaming, true);
  list = upsertMessage(list, normalizeMessage(agent('m3', 'We ship in 3-5 business days.', '2025-01-01T10:00:03Z')));
  assert.equal(list.length, 1);
  assert.equal(list[0].text, 'We ship in 3-5 business days.');
  assert.equal(list[0].streaming, undefined);
});

test('a late chunk does not change a finished message', () => {
  const list = mergeMessages([], [agent('m3', 'Done.', '2025-01-01T10:00:03Z')]);
  assert.equal(applyDelta(list, { id: 'm3', delta: ' extra' })[0].text, 'Done.');
});

test('it syncs from the newest complete confirmed message', () => {
  let list = mergeMessages([], [agent('m1', 'a', '2025-01-01T10:00:01Z'), agent('m2', 'b', '2025-01-01T10:00:02Z')]);
  list = applyDelta(list, { id: 'm3', delta: 'typing…' });
  list = upsertMessage(list, pending('c1', 'pending'));
  assert.equal(lastConfirmedId(list), 'm2');
  assert.equal(lastConfirmedId([]), null);
});

test('it keeps at most 50 confirmed messages for the next page load', () => {
  const many = Array.from({ length: 80 }, (_, i) => agent(`m${i}`, `t${i}`, new Date(Date.UTC(2025, 0, 1, 10, 0, i)).toISOString()));
  let list = mergeMessages([], many);
  list = upsertMessage(list, pending('c1', 'pending'));
  const stored = storableMessages(list);
  assert.equal(stored.length, 50);
  assert.equal(stored[49].id, 'm79');
  assert.ok(stored.every((m) => !('state' in m)));
});

test('it rejects server data without an id and drops unknown fields', () => {
  assert.equal(normalizeMessage({ text: 'no id' }), null);
  assert.equal(normalizeMessage(null), null);
  const message = normalizeMessage({ id: 7, role: 'agent', text: 'x', createdAt: 'c', type: 'message', html: '<b>' });
  assert.deepEqual(message, { id: '7', role: 'agent', text: 'x', createdAt: 'c' });
  assert.equal(normalizeMessage({ id: 'm', role: 'admin' }).role, undefined);
});
