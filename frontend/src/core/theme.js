// The agent's appearance (config.theme, config.position) as CSS custom properties set on
// the host element, plus the colour mode and corner. Only the fields below are read; each
// value is a declaration value, which setProperty cannot turn into a new rule.

const COLOR_PROPERTIES = {
  primaryColor: '--ca-primary',
  backgroundColor: '--ca-bg',
  textColor: '--ca-text',
  fontFamily: '--ca-font',
};
// Lengths in px: [property, min, max]
const LENGTH_PROPERTIES = {
  radius: ['--ca-radius', 0, 32],
  borderRadius: ['--ca-radius', 0, 32], // the v1 name
  launcherSize: ['--ca-size', 40, 96],
  offsetX: ['--ca-x', 0, 400],
  offsetY: ['--ca-y', 0, 400],
};
const MODES = ['light', 'dark', 'auto'];
// theme.launcherIcon picks one of these 24x24 paths; a path never comes from the config.
export const LAUNCHER_ICONS = {
  chat: 'M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z',
  forum: 'M21 6h-2v9H6v2c0 .55.45 1 1 1h11l4 4V7c0-.55-.45-1-1-1zm-4 6V3c0-.55-.45-1-1-1H3c-.55 0-1 .45-1 1v14l4-4h10c.55 0 1-.45 1-1z',
  bolt: 'M7 2v11h3v9l7-12h-4l4-8z',
};
const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
// Colours and font lists; no url(), no way out of the declaration.
const PLAIN_VALUE = /^[\w\s#%.,()'"/-]{1,120}$/;

/** WCAG relative luminance of #rgb or #rrggbb; null for anything else. */
export function relativeLuminance(color) {
  const match = HEX.exec(String(color).trim());
  if (!match) return null;
  const hex = match[1].length === 3 ? match[1].replace(/./g, '$&$&') : match[1];
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Dark or light text, whichever reads better on `color` (a hex colour); null if unknown. */
export function readableTextColor(color) {
  const luminance = relativeLuminance(color);
  if (luminance === null) return null;
  // 0.179 is where contrast against black equals contrast against white.
  return luminance > 0.179 ? '#111827' : '#ffffff';
}

function length(value, min, max) {
  const number = typeof value === 'string' ? parseFloat(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? `${Math.min(max, Math.max(min, number))}px` : null;
}

/** {'--ca-primary': '#4f46e5', '--ca-size': '64px', ...} for the theme fields that are set. */
export function themeVariables(theme) {
  const variables = {};
  if (!theme || typeof theme !== 'object') return variables;
  for (const [field, property] of Object.entries(COLOR_PROPERTIES)) {
    const value = theme[field];
    if (typeof value === 'string' && PLAIN_VALUE.test(value.trim()) && !/url\(/i.test(value)) variables[property] = value.trim();
  }
  for (const [field, [property, min, max]] of Object.entries(LENGTH_PROPERTIES)) {
    const value = length(theme[field], min, max);
    if (value) variables[property] = value;
  }
  const onPrimary = variables['--ca-primary'] && readableTextColor(variables['--ca-primary']);
  if (onPrimary) variables['--ca-on-primary'] = onPrimary;
  return variables;
}

/** The launcher icon's path: theme.launcherIcon when it names one of LAUNCHER_ICONS, else chat. */
export const launcherIconPath = (theme) => {
  const name = theme && theme.launcherIcon;
  return Object.prototype.hasOwnProperty.call(LAUNCHER_ICONS, name) ? LAUNCHER_ICONS[name] : LAUNCHER_ICONS.chat;
};

/** 'light' | 'dark' | 'auto' (auto follows prefers-color-scheme). */
export const themeMode = (theme) => (theme && MODES.includes(theme.mode) ? theme.mode : 'light');

/** The corner: theme.position wins over the widget config's position. */
export const isLeftPosition = (config) => {
  const position = (config && config.theme && config.theme.position) || (config && config.position);
  return position === 'bottom-left';
};
