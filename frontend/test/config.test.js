import assert from 'node:assert/strict';
import { test } from 'node:test';
import { platformBase, readConfig, storagePrefix } from '../src/loader/config.js';

const script = (attributes) => ({ getAttribute: (name) => attributes[name] ?? null });

test('it reads the config object the snippet set on window', () => {
  const config = readConfig({ agentId: 'agt_1', customer: { id: 'c1' }, locale: 'fr', open: true }, script({}));
  assert.deepEqual(config, { agentId: 'agt_1', customer: { id: 'c1' }, locale: 'fr', open: true });
});

test('it falls back to the data-agent-id attribute of its script tag', () => {
  assert.deepEqual(readConfig(undefined, script({ 'data-agent-id': 'agt_2' })), { agentId: 'agt_2' });
});

test('it prefers the window config over the attribute', () => {
  assert.equal(readConfig({ agentId: 'agt_1' }, script({ 'data-agent-id': 'agt_2' })).agentId, 'agt_1');
});

test('it takes the agent id from the attribute when the window config has none', () => {
  assert.deepEqual(readConfig({ open: true }, script({ 'data-agent-id': 'agt_2' })), { agentId: 'agt_2', open: true });
});

test('it ignores a window value that is not a plain object', () => {
  assert.deepEqual(readConfig('agt_1', script({ 'data-agent-id': 'agt_2' })), { agentId: 'agt_2' });
  assert.deepEqual(readConfig(['agt_1'], script({ 'data-agent-id': 'agt_2' })), { agentId: 'agt_2' });
});

test('it refuses to start without an agent id', () => {
  assert.equal(readConfig({}, script({})), null);
  assert.equal(readConfig({ agentId: '  ' }, null), null);
  assert.equal(readConfig(undefined, null), null);
});

test('it drops fields it does not know', () => {
  assert.deepEqual(readConfig({ agentId: 'agt_1', evil: 'x', token: 'y' }, null), { agentId: 'agt_1' });
});

test('it takes the platform base from the origin of its own src', () => {
  assert.equal(platformBase('http://localhost:8000/widget.js'), 'http://localhost:8000');
  assert.equal(platformBase('https://chat.example.com/widget.js?v=2'), 'https://chat.example.com');
  assert.equal(platformBase('not a url'), null);
});

test('it namespaces storage keys per agent', () => {
  assert.equal(storagePrefix('agt_1'), 'ca:agt_1:');
});
