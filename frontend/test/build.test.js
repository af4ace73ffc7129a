// Runs the real build: the budgets are a promise to every site that embeds the widget.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { BUDGETS, budgetErrors } from '../tools/sizes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

test('the build fits the budgets and wires the loader to the hashed core', () => {
  // A leftover core from an older build must be cleaned away.
  execFileSync(process.execPath, ['build.mjs'], { cwd: root, stdio: 'pipe' });
  const stale = join(dist, 'static', 'widget', 'core.STALE123.js');
  writeFileSync(stale, 'old');
  execFileSync(process.execPath, ['build.mjs'], { cwd: root, stdio: 'pipe' });

  const manifest = JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8'));
  assert.equal(manifest.loader, 'widget.js');
  assert.match(manifest.core, /^static\/widget\/core\.[A-Za-z0-9]+\.js$/);
  assert.equal(existsSync(stale), false);
  assert.deepEqual(readdirSync(join(dist, 'static', 'widget')), [manifest.core.split('/').pop()]);

  const loader = readFileSync(join(dist, 'widget.js'));
  const core = readFileSync(join(dist, manifest.core));
  assert.ok(loader.toString().includes(`"/${manifest.core}"`), 'the loader imports the core named in the manifest');
  assert.ok(!loader.toString().includes('__CORE_PATH__'));

  for (const [name, buffer] of [['loader', loader], ['core', core]]) {
    const gzip = gzipSync(buffer, { level: 9 }).length;
    assert.deepEqual(manifest.sizes[name], { raw: buffer.length, gzip });
    assert.ok(gzip <= BUDGETS[name], `${name} is ${gzip} B gzipped, budget ${BUDGETS[name]} B`);
  }
  assert.ok(core.toString().includes('export{'), 'the core is an ES module');
  assert.ok(!core.toString().includes('innerHTML'), 'the core never parses HTML');
});

test('the budget check names the file that is too big', () => {
  assert.deepEqual(budgetErrors({ loader: { raw: 5000, gzip: 2049 }, core: { raw: 1, gzip: 1 } }), [
    'loader is 2049 bytes gzipped, over its budget of 2048 bytes',
  ]);
  assert.deepEqual(budgetErrors({ loader: { raw: 1, gzip: 2048 }, core: { raw: 1, gzip: 24576 } }), []);
});
