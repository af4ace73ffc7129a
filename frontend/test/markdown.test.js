// The safe Markdown subset: a pure parser to a small AST, then DOM built from Text nodes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInline, parseMarkdown, safeUrl } from '../src/core/markdown.js';
import { FakeText, installFakeDocument } from './fake-dom.js';

installFakeDocument();
const { setMarkdown } = await import('../src/core/ui/markdown-dom.js');

const render = (text) => {
  const element = document.createElement('div');
  setMarkdown(element, text);
  return element;
};

test('it parses bold, italics and inline code', () => {
  assert.deepEqual(parseInline('a **bold** and *it* or _it_ with `x < y`'), [
    'a ',
    { t: 'b', c: ['bold'] },
    ' and ',
    { t: 'i', c: ['it'] },
    ' or ',
    { t: 'i', c: ['it'] },
    ' with ',
    { t: 'code', text: 'x < y' },
  ]);
});

test('it leaves snake_case words, lone stars and unclosed markers alone', () => {
  assert.deepEqual(parseInline('order_id and 2 * 3 * 4 and **open'), ['order_id and 2 * 3 * 4 and **open']);
});

test('it does not parse Markdown inside inline code', () => {
  assert.deepEqual(parseInline('`**not bold**`'), [{ t: 'code', text: '**not bold**' }]);
});

test('it nests italics and links inside bold', () => {
  assert.deepEqual(parseInline('**see *this* [doc](https://acme.example/a)**'), [
    { t: 'b', c: ['see ', { t: 'i', c: ['this'] }, ' ', { t: 'a', href: 'https://acme.example/a', c: ['doc'] }] },
  ]);
});

test('it links http(s) Markdown links and bare URLs, without trailing punctuation', () => {
  assert.deepEqual(parseInline('[Returns](https://acme.example/returns) or see http://acme.example/faq.'), [
    { t: 'a', href: 'https://acme.example/returns', c: ['Returns'] },
    ' or see ',
    { t: 'a', href: 'http://acme.example/faq', c: ['http://acme.example/faq'] },
    '.',
  ]);
});

test('links to any other scheme stay plain text', () => {
  for (const url of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,<script>x</script>', 'vbscript:msgbox', '//evil.example', '/relative']) {
    const nodes = parseInline(`[click](${url})`);
    assert.ok(nodes.every((n) => typeof n === 'string'), url);
    assert.equal(nodes.join(''), `[click](${url})`);
  }
  assert.deepEqual(parseInline('javascript:alert(1)'), ['javascript:alert(1)']);
});

test('safeUrl accepts only absolute http(s) URLs', () => {
  assert.equal(safeUrl(' https://acme.example/x?y=1 '), 'https://acme.example/x?y=1');
  assert.equal(safeUrl('HTTP://ACME.example'), 'http://acme.example/');
  assert.equal(safeUrl('java\tscript:alert(1)'), null);
  assert.equal(safeUrl('https://'), null);
  assert.equal(safeUrl(null), null);
});

test('it splits paragraphs on blank lines and keeps single line breaks', () => {
  assert.deepEqual(parseMarkdown('Hello\nthere\n\nBye'), [
    { t: 'p', c: ['Hello', { t: 'br' }, 'there'] },
    { t: 'p', c: ['Bye'] },
  ]);
});

test('it parses bullet and numbered lists', () => {
  assert.deepEqual(parseMarkdown('Options:\n- **Standard**\n* Express\n\n3. three\n4. four'), [
    { t: 'p', c: ['Options:'] },
    { t: 'ul', items: [[{ t: 'b', c: ['Standard'] }], ['Express']] },
    { t: 'ol', start: 3, items: [['three'], ['four']] },
  ]);
});

test('it keeps fenced code verbatim, even an unclosed fence', () => {
  assert.deepEqual(parseMarkdown('Run:\n```sh\nnpm i **x**\n<b>\n```\nok'), [
    { t: 'p', c: ['Run:'] },
    { t: 'pre', text: 'npm i **x**\n<b>' },
    { t: 'p', c: ['ok'] },
  ]);
  assert.deepEqual(parseMarkdown('```\nunclosed'), [{ t: 'pre', text: 'unclosed' }]);
});

test('headings become bold paragraphs', () => {
  assert.deepEqual(parseMarkdown('## Shipping'), [{ t: 'p', c: [{ t: 'b', c: ['Shipping'] }] }]);
});

test('the DOM builder makes elements from the AST and text only from Text nodes', () => {
  const element = render('**Hi** <img src=x onerror=alert(1)>\n- [a](https://acme.example/)\n\n```\n<script>x</script>\n```');
  assert.equal(
    String(element),
    '<div><p><strong>Hi</strong> <img src=x onerror=alert(1)></p>' +
      '<ul><li><a href="https://acme.example/" target="_blank" rel="noopener noreferrer">a</a></li></ul>' +
      '<pre><code><script>x</script></code></pre></div>',
  );
  // The "<img ...>" and "<script>" above are text, not elements:
  const texts = [];
  const walk = (node) => (node instanceof FakeText ? texts.push(node.data) : node.childNodes.forEach(walk));
  walk(element);
  assert.ok(texts.includes(' <img src=x onerror=alert(1)>'));
  assert.ok(texts.includes('<script>x</script>'));
  assert.equal(element.querySelectorAll('img').length, 0);
  assert.equal(element.querySelectorAll('script').length, 0);
});

test('the DOM builder never produces a javascript: link', () => {
  const element = render('[x](javascript:alert(1)) https://ok.example/');
  const links = element.querySelectorAll('a');
  assert.deepEqual(links.map((a) => a.getAttribute('href')), ['https://ok.example/']);
});

test('numbered lists keep their start', () => {
  assert.equal(String(render('2. b')), '<div><ol start="2"><li>b</li></ol></div>');
});
