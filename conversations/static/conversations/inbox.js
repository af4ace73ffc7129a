// The live staff inbox (admin/inbox/): a list of open conversations and one open
// conversation, kept live over the staff websocket /ws/inbox/ (frames: docs/inbox.md).
// Everything a visitor or a model wrote is inserted with textContent, never as HTML.

const root = document.querySelector('[data-inbox="root"]');
const part = (name) => document.querySelector(`[data-inbox="${name}"]`);

const TYPING_THROTTLE_MS = 3000; // "still typing" at most this often
const TYPING_IDLE_MS = 4000; // no key for this long: stopped typing
const VISITOR_TYPING_TTL_MS = 7000; // a lost "stopped" frame must not leave the dots forever
const RECONNECT_BASE_MS = 500;
const RECONNECT_MAX_MS = 30000;
const RATE_LIMITED_MIN_MS = 15000; // 4429 asks for fewer attempts, not faster ones
const RANK = { waiting: 0, assigned: 1, bot: 2, resolved: 3 };
const ROLE_LABEL = { customer: 'Visitor', agent: 'Agent (bot)', system: 'System', staff: 'Staff', note: 'Internal note' };
const PREVIEW_PREFIX = { note: 'Note: ', staff: 'Staff: ', agent: 'Bot: ', system: '— ' };
const REASONS = {
  visitor_asked: 'asked for a person',
  keyword: 'keyword',
  vip: 'VIP customer',
  responder_unsure: 'the agent was unsure',
  responder_failed: 'the agent failed',
  staff: 'taken over',
};

const state = {
  me: null,
  conversations: new Map(),
  openId: null,
  detail: null,
  shown: new Set(), // message ids in the open transcript
  socket: null,
  retries: 0,
  typingSentAt: 0,
  typingTimer: 0,
  visitorTypingTimer: 0,
  // Replies and notes not yet confirmed ('done'), by client id, whether they went out or
  // were written while reconnecting: sent again, with the same id, once the inbox is live,
  // so a dropped connection neither loses nor doubles one.
  pending: new Map(),
};

function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

function el(tag, attrs = {}, text = '') {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function who(conversation) {
  const customer = conversation.customer;
  if (customer) return customer.name || customer.email || customer.id;
  return `Visitor ${String(conversation.visitorId || '').slice(0, 12)}`;
}

// ---- the socket ---------------------------------------------------------------------

function setConnection(text) {
  part('connection').textContent = text;
}

/**
 * The wait before reconnect number `attempt`: doubling from 0.5 s up to 30 s with equal
 * jitter (half fixed, half random), as the widget's (frontend/src/core/backoff.js), so the
 * inboxes of a restarted web process do not all come back in the same instant.
 */
function reconnectDelay(attempt, rateLimited) {
  const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 20));
  const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  return rateLimited ? Math.max(RATE_LIMITED_MIN_MS, delay) : delay;
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${scheme}//${location.host}${root.dataset.socketPath}`);
  state.socket = socket;
  socket.addEventListener('message', (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame && typeof frame === 'object') handle(frame);
  });
  socket.addEventListener('close', (event) => {
    state.socket = null;
    if (event.code === 4401 || event.code === 4403) {
      setConnection('not allowed — sign in again as staff of a workspace');
      return;
    }
    setConnection('reconnecting…');
    window.setTimeout(connect, reconnectDelay(state.retries++, event.code === 4429));
  });
}

/** Sends a frame if the socket is open; false means it was not sent. */
function transmit(frame) {
  if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return false;
  state.socket.send(JSON.stringify(frame));
  return true;
}

function send(frame) {
  if (transmit(frame)) return true;
  showError('Not connected; try again in a moment.');
  return false;
}

function handle(frame) {
  switch (frame.type) {
    case 'inbox.ready':
      // Only now is the inbox back (an accepted socket may still be refused): the backoff
      // starts afresh, and what was not confirmed goes out before the open conversation is
      // read again, so the transcript re-read below already has it.
      state.retries = 0;
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

// ---- the list -------------------------------------------------------------------------

// Summaries come from several processes, a web process's in batches (conversations.inbox_feed),
// so an older one may arrive after a newer one: it is dropped.
const newer = (a, b) => !b || (Date.parse(a.updatedAt) || 0) >= (Date.parse(b.updatedAt) || 0);

function upsert(conversation) {
  if (!conversation || !conversation.id) return;
  if (!newer(conversation, state.conversations.get(conversation.id))) return;
  state.conversations.set(conversation.id, conversation);
  renderList();
  if (conversation.id === state.openId) renderHead(conversation);
}

function sorted() {
  return [...state.conversations.values()].sort(
    (a, b) =>
      (RANK[a.status] ?? 9) - (RANK[b.status] ?? 9) ||
      String(b.lastMessageAt || b.updatedAt).localeCompare(String(a.lastMessageAt || a.updatedAt)),
  );
}

function renderList() {
  const list = part('list');
  const rows = sorted().map((conversation) => {
    const link = el('a', { class: 'ca-row', href: `#${conversation.id}`, 'data-inbox': 'row', 'data-id': conversation.id, 'data-status': conversation.status });
    if (conversation.id === state.openId) link.setAttribute('aria-current', 'true');
    const top = el('span', { class: 'ca-row-top' });
    top.append(el('strong', {}, who(conversation)), el('span', { class: 'ca-badge', 'data-status': conversation.status }, conversation.status));
    const last = conversation.lastMessage;
    const meta = [conversation.agent && conversation.agent.name, conversation.assignedTo && `with ${conversation.assignedTo.name}`, when(conversation.lastMessageAt)];
    const preview = last ? `${PREVIEW_PREFIX[last.role] || ''}${last.text}` : '';
    link.append(top, el('span', { class: 'ca-preview' }, preview), el('span', { class: 'ca-quiet' }, meta.filter(Boolean).join(' · ')));
    link.addEventListener('click', (event) => {
      event.preventDefault();
      open(conversation.id);
    });
    const item = el('li');
    item.append(link);
    return item;
  });
  list.replaceChildren(...(rows.length ? rows : [el('li', { class: 'ca-empty' }, 'No open conversations.')]));
  const waiting = sorted().filter((c) => c.status === 'waiting').length;
  document.title = `${waiting ? `(${waiting}) ` : ''}Inbox`;
}

// ---- the open conversation ------------------------------------------------------------

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
  renderHead(conversation);
  renderCustomer(detail);
  renderList();
}

function renderHead(conversation) {
  part('title').textContent = who(conversation);
  const status = part('status');
  status.textContent = conversation.status;
  status.dataset.status = conversation.status;
  const holder = conversation.assignedTo;
  const mine = holder && state.me && holder.id === state.me.id;
  part('assignee').textContent = holder ? (mine ? '· held by you' : `· held by ${holder.name}`) : '';
  part('reason').textContent = conversation.handoffReason ? `· handed off: ${REASONS[conversation.handoffReason] || conversation.handoffReason}` : '';
  const resolved = conversation.status === 'resolved';
  const take = part('take');
  take.hidden = resolved || (mine && conversation.status === 'assigned');
  take.textContent = holder && !mine && conversation.status === 'assigned' ? `Take over from ${holder.name}` : 'Take over';
  part('release').hidden = resolved || conversation.status === 'bot';
  part('resolve').hidden = resolved;
  part('reply').disabled = resolved;
}

function appendMessage(message) {
  if (!message || !message.id || state.shown.has(message.id)) return;
  state.shown.add(message.id);
  const item = el('li', { class: 'ca-message', 'data-role': message.role, 'data-id': message.id });
  const author = message.author ? message.author.name : '';
  const label = message.role === 'note' ? `Internal note${author ? ` · ${author}` : ''}` : message.role === 'staff' && author ? author : ROLE_LABEL[message.role] || message.role;
  const head = el('span', { class: 'ca-message-head' }, `${label} · ${when(message.createdAt)}`);
  item.append(head, el('span', { class: 'ca-message-text' }, String(message.text || '')));
  const at = Date.parse(message.createdAt) || 0;
  item.dataset.at = String(at);
  const transcript = part('transcript');
  // In time order, whichever arrived first (a question batched after its answer).
  const after = (other) => Number(other.dataset.at || 0) > at;
  const last = transcript.lastElementChild;
  transcript.insertBefore(item, last && after(last) ? [...transcript.children].find(after) : null);
  transcript.scrollTop = transcript.scrollHeight;
}

/** A reply or note not confirmed yet, under the transcript until the server has it. */
function showPending(frame) {
  if (frame.conversationId !== state.openId) return;
  const label = frame.type === 'note' ? 'Internal note' : 'You';
  const item = el('li', { class: 'ca-message', 'data-role': frame.type === 'note' ? 'note' : 'staff', 'data-state': 'sending' });
  item.dataset.clientId = frame.clientId;
  item.dataset.at = 'Infinity'; // stays below every stored message
  item.append(el('span', { class: 'ca-message-head' }, `${label} · sending…`), el('span', { class: 'ca-message-text' }, frame.text));
  part('transcript').append(item);
}

/** The pending reply or note with that ref, taken off the list and the screen (or null). */
function takePending(ref) {
  const frame = ref && state.pending.get(ref);
  if (!frame) return null;
  state.pending.delete(ref);
  const item = [...part('transcript').children].find((shown) => shown.dataset.clientId === frame.clientId);
  if (item) item.remove();
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

function renderCustomer(detail) {
  const panel = part('customer');
  panel.hidden = false;
  const customer = detail.customer;
  const conversation = detail.conversation;
  part('customer-name').textContent = customer ? customer.name || customer.email || customer.id : `Anonymous visitor ${conversation.visitorId}`;
  const badge = part('verified');
  badge.textContent = customer ? (customer.verified ? 'verified' : 'unverified claim') : 'anonymous';
  badge.dataset.verified = customer && customer.verified ? 'true' : 'false';
  part('customer-contact').textContent = customer ? [customer.email, `id ${customer.id}`].filter(Boolean).join(' · ') : '';
  const page = part('page');
  const url = (detail.page && detail.page.url) || '';
  if (/^https?:\/\//i.test(url)) {
    const link = el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, url);
    page.replaceChildren(link);
  } else {
    page.textContent = (detail.page && detail.page.origin) || 'unknown';
  }
  const facts = (detail.facts || []).map((fact) => {
    const item = el('li');
    item.append(el('strong', {}, `${fact.key}: `), document.createTextNode(fact.value), el('small', { class: 'ca-quiet' }, ` (${fact.source})`));
    return item;
  });
  part('facts').replaceChildren(...(facts.length ? facts : [el('li', { class: 'ca-quiet' }, 'Nothing yet.')]));
}

function showVisitorTyping(typing) {
  window.clearTimeout(state.visitorTypingTimer);
  part('typing').hidden = !typing;
  if (typing) state.visitorTypingTimer = window.setTimeout(() => showVisitorTyping(false), VISITOR_TYPING_TTL_MS);
}

function showError(text) {
  const error = part('error');
  error.textContent = text || '';
  error.hidden = !text;
  if (text) window.setTimeout(() => (error.hidden = true), 6000);
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
  connect();
}
