// The public `window.CustomerAgent` object. It exists from the moment the loader runs, long
// before the core is imported, so calls made early are queued and replayed, and event
// handlers live here (not in the core) so that `on()` works at any time.

// Calls that show intent to chat: making them loads the core right away.
const WAKING = ['open', 'toggle', 'identify', 'sendMessage'];
const QUEUED = ['close', 'track', ...WAKING];

/**
 * @param config   the embed config; its fields stay readable on the API object
 * @param wake     asks the loader to import the core now
 * @param forget   handles `logout()` before the core exists (clears stored state), so a
 *                 site's logout never has to wait for, or pull in, the core
 */
export function createApi(config, { wake, forget }) {
  const handlers = {};
  const queue = [];
  let core;
  let readyWith; // [the 'ready' payload], once the widget is ready

  const call = (handler, payload) => {
    try {
      handler(payload);
    } catch (error) {
      // A broken site handler must not break the widget, but should still be visible.
      setTimeout(() => {
        throw error;
      });
    }
  };
  const emit = (type, payload) => {
    if (type === 'ready') readyWith = [payload];
    for (const handler of (handlers[type] || []).slice()) call(handler, payload);
  };

  const api = { ...config };
  for (const name of QUEUED) {
    api[name] = (...args) => {
      if (core) return core[name](...args);
      queue.push([name, args]);
      if (WAKING.includes(name)) wake();
    };
  }
  api.logout = () => (core ? core.logout() : forget());
  api.on = (type, handler) => {
    if (typeof handler === 'function') {
      (handlers[type] = handlers[type] || []).push(handler);
      // 'ready' is a state, not just a moment: a handler added later still hears it.
      if (type === 'ready' && readyWith) call(handler, readyWith[0]);
    }
    return api;
  };
  api.off = (type, handler) => {
    handlers[type] = (handlers[type] || []).filter((h) => h !== handler);
    return api;
  };

  /** Hands the API to the mounted core and replays, in order, what was called before. */
  const attach = (controller) => {
    core = controller;
    for (const [name, args] of queue.splice(0)) {
      try {
        core[name](...args);
      } catch (error) {
        emit('error', { code: 'call_failed', message: String(error) });
      }
    }
  };

  return { api, emit, attach };
}
