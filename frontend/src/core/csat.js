// Starter prompts and the satisfaction rating (CSAT) asked when a conversation is resolved:
// the pure rules, shared by chat.js and the UI.

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
