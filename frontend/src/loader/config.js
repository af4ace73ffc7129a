// Reading the embed configuration. Kept free of DOM globals so it can be unit-tested.

// Fields of window.CustomerAgent the widget understands (see CONTRACT.md, "Embedding").
const CONFIG_FIELDS = ['customer', 'customerToken', 'userHash', 'locale', 'open'];

const isPlainObject = (value) => !!value && typeof value === 'object' && !Array.isArray(value);

/**
 * The embed config, from `window.CustomerAgent` when the site set it, else from the
 * `data-agent-id` attribute of the loader's own <script>. Returns null when neither names
 * an agent: without an agent id there is nothing to load.
 */
export function readConfig(globalValue, script, shopifyCustomerId) {
  const fromGlobal = isPlainObject(globalValue) ? globalValue : {};
  const agentId = fromGlobal.agentId || (script && script.getAttribute('data-agent-id'));
  if (typeof agentId !== 'string' || !agentId.trim()) return null;
  const config = { agentId: agentId.trim() };
  for (const field of CONFIG_FIELDS) {
    if (fromGlobal[field] != null) config[field] = fromGlobal[field];
  }
  // A Shopify storefront's signed-in customer, unless the site identified someone itself:
  // only an unverified claim (docs/identity.md shows how a store verifies it).
  if (shopifyCustomerId && !config.customer && !config.customerToken) config.customer = { id: String(shopifyCustomerId) };
  return config;
}

/** The customer id a Shopify storefront exposes for its signed-in customer, if any. */
export function shopifyCustomerId(w) {
  const page = w.ShopifyAnalytics && w.ShopifyAnalytics.meta && w.ShopifyAnalytics.meta.page;
  return (page && page.customerId) || (w.__st && w.__st.cid) || null;
}

/** True when `value` is already a widget API object, i.e. the loader ran before on this page. */
export const isWidgetApi = (value) => !!value && typeof value.on === 'function';

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
