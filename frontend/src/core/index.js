// The core, imported by the loader on intent. `mount(ctx)` builds the panel into the
// loader's shadow root and returns the controller that window.CustomerAgent forwards to.
// The session starts only when it is needed: the visitor opens the chat or sends a
// message, a proactive trigger fires, or there is a conversation or an unsent message to
// restore. Imported on a hover or a focus, the core asks the platform for nothing.
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
//   published   the page config the loader read (GET /api/v2/widget/config/<agentId>), if
//               it had arrived: {config, identityRequired, launcher, trigger}
//   offline     only for the admin's preview (src/admin/preview.js), which runs this same
//               core without a network: {storage, transport, makeChat, makeTabs} replace
//               localStorage, the analytics beacon, createChat and createTabSync
// }
//
// Everything the page or the network can call into (DOM events, timers, socket frames,
// other tabs) goes through `guard`: a bug in the widget is reported with the 'error'
// event and the analytics beacon, and never thrown into the host page.

import { MESSAGE_MAX_CHARS } from '../protocol.js';
import { createChat } from './chat.js';
import { pickIdentity, shopifyCustomerId, withStorefrontCustomer } from './identity.js';
import { newClientId } from './ids.js';
import { createStore } from './storage.js';
import { pickStrings } from './strings.js';
import { createTabSync } from './tabs.js';
import { isLeftPosition, LAUNCHER_ICONS, launcherIconPath, themeMode, themeVariables } from './theme.js';
import { beaconTransport, createTracker } from './tracker.js';
import { h } from './ui/dom.js';
import { enhanceLauncher } from './ui/launcher.js';
import { createPanel, PANEL_ID } from './ui/panel.js';
import { CSS } from './ui/styles.js';
import { createTeaser } from './ui/teaser.js';

function browserStorage() {
  try {
    return window.localStorage;
  } catch (error) {
    return null; // blocked; the store falls back to memory
  }
}

const hasFeature = (agentConfig, feature) => !!agentConfig && Array.isArray(agentConfig.features) && agentConfig.features.includes(feature);

export function mount({ base, agentId, config = {}, host, shadowRoot, launcher, api, emit, published, offline = {} }) {
  const { storage = browserStorage(), transport = beaconTransport, makeChat = createChat, makeTabs = createTabSync } = offline;
  // Nothing is written until we know the agent does not need consent first, unless this
  // visitor already has something stored (so storing was allowed before).
  const store = createStore(storage, agentId, { held: true });
  if (store.hasAny()) store.release();
  const strings = pickStrings(config.locale, navigator.language);
  const { t } = strings;
  let unread = 0;
  let wasOnline = false;
  let ready = false; // 'ready' and the 'load' event happen once, not on every renewed session
  let appliedVariables = [];
  let sessionConfig = null; // the config of the current session (the visitor's variant)
  let triggered = false; // a proactive trigger fires once per page view
  let triggerWaiting = false; // ...and shows once the session it started has answered

  const tracker = createTracker({ base, getToken: () => chat.token(), transport });
  function report(error) {
    try {
      const message = String((error && error.message) || error);
      tracker.track('error', { code: 'internal', message });
      emit('error', { code: 'internal', message });
    } catch (ignored) {
      // reporting must not fail either
    }
  }
  const guard =
    (fn) =>
    (...args) => {
      try {
        return fn(...args);
      } catch (error) {
        report(error);
        return undefined;
      }
    };
  const timers = { setTimeout: (fn, ms) => setTimeout(guard(fn), ms), clearTimeout: (id) => clearTimeout(id) };

  const customCss = h('style', { 'data-ca': 'custom-css' });
  shadowRoot.append(h('style', {}, [CSS]));
  const launcherView = enhanceLauncher(launcher, PANEL_ID);
  const panel = createPanel({
    strings,
    onSend: guard((text) => sendMessage(text)),
    onTyping: guard(() => chat.typing()),
    onClose: guard(() => close()),
    onRate: guard((score, comment) => chat.rate(score, comment)),
  });
  const teaser = createTeaser({
    strings,
    onOpen: guard(() => open()),
    onDismiss: guard(() => {
      teaser.hide();
      store.write('teased', true);
    }),
  });
  shadowRoot.append(teaser.element, panel.element, panel.announcer, customCss);

  const tabs = makeTabs({
    agentId,
    onMessage: guard((message) => {
      if (message.type === 'open') (message.open ? open : close)({ focus: false, synced: true });
      else if (message.type === 'local') chat.showPending(message.entry);
      else chat.receive(message.frame);
    }),
  });

  const handlers = {
    session({ config: agentConfig, variants, customer, visitorId, conversationId }) {
      if (!hasFeature(agentConfig, 'consent_first')) store.release();
      applyConfig(agentConfig);
      store.write('config', agentConfig);
      setAvailable(true);
      panel.showError('');
      sessionConfig = agentConfig;
      if (!ready) {
        ready = true;
        tracker.track('load', { url: location.href });
        for (const [experiment, variant] of Object.entries(variants)) tracker.track('exposure', { experiment, variant });
        emit('ready', { visitorId, conversationId, config: agentConfig, variants, customer });
      }
      if (triggerWaiting) {
        triggerWaiting = false;
        showTrigger(agentConfig);
      }
      tracker.flush();
    },
    messages({ messages, fresh }) {
      panel.renderMessages(messages, { follow: fresh.length > 0 || messages.some((m) => m.state === 'sending') });
      for (const message of fresh) {
        if (message.role !== 'customer' && !panel.isOpen()) {
          launcherView.setUnread(++unread);
          panel.announce(message);
        }
        emit('message', message);
      }
    },
    status(status) {
      if (status === 'online') wasOnline = true;
      // Say nothing on the first connect; only a lost connection is worth mentioning, and
      // it stays said through every attempt until the server lets us in again.
      const away = wasOnline && (status === 'offline' || status === 'connecting');
      panel.setStatus(away ? t('reconnecting') : status === 'online' ? t('online') : '');
    },
    typing: (typing) => panel.setTyping(typing),
    error({ code, message, fatal }) {
      tracker.track('error', { code });
      emit('error', { code, message });
      if (code === 'internal') return; // a bug of ours: the visitor can do nothing about it
      // The agent chats only with signed-in customers (or the site's token is bad): no
      // launcher for this visitor until the site calls identify() with a valid token.
      if (fatal && code === 'invalid_customer_token') return setAvailable(false);
      // Visitors get a plain sentence for fatal errors; the site gets the code and details.
      panel.showError(fatal ? t('unavailable') : code === 'message_too_long' ? t('tooLong', { max: MESSAGE_MAX_CHARS }) : message, { fatal });
    },
    csat: (csat) => panel.setCsat(csat),
    greeting(text) {
      panel.setGreeting(text);
      // The next page view paints it at once (the session answer carries it too).
      const stored = store.read('config');
      if (stored && typeof stored === 'object') store.write('config', { ...stored, greeting: text });
    },
    rated: (rating) => emit('csat', rating), // the server records the analytics event itself
    frame: (frame) => tabs.post({ type: 'frame', frame }),
    sent: (entry) => tabs.post({ type: 'local', entry }),
  };

  const chat = makeChat({
    base,
    agentId,
    identity: withStorefrontCustomer(config, shopifyCustomerId(window)),
    store,
    page: { href: location.href, referrer: document.referrer },
    fetchImpl: (...args) => fetch(...args),
    WebSocketImpl: WebSocket,
    timers,
    newId: () => newClientId(),
    onEvent: guard((type, payload) => handlers[type](payload)),
  });

  function setAvailable(available) {
    if (!available && panel.isOpen()) close();
    launcher.style.display = available ? '' : 'none';
  }

  /** The agent's name, greeting, avatar, colours, corner, mode and custom CSS. */
  function applyConfig(agentConfig) {
    const variables = themeVariables(agentConfig.theme);
    for (const property of appliedVariables) if (!(property in variables)) host.style.removeProperty(property);
    for (const [property, value] of Object.entries(variables)) host.style.setProperty(property, value);
    appliedVariables = Object.keys(variables);
    const left = isLeftPosition(agentConfig);
    const mode = themeMode(agentConfig.theme);
    const icon = launcherIconPath(agentConfig.theme);
    launcherView.setLeft(left);
    launcherView.setIcon(icon);
    for (const element of [panel.element, teaser.element]) {
      element.classList.toggle('left', left);
      element.classList.toggle('dark', mode === 'dark');
      element.classList.toggle('auto', mode === 'auto');
    }
    // The agent's own CSS applies inside the shadow root only; a Text node, never markup.
    customCss.textContent = typeof agentConfig.customCss === 'string' ? agentConfig.customCss : '';
    panel.setConfig(agentConfig);
    // The loader reads this to paint the launcher on the next page view.
    store.write('theme', { vars: variables, left, icon: icon === LAUNCHER_ICONS.chat ? undefined : icon });
  }

  /** A proactive trigger fired (the loader watched for its moment): start the session, then
   * show the teaser or open the chat as the visitor's own config (their A/B variant) says. */
  function trigger() {
    if (triggered || panel.isOpen() || store.read('teased') || chat.state.conversationId) return;
    triggered = true;
    if (sessionConfig) return showTrigger(sessionConfig);
    triggerWaiting = true;
    chat.wake().catch(report);
  }

  function showTrigger(agentConfig) {
    const triggers = agentConfig.triggers;
    // A variant without triggers turns them off; a visitor who started chatting meanwhile is left alone.
    if (!triggers || !Object.keys(triggers).length || store.read('teased') || chat.state.conversationId || panel.isOpen()) return;
    tracker.track('trigger', {});
    if (triggers.action === 'open') open({ focus: false, byVisitor: false });
    else teaser.show(agentConfig.greeting || t('chatWith', { name: agentConfig.name || t('defaultName') }));
  }

  function open({ focus = true, restored = false, synced = false, byVisitor = !restored && !synced } = {}) {
    if (panel.isOpen()) return;
    if (byVisitor) store.release(); // opening the chat is the interaction consent-first waits for
    teaser.hide();
    if (byVisitor) store.write('teased', true);
    panel.show();
    launcherView.setOpen(true);
    launcherView.setUnread((unread = 0));
    store.write('open', true);
    chat.goLive();
    if (focus) panel.focusInput();
    if (!synced) tabs.post({ type: 'open', open: true });
    if (!restored && !synced) tracker.track('open');
    emit('open');
  }

  function close({ synced = false } = {}) {
    if (!panel.isOpen()) return;
    const hadFocus = panel.contains(shadowRoot.activeElement);
    panel.hide();
    launcherView.setOpen(false);
    store.write('open', null);
    if (hadFocus) launcher.focus();
    if (!synced) {
      tabs.post({ type: 'open', open: false });
      tracker.track('close');
    }
    emit('close');
  }

  function sendMessage(text) {
    store.release();
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

  // Paint what the last page view knew at once (or the published config the loader read);
  // the session answer refreshes it.
  const cachedConfig = store.read('config') || (published && published.config);
  if (cachedConfig && typeof cachedConfig === 'object') applyConfig(cachedConfig);
  else panel.setConfig({});
  const verified = (identity) => !!(identity.customerToken || identity.userHash);
  // An agent for verified customers only: no launcher for a guest (the loader hid it too).
  const guestsHidden = !!(published && published.identityRequired);
  if (guestsHidden && !verified(config)) setAvailable(false);
  // The visitor had the panel open on the previous page: keep it open, without stealing focus.
  if (store.read('open')) open({ focus: false, restored: true });
  panel.renderMessages(chat.state.messages, { follow: true });
  // A conversation or an unsent message to bring back needs the session now; otherwise it
  // waits for intent (open, a message, a trigger).
  if (chat.hasWork()) chat.wake().catch(report);

  window.addEventListener('online', guard(() => chat.reconnectNow()));
  document.addEventListener(
    'visibilitychange',
    guard(() => {
      if (document.visibilityState === 'visible') chat.reconnectNow();
      else tracker.flush(); // the page may be going away; sendBeacon still gets through
    }),
  );
  window.addEventListener('pagehide', guard(() => tracker.flush()));

  return {
    open: guard(() => open()),
    close: guard(() => close()),
    toggle: guard(() => (panel.isOpen() ? close() : open())),
    identify: guard((identity) => {
      const next = pickIdentity(identity);
      setIdentityFields(next);
      if (verified(next)) setAvailable(true); // the session it starts (now or on intent) confirms it
      chat.identify(next).catch(report);
    }),
    logout: guard(() => {
      close();
      unread = 0;
      launcherView.setUnread(0);
      setIdentityFields({});
      if (guestsHidden) setAvailable(false);
      chat.logout().catch(report);
    }),
    sendMessage: guard(sendMessage),
    track: guard((name, metadata) => tracker.track(name, metadata)),
    trigger: guard(trigger), // for the loader only: not on window.CustomerAgent
  };
}
