// Builds the widget into dist/:
//   dist/static/widget/core.<hash>.js  the core, an ES module (content-hashed: cache forever)
//   dist/widget.js                     the loader, which knows the core's hashed path
//   dist/manifest.json                 file names and sizes, for the server and for CI
// Exits 1 when a file is over its gzip budget.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { budgetErrors, measure } from './tools/sizes.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const coreDir = join(dist, 'static', 'widget');
const common = { absWorkingDir: root, bundle: true, minify: true, target: 'es2020', legalComments: 'none', logLevel: 'warning' };

function cleanPreviousBuild() {
  mkdirSync(coreDir, { recursive: true });
  // A manifest left from an earlier build could point at a core this build deletes.
  rmSync(join(dist, 'manifest.json'), { force: true });
  for (const name of readdirSync(coreDir)) {
    if (/^core\..+\.js$/.test(name)) rmSync(join(coreDir, name));
  }
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

async function buildLoader(corePath) {
  await esbuild.build({
    ...common,
    entryPoints: ['src/loader.js'],
    format: 'iife',
    outfile: join(dist, 'widget.js'),
    define: { __CORE_PATH__: JSON.stringify(`/${corePath}`) },
  });
  return 'widget.js';
}

cleanPreviousBuild();
const core = await buildCore();
const loader = await buildLoader(core);
const sizes = {
  loader: measure(readFileSync(join(dist, loader))),
  core: measure(readFileSync(join(dist, core))),
};
for (const [name, size] of Object.entries(sizes)) {
  console.log(`${name.padEnd(6)} ${String(size.raw).padStart(6)} B raw ${String(size.gzip).padStart(6)} B gzip`);
}
const errors = budgetErrors(sizes);
if (errors.length) {
  for (const error of errors) console.error(`Size budget exceeded: ${error}.`);
  process.exit(1);
}
writeFileSync(join(dist, 'manifest.json'), `${JSON.stringify({ loader, core, sizes }, null, 2)}\n`);
console.log(`wrote dist/manifest.json (core: ${core})`);
