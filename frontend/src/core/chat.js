// The conversation, without any DOM: session lifecycle, websocket frames, the outbox and
// the message list. Everything it needs from the browser is passed in, so tests can drive
// it with fakes. The UI learns about changes through `onEvent(type, payload)`:
//   'session'  {config, variants, customer, visitorId, conversationId}  a session was created
//   'messages' {messages, fresh}   the list changed; `fresh` are live messages seen for the first time
//   'status'   'connecting' | 'online' | 'offline' | 'stopped' | 'idle'
//   'typing'   boolean, the agent is typing
//   'error'    {code, message, fatal}
//   'frame'    a message, ack, delta or typing frame this tab's websocket received (for other tabs)
//   'sent'     {clientId, text, createdAt}, a message the visitor wrote in this tab (for other tabs)
//   'csat'     null | {conversationId, phase: 'prompt' | 'thanks'}  the rating prompt to show
//   'rated'    {conversationId, score}  the server acknowledged this tab's rating
//   'greeting' string, a personalized greeting that replaces the config's (verified customers)

import { historyFetch, isRetryable, sessionCreate, sessionRefresh, WidgetError } from './http.js';
import { reconnectDelay } from './backoff.js';
import { createOutbox } from './outbox.js';
import { createConnection } from './socket.js';
import { csatFrame, rememberCsat } from './csat.js';
import { identityOwner, isSomeoneElse, pickIdentity } from './identity.js';
import {
  applyDelta,
  lastConfirmedId,
  mergeMessages,
  normalizeMessage,
  pendingMessages,
  publicMessage,
  storableMessages,
  upsertMessage,
} from './messages.js';

export const MAX_MESSAGE_LENGTH = 4000;
const RENEW_BEFORE_EXPIRY_MS = 60000;
const MIN_RENEW_DELAY_MS = 10000;
const MAX_TIMER_MS = 2147483647;
const HISTORY_MAX_PAGES = 20;
// If the "stopped typing" frame is lost, the dots must not stay forever.
const AGENT_TYPING_TIMEOUT_MS = 20000;
const TYPING_THROTTLE_MS = 3000;
const TYPING_IDLE_MS = 4000;

export function createChat({
  base,
  agentId,
  identity: initialIdentity,
  store,
  page, // {href, referrer}
  fetchImpl,
  WebSocketImpl,
  timers = globalThis,
  random = Math.random,
  now = Date.now,
  newId,
  onEvent = () => {},
}) {
  const outbox = createOutbox(store);
  let identity = pickIdentity(initialIdentity);
  // Another customer's history must not be painted, even for a moment.
  if (isSomeoneElse(store.read('who'), identity)) store.clear();
  let session = null; // {token, refreshToken, expiresAt}
  let generation = 0; // bumps on every new session request; stale answers are dropped
  let sessionAttempt = 0;
  let renewTimer = null;
  let retryTimer = null;
  let agentTypingTimer = null;
  let visitorTypingTimer = null;
  let visitorTypingSentAt = 0;
  let wantsLive = false;
  let started = false; // a session was asked for: the visitor showed intent or has something to restore
  let pendingCsat = null; // the csat frame sent (or to send on the next session.ready) until acked
  const announced = new Set(); // ids already given to 'message' handlers

  // Paint from the last visit immediately; the server's answer reconciles it.
  const cached = store.read('history') || {};
  const state = {
    conversationId: cached.conversationId || null,
    messages: mergeMessages(pendingMessages(outbox.list()), cached.messages),
    config: null,
    fatal: null,
    csat: null, // {conversationId, phase}
  };

  const connection = createConnection({
    url: `${base.replace(/^http/, 'ws')}/ws/widget/`,
    getToken: () => session && session.token,
    renewToken: renew,
    onFrame(frame) {
      // A bug here must not surface in the host page as an uncaught error.
      try {
        handleFrame(frame);
      } catch (error) {
        onEvent('error', { code: 'internal', message: String(error), fatal: false });
      }
    },
    onStatus: (status) => onEvent('status', status),
    onFatal: fail,
    WebSocketImpl,
    timers,
    random,
  });

  // ---- session ----------------------------------------------------------------------

  /** Requests a session; resolves true once it is applied, false if it failed or went stale. */
  function requestSession() {
    const gen = ++generation;
    const body = { agentId, url: page.href, referrer: page.referrer, ...identity };
    // The id alone is public (staff see it); the secret kept with it proves this browser
    // is that visitor. A bare id stored by an older widget proves nothing, so it is not sent.
    const visitor = store.read('visitor');
    if (visitor && visitor.id && visitor.secret) {
      body.visitorId = visitor.id;
      body.visitorSecret = visitor.secret;
    }
    return sessionCreate({ base, fetchImpl, body }).then(
      (data) => {
        if (gen !== generation) return false;
        if (typeof data.token !== 'string') throw new WidgetError('bad_response', 'The session has no token.');
        applySession(data, gen);
        return true;
      },
      (error) => {
        if (gen !== generation) return false;
        throw error;
      },
    );
  }

  /** Gets a session, retrying network failures, rate limits and server errors. */
  function openSession() {
    started = true;
    timers.clearTimeout(retryTimer);
    return requestSession().catch((error) => {
      if (!isRetryable(error)) return fail(error);
      const delay = error.retryAfter ? error.retryAfter * 1000 : reconnectDelay(sessionAttempt++, { random });
      retryTimer = timers.setTimeout(openSession, delay);
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
      requestSession().then((applied) => {
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

  function applySession(data, gen) {
    adoptTokens(data);
    sessionAttempt = 0;
    state.fatal = null;
    // Written together, so another tab never pairs one visitor's id with another's secret.
    if (data.visitorId && data.visitorSecret) store.write('visitor', { id: String(data.visitorId), secret: String(data.visitorSecret) });
    store.write('who', data.customer && data.customer.id != null ? String(data.customer.id) : identityOwner(identity) || null);
    state.config = data.config && typeof data.config === 'object' ? data.config : {};
    reconcileConversation(data.conversation, gen);
    onEvent('session', {
      config: state.config,
      variants: data.variants || {},
      customer: data.customer || null,
      visitorId: data.visitorId || null,
      conversationId: state.conversationId,
    });
    connectIfNeeded();
  }

  /** Brings the list in line with the server's view of the visitor's conversation. */
  function reconcileConversation(conversation, gen) {
    const id = conversation && conversation.id != null ? String(conversation.id) : null;
    // A different (or no) conversation: what we showed belongs to someone else or is gone.
    // Pending messages stay; they will start or join whatever conversation the server has.
    if (id !== state.conversationId && (state.conversationId || !id)) {
      state.messages = state.messages.filter((m) => !m.id);
    }
    state.conversationId = id;
    const serverMessages = conversation && Array.isArray(conversation.messages) ? conversation.messages : [];
    mergeIn(serverMessages, false);
    if (id && !serverMessages.length) loadHistory(gen);
  }

  async function loadHistory(gen) {
    let after = lastConfirmedId(state.messages);
    for (let page = 0; page < HISTORY_MAX_PAGES; page++) {
      if (gen !== generation || !session) return;
      let result;
      try {
        result = await historyFetch({ base, fetchImpl, token: session.token, conversationId: state.conversationId, after });
      } catch (error) {
        return; // the websocket's sync will fill the gap
      }
      if (gen !== generation) return;
      mergeIn(result.messages, false);
      const last = normalizeMessage(result.messages[result.messages.length - 1]);
      if (!result.hasMore || !last || !last.id) return;
      after = last.id;
    }
  }

  // ---- the message list ---------------------------------------------------------------

  function persist() {
    const messages = storableMessages(state.messages);
    store.write('history', state.conversationId || messages.length ? { conversationId: state.conversationId, messages } : null);
    store.write('conversation', state.conversationId);
  }

  /** Merges server messages; `live` ones seen for the first time are announced. */
  function mergeIn(raws, live) {
    const fresh = [];
    let list = state.messages;
    for (const raw of raws) {
      const message = normalizeMessage(raw);
      if (!message) continue;
      const before = message.id && list.find((m) => m.id === message.id);
      list = upsertMessage(list, message);
      // Announce a message when it is first complete on screen: not when a sync replays
      // what history already showed, and not chunk by chunk while it streams.
      if (live && message.id && !(before && !before.streaming) && !announced.has(message.id)) {
        announced.add(message.id);
        const shown = list.find((m) => m.id === message.id);
        if (shown) fresh.push(publicMessage(shown));
      }
    }
    // Whatever the server shows as stored has been delivered, ack or no ack.
    const delivered = new Set(list.filter((m) => m.id && m.clientId).map((m) => m.clientId));
    for (const entry of outbox.list()) {
      if (delivered.has(entry.clientId)) outbox.remove(entry.clientId);
    }
    state.messages = list;
    persist();
    onEvent('messages', { messages: list, fresh });
  }

  function setAgentTyping(typing) {
    timers.clearTimeout(agentTypingTimer);
    if (typing) agentTypingTimer = timers.setTimeout(() => setAgentTyping(false), AGENT_TYPING_TIMEOUT_MS);
    onEvent('typing', typing);
  }

  // ---- the websocket ----------------------------------------------------------------------

  function connectIfNeeded() {
    // A socket per page view is costly for the platform, so connect only when there is a
    // conversation to follow, something to deliver, or the visitor opened the panel.
    if (session && !state.fatal && (wantsLive || state.conversationId || outbox.list().length)) connection.start();
  }

  const SHARED_FRAMES = ['message.ack', 'message', 'message.delta', 'typing', 'conversation.status', 'csat.ack', 'greeting'];

  function handleFrame(frame) {
    if (SHARED_FRAMES.includes(frame.type)) onEvent('frame', frame);
    return applyFrame(frame);
  }

  function applyFrame(frame) {
    switch (frame.type) {
      case 'session.ready':
        return onReady(frame);
      case 'message.ack': {
        const entry = outbox.get(frame.clientId);
        outbox.remove(frame.clientId);
        return mergeIn([{ id: frame.id, clientId: frame.clientId, createdAt: frame.createdAt, role: 'customer', text: entry ? entry.text : undefined }], true);
      }
      case 'message':
        if (frame.role !== 'customer') setAgentTyping(false);
        return mergeIn([frame], true);
      case 'message.delta':
        setAgentTyping(false);
        state.messages = applyDelta(state.messages, frame);
        return onEvent('messages', { messages: state.messages, fresh: [] });
      case 'typing':
        return setAgentTyping(frame.state === true && frame.role !== 'customer');
      case 'conversation.status':
        return onStatusFrame(frame);
      case 'csat.ack':
        return onCsatAck(String(frame.conversationId || ''));
      case 'greeting':
        return onGreeting(frame);
      case 'error':
        return onEvent('error', { code: String(frame.code || 'error'), message: String(frame.message || ''), fatal: false });
      default:
        return undefined; // frames from a newer server are ignored
    }
  }

  function setCsat(csat) {
    state.csat = csat;
    onEvent('csat', csat);
  }

  function onStatusFrame(frame) {
    const id = frame.conversationId != null ? String(frame.conversationId) : '';
    if (frame.status !== 'resolved' || !id) return;
    // The next visitor message starts a new conversation on the server: forget this one.
    if (state.conversationId === id) {
      state.conversationId = null;
      persist();
    }
    const rated = store.read('csat');
    if ((state.csat && state.csat.conversationId === id) || (Array.isArray(rated) && rated.includes(id))) return;
    pendingCsat = null;
    setCsat({ conversationId: id, phase: 'prompt' });
  }

  /** A greeting computed for this customer after the session began; it replaces the config's. */
  function onGreeting(frame) {
    const text = typeof frame.text === 'string' ? frame.text.trim().slice(0, 500) : '';
    if (!text) return;
    state.config = { ...(state.config || {}), greeting: text };
    onEvent('greeting', text);
  }

  function onCsatAck(id) {
    if (!id) return;
    store.write('csat', rememberCsat(store.read('csat'), id));
    if (pendingCsat && pendingCsat.conversationId === id) {
      onEvent('rated', { conversationId: id, score: pendingCsat.score });
      pendingCsat = null;
    }
    if (state.csat && state.csat.conversationId === id) setCsat({ conversationId: id, phase: 'thanks' });
  }

  function onReady(frame) {
    if (frame.conversationId && !state.conversationId) {
      state.conversationId = String(frame.conversationId);
      persist();
    }
    // A stream cut by the reconnect is replayed whole (by sync or by new deltas), so the
    // partial bubble goes rather than have the chunks appended twice.
    if (state.messages.some((m) => m.streaming)) {
      state.messages = state.messages.filter((m) => !m.streaming);
      onEvent('messages', { messages: state.messages, fresh: [] });
    }
    // Replay what was missed while away. With nothing confirmed on screen but a
    // conversation on the server (its first message was stored, the ack lost with the
    // connection), the latest page brings that message and any answer written meanwhile.
    const after = lastConfirmedId(state.messages);
    if (after) connection.send({ type: 'sync', after });
    else if (frame.conversationId) connection.send({ type: 'sync' });
    // Resend everything unacknowledged with its original clientId; the server deduplicates.
    for (const entry of outbox.list()) {
      connection.send({ type: 'message.send', clientId: entry.clientId, text: entry.text });
    }
    if (pendingCsat) connection.send(pendingCsat);
  }

  function fail(error) {
    state.fatal = { code: error.code || 'error', message: error.message || '' };
    if (connection.isRunning()) connection.stop();
    onEvent('error', { ...state.fatal, fatal: true });
  }

  // ---- what the visitor and the site do ---------------------------------------------------

  /** Queues and sends a visitor message; returns its clientId, or null if it was refused. */
  function send(text) {
    const body = typeof text === 'string' ? text.trim() : '';
    if (!body) return null;
    if (body.length > MAX_MESSAGE_LENGTH) {
      onEvent('error', { code: 'message_too_long', message: `Messages are limited to ${MAX_MESSAGE_LENGTH} characters.`, fatal: false });
      return null;
    }
    const entry = { clientId: newId(), text: body, createdAt: new Date(now()).toISOString() };
    outbox.add(entry); // persisted before any attempt: nothing typed is lost
    showPending(entry);
    onEvent('sent', entry);
    stopTyping();
    // Not live yet: the entry goes out with the outbox flush after session.ready.
    if (!connection.send({ type: 'message.send', clientId: entry.clientId, text: body })) wake();
    return entry.clientId;
  }

  /** Rates the resolved conversation; false if score or comment is invalid. Sent now or on the next session.ready. */
  function rate(score, comment) {
    const frame = state.csat && state.csat.phase === 'prompt' && csatFrame(state.csat.conversationId, score, comment);
    if (!frame) return false;
    pendingCsat = frame;
    connection.send(frame);
    return true;
  }

  function showPending(entry) {
    if (state.csat) setCsat(null); // a new conversation begins: the rating prompt or thanks goes
    state.messages = upsertMessage(state.messages, { ...entry, role: 'customer' });
    onEvent('messages', { messages: state.messages, fresh: [] });
  }

  function typing() {
    if (now() - visitorTypingSentAt > TYPING_THROTTLE_MS && connection.send({ type: 'typing', state: true })) {
      visitorTypingSentAt = now();
    }
    timers.clearTimeout(visitorTypingTimer);
    visitorTypingTimer = timers.setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    timers.clearTimeout(visitorTypingTimer);
    if (visitorTypingSentAt) connection.send({ type: 'typing', state: false });
    visitorTypingSentAt = 0;
  }

  function forgetLocal() {
    store.clear();
    announced.clear();
    state.conversationId = null;
    state.messages = [];
    pendingCsat = null;
    setCsat(null);
    onEvent('messages', { messages: [], fresh: [] });
  }

  /** The session, once: on intent, or for something to restore. Until then the widget asks
   * the platform for nothing. */
  function wake() {
    if (!started) return openSession();
    connectIfNeeded();
    connection.reconnectNow(); // someone is here: no reason to sit out a reconnect wait
    return Promise.resolve();
  }

  function resetSession() {
    connection.stop();
    timers.clearTimeout(renewTimer);
    timers.clearTimeout(retryTimer);
    session = null;
    state.fatal = null;
    sessionAttempt = 0;
  }

  return {
    state,
    start: openSession,
    wake,
    /** A conversation (or its messages, kept from an earlier page view) or an unsent
     * message to bring back: the session is needed at once. */
    hasWork: () => !!state.conversationId || state.messages.length > 0 || outbox.list().length > 0,
    send,
    rate,
    typing,
    /** The panel is open: the visitor may talk, so be live. */
    goLive() {
      wantsLive = true;
      wake();
    },
    reconnectNow: () => connection.reconnectNow(),
    /** A frame another tab's websocket received. */
    receive(frame) {
      if (frame && SHARED_FRAMES.includes(frame.type)) applyFrame(frame);
    },
    /** A message the visitor wrote in another tab; that tab sends it. */
    showPending(entry) {
      if (entry && entry.clientId && typeof entry.text === 'string') showPending(entry);
    },
    /** A new session for the given customer. The same person keeps the browser's visitor
     * id, so their anonymous conversation joins them; another person starts afresh. */
    identify(next) {
      const wasStarted = started;
      resetSession();
      if (isSomeoneElse(store.read('who'), pickIdentity(next))) forgetLocal();
      identity = pickIdentity(next);
      // Before any intent the identity waits for the session the visitor's intent starts.
      return wasStarted ? openSession() : Promise.resolve();
    },
    /** Forgets everything stored for this agent and starts over as a new anonymous visitor. */
    logout() {
      const wasStarted = started;
      resetSession();
      forgetLocal();
      identity = {};
      return wasStarted ? openSession() : Promise.resolve();
    },
    token: () => (session ? session.token : null),
  };
}
