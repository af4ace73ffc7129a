// Renders the message array into the list element: a keyed reconcile that reuses each
// message's element, so a pending bubble turns into a sent one in place, streaming text
// grows without flicker, and the screen reader's live region announces only what is new.

import { messageKey } from '../messages.js';
import { h, setMessageText } from './dom.js';
import { LINK_ATTRIBUTES, setMarkdown } from './markdown-dom.js';

const CARD_IMAGE = { width: 240, height: 135 }; // fixed box: no layout shift when it loads

const setData = (element, name, value) => {
  if (value) element.setAttribute(name, value);
  else element.removeAttribute(name);
};

function formatTime(createdAt) {
  const date = new Date(createdAt);
  return Number.isNaN(date.getTime()) ? null : date.toLocaleString();
}

/** Agents and staff write Markdown; visitors' and system text is shown as typed. */
function setText(element, message) {
  const markdown = message.role === 'agent' || message.role === 'staff';
  element.classList.toggle('md', markdown);
  (markdown ? setMarkdown : setMessageText)(element, message.text || '');
}

/**
 * @param container  the list element
 * @param onChoose   (text) => void, a quick reply or card button was chosen
 */
export function createMessageList(container, { onChoose = () => {} } = {}) {
  const elements = new Map(); // messageKey -> element
  const extras = new Map(); // messageKey -> {cards, chips} elements
  const shown = new WeakMap(); // element -> what it displays
  let greeting = null;
  let starters = null; // chips under the greeting while there are no messages
  let tail = null; // the element after the last message (the rating prompt)
  let current = [];

  function choiceButton(choice, className, remove) {
    if (choice.url) return h('a', { class: className, href: choice.url, ...LINK_ATTRIBUTES }, [choice.label]);
    const button = h('button', { type: 'button', class: className }, [choice.label]);
    button.addEventListener('click', () => {
      if (remove) remove();
      onChoose(choice.value || choice.label);
    });
    return button;
  }

  function cardElement(card) {
    const title = card.url ? h('a', { href: card.url, ...LINK_ATTRIBUTES }, [card.title]) : card.title;
    return h('div', { class: 'cd', 'data-ca': 'card' }, [
      card.imageUrl ? h('img', { src: card.imageUrl, alt: '', loading: 'lazy', ...CARD_IMAGE }) : '',
      h('div', { class: 'cdt' }, [title]),
      card.price ? h('div', { class: 'pr' }, [card.price]) : '',
      ...(card.buttons || []).map((button) => choiceButton(button, 'cb')),
    ]);
  }

  function updateElement(element, message) {
    setData(element, 'data-role', message.role);
    setData(element, 'data-id', message.id);
    setData(element, 'data-client-id', message.clientId);
    setData(element, 'data-state', message.streaming ? 'streaming' : message.state);
    setData(element, 'aria-busy', message.streaming ? 'true' : null);
    setData(element, 'title', formatTime(message.createdAt));
    setData(element, 'hidden', !message.text && message.cards ? 'hidden' : null);
    const key = `${message.role}\n${message.text}`;
    if (shown.get(element) !== key) {
      setText(element, message);
      shown.set(element, key);
    }
  }

  /** Cards always; quick replies only under the newest message, until one is chosen. */
  function extrasFor(message, key, isLast) {
    const extra = extras.get(key) || {};
    extras.set(key, extra);
    if (extra.source !== message.cards) {
      extra.source = message.cards;
      extra.cards = message.cards ? h('div', { class: 'cds', 'data-ca': 'cards' }, message.cards.map(cardElement)) : null;
    }
    if (!isLast || !message.quickReplies || extra.chosen) {
      extra.chips = null;
    } else if (!extra.chips) {
      const remove = () => {
        extra.chosen = true;
        if (extra.chips) extra.chips.remove();
        extra.chips = null;
      };
      extra.chips = h('div', { class: 'qr', 'data-ca': 'quick-replies' }, message.quickReplies.map((c) => choiceButton(c, 'q', remove)));
    }
    return [extra.cards, extra.chips].filter(Boolean);
  }

  /** The greeting is the first agent bubble; not a real message, so it has its own hook. */
  function setGreeting(text) {
    // Re-creating an unchanged greeting would make screen readers announce it again.
    if (greeting ? shown.get(greeting) === text : !text) return;
    if (greeting) greeting.remove();
    greeting = text ? h('div', { class: 'm', 'data-ca': 'greeting', 'data-role': 'agent', 'data-state': 'sent', dir: 'auto' }) : null;
    if (greeting) {
      setText(greeting, { role: 'agent', text });
      shown.set(greeting, text);
      container.prepend(greeting);
    }
  }

  /** Starter prompts from the config; choosing one sends it and removes them. */
  function setStarters(prompts) {
    const remove = () => {
      starters.remove();
      starters = null;
    };
    const chip = (text) => {
      const button = choiceButton({ label: text }, 'q', remove);
      button.setAttribute('data-ca', 'starter');
      return button;
    };
    starters = prompts.length ? h('div', { class: 'qr', 'data-ca': 'starters' }, prompts.map(chip)) : null;
    render(current);
  }

  function setTail(element) {
    tail = element;
    render(current);
  }

  function render(messages) {
    current = messages;
    const wanted = greeting ? [greeting] : [];
    if (starters && !messages.length) wanted.push(starters);
    const keys = new Set();
    messages.forEach((message, index) => {
      const key = messageKey(message);
      keys.add(key);
      let element = elements.get(key);
      if (!element) {
        element = h('div', { class: 'm', 'data-ca': 'message', dir: 'auto' });
        elements.set(key, element);
      }
      updateElement(element, message);
      wanted.push(element, ...extrasFor(message, key, index === messages.length - 1));
    });
    if (tail) wanted.push(tail);
    for (const [key, element] of elements) {
      if (!keys.has(key)) {
        elements.delete(key);
        extras.delete(key);
      }
    }
    const keep = new Set(wanted);
    for (const child of [...container.children]) if (!keep.has(child)) child.remove();
    // Move only what is out of place; untouched nodes are not re-announced.
    wanted.forEach((element, index) => {
      const current = container.children[index];
      if (current !== element) container.insertBefore(element, current || null);
    });
  }

  return { render, setGreeting, setStarters, setTail };
}
