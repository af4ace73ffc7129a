// The inbox's staff websocket (/ws/inbox/, frames: docs/inbox.md) and the ids of the
// replies and notes sent over it. The socket is kept open: it comes back after a drop with
// the widget's backoff (src/core/backoff.js), so the inboxes of a restarted web process do
// not all return in the same instant, and gives up when the server refuses the member
// (4401, 4403).

import { CLOSE_FORBIDDEN, CLOSE_RATE_LIMITED, CLOSE_UNAUTHORIZED } from '../protocol.js';
import { RATE_LIMITED_MIN_DELAY_MS, reconnectDelay } from '../core/backoff.js';

/** A reply's or a note's id, its retry key: STAFF_CLIENT_ID_PATTERN (src/protocol.js) allows it. */
export function newClientId(win = window) {
  if (win.crypto && typeof win.crypto.randomUUID === 'function') return win.crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/** The wait before reconnect number `attempt`; 4429 asks for fewer attempts, not faster ones. */
export function inboxReconnectDelay(attempt, rateLimited, random = Math.random) {
  const delay = reconnectDelay(attempt, { random });
  return rateLimited ? Math.max(RATE_LIMITED_MIN_DELAY_MS, delay) : delay;
}

/**
 * @param url       the socket's ws(s):// URL
 * @param onFrame   every frame that parses to an object
 * @param onStatus  'reconnecting' | 'refused' (for good: sign in again)
 */
export function connectInbox({ url, onFrame, onStatus }) {
  let socket = null;
  let retries = 0;

  function connect() {
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener('message', (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!frame || typeof frame !== 'object') return;
      // Only now is the inbox back (an accepted socket may still be refused): the backoff
      // starts afresh.
      if (frame.type === 'inbox.ready') retries = 0;
      onFrame(frame);
    });
    ws.addEventListener('close', (event) => {
      socket = null;
      if (event.code === CLOSE_UNAUTHORIZED || event.code === CLOSE_FORBIDDEN) {
        onStatus('refused');
        return;
      }
      onStatus('reconnecting');
      window.setTimeout(connect, inboxReconnectDelay(retries++, event.code === CLOSE_RATE_LIMITED));
    });
  }

  connect();
  return {
    /** Sends a frame if the socket is open; false means it was not sent. */
    transmit(frame) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(frame));
      return true;
    },
  };
}
