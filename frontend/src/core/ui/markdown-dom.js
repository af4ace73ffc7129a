// The Markdown AST (markdown.js) as DOM nodes. Every piece of text becomes a Text node via
// append(), and hrefs were already limited to http(s) by the parser, so a message can
// neither inject markup nor a script URL.

import { parseMarkdown } from '../markdown.js';
import { h } from './dom.js';

const INLINE_TAGS = { b: 'strong', i: 'em' };

export const LINK_ATTRIBUTES = { target: '_blank', rel: 'noopener noreferrer' };

function inline(nodes) {
  return nodes.map((node) => {
    if (typeof node === 'string') return node;
    if (node.t === 'br') return h('br');
    if (node.t === 'code') return h('code', {}, [node.text]);
    if (node.t === 'a') return h('a', { href: node.href, ...LINK_ATTRIBUTES }, inline(node.c));
    return h(INLINE_TAGS[node.t], {}, inline(node.c));
  });
}

function block(node) {
  if (node.t === 'pre') return h('pre', {}, [h('code', {}, [node.text])]);
  if (node.t === 'p') return h('p', {}, inline(node.c));
  return h(node.t, { start: node.start }, node.items.map((item) => h('li', {}, inline(item))));
}

/** Replaces `element`'s content with the rendered Markdown of `text`. */
export function setMarkdown(element, text) {
  element.textContent = '';
  element.append(...parseMarkdown(text).map(block));
}
