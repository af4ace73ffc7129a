// The chat panel: header, message list, typing dots, composer, footer. It knows nothing
// about sessions or sockets; index.js feeds it state and receives the visitor's input.

import { MESSAGE_MAX_CHARS } from '../../protocol.js';
import { starterPrompts } from '../csat.js';
import { csatPrompt, csatThanks } from './csat.js';
import { h, icon, ICONS } from './dom.js';
import { createMessageList } from './message-list.js';

export const PANEL_ID = 'ca-panel';
const NEAR_BOTTOM_PX = 80;
const ERROR_VISIBLE_MS = 8000;
const SAFE_IMAGE_URL = /^https:\/\//i;
const FOCUSABLE = 'button:not([disabled]),a[href],textarea,input,[tabindex]:not([tabindex="-1"])';

/**
 * @param strings   {lang, dir, t} from strings.js
 * @param onSend    (text) => clientId | null; the input is cleared when it is accepted
 * @param onTyping  () => void, on each keystroke
 * @param onClose   () => void, close button or Escape
 * @param onRate    (score, comment) => boolean, the visitor rated the resolved conversation
 */
export function createPanel({ strings, onSend, onTyping, onClose, onRate = () => false }) {
  const { t } = strings;
  const name = h('div', { class: 'nm' });
  const status = h('div', { class: 'st', 'data-ca': 'status' });
  const avatar = h('div', { class: 'av', 'aria-hidden': 'true' });
  const closeButton = h('button', { type: 'button', class: 'x', 'aria-label': t('close'), 'data-ca': 'close' }, [icon(ICONS.close)]);
  const error = h('div', { class: 'err', role: 'alert', 'data-ca': 'error', hidden: true });
  const list = h('div', { class: 'list', role: 'log', 'aria-live': 'polite', 'data-ca': 'messages' });
  const typing = h('div', { class: 'ty', role: 'status', 'aria-label': t('typing'), 'data-ca': 'typing', hidden: true }, [
    h('span'),
    h('span'),
    h('span'),
  ]);
  const input = h('textarea', {
    rows: 1,
    maxlength: MESSAGE_MAX_CHARS,
    placeholder: t('placeholder'),
    'aria-label': t('inputLabel'),
    'data-ca': 'input',
  });
  const sendButton = h('button', { type: 'submit', class: 'sd', 'aria-label': t('send'), 'data-ca': 'send', disabled: true }, [
    icon(ICONS.send),
  ]);
  const composer = h('form', { class: 'cp' }, [input, sendButton]);
  const footer = h('div', { class: 'ft', 'data-ca': 'powered-by' }, [t('poweredBy')]);
  const panel = h(
    'div',
    { id: PANEL_ID, class: 'p', role: 'dialog', 'aria-modal': 'true', lang: strings.lang, dir: strings.dir, 'data-ca': 'panel', hidden: true },
    [h('div', { class: 'hd' }, [avatar, h('div', { class: 'ti' }, [name, status]), closeButton]), error, list, typing, composer, footer],
  );
  // Speaks for the panel while it is closed (inside it, the list itself is the live region).
  const announcer = h('div', { class: 'sr', role: 'status', 'aria-live': 'polite', 'data-ca': 'announcer' });
  const messages = createMessageList(list, { onChoose: (text) => onSend(text) });
  let errorTimer = null;
  let title = '';
  let shownCsat = ''; // `${conversationId} ${phase}` of the rating element shown

  const nearBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM_PX;
  const scrollToEnd = () => {
    list.scrollTop = list.scrollHeight;
  };

  function fitInput() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
    sendButton.disabled = !input.value.trim();
  }

  function submit() {
    if (onSend(input.value)) {
      input.value = '';
      fitInput();
    }
  }

  /** Tab and Shift+Tab cycle inside the open dialog. */
  function trapFocus(event) {
    const focusable = [...panel.querySelectorAll(FOCUSABLE)].filter((el) => el.getClientRects().length);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const active = panel.getRootNode().activeElement;
    if (event.shiftKey ? active === first || !panel.contains(active) : active === last) {
      event.preventDefault();
      (event.shiftKey ? last : first).focus();
    }
  }

  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener('keydown', (event) => {
    // Enter sends, Shift+Enter is a newline; never interrupt an IME composition.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener('input', () => {
    fitInput();
    if (input.value) onTyping();
  });
  closeButton.addEventListener('click', onClose);
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') onClose();
    else if (event.key === 'Tab') trapFocus(event);
  });

  function setAvatar(config) {
    avatar.textContent = '';
    const initial = () => (avatar.textContent = title.charAt(0).toUpperCase());
    const url = typeof config.avatarUrl === 'string' && SAFE_IMAGE_URL.test(config.avatarUrl) ? config.avatarUrl : null;
    if (url) {
      const image = h('img', { src: url, alt: '', width: 36, height: 36 });
      image.addEventListener('error', initial);
      avatar.append(image);
    } else initial();
  }

  return {
    element: panel,
    announcer,
    isOpen: () => !panel.hidden,
    show() {
      panel.hidden = false;
      scrollToEnd();
    },
    hide() {
      panel.hidden = true;
    },
    focusInput: () => input.focus(),
    contains: (node) => panel.contains(node),
    setConfig(config) {
      title = typeof config.name === 'string' && config.name.trim() ? config.name.trim() : t('defaultName');
      name.textContent = title;
      panel.setAttribute('aria-label', t('chatWith', { name: title }));
      setAvatar(config);
      messages.setGreeting(typeof config.greeting === 'string' ? config.greeting : '');
      messages.setStarters(starterPrompts(config));
      footer.hidden = Array.isArray(config.features) && config.features.includes('white_label');
    },
    setGreeting: (text) => messages.setGreeting(text),
    renderMessages(list, { follow = false } = {}) {
      const stick = follow || nearBottom();
      messages.render(list);
      if (stick) scrollToEnd();
    },
    /** Announces a new agent message to screen readers while the panel is closed. */
    announce(message) {
      if (panel.hidden) announcer.textContent = t('newMessage', { name: title, text: message.text || '' });
    },
    /** The rating prompt (or thanks) after the last message; null removes it. */
    setCsat(csat) {
      const key = csat ? `${csat.conversationId} ${csat.phase}` : '';
      if (key === shownCsat) return;
      shownCsat = key;
      const stick = nearBottom();
      messages.setTail(!csat ? null : csat.phase === 'thanks' ? csatThanks(t) : csatPrompt(t, onRate));
      if (stick) scrollToEnd();
    },
    setTyping(visible) {
      const stick = nearBottom();
      typing.hidden = !visible;
      if (stick) scrollToEnd();
    },
    setStatus(text) {
      status.textContent = text;
    },
    /** Shows an error; a fatal one stays, others fade after a few seconds. */
    showError(message, { fatal = false } = {}) {
      clearTimeout(errorTimer);
      error.textContent = message;
      error.hidden = !message;
      if (message && !fatal) errorTimer = setTimeout(() => (error.hidden = true), ERROR_VISIBLE_MS);
    },
  };
}
