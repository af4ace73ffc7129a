// The live staff inbox (admin/inbox/): a list of open conversations and one open
// conversation, kept live over the staff websocket /ws/inbox/ (frames: docs/inbox.md).
// Built by build.mjs into /static/conversations/inbox.js; the socket is inbox-socket.js,
// the drawing inbox-view.js.

import { MESSAGE_MAX_CHARS } from '../protocol.js';
import { connectInbox, newClientId } from './inbox-socket.js';
import {
  appendPending,
  insertMessage,
  isNewer,
  part,
  removePending,
  renderCustomer,
  renderHead,
  renderList as drawList,
  showError,
} from './inbox-view.js';

const TYPING_THROTTLE_MS = 3000; // "still typing" at most this often
const TYPING_IDLE_MS = 4000; // no key for this long: stopped typing
const VISITOR_TYPING_TTL_MS = 7000; // a lost "stopped" frame must not leave the dots forever
const CONNECTION = { live: 'live', reconnecting: 'reconnecting…', refused: 'not allowed — sign in again as staff of a workspace' };

const root = document.querySelector('[data-inbox="root"]');

const state = {
  me: null,
  conversations: new Map(),
  openId: null,
  detail: null,
  shown: new Set(), // message ids in the open transcript
  socket: null,
  typingSentAt: 0,
  typingTimer: 0,
  visitorTypingTimer: 0,
  // Replies and notes not yet confirmed ('done'), by client id, whether they went out or
  // were written while reconnecting: sent again, with the same id, once the inbox is live,
  // so a dropped connection neither loses nor doubles one.
  pending: new Map(),
};

const setConnection = (status) => (part('connection').textContent = CONNECTION[status]);
const transmit = (frame) => state.socket.transmit(frame);

function send(frame) {
  if (transmit(frame)) return true;
  showError('Not connected; try again in a moment.');
  return false;
}

function handle(frame) {
  switch (frame.type) {
    case 'inbox.ready':
      // What was not confirmed goes out before the open conversation is read again, so
      // the transcript re-read below already has it.
      setConnection('live');
      for (const pending of state.pending.values()) transmit(pending);
      state.me = frame.user;
      state.conversations = new Map((frame.conversations || []).map((c) => [c.id, c]));
      renderList();
      // The open conversation is read again: what was written while the inbox was away.
      if (state.openId || location.hash.length > 1) open(state.openId || decodeURIComponent(location.hash.slice(1)));
      return;
    case 'conversation':
      return upsert(frame.conversation);
    case 'message':
      upsert(frame.conversation);
      if (frame.conversationId === state.openId) {
        appendMessage(frame.message);
        if (frame.message.role === 'customer') showVisitorTyping(false);
      }
      return;
    case 'typing':
      if (frame.conversationId === state.openId && frame.role === 'customer') showVisitorTyping(frame.state === true);
      return;
    case 'conversation.detail':
      return renderDetail(frame);
    case 'done':
      return confirmed(frame.ref, frame.message);
    case 'error':
      refused(frame.ref); // resending will not help
      return showError(frame.message || frame.code);
    default:
      return undefined; // frames from a newer server need nothing here
  }
}

// ---- the list and the open conversation ----------------------------------------------

const renderList = () => drawList(state.conversations.values(), state.openId, open);

function upsert(conversation) {
  if (!conversation || !conversation.id) return;
  if (!isNewer(conversation, state.conversations.get(conversation.id))) return;
  state.conversations.set(conversation.id, conversation);
  renderList();
  if (conversation.id === state.openId) renderHead(conversation, state.me);
}

function open(id) {
  if (!id) return;
  if (state.openId !== id) stopTyping();
  state.openId = id;
  history.replaceState(null, '', `#${encodeURIComponent(id)}`);
  renderList();
  send({ type: 'open', conversationId: id });
}

function renderDetail(detail) {
  const conversation = detail.conversation;
  if (!conversation || conversation.id !== state.openId) return;
  state.detail = detail;
  state.conversations.set(conversation.id, conversation);
  part('hint').hidden = true;
  part('conversation').hidden = false;
  state.shown = new Set();
  part('transcript').replaceChildren();
  for (const message of detail.messages || []) appendMessage(message);
  for (const frame of state.pending.values()) showPending(frame);
  showVisitorTyping(false);
  renderHead(conversation, state.me);
  renderCustomer(detail);
  renderList();
}

function appendMessage(message) {
  if (!message || !message.id || state.shown.has(message.id)) return;
  state.shown.add(message.id);
  insertMessage(message);
}

function showPending(frame) {
  if (frame.conversationId === state.openId) appendPending(frame);
}

/** The pending reply or note with that ref, taken off the list and the screen (or null). */
function takePending(ref) {
  const frame = ref && state.pending.get(ref);
  if (!frame) return null;
  state.pending.delete(ref);
  removePending(frame.clientId);
  return frame;
}

/** A command's 'done': a reply or note with that ref is stored (`message`) and shown. */
function confirmed(ref, message) {
  const frame = takePending(ref);
  if (frame && frame.conversationId === state.openId) appendMessage(message);
}

/** Refused for good: the text goes back to the box rather than being lost. */
function refused(ref) {
  const frame = takePending(ref);
  const box = part('text');
  if (frame && !box.value && frame.conversationId === state.openId) box.value = frame.text;
}

function showVisitorTyping(typing) {
  window.clearTimeout(state.visitorTypingTimer);
  part('typing').hidden = !typing;
  if (typing) state.visitorTypingTimer = window.setTimeout(() => showVisitorTyping(false), VISITOR_TYPING_TTL_MS);
}

// ---- actions ----------------------------------------------------------------------------

function command(type, extra = {}) {
  if (!state.openId) return false;
  showError('');
  return send({ type, conversationId: state.openId, ...extra });
}

// Typing is worth nothing later, so it is dropped quietly while reconnecting.
const typingFrame = (typing) => transmit({ type: 'typing', conversationId: state.openId, state: typing });

function typing() {
  if (!state.openId) return;
  if (Date.now() - state.typingSentAt > TYPING_THROTTLE_MS && typingFrame(true)) state.typingSentAt = Date.now();
  window.clearTimeout(state.typingTimer);
  state.typingTimer = window.setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  window.clearTimeout(state.typingTimer);
  if (state.typingSentAt && state.openId) typingFrame(false);
  state.typingSentAt = 0;
}

function submit(kind) {
  const box = part('text');
  const text = box.value.trim();
  if (!text || !state.openId) return;
  const clientId = newClientId();
  const frame = { type: kind, conversationId: state.openId, text, clientId, ref: clientId };
  showError('');
  state.pending.set(clientId, frame);
  showPending(frame);
  box.value = '';
  stopTyping();
  transmit(frame); // while reconnecting it goes out with the others on inbox.ready
}

function wire() {
  part('take').addEventListener('click', () => {
    const conversation = state.conversations.get(state.openId);
    const holder = conversation && conversation.assignedTo;
    const other = holder && state.me && holder.id !== state.me.id && conversation.status === 'assigned';
    command('take', other ? { force: true } : {});
  });
  part('release').addEventListener('click', () => command('release'));
  part('resolve').addEventListener('click', () => command('resolve'));
  part('note').addEventListener('click', () => submit('note'));
  part('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    submit('reply');
  });
  const box = part('text');
  box.maxLength = MESSAGE_MAX_CHARS; // what the server accepts in a reply or a note
  box.addEventListener('input', typing);
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit('reply');
    }
  });
  window.addEventListener('hashchange', () => {
    const id = decodeURIComponent(location.hash.slice(1));
    if (id && id !== state.openId) open(id);
  });
}

if (root) {
  wire();
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  state.socket = connectInbox({ url: `${scheme}//${location.host}${root.dataset.socketPath}`, onFrame: handle, onStatus: setConnection });
}
