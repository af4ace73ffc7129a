// How long to wait before reconnecting.

export const BASE_DELAY_MS = 500;
export const MAX_DELAY_MS = 30000;
// A server that says "rate limited" is asking for fewer attempts, not faster ones.
export const RATE_LIMITED_MIN_DELAY_MS = 15000;
export const RATE_LIMITED_MAX_DELAY_MS = 60000;
// A server that restarts (1012), goes away (1001) or lost its database or Redis (1013)
// drops every socket it holds in the same instant: the first return is spread over this
// window, not over the first backoff step.
export const RESTART_SPREAD_MS = 10000;

/**
 * Delay before retry number `attempt` (0-based): doubling from 0.5 s up to 30 s, with
 * "equal jitter" (half fixed, half random). Jitter keeps thousands of widgets from
 * reconnecting in the same instant after a server restart; the fixed half keeps any retry
 * from being immediate.
 */
export function reconnectDelay(attempt, { base = BASE_DELAY_MS, cap = MAX_DELAY_MS, random = Math.random } = {}) {
  const ceiling = Math.min(cap, base * 2 ** Math.min(Math.max(attempt, 0), 20));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Delay after being rate limited: never under 15 s, up to a minute. */
export function rateLimitedDelay(attempt, { random = Math.random } = {}) {
  const delay = reconnectDelay(attempt, { cap: RATE_LIMITED_MAX_DELAY_MS, random });
  return Math.max(RATE_LIMITED_MIN_DELAY_MS, delay);
}

/** The first wait after the server announced its restart: anywhere from 0.5 s to 10 s. */
export function restartDelay({ random = Math.random } = {}) {
  return Math.round(BASE_DELAY_MS + random() * (RESTART_SPREAD_MS - BASE_DELAY_MS));
}
