// The chat panel: header, message list, typing dots, composer, footer. It knows nothing
// about sessions or sockets; index.js feeds it state and receives the visitor's input.

import { MAX_MESSAGE_LENGTH } from '../chat.js';
import { STRINGS } from '../strings.js';
import { h, icon, ICONS } from './dom.js';
import { createMessageList } from './message-list.js';

export const PANEL_ID = 'ca-panel';
const NEAR_BOTTOM_PX = 80;
const ERROR_VISIBLE_MS = 8000;
const SAFE_IMAGE_URL = /^https?:\/\//i;

/**
 * @param onSend    (text) => clientId | null; the input is cleared when it is accepted
 * @param onTyping  () => void, on each keystroke
 * @param onClose   () => void, close button or Escape
 */
export function createPanel({ onSend, onTyping, onClose, locale }) {
  const name = h('div', { class: 'nm' });
  const status = h('div', { class: 'st', 'data-ca': 'status' });
  const avatar = h('div', { class: 'av', 'aria-hidden': 'true' });
  const closeButton = h('button', { type: 'button', class: 'x', 'aria-label': STRINGS.close, 'data-ca': 'close' }, [icon(ICONS.close)]);
  const error = h('div', { class: 'err', role: 'alert', 'data-ca': 'error', hidden: true });
  const list = h('div', { class: 'list', role: 'log', 'aria-live': 'polite', 'data-ca': 'messages' });
  const typing = h('div', { class: 'ty', role: 'status', 'aria-label': STRINGS.typing, 'data-ca': 'typing', hidden: true }, [
    h('span'),
    h('span'),
    h('span'),
  ]);
  const input = h('textarea', {
    rows: 1,
    maxlength: MAX_MESSAGE_LENGTH,
    placeholder: STRINGS.placeholder,
    'aria-label': STRINGS.inputLabel,
    'data-ca': 'input',
  });
  const sendButton = h('button', { type: 'submit', class: 'sd', 'aria-label': STRINGS.send, 'data-ca': 'send', disabled: true }, [
    icon(ICONS.send),
  ]);
  const composer = h('form', { class: 'cp' }, [input, sendButton]);
  const panel = h(
    'div',
    { id: PANEL_ID, class: 'p', role: 'dialog', lang: locale || null, 'data-ca': 'panel', hidden: true },
    [
      h('div', { class: 'hd' }, [avatar, h('div', { class: 'ti' }, [name, status]), closeButton]),
      error,
      list,
      typing,
      composer,
      h('div', { class: 'ft' }, [STRINGS.poweredBy]),
    ],
  );
  const messages = createMessageList(list);
  let errorTimer = null;

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
  });

  function setAvatar(config, title) {
    avatar.textContent = '';
    const url = typeof config.avatarUrl === 'string' && SAFE_IMAGE_URL.test(config.avatarUrl) ? config.avatarUrl : null;
    if (url) {
      const image = h('img', { src: url, alt: '' });
      image.addEventListener('error', () => {
        avatar.textContent = title.charAt(0).toUpperCase();
      });
      avatar.append(image);
    } else {
      avatar.textContent = title.charAt(0).toUpperCase();
    }
  }

  return {
    element: panel,
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
      const title = typeof config.name === 'string' && config.name.trim() ? config.name.trim() : STRINGS.defaultName;
      name.textContent = title;
      panel.setAttribute('aria-label', STRINGS.chatWith(title));
      setAvatar(config, title);
      messages.setGreeting(typeof config.greeting === 'string' ? config.greeting : '');
      panel.classList.toggle('left', config.position === 'bottom-left');
    },
    renderMessages(list, { follow = false } = {}) {
      const stick = follow || nearBottom();
      messages.render(list);
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
