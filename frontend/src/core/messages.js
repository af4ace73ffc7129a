// The displayed conversation as a plain array, and the pure rules that keep it right:
// one entry per message however often the server repeats it, in a stable order.
//
// An entry is a MessageOut `{id, role, text, createdAt, clientId}` plus local state:
// `state` is 'sending' until the server gave it an id, then 'sent'; `streaming` is true
// while `message.delta` frames are still arriving.

const ROLES = ['customer', 'agent', 'staff', 'system'];
export const STORED_MESSAGES_LIMIT = 50;

/** The key a message keeps for its whole life, from pending to confirmed. */
export const messageKey = (m) => m.clientId || m.id;

const isSame = (a, b) =>
  (a.id != null && a.id === b.id) || (a.clientId != null && a.clientId === b.clientId);

/** Picks and types the fields we use from untrusted server data; null if it has no id. */
export function normalizeMessage(raw) {
  if (!raw || typeof raw !== 'object') return null;
  const message = {};
  if (raw.id != null && raw.id !== '') message.id = String(raw.id);
  if (raw.clientId) message.clientId = String(raw.clientId);
  if (!message.id && !message.clientId) return null;
  if (ROLES.includes(raw.role)) message.role = raw.role;
  if (typeof raw.text === 'string') message.text = raw.text;
  if (typeof raw.createdAt === 'string') message.createdAt = raw.createdAt;
  const cards = normalizeCards(raw.cards);
  if (cards.length) message.cards = cards;
  const quickReplies = normalizeChoices(raw.quickReplies);
  if (quickReplies.length) message.quickReplies = quickReplies;
  return message;
}

const MAX_ITEMS = 10;
const str = (value) => (typeof value === 'string' && value.trim() ? value.trim() : null);
const httpUrl = (value) => (str(value) && /^https?:\/\//i.test(value.trim()) ? value.trim() : null);

/** Buttons and quick replies: `{label, value?, url?}` (or just the text) with a label; the rest is dropped. */
function normalizeChoices(raws) {
  if (!Array.isArray(raws)) return [];
  return raws
    .map((raw) => (typeof raw === 'string' ? { label: raw } : raw))
    .filter((raw) => raw && str(raw.label))
    .slice(0, MAX_ITEMS)
    .map((raw) => {
      const choice = { label: str(raw.label) };
      if (str(raw.value)) choice.value = str(raw.value);
      if (httpUrl(raw.url)) choice.url = httpUrl(raw.url);
      return choice;
    });
}

/** Product cards `{title, imageUrl?, price?, url?, buttons?}`; images only from https. */
function normalizeCards(raws) {
  if (!Array.isArray(raws)) return [];
  return raws
    .filter((raw) => raw && str(raw.title))
    .slice(0, MAX_ITEMS)
    .map((raw) => {
      const card = { title: str(raw.title) };
      const image = str(raw.imageUrl);
      if (image && /^https:\/\//i.test(image)) card.imageUrl = image;
      const price = typeof raw.price === 'number' ? String(raw.price) : str(raw.price);
      if (price) card.price = price;
      if (httpUrl(raw.url)) card.url = httpUrl(raw.url);
      const buttons = normalizeChoices(raw.buttons);
      if (buttons.length) card.buttons = buttons;
      return card;
    });
}

// Server time to the microsecond the server writes: Date.parse stops at the millisecond,
// and two messages stored within one (an answer and the handoff notice after it) must not
// be left to arrival order, which differs from tab to tab and after a sync.
const time = (m) => {
  const t = Date.parse(m.createdAt);
  const micros = /\.\d{3}(\d{1,3})/.exec(m.createdAt);
  return Number.isNaN(t) ? Infinity : t + (micros ? micros[1].padEnd(3, '0') / 1000 : 0);
};

/** Confirmed messages by server time (then id: the same order in every tab), then
 * pending ones in the order they were written. */
export function sortMessages(list) {
  return list
    .map((message, index) => [message, index])
    .sort(([a, i], [b, j]) => {
      const pending = (a.id ? 0 : 1) - (b.id ? 0 : 1);
      if (pending || !a.id) return pending || i - j;
      const byTime = time(a) - time(b);
      if (byTime) return byTime;
      // NaN: neither time is known yet (still streaming), so arrival order for now.
      return Number.isNaN(byTime) ? i - j : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    })
    .map(([message]) => message);
}

/**
 * Adds `incoming` or merges it into the entry with the same id or clientId, so a server
 * echo of the visitor's own message, a repeated ack or a replayed history page never shows
 * twice. Fields missing from `incoming` keep their previous value.
 */
export function upsertMessage(list, incoming) {
  const index = list.findIndex((m) => isSame(m, incoming));
  // An ack for a message this page never displayed (e.g. sent from another tab) has no text.
  if (index < 0 && typeof incoming.text !== 'string' && !incoming.cards) return list;
  const merged = { ...(index < 0 ? { role: 'agent' } : list[index]) };
  for (const [field, value] of Object.entries(incoming)) {
    if (value !== undefined && value !== null) merged[field] = value;
  }
  if (!incoming.streaming) delete merged.streaming;
  merged.state = merged.id ? 'sent' : 'sending';
  const next = list.slice();
  if (index < 0) next.push(merged);
  else next[index] = merged;
  return sortMessages(next);
}

/** Merges a batch of raw server messages (history page, session response). */
export function mergeMessages(list, raws) {
  return (Array.isArray(raws) ? raws : []).reduce((acc, raw) => {
    const message = normalizeMessage(raw);
    return message ? upsertMessage(acc, message) : acc;
  }, list);
}

/** Appends a streamed chunk; the final `message` frame with the same id replaces the text. */
export function applyDelta(list, { id, delta }) {
  if (id == null || typeof delta !== 'string') return list;
  const key = String(id);
  const index = list.findIndex((m) => m.id === key);
  if (index < 0) {
    return sortMessages([...list, { id: key, role: 'agent', text: delta, state: 'sent', streaming: true }]);
  }
  if (!list[index].streaming) return list; // a late chunk of a message already final
  const next = list.slice();
  next[index] = { ...list[index], text: (list[index].text || '') + delta };
  return next;
}

/** The id to `sync` from: the newest complete message the server confirmed. */
export function lastConfirmedId(list) {
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i].id && !list[i].streaming) return list[i].id;
  }
  return null;
}

/** The MessageOut shape given to site handlers and to storage. */
export const publicMessage = ({ id, role, text, createdAt, clientId, cards, quickReplies }) => ({
  id,
  role,
  text,
  createdAt,
  clientId: clientId || null,
  ...(cards ? { cards } : {}),
  ...(quickReplies ? { quickReplies } : {}),
});

/** The newest confirmed messages, small enough for localStorage; pending ones live in the outbox. */
export const storableMessages = (list, limit = STORED_MESSAGES_LIMIT) =>
  list.filter((m) => m.id && !m.streaming).slice(-limit).map(publicMessage);

/** Outbox entries as displayed messages. */
export const pendingMessages = (entries) =>
  entries.map(({ clientId, text, createdAt }) => ({ clientId, text, createdAt, role: 'customer', state: 'sending' }));
