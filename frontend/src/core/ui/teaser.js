// A small bubble next to the launcher showing the greeting, for proactive triggers: less
// intrusive than opening the panel over the page. Clicking it opens the chat.

import { h, icon, ICONS } from './dom.js';

export function createTeaser({ strings, onOpen, onDismiss }) {
  const text = h('button', { type: 'button', class: 'tzt', dir: 'auto' });
  const dismiss = h('button', { type: 'button', class: 'tzx', 'aria-label': strings.t('dismiss') }, [icon(ICONS.close)]);
  const element = h('div', { class: 'tz', 'data-ca': 'teaser', dir: strings.dir, hidden: true }, [text, dismiss]);
  text.addEventListener('click', onOpen);
  dismiss.addEventListener('click', onDismiss);
  return {
    element,
    show(message) {
      text.textContent = message;
      element.hidden = false;
    },
    hide() {
      element.hidden = true;
    },
  };
}
