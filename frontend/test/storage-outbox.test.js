import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOutbox } from '../src/core/outbox.js';
import { createStore } from '../src/core/storage.js';
import { brokenStorage, MemoryStorage } from './helpers.js';

const entry = (clientId, text = 'hello') => ({ clientId, text, createdAt: '2025-01-01T10:00:00Z' });

test('it stores JSON under the agent prefix', () => {
  const storage = new MemoryStorage();
  const store = createStore(storage, 'agt_1');
  store.write('visitor', 'v_123');
  assert.equal(storage.getItem('ca:agt_1:visitor'), '"v_123"');
  assert.equal(store.read('visitor'), 'v_123');
});

test('it removes a key written as null', () => {
  const storage = new MemoryStorage();
  const store = createStore(storage, 'agt_1');
  store.write('open', true);
  store.write('open', null);
  assert.equal(storage.length, 0);
});

test('it clears only its own agent on logout', () => {
  const storage = new MemoryStorage({ 'ca:agt_1:visitor': '"v1"', 'ca:agt_1:outbox': '[]', 'ca:agt_2:visitor': '"v2"', theme: 'dark' });
  createStore(storage, 'agt_1').clear();
  assert.deepEqual([...storage.map.keys()].sort(), ['ca:agt_2:visitor', 'theme']);
});

test('it reads a corrupt value as missing', () => {
  const store = createStore(new MemoryStorage({ 'ca:agt_1:history': '{not json' }), 'agt_1');
  assert.equal(store.read('history'), null);
});

test('it keeps working in memory when storage throws', () => {
  const store = createStore(brokenStorage, 'agt_1');
  store.write('visitor', 'v_1');
  assert.equal(store.read('visitor'), 'v_1');
  store.clear();
  assert.equal(store.read('visitor'), null);
});

test('it keeps working when there is no storage at all', () => {
  const outbox = createOutbox(createStore(null, 'agt_1'));
  outbox.add(entry('c1'));
  assert.deepEqual(outbox.list().map((e) => e.clientId), ['c1']);
});

test('the outbox survives a reload', () => {
  const storage = new MemoryStorage();
  createOutbox(createStore(storage, 'agt_1')).add(entry('c1', 'where is my order?'));
  const afterReload = createOutbox(createStore(storage, 'agt_1'));
  assert.deepEqual(afterReload.list(), [entry('c1', 'where is my order?')]);
});

test('the outbox keeps entries in the order they were written', () => {
  const outbox = createOutbox(createStore(new MemoryStorage(), 'agt_1'));
  outbox.add(entry('c1'));
  outbox.add(entry('c2'));
  outbox.add(entry('c3'));
  assert.deepEqual(outbox.list().map((e) => e.clientId), ['c1', 'c2', 'c3']);
});

test('the outbox holds one entry per clientId', () => {
  const outbox = createOutbox(createStore(new MemoryStorage(), 'agt_1'));
  outbox.add(entry('c1', 'first'));
  outbox.add(entry('c1', 'again'));
  assert.deepEqual(outbox.list(), [entry('c1', 'again')]);
});

test('an acknowledged entry leaves the outbox, and an empty outbox leaves storage', () => {
  const storage = new MemoryStorage();
  const outbox = createOutbox(createStore(storage, 'agt_1'));
  outbox.add(entry('c1'));
  outbox.add(entry('c2'));
  outbox.remove('c1');
  assert.deepEqual(outbox.list().map((e) => e.clientId), ['c2']);
  outbox.remove('c2');
  assert.equal(storage.getItem('ca:agt_1:outbox'), null); // the loader reads its absence as "nothing to deliver"
});

test('two tabs sharing storage do not overwrite each other', () => {
  const storage = new MemoryStorage();
  const tabA = createOutbox(createStore(storage, 'agt_1'));
  const tabB = createOutbox(createStore(storage, 'agt_1'));
  tabA.add(entry('a1'));
  tabB.add(entry('b1'));
  tabA.remove('a1');
  assert.deepEqual(tabB.list().map((e) => e.clientId), ['b1']);
});
