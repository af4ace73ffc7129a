// What the loader draws before the core arrives, shared with the admin's preview
// (src/admin/preview.js), which builds the same shadow root around the real core.
// One string of literals, so the minifier folds it into a single constant (the loader has
// a 2,048-byte budget).

/** The shadow root's markup: the host's style, the launcher's, and the launcher (last child). */
export const SHELL_HTML =
  '<style>' +
  // The shadow root's own `:host` rule with !important beats any page rule, even
  // `* { all: unset !important }` or `div { display: none !important }`, and `all: initial`
  // stops the page's inherited styles at the door (visible, no size, no padding, no
  // transform). Fixed, the host is a block out of the page flow, and everything in it is
  // fixed too, so it measures 0x0: the widget never shifts the site's layout.
  ':host{all:initial!important;position:fixed!important;z-index:2147483000!important}' +
  // Just enough to draw the launcher; the core adds the rest (hover, focus ring, badge,
  // open state). Colour, size and offsets are custom properties: from the public config, or
  // as the core stored them for the next page view.
  '.l{position:fixed;bottom:var(--ca-y,20px);right:var(--ca-x,20px);width:var(--ca-size,56px);height:var(--ca-size,56px);' +
  'border:0;border-radius:50%;background:var(--ca-primary,#4f46e5);color:var(--ca-on-primary,#fff);box-shadow:0 4px 14px #0003;' +
  'cursor:pointer;display:grid;place-items:center;padding:0}.left{right:auto;left:var(--ca-x,20px)}' +
  '.l svg{width:50%;fill:currentColor}' +
  '</style><button class="l" part="launcher" data-ca="launcher" aria-label="Open chat">' +
  // The chat bubble icon.
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z"/></svg></button>';
