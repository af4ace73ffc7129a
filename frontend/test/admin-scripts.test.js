// The admin's scripts (src/admin/): the inbox's pure parts, and the bundles build.mjs
// writes where the Django templates look for them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inboxReconnectDelay, newClientId } from '../src/admin/inbox-socket.js';
import { isNewer, sortConversations } from '../src/admin/inbox-view.js';
import { STAFF_CLIENT_ID_PATTERN } from '../src/protocol.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('the inbox lists waiting conversations first, then by their latest message', () => {
  const conversations = [
    { id: 'bot-old', status: 'bot', lastMessageAt: '2026-01-05T09:00:00Z' },
    { id: 'assigned', status: 'assigned', lastMessageAt: '2026-01-05T11:00:00Z' },
    { id: 'waiting-old', status: 'waiting', lastMessageAt: '2026-01-05T08:00:00Z' },
    { id: 'odd', status: 'someday' },
    { id: 'waiting-new', status: 'waiting', updatedAt: '2026-01-05T10:00:00Z' },
    { id: 'bot-new', status: 'bot', lastMessageAt: '2026-01-05T12:00:00Z' },
  ];
  assert.deepEqual(
    sortConversations(conversations).map((c) => c.id),
    ['waiting-new', 'waiting-old', 'assigned', 'bot-new', 'bot-old', 'odd'],
  );
});

test('an older summary of a conversation does not replace a newer one', () => {
  const newer = { id: 'c1', updatedAt: '2026-01-05T10:00:01Z' };
  const older = { id: 'c1', updatedAt: '2026-01-05T10:00:00Z' };
  assert.equal(isNewer(older, newer), false);
  assert.equal(isNewer(newer, older), true);
  assert.equal(isNewer(older, older), true, 'the same moment: the latest to arrive wins');
  assert.equal(isNewer(older, undefined), true);
});

test("the inbox's reply ids are what the server accepts from staff, with or without randomUUID", () => {
  const pattern = new RegExp(STAFF_CLIENT_ID_PATTERN);
  assert.match(newClientId({ crypto: globalThis.crypto }), pattern);
  for (let i = 0; i < 50; i++) assert.match(newClientId({}), pattern);
});

test('the inbox reconnects with backoff, and slower when rate limited', () => {
  assert.deepEqual([0, 1, 2, 6, 30].map((attempt) => inboxReconnectDelay(attempt, false, () => 1)), [500, 1000, 2000, 30000, 30000]);
  assert.equal(inboxReconnectDelay(0, false, () => 0), 250, 'half fixed, half random');
  assert.equal(inboxReconnectDelay(0, true, () => 0), 15000);
  assert.equal(inboxReconnectDelay(20, true, () => 1), 30000);
});

test('each admin script is built where its template names it, standalone', () => {
  const pages = {
    'conversations/templates/admin/conversations/inbox.html': 'conversations/inbox.js',
    'widgets/templates/admin/widgets/customize.html': 'widgets/customize.js',
    'widgets/templates/admin/widgets/deploy.html': 'widgets/deploy.js',
    'analytics/templates/admin/analytics/dashboard.html': 'analytics/dashboard.js',
    'widgets/templates/admin/widgets/customize_preview.html': 'customizer/preview.js',
  };
  for (const [template, path] of Object.entries(pages)) {
    const html = readFileSync(join(root, '..', template), 'utf8');
    assert.ok(html.includes(`{% static '${path}' %}`), `${template} loads ${path}`);
  }
  const manifest = join(root, 'dist', 'manifest.json');
  if (!existsSync(manifest)) return; // build.test.js runs the build; order is not guaranteed
  const widget = readFileSync(manifest, 'utf8');
  for (const path of Object.values(pages)) {
    const bundle = join(root, 'dist', 'static', path);
    assert.ok(existsSync(bundle), `dist/static/${path} is built`);
    const code = readFileSync(bundle, 'utf8');
    assert.ok(!/\bimport\s*[{(*"']|^import\s/m.test(code), `${path} imports nothing at run time`);
    assert.ok(!widget.includes(path), `${path} is not part of the widget manifest`);
  }
});
