// Namespaced JSON storage for one agent (`ca:<agentId>:<key>`).
//
// Web Storage can be missing or throw (Safari private mode, blocked third-party storage,
// quota). The widget must keep working, so every access is guarded and a value that could
// not be persisted is kept in memory instead, for the life of the page.
//
// A store can also start `held`: for sites that need consent first, every write stays in
// memory (and is read back from there) until `release()`, which is called when the
// visitor interacts with the widget; then everything held is written out.

export function createStore(storage, agentId, { held = false } = {}) {
  const prefix = `ca:${agentId}:`;
  const unsaved = new Map();
  let holding = held;

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
    if (holding) {
      unsaved.set(key, value == null ? null : value);
      return;
    }
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

  /** Stops holding writes back and persists what was held. */
  function release() {
    if (!holding) return;
    holding = false;
    for (const [key, value] of [...unsaved]) write(key, value);
  }

  /** True when this agent already has something stored in the browser. */
  function hasAny() {
    try {
      for (let i = 0; i < storage.length; i++) if (String(storage.key(i)).startsWith(prefix)) return true;
    } catch (error) {
      // unreadable storage holds nothing of ours
    }
    return false;
  }

  return { read, write, clear, release, hasAny, isHeld: () => holding, prefix };
}
