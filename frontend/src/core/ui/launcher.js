// The core's take-over of the launcher the loader drew: open/closed state, the close icon
// and the unread badge. The click handler stays the loader's (it routes to toggle()).

import { h, icon, ICONS } from './dom.js';

export function enhanceLauncher(launcher, panelId) {
  launcher.setAttribute('aria-controls', panelId);
  launcher.setAttribute('aria-expanded', 'false');
  const badge = h('span', { class: 'bd', 'data-ca': 'unread', 'aria-hidden': 'true', hidden: true });
  launcher.append(icon(ICONS.chevron, 'ic-x'), badge);

  return {
    setOpen(open) {
      launcher.setAttribute('aria-expanded', String(open));
    },
    setUnread(count) {
      badge.hidden = !count;
      badge.textContent = count > 9 ? '9+' : String(count);
    },
    setLeft(left) {
      launcher.classList.toggle('left', left);
    },
    /** The closed-state icon (the loader drew the chat bubble). */
    setIcon(path) {
      launcher.querySelector('path').setAttribute('d', path);
    },
  };
}
