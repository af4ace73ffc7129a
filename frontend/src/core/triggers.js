// Proactive triggers from config.triggers (all optional):
//   {delayMs, scrollPercent, exitIntent, urlInclude: [glob], urlExclude: [glob], minPageViews, action}
// urlInclude, urlExclude and minPageViews decide whether this page may trigger at all;
// delayMs, scrollPercent and exitIntent are the moments that fire it (the first one
// wins). With no moment configured, an eligible page fires at once.
// `action: 'open'` opens the panel; anything else shows the greeting as a teaser bubble.

/** `*` matches anything; a glob starting with `/` is matched against path and query. */
export function globMatches(glob, url) {
  if (typeof glob !== 'string' || !glob) return false;
  const pattern = new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
  let target = url;
  if (glob.startsWith('/')) {
    try {
      const parsed = new URL(url);
      target = parsed.pathname + parsed.search;
      if (pattern.test(parsed.pathname)) return true;
    } catch (error) {
      return false;
    }
  }
  return pattern.test(target);
}

const list = (value) => (Array.isArray(value) ? value : typeof value === 'string' ? [value] : []);
const positive = (value) => (typeof value === 'number' && value > 0 ? value : 0);

/** Whether this page view may trigger. */
export function triggerAllowed(triggers, { url, pageViews }) {
  if (!triggers || typeof triggers !== 'object') return false;
  const include = list(triggers.urlInclude);
  if (include.length && !include.some((glob) => globMatches(glob, url))) return false;
  if (list(triggers.urlExclude).some((glob) => globMatches(glob, url))) return false;
  return pageViews >= positive(triggers.minPageViews);
}

/** How far down the page the visitor has scrolled, 0–100. */
export function scrollPercent({ scrollY, innerHeight, scrollHeight }) {
  const scrollable = scrollHeight - innerHeight;
  return scrollable <= 0 ? 100 : Math.min(100, Math.round((scrollY / scrollable) * 100));
}

/**
 * Watches for the configured moment and calls `fire()` once. Returns stop().
 * `win` is the window (addEventListener, scrollY, innerHeight, document).
 */
export function watchTriggers({ triggers, url, pageViews, win, timers = globalThis, fire }) {
  if (!triggerAllowed(triggers, { url, pageViews })) return () => {};
  const listeners = [];
  let timer = null;
  let done = false;
  const stop = () => {
    done = true;
    timers.clearTimeout(timer);
    for (const [target, type, fn] of listeners) target.removeEventListener(type, fn);
  };
  const once = () => {
    if (done) return;
    stop();
    fire();
  };
  const listen = (target, type, fn) => {
    target.addEventListener(type, fn, { passive: true });
    listeners.push([target, type, fn]);
  };

  const delay = positive(triggers.delayMs);
  const scroll = positive(triggers.scrollPercent);
  if (!delay && !scroll && triggers.exitIntent !== true) {
    once();
    return stop;
  }
  if (delay) timer = timers.setTimeout(once, delay);
  if (scroll) {
    listen(win, 'scroll', () => {
      const root = win.document.documentElement;
      if (scrollPercent({ scrollY: win.scrollY, innerHeight: win.innerHeight, scrollHeight: root.scrollHeight }) >= scroll) once();
    });
  }
  if (triggers.exitIntent === true) {
    // The pointer leaving through the top of the window: heading for the tabs or the URL bar.
    listen(win.document, 'mouseout', (event) => {
      if (!event.relatedTarget && event.clientY <= 0) once();
    });
  }
  return stop;
}
