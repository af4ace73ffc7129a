// Fakes for the browser objects the core is given, so it can be tested without a DOM.

/** A Web Storage look-alike (getItem/setItem/removeItem/key/length). */
export class MemoryStorage {
  constructor(entries = {}) {
    this.map = new Map(Object.entries(entries));
  }
  get length() {
    return this.map.size;
  }
  key(index) {
    return [...this.map.keys()][index] ?? null;
  }
  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  setItem(key, value) {
    this.map.set(key, String(value));
  }
  removeItem(key) {
    this.map.delete(key);
  }
}

/** Storage that throws on every call, like Safari's private mode used to. */
export const brokenStorage = {
  get length() {
    throw new Error('SecurityError');
  },
  key() {
    throw new Error('SecurityError');
  },
  getItem() {
    throw new Error('SecurityError');
  },
  setItem() {
    throw new Error('QuotaExceededError');
  },
  removeItem() {
    throw new Error('SecurityError');
  },
};

/** Manual timers: nothing runs until the test calls runNext()/runAll(). */
export function fakeTimers() {
  let nextId = 1;
  const pending = new Map();
  return {
    setTimeout(fn, ms = 0) {
      const id = nextId++;
      pending.set(id, { fn, ms });
      return id;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    delays: () => [...pending.values()].map((t) => t.ms),
    /** Runs the timer with the shortest delay; returns its delay, or null if none. */
    runNext() {
      const [id, timer] = [...pending.entries()].sort((a, b) => a[1].ms - b[1].ms)[0] || [];
      if (!timer) return null;
      pending.delete(id);
      timer.fn();
      return timer.ms;
    },
    pending: () => pending.size,
  };
}

/** A WebSocket stand-in that records what the client sent and lets the test play the server. */
export function fakeWebSocketClass() {
  const sockets = [];
  class FakeWebSocket {
    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.readyState = 0;
      this.sent = [];
      sockets.push(this);
    }
    send(data) {
      this.sent.push(JSON.parse(data));
    }
    close(code = 1000) {
      this.readyState = 3;
      this.closedWith = code;
    }
    // test side
    serverOpen() {
      this.readyState = 1;
    }
    serverSend(frame) {
      this.onmessage && this.onmessage({ data: JSON.stringify(frame) });
    }
    serverReady(frame = {}) {
      this.serverOpen();
      this.serverSend({ type: 'session.ready', conversationId: null, visitorId: 'v_1', ...frame });
    }
    serverClose(code) {
      this.readyState = 3;
      this.onclose && this.onclose({ code });
    }
  }
  return { FakeWebSocket, sockets };
}

/** A fetch stand-in answering from a route table of functions `(url, init) => [status, body]`. */
export function fakeFetch(routes) {
  const calls = [];
  const fetchImpl = async (url, init = {}) => {
    calls.push({ url, init, body: init.body ? JSON.parse(init.body) : undefined });
    const route = Object.keys(routes).find((pattern) => url.includes(pattern));
    if (!route) throw new TypeError('Failed to fetch');
    const [status, body, headers = {}] = await routes[route](url, init);
    return {
      ok: status >= 200 && status < 300,
      status,
      headers: { get: (name) => headers[name] ?? null },
      json: async () => body,
    };
  };
  return { fetchImpl, calls };
}

/** Lets pending promise callbacks run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));
