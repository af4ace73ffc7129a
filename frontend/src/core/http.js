// The widget's HTTP API (CONTRACT.md, "Widget HTTP API"). No cookies are involved: the
// session token travels in the Authorization header, never in a URL.

export class WidgetError extends Error {
  constructor(code, message, { status = 0, retryAfter = 0 } = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter; // seconds, from Retry-After when the server sent one
  }
}

/** Worth retrying later: the network, rate limiting or a server fault, not a refusal. */
export const isRetryable = (error) =>
  !(error instanceof WidgetError) || error.code === 'network_error' || error.status === 429 || error.status >= 500;

async function request(fetchImpl, url, { method = 'GET', token, body } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetchImpl(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      mode: 'cors',
    });
  } catch (error) {
    throw new WidgetError('network_error', 'Could not reach the chat service.');
  }
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    // an empty or non-JSON body; judged below by the status
  }
  if (!response.ok) {
    const problem = (data && data.error) || {};
    throw new WidgetError(problem.code || `http_${response.status}`, problem.message || 'The chat service refused the request.', {
      status: response.status,
      retryAfter: Number(response.headers && response.headers.get('Retry-After')) || 0,
    });
  }
  if (!data || typeof data !== 'object') {
    throw new WidgetError('bad_response', 'Unexpected answer from the chat service.', { status: response.status });
  }
  return data;
}

/** Creates (or re-creates) the visitor's session. */
export const sessionCreate = ({ base, fetchImpl, body }) =>
  request(fetchImpl, `${base}/api/v2/widget/session`, { method: 'POST', body });

/** Trades the refresh token for a new pair; the old refresh token is spent. */
export const sessionRefresh = ({ base, fetchImpl, refreshToken }) =>
  request(fetchImpl, `${base}/api/v2/widget/session/refresh`, { method: 'POST', body: { refreshToken } });

/** One page of a conversation's messages after `after` (all of them when it is null). */
export async function historyFetch({ base, fetchImpl, token, conversationId, after }) {
  const query = after ? `?after=${encodeURIComponent(after)}` : '';
  const url = `${base}/api/v2/widget/conversations/${encodeURIComponent(conversationId)}/messages${query}`;
  const data = await request(fetchImpl, url, { token });
  return { messages: Array.isArray(data.messages) ? data.messages : [], hasMore: data.hasMore === true };
}
