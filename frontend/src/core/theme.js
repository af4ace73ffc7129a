// The agent's theme (from the session config) as CSS custom properties on the host.
// Only the properties below are read; a value is a declaration value, which setProperty
// cannot turn into a new rule.

const THEME_PROPERTIES = {
  primaryColor: '--ca-primary',
  backgroundColor: '--ca-bg',
  textColor: '--ca-text',
  fontFamily: '--ca-font',
  borderRadius: '--ca-radius',
};

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;

/** Dark or light text, whichever reads better on `color` (a hex colour); null if unknown. */
export function readableTextColor(color) {
  const match = HEX.exec(String(color).trim());
  if (!match) return null;
  const hex = match[1].length === 3 ? match[1].replace(/./g, '$&$&') : match[1];
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  // 0.179 is where contrast against black equals contrast against white.
  return luminance > 0.179 ? '#111827' : '#ffffff';
}

/** {'--ca-primary': '#4f46e5', ...} for the theme fields that are set. */
export function themeVariables(theme) {
  const variables = {};
  if (!theme || typeof theme !== 'object') return variables;
  for (const [field, property] of Object.entries(THEME_PROPERTIES)) {
    const value = theme[field];
    if (typeof value === 'string' && value.trim() && value.length < 200) variables[property] = value.trim();
  }
  const onPrimary = variables['--ca-primary'] && readableTextColor(variables['--ca-primary']);
  if (onPrimary) variables['--ca-on-primary'] = onPrimary;
  return variables;
}

export const isLeftPosition = (config) => !!config && config.position === 'bottom-left';
