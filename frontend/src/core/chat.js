// The conversation, without any DOM: createChat wires the session (session.js), the
// websocket (socket.js), the conversation's rules (conversation.js, a reducer), its
// history (history.js), the outbox, typing (typing.js) and the rating (csat.js).
// Everything it needs from the browser is passed in, so tests can drive it with fakes.
// The UI learns about changes through `onEvent(type, payload)`:
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

import { MESSAGE_MAX_CHARS } from '../protocol.js';
import { adoptConversation, addPending, emptyConversation, forgetConversation, mergeServerMessages, reduce } from './conversation.js';
import { csatRate, rememberCsat } from './csat.js';
import { fetchHistory, restoreHistory, saveHistory } from './history.js';
import { isSomeoneElse, pickIdentity } from './identity.js';
import { lastConfirmedId } from './messages.js';
import { createOutbox } from './outbox.js';
import { createSession } from './session.js';
import { createConnection } from './socket.js';
import { createTyping } from './typing.js';

// What other tabs of the site are told about (and apply as if their own socket had it).
const SHARED_FRAMES = ['message.ack', 'message', 'message.delta', 'typing', 'conversation.status', 'csat.ack', 'greeting'];

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
  // Another customer's history must not be painted, even for a moment.
  if (isSomeoneElse(store.read('who'), pickIdentity(initialIdentity))) store.clear();
  let wantsLive = false;

  // Paint from the last visit immediately; the server's answer reconciles it. The reducer's
  // state is this object, updated in place: `chat.state` stays the same object.
  const state = { ...emptyConversation(restoreHistory(store, outbox.list())), fatal: null };
  // What a frame may concern in the browser, read only if the reducer looks.
  const seen = {
    get outbox() {
      return outbox.list();
    },
    get rated() {
      return store.read('csat');
    },
  };

  const session = createSession({
    base,
    agentId,
    identity: pickIdentity(initialIdentity),
    store,
    page,
    fetchImpl,
    timers,
    random,
    now,
    onSession: applySession,
    onFatal: fail,
  });

  const connection = createConnection({
    url: `${base.replace(/^http/, 'ws')}/ws/widget/`,
    getToken: session.token,
    renewToken: session.renew,
    onFrame(frame) {
      // A bug here must not surface in the host page as an uncaught error.
      try {
        if (SHARED_FRAMES.includes(frame.type)) onEvent('frame', frame);
        run(reduce(state, frame, seen));
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

  const typing = createTyping({ send: connection.send, onAgentTyping: (on) => onEvent('typing', on), timers, now });

  /** Adopts a reducer's new state, then carries out its effects in order. */
  function run({ state: next, effects }, gen) {
    Object.assign(state, next);
    for (const effect of effects) {
      if (effect.type === 'emit') onEvent(effect.event, effect.payload);
      else if (effect.type === 'send') connection.send(effect.frame);
      else if (effect.type === 'persist') saveHistory(store, state);
      else if (effect.type === 'delivered') outbox.remove(effect.clientId);
      else if (effect.type === 'rated') store.write('csat', rememberCsat(store.read('csat'), effect.conversationId));
      else if (effect.type === 'agentTyping') typing.agent(effect.typing);
      else if (effect.type === 'fetchHistory') loadHistory(gen);
    }
  }

  function applySession(data, gen) {
    state.fatal = null;
    state.config = data.config && typeof data.config === 'object' ? data.config : {};
    run(adoptConversation(state, data.conversation, seen), gen);
    onEvent('session', {
      config: state.config,
      variants: data.variants || {},
      customer: data.customer || null,
      visitorId: data.visitorId || null,
      conversationId: state.conversationId,
    });
    connectIfNeeded();
  }

  function loadHistory(gen) {
    fetchHistory({
      base,
      fetchImpl,
      after: lastConfirmedId(state.messages),
      token: session.token,
      conversationId: () => state.conversationId,
      isCurrent: () => session.isCurrent(gen),
      onPage: (messages) => run(mergeServerMessages(state, messages, seen)),
    });
  }

  function connectIfNeeded() {
    // A socket per page view is costly for the platform, so connect only when there is a
    // conversation to follow, something to deliver, or the visitor opened the panel.
    if (session.active() && !state.fatal && (wantsLive || state.conversationId || outbox.list().length)) connection.start();
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
    if (body.length > MESSAGE_MAX_CHARS) {
      onEvent('error', { code: 'message_too_long', message: `Messages are limited to ${MESSAGE_MAX_CHARS} characters.`, fatal: false });
      return null;
    }
    const entry = { clientId: newId(), text: body, createdAt: new Date(now()).toISOString() };
    outbox.add(entry); // persisted before any attempt: nothing typed is lost
    run(addPending(state, entry));
    onEvent('sent', entry);
    typing.stop();
    // Not live yet: the entry goes out with the outbox flush after session.ready.
    if (!connection.send({ type: 'message.send', clientId: entry.clientId, text: body })) wake();
    return entry.clientId;
  }

  function forgetLocal() {
    store.clear();
    run(forgetConversation(state));
  }

  /** The session, once: on intent, or for something to restore. Until then the widget asks
   * the platform for nothing. */
  function wake() {
    if (!session.started()) return session.open();
    connectIfNeeded();
    connection.reconnectNow(); // someone is here: no reason to sit out a reconnect wait
    return Promise.resolve();
  }

  function resetSession() {
    connection.stop();
    session.reset();
    state.fatal = null;
  }

  return {
    state,
    start: session.open,
    wake,
    /** A conversation (or its messages, kept from an earlier page view) or an unsent
     * message to bring back: the session is needed at once. */
    hasWork: () => !!state.conversationId || state.messages.length > 0 || outbox.list().length > 0,
    send,
    /** Rates the resolved conversation; false if score or comment is invalid. Sent now or on the next session.ready. */
    rate(score, comment) {
      const rated = csatRate(state, score, comment);
      if (rated) run(rated);
      return !!rated;
    },
    typing: typing.visitor,
    /** The panel is open: the visitor may talk, so be live. */
    goLive() {
      wantsLive = true;
      wake();
    },
    reconnectNow: () => connection.reconnectNow(),
    /** A frame another tab's websocket received. */
    receive(frame) {
      if (frame && SHARED_FRAMES.includes(frame.type)) run(reduce(state, frame, seen));
    },
    /** A message the visitor wrote in another tab; that tab sends it. */
    showPending(entry) {
      if (entry && entry.clientId && typeof entry.text === 'string') run(addPending(state, entry));
    },
    /** A new session for the given customer. The same person keeps the browser's visitor
     * id, so their anonymous conversation joins them; another person starts afresh. */
    identify(next) {
      const wasStarted = session.started();
      resetSession();
      if (isSomeoneElse(store.read('who'), pickIdentity(next))) forgetLocal();
      session.setIdentity(pickIdentity(next));
      // Before any intent the identity waits for the session the visitor's intent starts.
      return wasStarted ? session.open() : Promise.resolve();
    },
    /** Forgets everything stored for this agent and starts over as a new anonymous visitor. */
    logout() {
      const wasStarted = session.started();
      resetSession();
      forgetLocal();
      session.setIdentity({});
      return wasStarted ? session.open() : Promise.resolve();
    },
    token: session.token,
  };
}
