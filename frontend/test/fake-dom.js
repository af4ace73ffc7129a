// A tiny DOM stand-in: enough of document/Element/Text for the widget's builders, so the
// rendering of untrusted text can be checked in node without a browser.

class Node {
  constructor() {
    this.parentNode = null;
  }
  remove() {
    if (this.parentNode) this.parentNode.removeChild(this);
  }
}

export class FakeText extends Node {
  constructor(data) {
    super();
    this.nodeType = 3;
    this.data = String(data);
  }
  get textContent() {
    return this.data;
  }
}

export class FakeElement extends Node {
  constructor(tagName) {
    super();
    this.nodeType = 1;
    this.tagName = tagName.toUpperCase();
    this.attributes = new Map();
    this.childNodes = [];
    this.listeners = {};
    this.style = { setProperty: (k, v) => (this.style[k] = v) };
  }
  get children() {
    return this.childNodes.filter((n) => n.nodeType === 1);
  }
  get hidden() {
    return this.attributes.has('hidden');
  }
  set hidden(value) {
    if (value) this.attributes.set('hidden', '');
    else this.attributes.delete('hidden');
  }
  get textContent() {
    return this.childNodes.map((n) => n.textContent).join('');
  }
  set textContent(value) {
    for (const child of this.childNodes) child.parentNode = null;
    this.childNodes = value === '' || value == null ? [] : [new FakeText(value)];
  }
  get classList() {
    const names = () => (this.getAttribute('class') || '').split(/\s+/).filter(Boolean);
    return {
      contains: (name) => names().includes(name),
      toggle: (name, force) => {
        const set = new Set(names());
        const on = force === undefined ? !set.has(name) : !!force;
        if (on) set.add(name);
        else set.delete(name);
        this.setAttribute('class', [...set].join(' '));
      },
      add: (name) => this.classList.toggle(name, true),
    };
  }
  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }
  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }
  removeAttribute(name) {
    this.attributes.delete(name);
  }
  adopt(child) {
    const node = typeof child === 'string' ? new FakeText(child) : child;
    node.remove();
    node.parentNode = this;
    return node;
  }
  append(...children) {
    for (const child of children) this.childNodes.push(this.adopt(child));
  }
  prepend(...children) {
    this.childNodes.unshift(...children.map((c) => this.adopt(c)));
  }
  insertBefore(child, reference) {
    const node = this.adopt(child);
    const index = reference ? this.childNodes.indexOf(reference) : -1;
    if (index < 0) this.childNodes.push(node);
    else this.childNodes.splice(index, 0, node);
  }
  removeChild(child) {
    this.childNodes = this.childNodes.filter((n) => n !== child);
    child.parentNode = null;
  }
  addEventListener(type, fn) {
    (this.listeners[type] = this.listeners[type] || []).push(fn);
  }
  dispatch(type, event = {}) {
    for (const fn of this.listeners[type] || []) fn({ preventDefault() {}, ...event, target: this });
  }
  querySelectorAll(selector) {
    // supports "tag", ".class" and "[attr=value]"
    const match = (el) => {
      if (selector.startsWith('.')) return el.classList.contains(selector.slice(1));
      const attr = /^\[([\w-]+)=([\w-]+)\]$/.exec(selector);
      if (attr) return el.getAttribute(attr[1]) === attr[2];
      return el.tagName === selector.toUpperCase();
    };
    const found = [];
    const walk = (el) => {
      for (const child of el.children) {
        if (match(child)) found.push(child);
        walk(child);
      }
    };
    walk(this);
    return found;
  }
  querySelector(selector) {
    return this.querySelectorAll(selector)[0] || null;
  }
  /** A compact, readable serialisation for assertions (not HTML: text is not escaped). */
  toString() {
    const attrs = [...this.attributes].map(([k, v]) => ` ${k}="${v}"`).join('');
    return `<${this.tagName.toLowerCase()}${attrs}>${this.childNodes.map(String).join('')}</${this.tagName.toLowerCase()}>`;
  }
}
FakeText.prototype.toString = function toString() {
  return this.data;
};

/** Installs a fake `document` on globalThis (idempotent). */
export function installFakeDocument() {
  globalThis.document = {
    createElement: (tag) => new FakeElement(tag),
    createElementNS: (ns, tag) => new FakeElement(tag),
    createTextNode: (data) => new FakeText(data),
  };
  return globalThis.document;
}
