// The admin customizer's preview frame (/admin/agents/agent/<id>/widget/customize/preview/):
// the real widget core, drawn in the same shadow root the loader builds, offline. The
// customizer (customize.js) posts each unsaved change here and the
// core applies it exactly as it applies a session's config on a customer's site.
import { mount } from '../core/index.js';
import { SHELL_HTML } from '../loader/shell.js';
import { createPreviewChat, memoryStorage, previewCommand } from './preview-chat.js';

const AGENT_ID = 'preview';
const initial = JSON.parse(document.getElementById('ca-preview-config').textContent || '{}');

const host = document.createElement('div');
host.id = 'customeragent-widget';
const shadowRoot = host.attachShadow({ mode: 'open' });
shadowRoot.innerHTML = SHELL_HTML;
const launcher = shadowRoot.lastChild;
document.body.append(host);

let chat = null;
let config = initial;
const controller = mount({
  base: location.origin,
  agentId: AGENT_ID,
  config: {},
  host,
  shadowRoot,
  launcher,
  api: {},
  emit: () => {},
  offline: {
    // The panel starts open (as for a visitor coming back to it), without taking focus.
    storage: memoryStorage({ [`ca:${AGENT_ID}:open`]: 'true' }),
    transport: () => {},
    makeTabs: () => ({ post() {}, close() {} }),
    makeChat: (options) => (chat = createPreviewChat({ ...options, config: initial })),
  },
});
launcher.addEventListener('click', () => controller.toggle());

const teaser = shadowRoot.querySelector('[data-ca="teaser"]');

/** The bubble a trigger shows: the greeting next to the launcher. */
function showTeaser() {
  teaser.querySelector('.tzt').textContent = config.greeting || `Chat with ${config.name || 'Support'}`;
  teaser.hidden = false;
}

function setScene(scene) {
  teaser.hidden = true;
  if (scene === 'teaser' || scene === 'closed') {
    controller.close();
    if (scene === 'teaser') showTeaser();
    return;
  }
  chat.setScene(scene);
  controller.open();
}

window.addEventListener('message', (event) => {
  const command = previewCommand(event, window);
  if (!command) return;
  if (command.type === 'ca-preview:config') {
    config = command.config;
    chat.configure(config);
    if (!teaser.hidden) showTeaser();
  } else setScene(command.scene);
});
document.documentElement.dataset.ready = 'true';
if (window.parent !== window) window.parent.postMessage({ type: 'ca-preview:ready' }, location.origin);
