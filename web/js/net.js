// The WebSocket connection: opens it, parses messages, notices a dead link and reconnects
// with exponential backoff (0.5 s doubling to 5 s, with jitter so that a restarted server
// is not hit by every client in the same millisecond).

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 5000;
const SILENCE_MS = 5000;  // ticks come many times a second: this much silence means a dead link
// Close codes that say "your client is broken": reconnecting would only repeat it.
const FATAL_CLOSE = new Set([1002, 1007, 1008, 1009]);

export class Connection {
  /**
   * @param {string} url ws:// or wss:// URL of /ws
   * @param {{onOpen, onMessage, onDown, onRetryScheduled, onFatal}} handlers
   */
  constructor(url, handlers) {
    this.url = url;
    this.h = handlers;
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.lastMessageAt = 0;
    this.everOpened = false;
    this.stopped = false;
    this.watchdog = setInterval(() => this.checkSilence(), 1000);
  }

  get isOpen() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopped = false;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.connectStartedAt = performance.now();
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.attempt = 0;
      this.lastMessageAt = performance.now();
      const wasReconnect = this.everOpened;
      this.everOpened = true;
      this.h.onOpen(wasReconnect);
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.lastMessageAt = performance.now();
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;  // not ours to fix; the server only sends JSON
      }
      if (msg && typeof msg.type === 'string') this.h.onMessage(msg);
    };
    // A failed connect fires error then close; handling close alone covers both.
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      if (FATAL_CLOSE.has(ev.code)) {
        this.stopped = true;
        this.h.onFatal(ev.code, ev.reason);
        return;
      }
      this.h.onDown(ev.code);
      this.scheduleRetry();
    };
  }

  scheduleRetry() {
    if (this.stopped || this.retryTimer) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const delay = base * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.h.onRetryScheduled(performance.now() + delay);
  }

  /** Try again right away (the "Retry now" button, or the browser coming back online). */
  retryNow() {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    this.attempt = 0;
    this.connect();
  }

  send(obj) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  // A socket can stay "open" while the path to the server is gone (a laptop waking
  // up, a NAT timeout); silence is the only sign. Drop it and reconnect.
  // A connect attempt that hangs (packets silently dropped) is given up the same way.
  checkSilence() {
    const now = performance.now();
    const silent = this.isOpen && now - this.lastMessageAt > SILENCE_MS;
    const stuck = this.ws && this.ws.readyState === WebSocket.CONNECTING && now - this.connectStartedAt > SILENCE_MS;
    if (silent || stuck) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close();
      this.h.onDown(4000);
      this.scheduleRetry();
    }
  }
}

export function defaultUrl() {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  return scheme + location.host + '/ws';
}
