// The conversation's history: the newest messages kept in the browser (`ca:<agentId>:history`,
// painted at once on the next page view, before the server answers) and, when the session
// names a conversation without its messages, the server's pages of them.

import { historyFetch } from './http.js';
import { mergeMessages, normalizeMessage, pendingMessages, storableMessages } from './messages.js';

const HISTORY_MAX_PAGES = 20;

/** What the last page view left: its conversation, its messages and the unsent ones. */
export function restoreHistory(store, outboxEntries) {
  const cached = store.read('history') || {};
  return {
    conversationId: cached.conversationId || null,
    messages: mergeMessages(pendingMessages(outboxEntries), cached.messages),
  };
}

/** Stores the confirmed messages and the conversation id (pending ones live in the outbox). */
export function saveHistory(store, { conversationId, messages: list }) {
  const messages = storableMessages(list);
  store.write('history', conversationId || messages.length ? { conversationId, messages } : null);
  store.write('conversation', conversationId);
}

/**
 * Fetches the conversation's messages after `after`, page by page, handing each page to
 * `onPage(messages)`. Stops when a newer session was asked for (`isCurrent()` false) or
 * there is no session (`token()` null); a failure leaves the gap to the websocket's sync.
 */
export async function fetchHistory({ base, fetchImpl, after, token, conversationId, isCurrent, onPage }) {
  for (let page = 0; page < HISTORY_MAX_PAGES; page++) {
    if (!isCurrent() || token() === null) return;
    let result;
    try {
      result = await historyFetch({ base, fetchImpl, token: token(), conversationId: conversationId(), after });
    } catch (error) {
      return; // the websocket's sync will fill the gap
    }
    if (!isCurrent()) return;
    onPage(result.messages);
    const last = normalizeMessage(result.messages[result.messages.length - 1]);
    if (!result.hasMore || !last || !last.id) return;
    after = last.id;
  }
}
