// The customizer's as-you-type contrast rule (src/admin/contrast.js) gives the
// same numbers as the server's (widgets/config/contrast.py): both read the same cases.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { contrastRatio, inkOn, themeContrastWarnings } from '../src/admin/contrast.js';
import { readableTextColor } from '../src/core/theme.js';

const cases = JSON.parse(readFileSync(new URL('../../widgets/tests/contrast_cases.json', import.meta.url), 'utf8'));

test('contrast ratios follow WCAG 2.x', () => {
  for (const [first, second, ratio] of cases.ratios) assert.equal(contrastRatio(first, second), ratio, `${first} on ${second}`);
});

test('a theme gets a warning for each colour pair below AA, in each mode it can show', () => {
  for (const [theme, expected] of cases.themes) {
    const found = themeContrastWarnings(theme).map((w) => [w.field, w.mode, w.ratio]);
    assert.deepEqual(found, expected, JSON.stringify(theme));
  }
});

test('the warning says what to change and how far off it is', () => {
  const [warning] = themeContrastWarnings({ textColor: '#9ca3af' });
  assert.equal(warning.required, 4.5);
  assert.match(warning.message, /2\.54:1.*4\.5:1/);
});

test('the ink it checks is the ink the widget draws on the primary colour', () => {
  for (const color of ['#4f46e5', '#ff0000', '#fde047', '#0f766e', '#ffffff', '#000000']) {
    assert.equal(inkOn(color), readableTextColor(color), color);
  }
});
