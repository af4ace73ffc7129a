// What the inbox draws (admin/conversations/inbox.html's panes): the list, the open
// conversation's head and transcript, the customer panel. Everything a visitor or a model
// wrote is inserted with textContent, never as HTML.

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

export const part = (name) => document.querySelector(`[data-inbox="${name}"]`);

export function el(tag, attrs = {}, text = '') {
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

export function who(conversation) {
  const customer = conversation.customer;
  if (customer) return customer.name || customer.email || customer.id;
  return `Visitor ${String(conversation.visitorId || '').slice(0, 12)}`;
}

// Summaries come from several processes, a web process's in batches (conversations.realtime.inbox_feed),
// so an older one may arrive after a newer one: it is dropped.
export const isNewer = (a, b) => !b || (Date.parse(a.updatedAt) || 0) >= (Date.parse(b.updatedAt) || 0);

/** Waiting first, then assigned, bot and resolved; the latest message first within each. */
export function sortConversations(conversations) {
  return [...conversations].sort(
    (a, b) =>
      (RANK[a.status] ?? 9) - (RANK[b.status] ?? 9) ||
      String(b.lastMessageAt || b.updatedAt).localeCompare(String(a.lastMessageAt || a.updatedAt)),
  );
}

/** The list of open conversations; `onOpen(id)` when one is clicked. */
export function renderList(conversations, openId, onOpen) {
  const sorted = sortConversations(conversations);
  const rows = sorted.map((conversation) => {
    const link = el('a', { class: 'ca-row', href: `#${conversation.id}`, 'data-inbox': 'row', 'data-id': conversation.id, 'data-status': conversation.status });
    if (conversation.id === openId) link.setAttribute('aria-current', 'true');
    const top = el('span', { class: 'ca-row-top' });
    top.append(el('strong', {}, who(conversation)), el('span', { class: 'ca-badge', 'data-status': conversation.status }, conversation.status));
    const last = conversation.lastMessage;
    const meta = [conversation.agent && conversation.agent.name, conversation.assignedTo && `with ${conversation.assignedTo.name}`, when(conversation.lastMessageAt)];
    const preview = last ? `${PREVIEW_PREFIX[last.role] || ''}${last.text}` : '';
    link.append(top, el('span', { class: 'ca-preview' }, preview), el('span', { class: 'ca-quiet' }, meta.filter(Boolean).join(' · ')));
    link.addEventListener('click', (event) => {
      event.preventDefault();
      onOpen(conversation.id);
    });
    const item = el('li');
    item.append(link);
    return item;
  });
  part('list').replaceChildren(...(rows.length ? rows : [el('li', { class: 'ca-empty' }, 'No open conversations.')]));
  const waiting = sorted.filter((c) => c.status === 'waiting').length;
  document.title = `${waiting ? `(${waiting}) ` : ''}Inbox`;
}

/** The open conversation's title, status, holder and the actions that apply. */
export function renderHead(conversation, me) {
  part('title').textContent = who(conversation);
  const status = part('status');
  status.textContent = conversation.status;
  status.dataset.status = conversation.status;
  const holder = conversation.assignedTo;
  const mine = holder && me && holder.id === me.id;
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

/** A stored message into the transcript, in time order whichever arrived first. */
export function insertMessage(message) {
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
export function appendPending(frame) {
  const label = frame.type === 'note' ? 'Internal note' : 'You';
  const item = el('li', { class: 'ca-message', 'data-role': frame.type === 'note' ? 'note' : 'staff', 'data-state': 'sending' });
  item.dataset.clientId = frame.clientId;
  item.dataset.at = 'Infinity'; // stays below every stored message
  item.append(el('span', { class: 'ca-message-head' }, `${label} · sending…`), el('span', { class: 'ca-message-text' }, frame.text));
  part('transcript').append(item);
}

export function removePending(clientId) {
  const item = [...part('transcript').children].find((shown) => shown.dataset.clientId === clientId);
  if (item) item.remove();
}

/** Who the visitor is, the page they are on and what the agent remembers about them. */
export function renderCustomer(detail) {
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

export function showError(text) {
  const error = part('error');
  error.textContent = text || '';
  error.hidden = !text;
  if (text) window.setTimeout(() => (error.hidden = true), 6000);
}
