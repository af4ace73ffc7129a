// The only way the widget builds DOM. Strings become Text nodes (append() never parses
// HTML), so text from visitors, agents or the server cannot inject markup.

import { textSegments } from '../text.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** createElement with attributes (null/false skipped, true → empty) and children. */
export function h(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value != null && value !== false) element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children);
  return element;
}

/** A 24x24 icon from a trusted path constant. */
export function icon(path, className) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  if (className) svg.setAttribute('class', className);
  const shape = document.createElementNS(SVG_NS, 'path');
  shape.setAttribute('d', path);
  svg.append(shape);
  return svg;
}

/** Replaces an element's content with message text, URLs as links that open a new tab. */
export function setMessageText(element, text) {
  element.textContent = '';
  for (const segment of textSegments(text || '')) {
    element.append(
      segment.href
        ? h('a', { href: segment.href, target: '_blank', rel: 'noopener noreferrer nofollow' }, [segment.text])
        : segment.text,
    );
  }
}

export const ICONS = {
  close: 'M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z',
  send: 'M2.01 21 23 12 2.01 3 2 10l15 2-15 2z',
  chevron: 'M7.41 8.59 12 13.17l4.59-4.58L18 10l-6 6-6-6z',
};
