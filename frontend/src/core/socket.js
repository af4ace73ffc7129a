// One widget websocket, kept open: reconnects with backoff, renews the session on 4401,
// gives up on 4403. The token goes in the subprotocol list, never in the URL (URLs end up
// in proxy and server logs).

import {
  AUTH_PREFIX,
  CLOSE_FORBIDDEN,
  CLOSE_RATE_LIMITED,
  CLOSE_RESTARTING,
  CLOSE_TRY_AGAIN, // the server's database or Redis failed: every socket of the process hears it at once
  CLOSE_UNAUTHORIZED,
  SUBPROTOCOL,
} from '../protocol.js';
import { rateLimitedDelay, reconnectDelay, restartDelay } from './backoff.js';

const CLOSE_GOING_AWAY = 1001; // the browser's own (RFC 6455), not the platform's
const OPEN = 1;

/**
 * @param getToken    the current session token
 * @param renewToken  gets a new session; resolves when getToken() returns the new token
 * @param onFrame     every parsed server frame
 * @param onStatus    'connecting' | 'online' | 'offline' | 'stopped' | 'idle'
 * @param onFatal     the server refused us for good (4403)
 */
export function createConnection({
  url,
  getToken,
  renewToken,
  onFrame,
  onStatus = () => {},
  onFatal = () => {},
  WebSocketImpl,
  timers = globalThis,
  random = Math.random,
}) {
  let socket = null;
  let ready = false; // session.ready received on the current socket
  let running = false;
  let attempt = 0;
  let timer = null;

  const cancelTimer = () => {
    if (timer) timers.clearTimeout(timer);
    timer = null;
  };

  function schedule(delay) {
    cancelTimer();
    if (running) timer = timers.setTimeout(open, delay);
  }

  function open() {
    cancelTimer();
    if (!running || socket) return;
    let ws;
    try {
      ws = new WebSocketImpl(url, [SUBPROTOCOL, AUTH_PREFIX + getToken()]);
    } catch (error) {
      schedule(reconnectDelay(attempt++, { random }));
      return;
    }
    socket = ws;
    ready = false;
    onStatus('connecting');
    ws.onmessage = (event) => {
      if (socket !== ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (!frame || typeof frame.type !== 'string') return;
      if (frame.type === 'session.ready') {
        // Reset the backoff only once the server has really let us in, not on TCP open.
        ready = true;
        attempt = 0;
        onStatus('online');
      }
      onFrame(frame);
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      ready = false;
      onStatus('offline');
      closed(event.code);
    };
  }

  function closed(code) {
    if (!running) return;
    if (code === CLOSE_FORBIDDEN) {
      running = false;
      onStatus('stopped');
      onFatal({ code: 'forbidden', message: 'The chat is not available on this site.' });
    } else if (code === CLOSE_UNAUTHORIZED) {
      // The token expired: renew and come straight back, unless that keeps failing.
      const delay = attempt ? reconnectDelay(attempt, { random }) : 0;
      attempt++;
      renewToken().then(
        () => schedule(delay),
        () => schedule(reconnectDelay(attempt++, { random })),
      );
    } else if (code === CLOSE_RATE_LIMITED) {
      schedule(rateLimitedDelay(attempt++, { random }));
    } else if ([CLOSE_RESTARTING, CLOSE_GOING_AWAY, CLOSE_TRY_AGAIN].includes(code) && !attempt) {
      attempt++;
      schedule(restartDelay({ random }));
    } else {
      schedule(reconnectDelay(attempt++, { random }));
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      attempt = 0;
      open();
    },
    stop() {
      running = false;
      cancelTimer();
      const ws = socket;
      socket = null;
      ready = false;
      if (ws) {
        try {
          ws.close(1000);
        } catch (error) {
          // already closing
        }
      }
      onStatus('idle');
    },
    /** The browser is back online, the tab visible again or the visitor wrote: skip the
     * rest of the wait (not a session renewal under way: no timer is set meanwhile). */
    reconnectNow() {
      if (running && !socket && timer) {
        attempt = 0;
        open();
      }
    },
    /** Sends a frame if the session is ready; false means "not sent, try later". */
    send(frame) {
      if (!ready || !socket || socket.readyState !== OPEN) return false;
      socket.send(JSON.stringify(frame));
      return true;
    },
    isRunning: () => running,
    isReady: () => ready,
  };
}
