// Builds the widget into dist/:
//   dist/static/widget/core.<hash>.js  the core, an ES module (content-hashed: cache forever).
//                                      Older cores are kept: every build stays loadable, so
//                                      agents can be pinned to one and stable rolled back.
//   dist/static/widget/loader.<hash>.js the loader built with that core, importing it directly
//                                      (immutable too: the snippet form with SRI uses it)
//   dist/widget.js                     the loader (short-cached), importing
//                                      /widget/core.js?agent=<id>, which redirects to the
//                                      agent's core (widgets/api/core.py)
//   dist/manifest.json                 this build: file names, version, integrity, sizes
//   dist/releases.json                 every build kept, oldest first, for
//                                      `manage.py widget_core_register`
//   dist/static/analytics/dashboard.js the admin's analytics dashboard with Chart.js (not
//                                      part of the widget: no budget, not in the manifest)
//   dist/static/customizer/preview.js  the admin customizer's preview frame: the real core,
//                                      offline (admin only: no budget, not in the manifest)
//   dist/static/widgets/customize.js   the admin customizer's form (with contrast.js)
//   dist/static/widgets/deploy.js      the Deploy page's copy buttons and installation check
//   dist/static/conversations/inbox.js the staff inbox (admin scripts: see ADMIN_SCRIPTS)
// Exits 1 when a file is over its gzip budget.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { budgetErrors, measure } from './tools/sizes.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const coreDir = join(dist, 'static', 'widget');
const common = { absWorkingDir: root, bundle: true, minify: true, target: 'es2020', legalComments: 'none', logLevel: 'warning' };

// Nothing is deleted: older cores stay loadable, and until this build succeeds the
// manifest keeps naming the previous one (which still exists).
const startBuild = () => mkdirSync(coreDir, { recursive: true });

// Written whole or not at all: tests and servers read these files while a build runs.
function writeJson(path, value) {
  writeFileSync(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

const integrity = (buffer) => `sha384-${createHash('sha384').update(buffer).digest('base64')}`;
const releasesPath = join(dist, 'releases.json');

function readReleases() {
  if (!existsSync(releasesPath)) return [];
  // Entries whose core was deleted by hand cannot be served any more: drop them.
  return JSON.parse(readFileSync(releasesPath, 'utf8')).builds.filter((b) => existsSync(join(dist, b.core)));
}

async function buildCore() {
  const result = await esbuild.build({
    ...common,
    entryPoints: ['src/core/index.js'],
    format: 'esm',
    outdir: coreDir,
    entryNames: 'core.[hash]',
    metafile: true,
  });
  const [output] = Object.keys(result.metafile.outputs).filter((path) => path.endsWith('.js'));
  return relative(dist, join(root, output)).split('\\').join('/'); // static/widget/core.<hash>.js
}

// The admin's scripts (src/admin/), each at its own static path: the pages' templates name
// them with {% static %}. Modules, but for the Deploy page's classic deferred script.
const ADMIN_SCRIPTS = [
  { entry: 'src/admin/dashboard.js', out: 'analytics/dashboard.js' },
  { entry: 'src/admin/preview.js', out: 'customizer/preview.js' },
  { entry: 'src/admin/customize.js', out: 'widgets/customize.js' },
  { entry: 'src/admin/deploy.js', out: 'widgets/deploy.js', format: 'iife' },
  { entry: 'src/admin/inbox.js', out: 'conversations/inbox.js' },
];

async function buildAdmin() {
  for (const { entry, out, format = 'esm' } of ADMIN_SCRIPTS) {
    await esbuild.build({ ...common, entryPoints: [entry], format, outfile: join(dist, 'static', ...out.split('/')) });
  }
}

async function buildLoader() {
  await esbuild.build({
    ...common,
    entryPoints: ['src/loader.js'],
    format: 'iife',
    outfile: join(dist, 'widget.js'),
    define: { __CORE_PATH__: JSON.stringify('/widget/core.js'), __PINNED__: 'false' },
  });
  return 'widget.js';
}

// The loader bound to one core, content-hashed like it. Written only with a new core, so a
// version's loader never changes once a snippet names it with its integrity.
async function buildVersionedLoader(corePath) {
  const result = await esbuild.build({
    ...common,
    entryPoints: ['src/loader.js'],
    format: 'iife',
    outdir: coreDir,
    entryNames: 'loader.[hash]',
    write: false,
    define: { __CORE_PATH__: JSON.stringify(`/${corePath}`), __PINNED__: 'true' },
  });
  const [file] = result.outputFiles;
  const errors = budgetErrors({ versionedLoader: measure(Buffer.from(file.contents)) });
  if (errors.length) return { errors };
  writeFileSync(file.path, file.contents);
  return { errors, path: relative(dist, file.path).split('\\').join('/') }; // static/widget/loader.<hash>.js
}

// Adds this build to dist/releases.json (once per core) and returns its entry.
async function recordRelease(core, coreSize) {
  const builds = readReleases();
  let build = builds.find((b) => b.core === core);
  if (!build) {
    const loader = await buildVersionedLoader(core);
    if (loader.errors.length) return { errors: loader.errors };
    const loaderBuffer = readFileSync(join(dist, loader.path));
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    build = {
      version: `${version}-${core.match(/core\.([A-Za-z0-9]+)\.js$/)[1]}`,
      core,
      coreIntegrity: integrity(readFileSync(join(dist, core))),
      loader: loader.path,
      loaderIntegrity: integrity(loaderBuffer),
      sizes: { core: coreSize, loader: measure(loaderBuffer) },
      builtAt: new Date().toISOString(),
    };
    builds.push(build);
  }
  writeJson(releasesPath, { builds });
  return { errors: [], build };
}

function fail(errors) {
  for (const error of errors) console.error(`Size budget exceeded: ${error}.`);
  process.exit(1);
}

startBuild();
const core = await buildCore();
const loader = await buildLoader();
await buildAdmin();
const sizes = {
  loader: measure(readFileSync(join(dist, loader))),
  core: measure(readFileSync(join(dist, core))),
};
const preview = measure(readFileSync(join(dist, 'static', 'customizer', 'preview.js')));
for (const [name, size] of Object.entries({ ...sizes, preview })) {
  console.log(`${name.padEnd(7)} ${String(size.raw).padStart(6)} B raw ${String(size.gzip).padStart(6)} B gzip`);
}
const errors = budgetErrors(sizes);
if (errors.length) {
  // A core over budget is no release: do not keep it beside the real ones.
  if (!readReleases().some((b) => b.core === core)) rmSync(join(dist, core), { force: true });
  fail(errors);
}
const recorded = await recordRelease(core, sizes.core);
if (recorded.errors.length) fail(recorded.errors);
const release = recorded.build;
const manifest = {
  loader,
  core,
  version: release.version,
  integrity: release.coreIntegrity,
  versionedLoader: release.loader,
  versionedLoaderIntegrity: release.loaderIntegrity,
  sizes: { loader: sizes.loader, core: sizes.core },
};
writeJson(join(dist, 'manifest.json'), manifest);
console.log(`wrote dist/manifest.json (version ${release.version}, core: ${core})`);
