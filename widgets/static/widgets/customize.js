// The widget customizer (admin/widgets/customize.html, widgets/admin_customize.py).
// Fills the form from the saved draft, and on every change: posts the unsaved config to the
// preview frame (the real widget, frontend/src/admin/preview.js), shows contrast warnings at
// once, and asks the server (debounced) what saving would say: field errors, CSS syntax
// errors with line numbers. "Save draft" posts the same values; publishing stays on the
// releases page.
import { themeContrastWarnings } from './contrast.js';

const CHECK_DELAY_MS = 350;
const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
const COLOURS = ['primaryColor', 'backgroundColor', 'textColor'];
// What the widget uses when a colour is left empty (light mode), shown by the pickers.
const DEFAULT_COLOURS = { primaryColor: '#4f46e5', backgroundColor: '#ffffff', textColor: '#111827' };
const NUMBERS = ['radius', 'launcherSize', 'offsetX', 'offsetY'];
const TRIGGER_NUMBERS = ['scrollPercent', 'minPageViews'];

const read = (id) => JSON.parse(document.getElementById(id).textContent);
const draft = read('ca-draft');
const links = read('ca-customize-links');
const limits = read('ca-customize-limits');
const form = document.querySelector('[data-ca="customize-form"]');
const frame = document.querySelector('[data-ca="preview"]');
const $ = (selector) => form.querySelector(selector);
const $$ = (selector) => [...form.querySelectorAll(selector)];
const csrf = () => form.querySelector('input[name=csrfmiddlewaretoken]').value;
const lines = (text) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

let saved = null; // JSON of the values last saved (or loaded)
let checkTimer = null;
let checkSeq = 0;

// ---- the form <-> the draft's values (API field names) -------------------------------

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

function numberOrNull(input) {
  const value = input.value.trim();
  return value === '' || Number.isNaN(Number(value)) ? null : Number(value);
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

/** What a visitor's widget would receive (widgets.selectors.PublicConfig). */
const publicConfig = (values) => {
  const { customDomain, ...shown } = values;
  return { agentId: draft.agentId, name: draft.name, ...shown };
};

// ---- colours -------------------------------------------------------------------------

function syncPicker(key) {
  const text = $(`[data-theme="${key}"]`).value.trim();
  const picker = $(`[data-picker-for="ca-${key}"]`);
  if (HEX.test(text)) picker.value = text.length === 4 ? text.replace(/[0-9a-f]/gi, '$&$&') : text.toLowerCase();
  else if (!text) picker.value = DEFAULT_COLOURS[key];
}

// ---- feedback ------------------------------------------------------------------------

function listItems(list, texts) {
  list.replaceChildren(
    ...texts.map((text) => {
      const item = document.createElement('li');
      item.textContent = text;
      return item;
    }),
  );
}

function showContrast(warnings) {
  listItems(
    $('[data-ca="contrast"]'),
    warnings.map((warning) => warning.message),
  );
}

function showFieldErrors(errors) {
  for (const slot of $$('[data-error-for]')) {
    const message = errors[slot.dataset.errorFor];
    slot.textContent = message || '';
    slot.hidden = !message;
  }
}

function showCssErrors(errors) {
  listItems(
    $('[data-ca="css-errors"]'),
    errors.map((error) => `Line ${error.line}, column ${error.column}: ${error.message}`),
  );
}

function showCssCount() {
  const length = $('[data-field="customCss"]').value.length;
  const count = $('[data-ca="css-count"]');
  count.textContent = `${length.toLocaleString()} / ${limits.css.toLocaleString()} characters`;
  count.classList.toggle('ca-over', length > limits.css);
}

function showDirty() {
  const dirty = JSON.stringify(collect()) !== saved;
  const indicator = $('[data-ca="dirty"]');
  indicator.dataset.dirty = String(dirty);
  indicator.textContent = dirty ? 'Unsaved changes' : 'No unsaved changes';
  return dirty;
}

/** POSTs JSON; a network failure reads as {ok: false, status: 0}. */
async function postJson(url, body) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf() },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
    return { ok: response.ok, status: response.status, data: await response.json().catch(() => ({})) };
  } catch (error) {
    return { ok: false, status: 0, data: {} };
  }
}

async function check() {
  const seq = ++checkSeq;
  const { ok, data } = await postJson(links.check, collect());
  if (seq !== checkSeq || !ok) return; // a newer check is on its way
  showFieldErrors(data.errors || {});
  showCssErrors(data.cssErrors || []);
  showContrast(data.contrast || []);
}

// ---- the custom domain's DNS proof (widgets/delivery/custom_domains.py) -------------------------

const DOMAIN_STATUS = { pending: 'Pending: not yet proven in DNS', verified: 'Verified' };

function showDomain(state) {
  const proof = $('[data-ca="domain-proof"]');
  const record = state.customDomainVerification;
  proof.hidden = !record;
  if (!record) return;
  $('[data-ca="domain-status"]').textContent = DOMAIN_STATUS[state.customDomainStatus] || state.customDomainStatus;
  $('[data-ca="domain-record-name"]').textContent = record.recordName;
  $('[data-ca="domain-record-value"]').textContent = record.recordValue;
  const problem = $('[data-ca="domain-problem"]');
  problem.textContent = record.problem || '';
  problem.hidden = !record.problem;
}

const domainCheck = $('[data-ca="domain-check"]');
if (domainCheck) {
  domainCheck.addEventListener('click', async () => {
    domainCheck.disabled = true;
    const { ok, data } = await postJson(links.domainCheck, {});
    domainCheck.disabled = false;
    if (!ok) return showFieldErrors({ customDomain: (data.error && data.error.message) || 'The check failed; try again.' });
    Object.assign(draft, data.state);
    showDomain(data.state);
  });
}

// ---- the preview frame ---------------------------------------------------------------

const toFrame = (message) => frame.contentWindow && frame.contentWindow.postMessage(message, location.origin);
const sendConfig = () => toFrame({ type: 'ca-preview:config', config: publicConfig(collect()) });

/** Brings a (re)loaded frame up to date with the form and the chosen scene. */
function syncFrame() {
  sendConfig();
  toFrame({ type: 'ca-preview:scene', scene: document.querySelector('[data-ca="scene"]').value });
}

window.addEventListener('message', (event) => {
  if (event.origin !== location.origin || event.source !== frame.contentWindow) return;
  if (event.data && event.data.type === 'ca-preview:ready') syncFrame();
});
frame.addEventListener('load', syncFrame); // in case its "ready" came before this script ran

document.querySelector('[data-ca="scene"]').addEventListener('change', (event) => {
  toFrame({ type: 'ca-preview:scene', scene: event.target.value });
});
for (const button of document.querySelectorAll('[data-size]')) {
  if (button.tagName !== 'BUTTON') continue;
  button.addEventListener('click', () => {
    document.querySelector('[data-ca="frame-box"]').dataset.size = button.dataset.size;
    for (const other of document.querySelectorAll('button[data-size]')) other.setAttribute('aria-pressed', String(other === button));
  });
}

// ---- changes, saving, the logo -------------------------------------------------------

function changed(event) {
  const target = event && event.target;
  if (target && target.dataset && target.dataset.pickerFor) {
    document.getElementById(target.dataset.pickerFor).value = target.value;
  } else if (target && target.dataset && target.dataset.theme) syncPicker(target.dataset.theme);
  $('[data-ca="font-custom"]').hidden = $('[data-ca="font"]').value !== '__custom';
  $('[data-ca="triggers"]').hidden = !$('[data-ca="triggers-on"]').checked;
  const values = collect();
  if (target) $('[data-ca="save-status"]').textContent = ''; // an earlier "Saved" or "Not saved" no longer applies
  sendConfig();
  showContrast(themeContrastWarnings(values.theme));
  showCssCount();
  showDirty();
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, CHECK_DELAY_MS);
}

form.addEventListener('input', changed);
form.addEventListener('change', changed);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('[data-ca="save-status"]');
  const values = collect();
  status.textContent = 'Saving…';
  const { ok, status: code, data } = await postJson(links.save, values);
  if (ok) {
    Object.assign(draft, data.state);
    saved = JSON.stringify(values);
    showFieldErrors({});
    showDomain(data.state);
    status.textContent = 'Saved to the draft. Visitors see it once you publish.';
  } else {
    showFieldErrors(data.errors || {});
    status.textContent =
      code === 403 ? 'Only the workspace’s owners and admins may change the widget.' : `Not saved: ${(data.error && data.error.message) || 'try again.'}`;
  }
  showDirty();
});

const logo = $('[data-ca="logo"]');
if (logo) {
  logo.addEventListener('change', async (event) => {
    event.stopPropagation();
    const file = logo.files[0];
    if (!file) return;
    const body = new FormData();
    body.append('logo', file);
    const response = await fetch(links.logo, { method: 'POST', body, headers: { 'X-CSRFToken': csrf() }, credentials: 'same-origin' }).catch(
      () => null,
    );
    const data = response ? await response.json().catch(() => ({})) : {};
    logo.value = '';
    if (!response || !response.ok) return showFieldErrors({ avatarUrl: (data.error && data.error.message) || 'The upload failed.' });
    $('[data-field="avatarUrl"]').value = data.avatarUrl;
    // The upload saved the logo into the draft already: only the other fields may be unsaved.
    draft.avatarUrl = data.avatarUrl;
    saved = JSON.stringify({ ...JSON.parse(saved), avatarUrl: data.avatarUrl });
    showFieldErrors({});
    changed();
  });
}

window.addEventListener('beforeunload', (event) => {
  if (showDirty()) event.preventDefault();
});

fill(draft);
showDomain(draft);
saved = JSON.stringify(collect());
changed();
