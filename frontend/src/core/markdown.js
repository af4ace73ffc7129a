// The safe Markdown subset agents and staff may write, as a pure parser producing a small
// AST; ui/markdown-dom.js turns it into DOM nodes (Text nodes for every piece of text).
// Nothing here is ever HTML: `<b>` stays the four characters it is.
//
// Blocks:  {t:'p', c:Inline[]}   (line breaks inside a paragraph are {t:'br'})
//          {t:'pre', text}       fenced code block
//          {t:'ul'|'ol', items: Inline[][], start?}
// Inline:  string | {t:'b'|'i', c:Inline[]} | {t:'code', text} | {t:'br'} | {t:'a', href, c:Inline[]}

const SAFE_SCHEME = /^https?:\/\//i;

/** The URL when it is an absolute http(s) URL, else null (javascript:, data:, vbscript:, …). */
export function safeUrl(value) {
  const url = String(value == null ? '' : value).trim();
  if (!SAFE_SCHEME.test(url)) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch (error) {
    return null;
  }
}

// One alternation, tried left to right at each position. Bare URLs stop before trailing
// punctuation, which usually ends the sentence rather than the URL.
const INLINE = new RegExp(
  [
    '`([^`\\n]+)`', // 1 code
    '\\*\\*(?=\\S)([\\s\\S]*?\\S)\\*\\*', // 2 bold
    '(?<![\\w_])__(?=\\S)([\\s\\S]*?\\S)__(?![\\w_])', // 3 bold
    '\\*(?=[^\\s*])([^*]*?[^\\s*])\\*', // 4 italics
    '(?<![\\w_])_(?=[^\\s_])([^_]*?[^\\s_])_(?![\\w_])', // 5 italics
    '\\[([^\\]\\n]+)\\]\\(\\s*([^()\\s]+)\\s*\\)', // 6 text, 7 url
    '\\bhttps?:\\/\\/[^\\s<>"\'`]*[^\\s<>"\'`.,;:!?)\\]}]', // bare URL
  ].join('|'),
  'gi',
);

/** Inline Markdown → Inline[]; adjacent strings are merged. */
export function parseInline(text) {
  const out = [];
  const push = (node) => {
    if (typeof node === 'string' && typeof out[out.length - 1] === 'string') out[out.length - 1] += node;
    else if (node !== '') out.push(node);
  };
  let position = 0;
  for (const match of String(text).matchAll(INLINE)) {
    push(text.slice(position, match.index));
    position = match.index + match[0].length;
    const [whole, code, bold, bold2, italic, italic2, label, target] = match;
    if (code != null) push({ t: 'code', text: code });
    else if (bold != null || bold2 != null) push({ t: 'b', c: parseInline(bold != null ? bold : bold2) });
    else if (italic != null || italic2 != null) push({ t: 'i', c: parseInline(italic != null ? italic : italic2) });
    else if (label != null) {
      const href = safeUrl(target);
      // A link to anything but http(s) is shown as the plain text it was written as.
      if (href) push({ t: 'a', href, c: parseInline(label) });
      else push(whole);
    } else {
      const href = safeUrl(whole);
      push(href ? { t: 'a', href, c: [whole] } : whole);
    }
  }
  push(String(text).slice(position));
  return out;
}

const FENCE = /^\s*(```|~~~)/;
const BULLET = /^\s*[-*+•]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const HEADING = /^\s*#{1,6}\s+(.*)$/;

/** Markdown → Block[]. Unknown syntax is kept as text; nothing is dropped. */
export function parseMarkdown(source) {
  const lines = String(source == null ? '' : source).replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let paragraph = null;
  let list = null;
  const endBlocks = () => {
    paragraph = null;
    list = null;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    if (fence) {
      const code = [];
      while (++i < lines.length && !lines[i].trim().startsWith(fence[1])) code.push(lines[i]);
      blocks.push({ t: 'pre', text: code.join('\n') });
      endBlocks();
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = !bullet && NUMBERED.exec(line);
    if (bullet || numbered) {
      const type = bullet ? 'ul' : 'ol';
      if (!list || list.t !== type) {
        list = { t: type, items: [] };
        if (numbered && numbered[1] !== '1') list.start = Number(numbered[1]);
        blocks.push(list);
      }
      list.items.push(parseInline(bullet ? bullet[1] : numbered[2]));
      paragraph = null;
      continue;
    }
    if (!line.trim()) {
      endBlocks();
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      blocks.push({ t: 'p', c: [{ t: 'b', c: parseInline(heading[1]) }] });
      endBlocks();
      continue;
    }
    if (list && /^\s+\S/.test(line)) {
      // an indented continuation of the last list item
      const item = list.items[list.items.length - 1];
      item.push({ t: 'br' }, ...parseInline(line.trim()));
      continue;
    }
    list = null;
    if (paragraph) paragraph.c.push({ t: 'br' }, ...parseInline(line));
    else blocks.push((paragraph = { t: 'p', c: parseInline(line) }));
  }
  return blocks;
}
