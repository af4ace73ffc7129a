// Starter prompts and the satisfaction rating (CSAT) asked when a conversation is resolved:
// the pure rules, shared by the conversation (conversation.js, chat.js) and the UI.

export const MAX_STARTERS = 4;
export const MAX_CSAT_COMMENT = 500;
const REMEMBERED_CSAT = 20; // conversation ids kept in `ca:<agentId>:csat`

/** `config.starterPrompts`: up to four non-empty strings, trimmed; anything else is dropped. */
export function starterPrompts(config) {
  const raws = config && Array.isArray(config.starterPrompts) ? config.starterPrompts : [];
  return raws
    .filter((raw) => typeof raw === 'string' && raw.trim())
    .map((raw) => raw.trim())
    .slice(0, MAX_STARTERS);
}

/** The `csat` frame, or null when the score is not a whole number 1-5 or the comment is too long. */
export function csatFrame(conversationId, score, comment = '') {
  const text = typeof comment === 'string' ? comment.trim() : '';
  if (!conversationId || !Number.isInteger(score) || score < 1 || score > 5 || text.length > MAX_CSAT_COMMENT) return null;
  return { type: 'csat', conversationId: String(conversationId), score, comment: text };
}

/** Conversation ids the visitor already rated (most recent last), capped. */
export function rememberCsat(list, conversationId) {
  const ids = (Array.isArray(list) ? list : []).filter((id) => id !== conversationId);
  return [...ids, conversationId].slice(-REMEMBERED_CSAT);
}

// ---- the rating in the conversation's state (conversation.js), as pure transitions ----------
// state.csat is null or {conversationId, phase: 'prompt' | 'thanks'}; state.pendingCsat is
// the `csat` frame sent (or to send on the next session.ready) until the server acks it.

const unchanged = (state) => ({ state, effects: [] });
const shown = (state, csat) => ({ state: { ...state, csat }, effects: [{ type: 'emit', event: 'csat', payload: csat }] });

/** The conversation `id` was resolved: ask for a rating, unless it is asked or `rated` already. */
export function csatResolved(state, id, rated) {
  if ((state.csat && state.csat.conversationId === id) || (Array.isArray(rated) && rated.includes(id))) return unchanged(state);
  return shown({ ...state, pendingCsat: null }, { conversationId: id, phase: 'prompt' });
}

/** The server stored the rating of `id`: remember it, tell the site, say thanks. */
export function csatAcked(state, id) {
  if (!id) return unchanged(state);
  const effects = [{ type: 'rated', conversationId: id }];
  let next = state;
  if (state.pendingCsat && state.pendingCsat.conversationId === id) {
    effects.push({ type: 'emit', event: 'rated', payload: { conversationId: id, score: state.pendingCsat.score } });
    next = { ...next, pendingCsat: null };
  }
  if (!(next.csat && next.csat.conversationId === id)) return { state: next, effects };
  const thanks = shown(next, { conversationId: id, phase: 'thanks' });
  return { state: thanks.state, effects: [...effects, ...thanks.effects] };
}

/** The visitor's rating of the prompted conversation, or null if score or comment is invalid. */
export function csatRate(state, score, comment) {
  const frame = state.csat && state.csat.phase === 'prompt' && csatFrame(state.csat.conversationId, score, comment);
  if (!frame) return null;
  return { state: { ...state, pendingCsat: frame }, effects: [{ type: 'send', frame }] };
}
