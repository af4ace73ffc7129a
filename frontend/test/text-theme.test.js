import assert from 'node:assert/strict';
import { test } from 'node:test';
import { textSegments } from '../src/core/text.js';
import { readableTextColor, themeVariables } from '../src/core/theme.js';

test('it keeps plain text as one text segment', () => {
  assert.deepEqual(textSegments('<b>not html</b>'), [{ text: '<b>not html</b>' }]);
});

test('it turns http and https URLs into links, without trailing punctuation', () => {
  assert.deepEqual(textSegments('See https://acme.example/help/returns. Thanks'), [
    { text: 'See ' },
    { text: 'https://acme.example/help/returns', href: 'https://acme.example/help/returns' },
    { text: '. Thanks' },
  ]);
});

test('it never links other schemes', () => {
  const segments = textSegments('javascript:alert(1) data:text/html,x');
  assert.ok(segments.every((s) => !s.href));
});

test('it picks readable text on the primary colour', () => {
  assert.equal(readableTextColor('#4f46e5'), '#ffffff');
  assert.equal(readableTextColor('#fde047'), '#111827');
  assert.equal(readableTextColor('#fff'), '#111827');
  assert.equal(readableTextColor('rebeccapurple'), null);
});

test('it maps the theme to custom properties and ignores the rest', () => {
  assert.deepEqual(themeVariables({ primaryColor: '#0f766e', unknown: 'x', textColor: 42 }), {
    '--ca-primary': '#0f766e',
    '--ca-on-primary': '#ffffff',
  });
  assert.deepEqual(themeVariables(null), {});
});
