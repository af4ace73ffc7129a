// Analytics events for POST /api/v2/widget/events. Events are batched for a moment and
// sent with sendBeacon where possible, so they survive the visitor leaving the page.
// Analytics must never disturb the chat: failures are ignored.
//
// Every event carries a random id: the server stores each id once, so a batch the browser
// sends twice is counted once. The 'load' event carries the widget's load time: `ms`, from
// navigation start until the loader script (which draws the launcher) had arrived, and
// `readyMs`, until the core was ready (both from the Performance API, when it has them).
import { newClientId } from './ids.js';

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

const LOADER_NAME = /\/widget\.js(?:[?#]|$)/;

/** Milliseconds since navigation start: to the loader's arrival, and to now. */
export function loadTiming(perf = globalThis.performance) {
  const timing = {};
  try {
    const loader = perf.getEntriesByType('resource').find((entry) => LOADER_NAME.test(entry.name));
    if (loader && loader.responseEnd > 0) timing.ms = Math.round(loader.responseEnd);
    timing.readyMs = Math.round(perf.now());
  } catch (error) {
    // no Performance API: the event goes without timings
  }
  return timing;
}

/**
 * @param getToken   the session token; events wait until there is one
 * @param transport  (url, body) => void, posts a text/plain body
 */
export function createTracker({ base, getToken, transport, timers = globalThis, now = Date.now, newId = newClientId, timing = loadTiming }) {
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
    const details = type === 'load' ? { ...timing(), ...safeMetadata(metadata) } : safeMetadata(metadata);
    pending.push({ id: newId(), type, ts: new Date(now()).toISOString(), metadata: details });
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
