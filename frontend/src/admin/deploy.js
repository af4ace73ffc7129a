// The Deploy page (widgets/admin/deploy.py): copy buttons, and an installation check that
// redraws itself from status.json while the page is visible. The page works without it.
// Built by build.mjs into /static/widgets/deploy.js, a classic script (loaded with defer).

const announcer = document.querySelector('[data-ca="announce"]');
const announce = (text) => {
  if (!announcer) return;
  announcer.textContent = '';
  // A fresh text node after a tick, so screen readers announce the same words twice.
  setTimeout(() => {
    announcer.textContent = text;
  }, 30);
};

/** Copy with the async Clipboard API, else the old textarea + execCommand way. */
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      // Denied or unfocused: fall through to the fallback.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch (e) {
    copied = false;
  }
  area.remove();
  return copied;
}

function copyButtons() {
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const label = button.textContent;
    const source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) continue;
    button.hidden = false;
    let timer = 0;
    button.addEventListener('click', async () => {
      const ok = await copyText(source.textContent);
      button.textContent = ok ? 'Copied ✓' : 'Press Ctrl+C to copy';
      button.classList.toggle('copied', ok);
      if (!ok) window.getSelection().selectAllChildren(source);
      announce(ok ? 'Snippet copied to the clipboard.' : 'Copy failed: the snippet is selected, press Ctrl+C.');
      clearTimeout(timer);
      timer = setTimeout(() => {
        button.textContent = label;
        button.classList.remove('copied');
      }, 2500);
    });
  }
}

function installationCheck() {
  const check = document.querySelector('[data-ca="install-check"]');
  if (!check || !window.fetch) return;
  const url = check.getAttribute('data-status-url');
  const every = Math.max(2, Number(check.getAttribute('data-poll-seconds')) || 5) * 1000;
  const note = document.querySelector('[data-ca="poll-note"]');
  if (note) note.hidden = false;
  let digest = null;
  let timer = 0;
  let busy = false;

  const liveCount = () => check.querySelectorAll('tr[data-ca="domain"][data-status="ok"]').length;

  async function refresh() {
    if (busy || document.visibilityState !== 'visible') return;
    busy = true;
    try {
      const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (!response.ok) return;
      const data = await response.json();
      if (data.digest === digest) return;
      // Keep the user's place: don't redraw under a focused control (next tick will).
      if (check.contains(document.activeElement) && document.activeElement !== check) return;
      const first = digest === null;
      digest = data.digest;
      const before = liveCount();
      // Server-rendered with Django's autoescaping (deploy_check.html), like the page itself.
      check.innerHTML = data.html;
      if (!first) {
        const after = liveCount();
        announce(after > before ? 'The widget loaded on your site.' : 'Installation check updated.');
      }
    } catch (e) {
      // Offline or signed out: try again on the next tick.
    } finally {
      busy = false;
    }
  }

  const schedule = () => {
    clearInterval(timer);
    if (document.visibilityState === 'visible') {
      refresh();
      timer = setInterval(refresh, every);
    }
  };
  document.addEventListener('visibilitychange', schedule);
  schedule();
}

copyButtons();
installationCheck();
