// The chat controller wired to fakes: storage, timers, fetch and websockets.

import { createChat } from '../src/core/chat.js';
import { createStore } from '../src/core/storage.js';
import { fakeFetch, fakeTimers, fakeWebSocketClass, MemoryStorage } from './helpers.js';

export const BASE = 'http://platform.test';
export const HOUR = 3600 * 1000;

export function sessionBody(overrides = {}) {
  return {
    token: 'tok-1',
    refreshToken: 'ref-1',
    expiresAt: new Date(Date.now() + HOUR).toISOString(),
    visitorId: 'v_1',
    visitorSecret: 's_1',
    config: { agentId: 'agt_1', name: 'Acme Support', greeting: 'Hi!', theme: { primaryColor: '#4f46e5' }, position: 'bottom-right' },
    variants: {},
    customer: null,
    conversation: null,
    ...overrides,
  };
}

export function setup({ storage = new MemoryStorage(), routes = {}, session = sessionBody(), identity = {} } = {}) {
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const timers = fakeTimers();
  const sessions = [];
  const { fetchImpl, calls } = fakeFetch({
    '/api/v2/widget/session/refresh': () => [401, { error: { code: 'invalid_refresh_token', message: 'spent' } }],
    '/api/v2/widget/session': (url, init) => {
      sessions.push(JSON.parse(init.body));
      return [200, typeof session === 'function' ? session(sessions.length) : session];
    },
    ...routes,
  });
  const events = [];
  let counter = 0;
  const chat = createChat({
    base: BASE,
    agentId: 'agt_1',
    identity,
    store: createStore(storage, 'agt_1'),
    page: { href: 'https://acme.example/shop', referrer: 'https://search.example/' },
    fetchImpl,
    WebSocketImpl: FakeWebSocket,
    timers,
    random: () => 0.5,
    newId: () => `client-${++counter}`,
    onEvent: (type, payload) => events.push([type, payload]),
  });
  const eventsOf = (type) => events.filter(([t]) => t === type).map(([, p]) => p);
  return { chat, storage, sockets, timers, calls, sessions, events, eventsOf, lastSocket: () => sockets[sockets.length - 1] };
}

export const outboxOf = (storage) => JSON.parse(storage.getItem('ca:agt_1:outbox') || '[]');

