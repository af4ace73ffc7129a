// Reading the embed configuration. Kept free of DOM globals so it can be unit-tested.

// Fields of window.CustomerAgent the widget understands (see CONTRACT.md, "Embedding").
const CONFIG_FIELDS = ['customer', 'customerToken', 'userHash', 'locale', 'open'];

/**
 * The embed config, from `window.CustomerAgent` when the site set it, else from the
 * `data-agent-id` attribute of the loader's own <script>. Returns null when neither names
 * an agent: without an agent id there is nothing to load.
 */
export function readConfig(globalValue, script) {
  // Object() makes a missing value an empty object and a string or a number a wrapper
  // without fields: only an object the site set is read.
  const fromGlobal = Object(globalValue);
  const agentId = fromGlobal.agentId || (script && script.getAttribute('data-agent-id'));
  if (typeof agentId !== 'string' || !agentId.trim()) return null;
  const config = { agentId: agentId.trim() };
  for (const field of CONFIG_FIELDS) {
    if (fromGlobal[field] != null) config[field] = fromGlobal[field];
  }
  return config;
}

/** The platform's origin, taken from where the loader itself was served. */
export function platformBase(src) {
  try {
    return new URL(src).origin;
  } catch (e) {
    return null;
  }
}

/** The localStorage key prefix the loader and the core share for one agent. */
export const storagePrefix = (agentId) => `ca:${agentId}:`;
