// Analytics events for POST /api/v2/widget/events. Events are batched for a moment and
// sent with sendBeacon where possible, so they survive the visitor leaving the page.
// Analytics must never disturb the chat: failures are ignored.

const FLUSH_DELAY_MS = 2000;
const BATCH_SIZE = 20;
const MAX_PENDING = 200; // bound memory if a session never comes

/** JSON-safe copy of whatever the site passed as metadata. */
function safeMetadata(metadata) {
  if (metadata == null) return {};
  try {
    const copy = JSON.parse(JSON.stringify(metadata));
    return copy && typeof copy === 'object' ? copy : { value: copy };
  } catch (error) {
    return {}; // circular or otherwise unserialisable
  }
}

/**
 * @param getToken   the session token; events wait until there is one
 * @param transport  (url, body) => void, posts a text/plain body
 */
export function createTracker({ base, getToken, transport, timers = globalThis, now = Date.now }) {
  const url = `${base}/api/v2/widget/events`;
  const pending = [];
  let timer = null;

  function flush() {
    timers.clearTimeout(timer);
    timer = null;
    const token = getToken();
    if (!token) return;
    while (pending.length) {
      const events = pending.splice(0, BATCH_SIZE);
      try {
        transport(url, JSON.stringify({ token, events }));
      } catch (error) {
        // analytics are best effort
      }
    }
  }

  function track(type, metadata) {
    if (typeof type !== 'string' || !type) return;
    if (pending.length >= MAX_PENDING) pending.shift();
    pending.push({ type, ts: new Date(now()).toISOString(), metadata: safeMetadata(metadata) });
    if (!timer) timer = timers.setTimeout(flush, FLUSH_DELAY_MS);
  }

  return { track, flush };
}

/** sendBeacon with a string body posts text/plain, which needs no CORS preflight. */
export function beaconTransport(url, body) {
  if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
  fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit', headers: { 'Content-Type': 'text/plain' } }).catch(
    () => {},
  );
}
