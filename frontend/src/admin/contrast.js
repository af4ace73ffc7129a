// WCAG 2.x contrast of a widget theme, as you type in the customizer (bundled into
// customize.js). The server's copy of this rule is widgets/config/contrast.py (the same
// numbers; both are tested: frontend/test/contrast.test.js and
// widgets/tests/test_customize.py). Warnings never block a save.

import { relativeLuminance } from '../core/theme.js';

export const NORMAL_TEXT = 4.5;
export const LARGE_TEXT = 3;
const DEFAULT_PRIMARY = '#4f46e5';
const DARK_INK = '#111827';
const LIGHT_INK = '#ffffff';
// The widget's palettes when the theme sets no text or background colour (ui/styles.js).
const PALETTES = { light: ['#ffffff', '#111827'], dark: ['#111827', '#f3f4f6'] };

/** From 1 to 21, rounded to two decimals. */
export function contrastRatio(first, second) {
  const [lighter, darker] = [relativeLuminance(first), relativeLuminance(second)].sort((a, b) => b - a);
  return Math.round(((lighter + 0.05) / (darker + 0.05)) * 100) / 100;
}

/** The text colour the widget puts on `color` (frontend/src/core/theme.js readableTextColor). */
export const inkOn = (color) => (relativeLuminance(color) > 0.179 ? DARK_INK : LIGHT_INK);

const pick = (theme, key, fallback) => {
  const value = theme[key];
  return typeof value === 'string' && relativeLuminance(value) !== null ? value.trim() : fallback;
};

/** [{field, mode, ratio, required, message}] for the colour pairs below AA. */
export function themeContrastWarnings(theme) {
  theme = theme && typeof theme === 'object' ? theme : {};
  const modes = theme.mode === 'auto' ? ['light', 'dark'] : [theme.mode === 'dark' ? 'dark' : 'light'];
  const primary = pick(theme, 'primaryColor', DEFAULT_PRIMARY);
  const warnings = [];
  const onPrimary = contrastRatio(primary, inkOn(primary));
  if (onPrimary < NORMAL_TEXT) {
    const size = onPrimary < LARGE_TEXT ? 'even large text' : 'normal-size text';
    warnings.push({
      field: 'primaryColor',
      mode: modes[0],
      ratio: onPrimary,
      required: NORMAL_TEXT,
      message:
        `Text on the primary colour (header, your visitor's messages) has contrast ${onPrimary}:1; ` +
        `${size} needs ${NORMAL_TEXT}:1 or more. Use a darker or lighter primary colour.`,
    });
  }
  for (const mode of modes) {
    const ratio = contrastRatio(pick(theme, 'textColor', PALETTES[mode][1]), pick(theme, 'backgroundColor', PALETTES[mode][0]));
    if (ratio < NORMAL_TEXT) {
      warnings.push({
        field: 'textColor',
        mode,
        ratio,
        required: NORMAL_TEXT,
        message: `Text on the background in ${mode} mode has contrast ${ratio}:1; it needs ${NORMAL_TEXT}:1 or more.`,
      });
    }
  }
  return warnings;
}
