// The visitor's session over HTTP: created on demand (retrying network failures, rate
// limits and server errors), renewed before it expires (the refresh endpoint first, a new
// session if that fails), and dropped on identify() or logout(). The conversation the
// session answer carries is the chat's business (chat.js gets it through `onSession`).

import { isRetryable, sessionCreate, sessionRefresh, WidgetError } from './http.js';
import { reconnectDelay } from './backoff.js';
import { identityOwner } from './identity.js';

const RENEW_BEFORE_EXPIRY_MS = 60000;
const MIN_RENEW_DELAY_MS = 10000;
const MAX_TIMER_MS = 2147483647;

/**
 * @param identity   the visitor's identity fields (pickIdentity), replaced with setIdentity()
 * @param onSession  (data, gen) a session answer was applied: its tokens are in use and the
 *                   visitor's credentials stored; `gen` tells a later answer from this one
 * @param onFatal    (error) the platform refused the session for good
 */
export function createSession({ base, agentId, identity, store, page, fetchImpl, timers, random, now, onSession, onFatal }) {
  let session = null; // {token, refreshToken, expiresAt}
  let generation = 0; // bumps on every new session request; stale answers are dropped
  let attempt = 0;
  let renewTimer = null;
  let retryTimer = null;
  let started = false; // a session was asked for: the visitor showed intent or has something to restore

  /** Requests a session; resolves true once it is applied, false if it failed or went stale. */
  function request() {
    const gen = ++generation;
    return oneVisitorAtATime(() =>
      sessionCreate({ base, fetchImpl, body: sessionBody() }).then(
        (data) => {
          if (gen !== generation) return false;
          if (typeof data.token !== 'string') throw new WidgetError('bad_response', 'The session has no token.');
          apply(data, gen);
          return true;
        },
        (error) => {
          if (gen !== generation) return false;
          throw error;
        },
      ),
    );
  }

  function sessionBody() {
    const body = { agentId, url: page.href, referrer: page.referrer, ...identity };
    // The id alone is public (staff see it); the secret kept with it proves this browser
    // is that visitor. A bare id stored by an older widget proves nothing, so it is not sent.
    const visitor = store.read('visitor');
    if (visitor && visitor.id && visitor.secret) {
      body.visitorId = visitor.id;
      body.visitorSecret = visitor.secret;
    }
    return body;
  }

  /** A browser's first session mints its visitor, one tab at a time (Web Locks): a tab
   * opened beside it waits, then resumes the visitor the first one stored, instead of
   * becoming a second visitor whose messages the other tab never sees. */
  function oneVisitorAtATime(create) {
    const locks = globalThis.navigator && globalThis.navigator.locks;
    const stored = store.read('visitor');
    if (!locks || (stored && stored.id && stored.secret)) return create();
    return locks.request(`customeragent-visitor-${agentId}`, create);
  }

  /** Gets a session, retrying network failures, rate limits and server errors. */
  function open() {
    started = true;
    timers.clearTimeout(retryTimer);
    return request().catch((error) => {
      if (!isRetryable(error)) return onFatal(error);
      const delay = error.retryAfter ? error.retryAfter * 1000 : reconnectDelay(attempt++, { random });
      retryTimer = timers.setTimeout(open, delay);
    });
  }

  /** New tokens before the old ones expire: the refresh endpoint first, a new session if that fails. */
  function renew() {
    const gen = generation;
    const refreshToken = session && session.refreshToken;
    const refreshed = refreshToken
      ? sessionRefresh({ base, fetchImpl, refreshToken }).then((data) => {
          if (typeof data.token !== 'string') throw new Error('no token in refresh answer');
          if (gen === generation) adoptTokens(data);
        })
      : Promise.reject(new Error('no refresh token'));
    return refreshed.catch(() =>
      request().then((applied) => {
        if (!applied) throw new Error('session superseded');
      }),
    );
  }

  function adoptTokens(data) {
    session = { token: data.token, refreshToken: data.refreshToken || null, expiresAt: data.expiresAt };
    timers.clearTimeout(renewTimer);
    const expiresAt = Date.parse(data.expiresAt);
    if (Number.isNaN(expiresAt)) return; // then a 4401 close will tell us when to renew
    const delay = Math.min(MAX_TIMER_MS, Math.max(MIN_RENEW_DELAY_MS, expiresAt - now() - RENEW_BEFORE_EXPIRY_MS));
    renewTimer = timers.setTimeout(() => renew().catch(() => {}), delay);
  }

  function apply(data, gen) {
    adoptTokens(data);
    attempt = 0;
    // Written together, so another tab never pairs one visitor's id with another's secret.
    if (data.visitorId && data.visitorSecret) store.write('visitor', { id: String(data.visitorId), secret: String(data.visitorSecret) });
    store.write('who', data.customer && data.customer.id != null ? String(data.customer.id) : identityOwner(identity) || null);
    onSession(data, gen);
  }

  return {
    open,
    renew,
    /** Forgets the session and any renewal or retry under way (not `started`). */
    reset() {
      timers.clearTimeout(renewTimer);
      timers.clearTimeout(retryTimer);
      session = null;
      attempt = 0;
    },
    setIdentity(next) {
      identity = next;
    },
    active: () => !!session,
    token: () => (session ? session.token : null),
    /** True while no newer session was asked for than the one that answered with `gen`. */
    isCurrent: (gen) => gen === generation,
    started: () => started,
  };
}
