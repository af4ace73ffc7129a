// Size accounting for the build: what the browser downloads is the gzipped size.
import { gzipSync } from 'node:zlib';

// bytes, gzipped; the versioned loader (static/widget/loader.<hash>.js) is the loader too
export const BUDGETS = { loader: 2048, core: 24576, versionedLoader: 2048 };

export const measure = (buffer) => ({ raw: buffer.length, gzip: gzipSync(buffer, { level: 9 }).length });

/** A message per file over its budget; empty when everything fits. */
export function budgetErrors(sizes, budgets = BUDGETS) {
  return Object.entries(budgets)
    .filter(([name, limit]) => sizes[name] && sizes[name].gzip > limit)
    .map(([name, limit]) => `${name} is ${sizes[name].gzip} bytes gzipped, over its budget of ${limit} bytes`);
}
