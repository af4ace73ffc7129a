// The conversation as a reducer: pure functions from a state and an input (a frame of the
// widget socket, the session's conversation, a page of history, a message the visitor
// wrote) to `{state, effects}`. Nothing here touches a socket, storage, a timer or the UI:
// createChat (chat.js) runs the effects, in order, after adopting the new state, so the
// rules are tested with plain objects (test/conversation.test.js).
//
// state   {conversationId, messages, config, csat, pendingCsat, announced}
//           messages    the displayed list (messages.js)
//           csat        null | {conversationId, phase: 'prompt' | 'thanks'} (csat.js)
//           pendingCsat the `csat` frame sent until the server acks it
//           announced   a Set of message ids already given to the 'message' handlers
// seen    what the browser holds that a frame may concern, read when the frame arrives:
//           outbox  the unacknowledged messages [{clientId, text, createdAt}] (outbox.js)
//           rated   the conversation ids already rated (`ca:<agentId>:csat`)
// effects
//   {type: 'emit', event, payload}    an event for createChat's onEvent ('messages', 'csat',
//                                      'rated', 'greeting', 'error')
//   {type: 'send', frame}             a frame for the socket
//   {type: 'persist'}                 store the list and the conversation id (history.js)
//   {type: 'delivered', clientId}     that outbox entry reached the server
//   {type: 'rated', conversationId}   remember that this conversation was rated
//   {type: 'agentTyping', typing}     the agent's dots on or off (typing.js)
//   {type: 'fetchHistory'}            read the conversation's messages over HTTP (history.js)

import { csatAcked, csatResolved } from './csat.js';
import { applyDelta, lastConfirmedId, normalizeMessage, publicMessage, upsertMessage } from './messages.js';

const GREETING_MAX_CHARS = 500;

export const emptyConversation = ({ conversationId = null, messages = [] } = {}) => ({
  conversationId,
  messages,
  config: null,
  csat: null,
  pendingCsat: null,
  announced: new Set(),
});

const emit = (event, payload) => ({ type: 'emit', event, payload });
const showMessages = (messages, fresh = []) => emit('messages', { messages, fresh });
const PERSIST = { type: 'persist' };
const unchanged = (state) => ({ state, effects: [] });
const followedBy = (effects, result) => ({ state: result.state, effects: [...effects, ...result.effects] });

/** Merges server messages; `live` ones seen for the first time are announced (`fresh`). */
export function mergeServerMessages(state, raws, { live = false, outbox = [] } = {}) {
  const fresh = [];
  let list = state.messages;
  let announced = state.announced;
  for (const raw of raws) {
    const message = normalizeMessage(raw);
    if (!message) continue;
    const before = message.id && list.find((m) => m.id === message.id);
    list = upsertMessage(list, message);
    // Announce a message when it is first complete on screen: not when a sync replays
    // what history already showed, and not chunk by chunk while it streams.
    if (live && message.id && !(before && !before.streaming) && !announced.has(message.id)) {
      if (announced === state.announced) announced = new Set(announced);
      announced.add(message.id);
      const shown = list.find((m) => m.id === message.id);
      if (shown) fresh.push(publicMessage(shown));
    }
  }
  // Whatever the server shows as stored has been delivered, ack or no ack.
  const delivered = new Set(list.filter((m) => m.id && m.clientId).map((m) => m.clientId));
  const effects = outbox.filter((entry) => delivered.has(entry.clientId)).map((entry) => ({ type: 'delivered', clientId: entry.clientId }));
  effects.push(PERSIST, showMessages(list, fresh));
  return { state: { ...state, messages: list, announced }, effects };
}

/** The session answer's conversation: brings the list in line with the server's view. */
export function adoptConversation(state, conversation, { outbox = [] } = {}) {
  const id = conversation && conversation.id != null ? String(conversation.id) : null;
  let messages = state.messages;
  // A different (or no) conversation: what we showed belongs to someone else or is gone.
  // Pending messages stay; they will start or join whatever conversation the server has.
  if (id !== state.conversationId && (state.conversationId || !id)) messages = messages.filter((m) => !m.id);
  const serverMessages = conversation && Array.isArray(conversation.messages) ? conversation.messages : [];
  const merged = mergeServerMessages({ ...state, conversationId: id, messages }, serverMessages, { outbox });
  if (id && !serverMessages.length) merged.effects.push({ type: 'fetchHistory' });
  return merged;
}

/** A message the visitor wrote (in this tab or another), shown until the server acks it. */
export function addPending(state, entry) {
  const effects = [];
  let next = state;
  if (state.csat) {
    next = { ...next, csat: null }; // a new conversation begins: the rating prompt or thanks goes
    effects.push(emit('csat', null));
  }
  const messages = upsertMessage(next.messages, { ...entry, role: 'customer' });
  effects.push(showMessages(messages));
  return { state: { ...next, messages }, effects };
}

/** Everything about the conversation forgotten (the store was cleared): a new visitor. */
export function forgetConversation(state) {
  return {
    state: { ...state, conversationId: null, messages: [], pendingCsat: null, csat: null, announced: new Set() },
    effects: [emit('csat', null), showMessages([])],
  };
}

/** One frame of the widget socket (docs/widget-api.md), from this tab's socket or another's. */
export function reduce(state, frame, seen = {}) {
  switch (frame.type) {
    case 'session.ready':
      return ready(state, frame, seen.outbox || []);
    case 'message.ack': {
      const outbox = seen.outbox || [];
      const entry = outbox.find((e) => e.clientId === frame.clientId);
      const rest = outbox.filter((e) => e.clientId !== frame.clientId);
      const ack = { id: frame.id, clientId: frame.clientId, createdAt: frame.createdAt, role: 'customer', text: entry ? entry.text : undefined };
      return followedBy([{ type: 'delivered', clientId: frame.clientId }], mergeServerMessages(state, [ack], { live: true, outbox: rest }));
    }
    case 'message': {
      const merged = mergeServerMessages(state, [frame], { live: true, outbox: seen.outbox || [] });
      return frame.role === 'customer' ? merged : followedBy([{ type: 'agentTyping', typing: false }], merged);
    }
    case 'message.delta': {
      const messages = applyDelta(state.messages, frame);
      return { state: { ...state, messages }, effects: [{ type: 'agentTyping', typing: false }, showMessages(messages)] };
    }
    case 'typing':
      return { state, effects: [{ type: 'agentTyping', typing: frame.state === true && frame.role !== 'customer' }] };
    case 'conversation.status':
      return resolved(state, frame, seen.rated);
    case 'csat.ack':
      return csatAcked(state, String(frame.conversationId || ''));
    case 'greeting':
      return greeting(state, frame);
    case 'error':
      return { state, effects: [emit('error', { code: String(frame.code || 'error'), message: String(frame.message || ''), fatal: false })] };
    default:
      return unchanged(state); // frames from a newer server are ignored
  }
}

/** The socket is live: replay what was missed, resend what is unacknowledged. */
function ready(state, frame, outbox) {
  let next = state;
  const effects = [];
  if (frame.conversationId && !state.conversationId) {
    next = { ...next, conversationId: String(frame.conversationId) };
    effects.push(PERSIST);
  }
  // A stream cut by the reconnect is replayed whole (by sync or by new deltas), so the
  // partial bubble goes rather than have the chunks appended twice.
  if (next.messages.some((m) => m.streaming)) {
    next = { ...next, messages: next.messages.filter((m) => !m.streaming) };
    effects.push(showMessages(next.messages));
  }
  const send = (sent) => effects.push({ type: 'send', frame: sent });
  // Replay what was missed while away. With nothing confirmed on screen but a
  // conversation on the server (its first message was stored, the ack lost with the
  // connection), the latest page brings that message and any answer written meanwhile.
  const after = lastConfirmedId(next.messages);
  if (after) send({ type: 'sync', after });
  else if (frame.conversationId) send({ type: 'sync' });
  // Resend everything unacknowledged with its original clientId; the server deduplicates.
  for (const entry of outbox) send({ type: 'message.send', clientId: entry.clientId, text: entry.text });
  if (next.pendingCsat) send(next.pendingCsat);
  return { state: next, effects };
}

function resolved(state, frame, rated) {
  const id = frame.conversationId != null ? String(frame.conversationId) : '';
  if (frame.status !== 'resolved' || !id) return unchanged(state);
  // The next visitor message starts a new conversation on the server: forget this one.
  if (state.conversationId !== id) return csatResolved(state, id, rated);
  return followedBy([PERSIST], csatResolved({ ...state, conversationId: null }, id, rated));
}

/** A greeting computed for this customer after the session began; it replaces the config's. */
function greeting(state, frame) {
  const text = typeof frame.text === 'string' ? frame.text.trim().slice(0, GREETING_MAX_CHARS) : '';
  if (!text) return unchanged(state);
  return { state: { ...state, config: { ...(state.config || {}), greeting: text } }, effects: [emit('greeting', text)] };
}
