// The widget customizer (admin/widgets/customize.html, widgets/admin/customize.py).
// Fills the form from the saved draft, and on every change: posts the unsaved config to the
// preview frame (the real widget, frontend/src/admin/preview.js), shows contrast warnings at
// once, and asks the server (debounced) what saving would say: field errors, CSS syntax
// errors with line numbers. "Save draft" posts the same values; publishing stays on the
// releases page. Built by build.mjs into /static/widgets/customize.js; the form's fields
// are customize-form.js, the contrast rule contrast.js.
import { themeContrastWarnings } from './contrast.js';
import { customizeForm, publicConfig } from './customize-form.js';

const CHECK_DELAY_MS = 350;

const read = (id) => JSON.parse(document.getElementById(id).textContent);
const draft = read('ca-draft');
const links = read('ca-customize-links');
const limits = read('ca-customize-limits');
const form = document.querySelector('[data-ca="customize-form"]');
const frame = document.querySelector('[data-ca="preview"]');
const $ = (selector) => form.querySelector(selector);
const $$ = (selector) => [...form.querySelectorAll(selector)];
const csrf = () => form.querySelector('input[name=csrfmiddlewaretoken]').value;
const { fill, collect, syncPicker } = customizeForm(form, draft);

let saved = null; // JSON of the values last saved (or loaded)
let checkTimer = null;
let checkSeq = 0;

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
const sendConfig = () => toFrame({ type: 'ca-preview:config', config: publicConfig(draft, collect()) });

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
