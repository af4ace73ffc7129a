// Triggers, theme, i18n, consent gating and tab sync: the pure pieces of a good guest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStore } from '../src/core/storage.js';
import { pickStrings, TRANSLATIONS } from '../src/core/strings.js';
import { createTabSync } from '../src/core/tabs.js';
import { isLeftPosition, themeMode, themeVariables } from '../src/core/theme.js';
import { fakeTimers, MemoryStorage } from './helpers.js';

// ---- theme ------------------------------------------------------------------------------

test('the theme becomes CSS variables, with lengths clamped and unsafe values dropped', () => {
  assert.deepEqual(
    themeVariables({
      primaryColor: '#fde047',
      textColor: 'rgb(17, 24, 39)',
      backgroundColor: 'red;} body{display:none',
      fontFamily: '"Inter", sans-serif',
      radius: 8,
      launcherSize: 500,
      offsetX: '24',
      offsetY: -5,
    }),
    {
      '--ca-primary': '#fde047',
      '--ca-on-primary': '#111827',
      '--ca-text': 'rgb(17, 24, 39)',
      '--ca-font': '"Inter", sans-serif',
      '--ca-radius': '8px',
      '--ca-size': '96px',
      '--ca-x': '24px',
      '--ca-y': '0px',
    },
  );
  assert.deepEqual(themeVariables({ backgroundColor: 'url(https://tracker.example/p.gif)' }), {});
});

test('mode defaults to light and position may come from the theme or the config', () => {
  assert.equal(themeMode({ mode: 'dark' }), 'dark');
  assert.equal(themeMode({ mode: 'auto' }), 'auto');
  assert.equal(themeMode({ mode: 'neon' }), 'light');
  assert.equal(isLeftPosition({ position: 'bottom-left' }), true);
  assert.equal(isLeftPosition({ position: 'bottom-right', theme: { position: 'bottom-left' } }), true);
  assert.equal(isLeftPosition({}), false);
});

// ---- i18n -------------------------------------------------------------------------------

test('it picks the site locale, then the browser language, then English', () => {
  assert.equal(pickStrings('fr-CA', 'en-US').lang, 'fr');
  assert.equal(pickStrings(undefined, 'ar-EG').lang, 'ar');
  assert.equal(pickStrings('de', 'pt-BR').lang, 'en');
  assert.equal(pickStrings('AR').dir, 'rtl');
  assert.equal(pickStrings('fr').dir, 'ltr');
});

test('strings fill placeholders and every translation has every key', () => {
  assert.equal(pickStrings('fr').t('chatWith', { name: 'Acme' }), 'Discuter avec Acme');
  assert.equal(pickStrings('en').t('tooLong', { max: 4000 }), 'Messages are limited to 4000 characters.');
  for (const [lang, table] of Object.entries(TRANSLATIONS)) {
    assert.deepEqual(Object.keys(table).sort(), Object.keys(TRANSLATIONS.en).sort(), lang);
  }
});

// ---- consent ----------------------------------------------------------------------------

test('a held store writes nothing until released, then writes what it held', () => {
  const storage = new MemoryStorage();
  const store = createStore(storage, 'agt_1', { held: true });
  store.write('visitor', 'v_1');
  store.write('open', true);
  store.write('open', null);
  assert.equal(storage.length, 0);
  assert.equal(store.read('visitor'), 'v_1');
  assert.equal(store.hasAny(), false);
  store.release();
  assert.equal(storage.getItem('ca:agt_1:visitor'), '"v_1"');
  assert.equal(storage.getItem('ca:agt_1:open'), null);
  store.write('x', 1);
  assert.equal(storage.getItem('ca:agt_1:x'), '1');
  assert.equal(store.hasAny(), true);
});

test('a store knows whether this agent stored anything before', () => {
  const storage = new MemoryStorage({ 'ca:other:visitor': '"v"' });
  assert.equal(createStore(storage, 'agt_1').hasAny(), false);
  storage.setItem('ca:agt_1:visitor', '"v"');
  assert.equal(createStore(storage, 'agt_1').hasAny(), true);
});

// ---- tabs -------------------------------------------------------------------------------

function fakeChannelClass() {
  const channels = [];
  class FakeChannel {
    constructor(name) {
      this.name = name;
      channels.push(this);
    }
    postMessage(data) {
      for (const other of channels) {
        if (other !== this && other.name === this.name && other.onmessage) other.onmessage({ data: structuredClone(data) });
      }
    }
    close() {
      channels.splice(channels.indexOf(this), 1);
    }
  }
  return FakeChannel;
}

test('tabs of the same agent hear each other, other agents and junk are ignored', () => {
  const Channel = fakeChannelClass();
  const heard = { a: [], b: [], other: [] };
  const a = createTabSync({ agentId: 'agt_1', Channel, onMessage: (m) => heard.a.push(m) });
  createTabSync({ agentId: 'agt_1', Channel, onMessage: (m) => heard.b.push(m) });
  createTabSync({ agentId: 'agt_2', Channel, onMessage: (m) => heard.other.push(m) });
  a.post({ type: 'open', open: true });
  a.post({ type: 'nonsense' });
  assert.deepEqual(heard, { a: [], b: [{ type: 'open', open: true }], other: [] });
});

test('without BroadcastChannel tab sync is a no-op', () => {
  const sync = createTabSync({ agentId: 'agt_1', Channel: null, onMessage: () => {} });
  assert.doesNotThrow(() => sync.post({ type: 'open', open: true }));
});
