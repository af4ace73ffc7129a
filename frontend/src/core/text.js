// Message text is shown as plain text (no Markdown, no HTML). The one enhancement is that
// http(s) URLs become links; splitting here keeps the DOM code trivially safe, because
// only these two schemes can ever reach an href.

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
// Punctuation right after a URL usually ends the sentence, not the URL.
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

/** Splits text into [{text}] and [{text, href}] segments. */
export function textSegments(value) {
  const text = String(value);
  const segments = [];
  let position = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = match[0].replace(TRAILING_PUNCTUATION, '');
    if (url.length <= 'https://'.length) continue;
    if (match.index > position) segments.push({ text: text.slice(position, match.index) });
    segments.push({ text: url, href: url });
    position = match.index + url.length;
  }
  if (position < text.length) segments.push({ text: text.slice(position) });
  return segments;
}
