// Who the page says the customer is, and whose browser state the widget holds.
//
// The widget keeps one conversation per browser. When the person changes (the site signs
// a customer out without calling logout(), or another customer signs in on the same
// browser) everything stored for the previous one must go before anything is painted:
// one customer never sees another's messages. An anonymous visitor who signs in is the
// same person, so their browser's conversation is kept (the server links it to them).

const IDENTITY_FIELDS = ['customer', 'customerToken', 'userHash'];

export function pickIdentity(source) {
  const identity = {};
  for (const field of IDENTITY_FIELDS) {
    if (source && source[field] != null) identity[field] = source[field];
  }
  return identity;
}

/** The customer id a Shopify storefront exposes for its signed-in customer, if any. */
export function shopifyCustomerId(w) {
  const page = w.ShopifyAnalytics && w.ShopifyAnalytics.meta && w.ShopifyAnalytics.meta.page;
  return (page && page.customerId) || (w.__st && w.__st.cid) || null;
}

/** The embed config with a Shopify storefront's signed-in customer as an unverified claim,
 * unless the site identified someone itself (docs/identity.md shows how a store verifies it). */
export const withStorefrontCustomer = (config, customerId) =>
  customerId && !config.customer && !config.customerToken ? { ...config, customer: { id: String(customerId) } } : config;

/** The `sub` of a JWT, read without verifying (the server verifies); '' if unreadable. */
export function tokenSubject(token) {
  try {
    const part = String(token).split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const sub = JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4))).sub;
    return sub == null ? '' : String(sub);
  } catch (error) {
    return '';
  }
}

/** The customer id an identity names ('' for an anonymous visitor). */
export function identityOwner(identity) {
  if (!identity) return '';
  if (identity.customerToken) return tokenSubject(identity.customerToken) || '?';
  const customer = identity.customer;
  return customer && customer.id != null ? String(customer.id) : '';
}

/** True when what the browser holds belongs to someone other than `identity`. */
export const isSomeoneElse = (storedOwner, identity) => !!storedOwner && storedOwner !== identityOwner(identity);
