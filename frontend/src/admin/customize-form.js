// The customizer's form (admin/widgets/customize.html) and the draft's values (API field
// names, widgets/admin/customize.py): filled from them, collected back into them.

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
const COLOURS = ['primaryColor', 'backgroundColor', 'textColor'];
// What the widget uses when a colour is left empty (light mode), shown by the pickers.
const DEFAULT_COLOURS = { primaryColor: '#4f46e5', backgroundColor: '#ffffff', textColor: '#111827' };
const NUMBERS = ['radius', 'launcherSize', 'offsetX', 'offsetY'];
const TRIGGER_NUMBERS = ['scrollPercent', 'minPageViews'];

const lines = (text) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

function numberOrNull(input) {
  const value = input.value.trim();
  return value === '' || Number.isNaN(Number(value)) ? null : Number(value);
}

/** What a visitor's widget would receive (widgets.selectors.PublicConfig). */
export const publicConfig = (draft, values) => {
  const { customDomain, ...shown } = values;
  return { agentId: draft.agentId, name: draft.name, ...shown };
};

/** `draft` is the saved state; theme keys and features the form does not show are kept. */
export function customizeForm(form, draft) {
  const $ = (selector) => form.querySelector(selector);
  const $$ = (selector) => [...form.querySelectorAll(selector)];

  /** The colour picker beside a colour's text box follows it (the default when empty). */
  function syncPicker(key) {
    const text = $(`[data-theme="${key}"]`).value.trim();
    const picker = $(`[data-picker-for="ca-${key}"]`);
    if (HEX.test(text)) picker.value = text.length === 4 ? text.replace(/[0-9a-f]/gi, '$&$&') : text.toLowerCase();
    else if (!text) picker.value = DEFAULT_COLOURS[key];
  }

  function fill(state) {
    const theme = state.theme || {};
    for (const key of COLOURS) {
      const value = typeof theme[key] === 'string' ? theme[key] : '';
      $(`[data-theme="${key}"]`).value = value;
      syncPicker(key);
    }
    const font = typeof theme.fontFamily === 'string' ? theme.fontFamily : '';
    const select = $('[data-ca="font"]');
    const known = [...select.options].some((option) => option.value === font && option.value !== '__custom');
    select.value = known ? font : '__custom';
    $('[data-ca="font-custom"]').value = known ? '' : font;
    for (const key of NUMBERS) {
      const value = key === 'radius' ? (theme.radius ?? theme.borderRadius) : theme[key];
      $(`[data-theme-number="${key}"]`).value = typeof value === 'number' ? String(value) : '';
    }
    const icon = $('[data-theme-choice="launcherIcon"]');
    icon.value = [...icon.options].some((option) => option.value === theme.launcherIcon) ? theme.launcherIcon : 'chat';
    const mode = ['light', 'dark', 'auto'].includes(theme.mode) ? theme.mode : 'light';
    $(`[data-ca="mode-${mode}"]`).checked = true;
    $('[data-field="position"]').value = state.position || 'bottom-right';
    for (const field of ['greeting', 'avatarUrl', 'customDomain', 'customCss']) $(`[data-field="${field}"]`).value = state[field] || '';
    $$('[data-ca="prompt"]').forEach((input, i) => (input.value = (state.starterPrompts || [])[i] || ''));
    const triggers = state.triggers || {};
    $('[data-ca="triggers-on"]').checked = Object.keys(triggers).length > 0;
    $('[data-trigger="action"]').value = triggers.action === 'open' ? 'open' : 'teaser';
    $('[data-trigger="delaySeconds"]').value = typeof triggers.delayMs === 'number' ? String(triggers.delayMs / 1000) : '';
    for (const key of TRIGGER_NUMBERS) $(`[data-trigger="${key}"]`).value = typeof triggers[key] === 'number' ? String(triggers[key]) : '';
    $('[data-trigger="exitIntent"]').checked = triggers.exitIntent === true;
    $('[data-trigger="urlInclude"]').value = (triggers.urlInclude || []).join('\n');
    $('[data-trigger="urlExclude"]').value = (triggers.urlExclude || []).join('\n');
    for (const box of $$('[data-feature]')) box.checked = (state.features || []).includes(box.dataset.feature);
  }

  /** The values "Save draft" sends: theme keys the form does not edit are kept as they are. */
  function collect() {
    const theme = { ...(draft.theme || {}) };
    const set = (key, value) => {
      if (value === null || value === '') delete theme[key];
      else theme[key] = value;
    };
    for (const key of COLOURS) set(key, $(`[data-theme="${key}"]`).value.trim());
    const font = $('[data-ca="font"]').value;
    set('fontFamily', font === '__custom' ? $('[data-ca="font-custom"]').value.trim() : font);
    for (const key of NUMBERS) set(key, numberOrNull($(`[data-theme-number="${key}"]`)));
    if ('radius' in theme) delete theme.borderRadius; // the v1 name would win in the widget
    const icon = $('[data-theme-choice="launcherIcon"]').value;
    set('launcherIcon', icon === 'chat' && !('launcherIcon' in (draft.theme || {})) ? null : icon);
    set('mode', (form.querySelector('input[name=mode]:checked') || {}).value || 'light');
    const triggers = {};
    if ($('[data-ca="triggers-on"]').checked) {
      triggers.action = $('[data-trigger="action"]').value;
      const delay = numberOrNull($('[data-trigger="delaySeconds"]'));
      if (delay !== null) triggers.delayMs = Math.round(delay * 1000);
      for (const key of TRIGGER_NUMBERS) {
        const value = numberOrNull($(`[data-trigger="${key}"]`));
        if (value !== null) triggers[key] = value;
      }
      if ($('[data-trigger="exitIntent"]').checked) triggers.exitIntent = true;
      for (const key of ['urlInclude', 'urlExclude']) {
        const globs = lines($(`[data-trigger="${key}"]`).value);
        if (globs.length) triggers[key] = globs;
      }
    }
    const shown = $$('[data-feature]').map((box) => box.dataset.feature);
    const features = [
      ...(draft.features || []).filter((feature) => !shown.includes(feature)), // ones this page does not list
      ...$$('[data-feature]:checked').map((box) => box.dataset.feature),
    ];
    return {
      theme,
      position: $('[data-field="position"]').value,
      greeting: $('[data-field="greeting"]').value,
      starterPrompts: $$('[data-ca="prompt"]')
        .map((input) => input.value.trim())
        .filter(Boolean),
      triggers,
      features,
      customCss: $('[data-field="customCss"]').value,
      avatarUrl: $('[data-field="avatarUrl"]').value.trim(),
      customDomain: $('[data-field="customDomain"]').value.trim(),
    };
  }

  return { fill, collect, syncPicker };
}
