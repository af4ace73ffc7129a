// Renders the message array into the list element: a keyed reconcile that reuses each
// message's element, so a pending bubble turns into a sent one in place, streaming text
// grows without flicker, and the screen reader's live region announces only what is new.

import { messageKey } from '../messages.js';
import { h, setMessageText } from './dom.js';

const setData = (element, name, value) => {
  if (value) element.setAttribute(name, value);
  else element.removeAttribute(name);
};

function formatTime(createdAt) {
  const date = new Date(createdAt);
  return Number.isNaN(date.getTime()) ? null : date.toLocaleString();
}

export function createMessageList(container) {
  const elements = new Map(); // messageKey -> element
  const shownText = new WeakMap(); // element -> text it displays
  let greeting = null;

  function updateElement(element, message) {
    setData(element, 'data-role', message.role);
    setData(element, 'data-id', message.id);
    setData(element, 'data-client-id', message.clientId);
    setData(element, 'data-state', message.state);
    setData(element, 'aria-busy', message.streaming ? 'true' : null);
    setData(element, 'title', formatTime(message.createdAt));
    if (shownText.get(element) !== message.text) {
      setMessageText(element, message.text);
      shownText.set(element, message.text);
    }
  }

  /** The greeting is the first agent bubble; not a real message, so it has its own hook. */
  function setGreeting(text) {
    // Re-creating an unchanged greeting would make screen readers announce it again.
    if (greeting ? shownText.get(greeting) === text : !text) return;
    if (greeting) greeting.remove();
    greeting = text
      ? h('div', { class: 'm', 'data-ca': 'greeting', 'data-role': 'agent', 'data-state': 'sent' })
      : null;
    if (greeting) {
      setMessageText(greeting, text);
      shownText.set(greeting, text);
      container.prepend(greeting);
    }
  }

  function render(messages) {
    const wanted = greeting ? [greeting] : [];
    const keys = new Set();
    for (const message of messages) {
      const key = messageKey(message);
      keys.add(key);
      let element = elements.get(key);
      if (!element) {
        element = h('div', { class: 'm', 'data-ca': 'message' });
        elements.set(key, element);
      }
      updateElement(element, message);
      wanted.push(element);
    }
    for (const [key, element] of elements) {
      if (!keys.has(key)) {
        element.remove();
        elements.delete(key);
      }
    }
    // Move only what is out of place; untouched nodes are not re-announced.
    wanted.forEach((element, index) => {
      const current = container.children[index];
      if (current !== element) container.insertBefore(element, current || null);
    });
  }

  return { render, setGreeting };
}
