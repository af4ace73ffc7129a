// Namespaced JSON storage for one agent (`ca:<agentId>:<key>`).
//
// Web Storage can be missing or throw (Safari private mode, blocked third-party storage,
// quota). The widget must keep working, so every access is guarded and a value that could
// not be persisted is kept in memory instead, for the life of the page.

export function createStore(storage, agentId) {
  const prefix = `ca:${agentId}:`;
  const unsaved = new Map();

  function read(key) {
    if (unsaved.has(key)) return unsaved.get(key);
    try {
      const raw = storage.getItem(prefix + key);
      return raw == null ? null : JSON.parse(raw);
    } catch (error) {
      return null;
    }
  }

  /** Writes `value` as JSON; null or undefined removes the key. */
  function write(key, value) {
    try {
      if (value == null) storage.removeItem(prefix + key);
      else storage.setItem(prefix + key, JSON.stringify(value));
      unsaved.delete(key);
    } catch (error) {
      unsaved.set(key, value == null ? null : value);
    }
  }

  /** Removes every key of this agent, e.g. on logout. */
  function clear() {
    unsaved.clear();
    try {
      const keys = [];
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i);
        if (key && key.startsWith(prefix)) keys.push(key);
      }
      keys.forEach((key) => storage.removeItem(key));
    } catch (error) {
      // nothing could be stored, so nothing is left behind
    }
  }

  return { read, write, clear, prefix };
}
