// The core, imported by the loader on intent. `mount(ctx)` builds the panel into the
// loader's shadow root, starts the session and returns the controller that
// window.CustomerAgent forwards to.
//
// ctx = {
//   base        platform origin, e.g. "https://chat.example.com"
//   agentId     string
//   config      the embed config {agentId, customer?, customerToken?, userHash?, locale?, open?}
//   host        the <div id="customeragent-widget"> (theme custom properties are set on it)
//   shadowRoot  its open shadow root, which already holds the launcher
//   launcher    the launcher <button>
//   api         window.CustomerAgent (identity fields are kept current on it)
//   emit        (event, payload) => void, calls the handlers registered with api.on()
// }

import { createChat, pickIdentity } from './chat.js';
import { newClientId } from './ids.js';
import { createStore } from './storage.js';
import { STRINGS } from './strings.js';
import { isLeftPosition, themeVariables } from './theme.js';
import { beaconTransport, createTracker } from './tracker.js';
import { h } from './ui/dom.js';
import { enhanceLauncher } from './ui/launcher.js';
import { createPanel, PANEL_ID } from './ui/panel.js';
import { CSS } from './ui/styles.js';

function browserStorage() {
  try {
    return window.localStorage;
  } catch (error) {
    return null; // blocked; the store falls back to memory
  }
}

export function mount({ base, agentId, config = {}, host, shadowRoot, launcher, api, emit }) {
  const store = createStore(browserStorage(), agentId);
  let unread = 0;
  let wasOnline = false;
  let ready = false; // 'ready' and the 'load' event happen once, not on every renewed session

  shadowRoot.append(h('style', {}, [CSS]));
  const launcherView = enhanceLauncher(launcher, PANEL_ID);
  const panel = createPanel({
    locale: config.locale,
    onSend: (text) => sendMessage(text),
    onTyping: () => chat.typing(),
    onClose: () => close(),
  });
  shadowRoot.append(panel.element);

  const tracker = createTracker({ base, getToken: () => chat.token(), transport: beaconTransport });

  const handlers = {
    session({ config: agentConfig, variants, customer, visitorId, conversationId }) {
      applyConfig(agentConfig);
      store.write('config', agentConfig);
      panel.showError('');
      if (!ready) {
        ready = true;
        tracker.track('load', { url: location.href });
        for (const [experiment, variant] of Object.entries(variants)) tracker.track('exposure', { experiment, variant });
        emit('ready', { visitorId, conversationId, config: agentConfig, variants, customer });
      }
      tracker.flush();
    },
    messages({ messages, fresh }) {
      panel.renderMessages(messages, { follow: fresh.length > 0 || messages.some((m) => m.state === 'sending') });
      for (const message of fresh) {
        if (message.role !== 'customer' && !panel.isOpen()) launcherView.setUnread(++unread);
        emit('message', message);
      }
    },
    status(status) {
      if (status === 'online') wasOnline = true;
      // Say nothing on the first connect; only a lost connection is worth mentioning.
      panel.setStatus(status === 'offline' && wasOnline ? STRINGS.reconnecting : status === 'online' ? STRINGS.online : '');
    },
    typing: (typing) => panel.setTyping(typing),
    error({ code, message, fatal }) {
      // Visitors get a plain sentence for fatal errors; the site gets the code and details.
      panel.showError(fatal ? STRINGS.unavailable : message, { fatal });
      tracker.track('error', { code });
      emit('error', { code, message });
    },
  };

  const chat = createChat({
    base,
    agentId,
    identity: config,
    store,
    page: { href: location.href, referrer: document.referrer },
    fetchImpl: (...args) => fetch(...args),
    WebSocketImpl: WebSocket,
    newId: () => newClientId(),
    onEvent: (type, payload) => handlers[type](payload),
  });

  /** The agent's name, greeting, avatar, colours and corner. */
  function applyConfig(agentConfig) {
    for (const [property, value] of Object.entries(themeVariables(agentConfig.theme))) host.style.setProperty(property, value);
    launcherView.setLeft(isLeftPosition(agentConfig));
    panel.setConfig(agentConfig);
    // The loader reads this to paint the launcher's colour and corner on the next page view.
    const primaryColor = agentConfig.theme && agentConfig.theme.primaryColor;
    store.write('theme', { primaryColor: typeof primaryColor === 'string' ? primaryColor : null, position: agentConfig.position || null });
  }

  function open({ focus = true, restored = false } = {}) {
    if (panel.isOpen()) return;
    panel.show();
    launcherView.setOpen(true);
    launcherView.setUnread((unread = 0));
    store.write('open', true);
    chat.goLive();
    if (focus) panel.focusInput();
    if (!restored) tracker.track('open');
    emit('open');
  }

  function close() {
    if (!panel.isOpen()) return;
    const hadFocus = panel.contains(shadowRoot.activeElement);
    panel.hide();
    launcherView.setOpen(false);
    store.write('open', null);
    if (hadFocus) launcher.focus();
    tracker.track('close');
    emit('close');
  }

  function sendMessage(text) {
    const clientId = chat.send(text);
    if (clientId) tracker.track('message');
    return clientId;
  }

  function setIdentityFields(identity) {
    for (const field of ['customer', 'customerToken', 'userHash']) {
      if (identity[field] != null) api[field] = identity[field];
      else delete api[field];
    }
  }

  // Paint what the last page view knew at once; the session answer refreshes it.
  const cachedConfig = store.read('config');
  if (cachedConfig && typeof cachedConfig === 'object') applyConfig(cachedConfig);
  else panel.setConfig({});
  // The visitor had the panel open on the previous page: keep it open, without stealing focus.
  if (store.read('open')) open({ focus: false, restored: true });
  panel.renderMessages(chat.state.messages, { follow: true });
  chat.start();

  window.addEventListener('online', () => chat.reconnectNow());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') chat.reconnectNow();
    else tracker.flush(); // the page may be going away; sendBeacon still gets through
  });
  window.addEventListener('pagehide', () => tracker.flush());

  return {
    open: () => open(),
    close: () => close(),
    toggle: () => (panel.isOpen() ? close() : open()),
    identify(identity) {
      const next = pickIdentity(identity);
      setIdentityFields(next);
      chat.identify(next);
    },
    logout() {
      close();
      unread = 0;
      launcherView.setUnread(0);
      setIdentityFields({});
      chat.logout();
    },
    sendMessage,
    track: (name, metadata) => tracker.track(name, metadata),
  };
}
