// The conversation of the admin's preview (preview.js): what createChat (src/core/chat.js)
// offers the core, with no network at all. It answers the session itself with the draft
// config, shows a sample conversation, and replies to whatever the staff member types with
// a canned line, so colours, fonts, radius and dark mode can be judged on real bubbles.

export const PREVIEW_REPLY = 'This is a preview: your agent answers here once the widget is published.';
export const REPLY_DELAY_MS = 700;
export const SCENES = ['conversation', 'welcome', 'teaser', 'closed'];

/** What the panel shows in the "conversation" scene: one question, one answer. */
export function sampleMessages(at = new Date(0)) {
  const createdAt = at.toISOString();
  return [
    { id: 'preview-1', role: 'customer', text: 'Hi! Where is my order #1042?', createdAt },
    {
      id: 'preview-2',
      role: 'agent',
      text: 'It left our warehouse yesterday and should arrive on **Thursday**. Anything else I can help with?',
      createdAt,
    },
  ];
}

/** A Web Storage stand-in kept in memory: the preview writes nothing to the browser. */
export function memoryStorage(initial = {}) {
  const items = new Map(Object.entries(initial));
  return {
    get length() {
      return items.size;
    },
    key: (index) => [...items.keys()][index] ?? null,
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
  };
}

/**
 * Takes createChat's options (only `onEvent`, `timers` and `newId` are used) plus the
 * config to show first. `configure(config)` shows another config at once (the core applies
 * it as it would a new session's), `setScene(scene)` switches the sample.
 */
export function createPreviewChat({ config, onEvent, timers = globalThis, newId = () => String(Math.random()), now = () => new Date() }) {
  let current = config && typeof config === 'object' ? config : {};
  let replyTimer = null;
  let counter = 0;
  const state = { conversationId: null, messages: sampleMessages(now()), config: current, fatal: null, csat: null };

  const showMessages = (fresh = []) => onEvent('messages', { messages: state.messages, fresh });
  const showConfig = () =>
    onEvent('session', { config: current, variants: {}, customer: null, visitorId: 'preview', conversationId: null });

  function send(text) {
    const trimmed = typeof text === 'string' ? text.trim() : '';
    if (!trimmed) return null;
    const clientId = newId();
    state.messages = [...state.messages, { id: `local-${++counter}`, clientId, role: 'customer', text: trimmed, createdAt: now().toISOString() }];
    showMessages();
    onEvent('typing', true);
    timers.clearTimeout(replyTimer);
    replyTimer = timers.setTimeout(() => {
      const reply = { id: `reply-${counter}`, role: 'agent', text: PREVIEW_REPLY, createdAt: now().toISOString() };
      state.messages = [...state.messages, reply];
      onEvent('typing', false);
      showMessages([reply]);
    }, REPLY_DELAY_MS);
    return clientId;
  }

  const done = () => Promise.resolve();
  let started = false;
  function start() {
    started = true;
    showConfig();
    onEvent('status', 'online');
    showMessages();
    return done();
  }
  return {
    state,
    start,
    wake: () => (started ? done() : start()),
    hasWork: () => true, // the sample conversation shows at once, as a visitor's coming back

    configure(next) {
      current = next && typeof next === 'object' ? next : {};
      state.config = current;
      showConfig();
    },
    /** 'conversation' shows the sample, 'welcome' a new visitor (greeting and starter prompts). */
    setScene(scene) {
      timers.clearTimeout(replyTimer);
      onEvent('typing', false);
      state.messages = scene === 'welcome' ? [] : sampleMessages(now());
      showMessages();
    },
    send,
    token: () => null,
    goLive() {},
    typing() {},
    rate: () => false,
    reconnectNow() {},
    showPending() {},
    receive() {},
    identify: done,
    logout: done,
  };
}

/** The customizer's command in a message event, or null for anything else: only the page
 * that frames this one (same origin, our parent) may drive the preview. */
export function previewCommand(event, win) {
  if (!event || event.origin !== win.location.origin || event.source !== win.parent || event.source === win) return null;
  const data = event.data;
  if (!data || typeof data !== 'object' || typeof data.type !== 'string') return null;
  if (data.type === 'ca-preview:config' && data.config && typeof data.config === 'object') return data;
  if (data.type === 'ca-preview:scene' && SCENES.includes(data.scene)) return data;
  return null;
}
