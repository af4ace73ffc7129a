// Messages the visitor wrote that the server has not acknowledged yet.
//
// An entry is persisted before the first send attempt and removed only when the server
// acknowledges it, so a reload, a crash or a dropped connection never loses what the
// visitor typed. Storage, not memory, is the source of truth: two tabs of the same site
// share it and must not overwrite each other's entries.

const KEY = 'outbox';

export function createOutbox(store) {
  const list = () => {
    const entries = store.read(KEY);
    return Array.isArray(entries) ? entries.filter((e) => e && e.clientId) : [];
  };
  // An empty outbox is removed rather than stored as [], because the loader treats the
  // key's presence as "there is something to deliver" and loads the core right away.
  const save = (entries) => store.write(KEY, entries.length ? entries : null);

  return {
    list,
    get: (clientId) => list().find((e) => e.clientId === clientId) || null,
    /** Adds (or replaces) an entry `{clientId, text, createdAt}`. */
    add(entry) {
      save([...list().filter((e) => e.clientId !== entry.clientId), entry]);
      return entry;
    },
    remove(clientId) {
      const entries = list();
      const kept = entries.filter((e) => e.clientId !== clientId);
      if (kept.length !== entries.length) save(kept);
    },
  };
}
