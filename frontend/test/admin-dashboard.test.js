// The analytics dashboard's chart configurations (src/admin/charts.js) and its bundle.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dashboardConfigs, formatLabel, funnelConfig, percent } from '../src/admin/charts.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const data = {
  grain: 'hour',
  labels: ['2026-03-02T10:00:00+00:00', '2026-03-02T11:00:00+00:00'],
  series: {
    loads: [10, 4],
    opens: [5, 1],
    conversations: [2, 0],
    resolved: [1, 0],
    handoffs: [0, 0],
    errors: [0, 1],
    openRate: [0.5, 0.25],
    resolutionRate: [0.5, null],
    csatAverage: [4.5, null],
    firstResponseP50: [900, null],
    firstResponseP95: [2100, null],
    loadTimeP50: [120, 80],
    loadTimeP95: [300, 95],
  },
  funnel: [
    { label: 'Widget loads', value: 14 },
    { label: 'Opens', value: 6 },
    { label: 'Conversations', value: 2 },
    { label: 'Resolved', value: 1 },
  ],
};

test('labels read in UTC, by the hour or by the day', () => {
  assert.equal(formatLabel('2026-03-02T10:00:00+00:00', 'hour'), '03-02 10:00');
  assert.equal(formatLabel('2026-03-02T00:00:00+00:00', 'day'), '2026-03-02');
  assert.equal(formatLabel('nonsense', 'day'), 'nonsense');
});

test('rates become percentages and gaps stay gaps', () => {
  assert.deepEqual(percent([0.5, null, 0.12345]), [50, null, 12.3]);
});

test('every canvas of the page gets a chart of the embedded series', () => {
  const configs = dashboardConfigs(data);
  assert.deepEqual(Object.keys(configs).sort(), ['funnel', 'rates', 'timing', 'traffic']);
  assert.deepEqual(configs.traffic.data.labels, ['03-02 10:00', '03-02 11:00']);
  assert.deepEqual(configs.traffic.data.datasets.map((d) => d.label), ['Loads', 'Opens', 'Conversations', 'Resolved']);
  assert.deepEqual(configs.rates.data.datasets[1].data, [50, null]);
  assert.deepEqual(configs.timing.data.datasets[3].data, [300, 95]);
  assert.equal(configs.traffic.options.animation, false);
});

test('the funnel shows each step as a share of the loads', () => {
  const config = funnelConfig(data.funnel);
  assert.deepEqual(config.data.labels, ['Widget loads (100%)', 'Opens (43%)', 'Conversations (14%)', 'Resolved (7%)']);
  assert.deepEqual(config.data.datasets[0].data, [14, 6, 2, 1]);
  assert.deepEqual(funnelConfig([{ label: 'Widget loads', value: 0 }]).data.labels, ['Widget loads']);
});

test('the build bundles Chart.js into the admin script, outside the widget budget', () => {
  const bundle = join(root, 'dist', 'static', 'analytics', 'dashboard.js');
  if (!existsSync(bundle)) return; // build.test.js runs the build; order is not guaranteed
  const code = readFileSync(bundle, 'utf8');
  assert.ok(code.includes('ca-dashboard-data'));
  assert.ok(!/https?:\/\/cdn/i.test(code), 'no CDN');
  const manifest = JSON.parse(readFileSync(join(root, 'dist', 'manifest.json'), 'utf8'));
  assert.ok(!JSON.stringify(manifest).includes('dashboard'), 'not part of the widget manifest');
});
