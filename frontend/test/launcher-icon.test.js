// theme.launcherIcon: a name from a fixed set, never a path from the config.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAUNCHER_ICONS, launcherIconPath } from '../src/core/theme.js';

test('the launcher icon is one of the fixed set, the chat bubble otherwise', () => {
  assert.equal(launcherIconPath({ launcherIcon: 'bolt' }), LAUNCHER_ICONS.bolt);
  assert.equal(launcherIconPath({ launcherIcon: 'forum' }), LAUNCHER_ICONS.forum);
  for (const theme of [undefined, null, {}, { launcherIcon: 'M0 0L24 24' }, { launcherIcon: '__proto__' }, { launcherIcon: 'toString' }]) {
    assert.equal(launcherIconPath(theme), LAUNCHER_ICONS.chat, JSON.stringify(theme));
  }
});

test('the server accepts exactly the icons the widget can draw', async () => {
  const { readFileSync } = await import('node:fs');
  const rules = readFileSync(new URL('../../widgets/config/validation.py', import.meta.url), 'utf8');
  const names = /LAUNCHER_ICONS = \(([^)]*)\)/.exec(rules)[1].match(/"(\w+)"/g).map((n) => n.slice(1, -1));
  assert.deepEqual(names, Object.keys(LAUNCHER_ICONS));
});
