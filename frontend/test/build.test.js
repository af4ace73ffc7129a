// Runs the real build: the budgets are a promise to every site that embeds the widget.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { BUDGETS, budgetErrors } from '../tools/sizes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

const sri = (buffer) => `sha384-${createHash('sha384').update(buffer).digest('base64')}`;
const readJson = (name) => JSON.parse(readFileSync(join(dist, name), 'utf8'));

test('every build is kept and listed with its integrity; the loader goes through the redirect', () => {
  execFileSync(process.execPath, ['build.mjs'], { cwd: root, stdio: 'pipe' });
  // An older build, as an earlier deploy left it: it must survive the next build.
  const old = {
    version: '1.9.0-OLDBUILD1',
    core: 'static/widget/core.OLDBUILD1.js',
    coreIntegrity: sri(Buffer.from('old')),
    loader: 'static/widget/loader.OLDLOAD1.js',
    loaderIntegrity: sri(Buffer.from('old loader')),
    sizes: { core: { raw: 3, gzip: 23 }, loader: { raw: 10, gzip: 30 } },
    builtAt: '2020-01-01T00:00:00.000Z',
  };
  writeFileSync(join(dist, old.core), 'old');
  writeFileSync(join(dist, old.loader), 'old loader');
  const before = readJson('releases.json');
  writeFileSync(join(dist, 'releases.json'), JSON.stringify({ builds: [old, ...before.builds] }));
  try {
    execFileSync(process.execPath, ['build.mjs'], { cwd: root, stdio: 'pipe' });

    const manifest = readJson('manifest.json');
    const { builds } = readJson('releases.json');
    assert.equal(manifest.loader, 'widget.js');
    assert.match(manifest.core, /^static\/widget\/core\.[A-Za-z0-9]+\.js$/);
    assert.equal(existsSync(join(dist, old.core)), true, 'older cores are kept');
    assert.deepEqual(builds[0], old, 'and stay listed, oldest first');
    const current = builds.filter((b) => b.core === manifest.core);
    assert.equal(current.length, 1, 'a rebuild of the same core is listed once');
    const [build] = current;
    const core = readFileSync(join(dist, manifest.core));
    const versioned = readFileSync(join(dist, build.loader));
    assert.equal(manifest.version, build.version);
    assert.match(build.version, /^\d+\.\d+\.\d+-[A-Za-z0-9]+$/);
    assert.equal(manifest.integrity, sri(core));
    assert.equal(build.coreIntegrity, sri(core));
    assert.equal(build.loaderIntegrity, sri(versioned));
    assert.equal(manifest.versionedLoader, build.loader);

    const loader = readFileSync(join(dist, 'widget.js'));
    assert.ok(loader.toString().includes('/widget/core.js?agent='), 'the loader imports the redirect');
    assert.ok(!loader.toString().includes(manifest.core), 'not a fixed core');
    assert.ok(versioned.toString().includes(`"/${manifest.core}"`), 'the versioned loader imports its core');
    assert.ok(!versioned.toString().includes('?agent='));
    for (const text of [loader.toString(), versioned.toString()]) {
      assert.ok(!text.includes('__CORE_PATH__') && !text.includes('__PINNED__'));
    }

    for (const [name, buffer] of [['loader', loader], ['core', core]]) {
      const gzip = gzipSync(buffer, { level: 9 }).length;
      assert.deepEqual(manifest.sizes[name], { raw: buffer.length, gzip });
      assert.ok(gzip <= BUDGETS[name], `${name} is ${gzip} B gzipped, budget ${BUDGETS[name]} B`);
    }
    const versionedGzip = gzipSync(versioned, { level: 9 }).length;
    assert.ok(versionedGzip <= BUDGETS.versionedLoader, `versioned loader is ${versionedGzip} B gzipped`);
    assert.ok(core.toString().includes('export{'), 'the core is an ES module');
    assert.ok(!core.toString().includes('innerHTML'), 'the core never parses HTML');
  } finally {
    // Leave dist as a real build made it (widget_core_register reads releases.json).
    for (const path of [old.core, old.loader]) rmSync(join(dist, path), { force: true });
    const { builds } = readJson('releases.json');
    writeFileSync(join(dist, 'releases.json'), `${JSON.stringify({ builds: builds.filter((b) => b.core !== old.core) }, null, 2)}\n`);
  }
});

test('the budget check names the file that is too big', () => {
  assert.deepEqual(budgetErrors({ loader: { raw: 5000, gzip: 2049 }, core: { raw: 1, gzip: 1 } }), [
    'loader is 2049 bytes gzipped, over its budget of 2048 bytes',
  ]);
  assert.deepEqual(budgetErrors({ loader: { raw: 1, gzip: 2048 }, core: { raw: 1, gzip: 24576 } }), []);
});
