// Transports: the same game messages over a WebSocket, over HTTP long polling or over HTTP
// short polling (docs/protocol.md). Whichever is used, the caller sees one small interface:
//
//   const t = createTransport(kind, handlers, options)   // kind: 'auto' | 'ws' | 'longpoll' | 'poll'
//   t.connect(); t.send(msgObject) -> bool; t.retryNow(); t.reconnect(); t.close(); t.leavePage()
//   t.kind ('ws' | 'longpoll' | 'poll'), t.isOpen, t.meter ({requests, bytesIn, deliveries}),
//   t.deliveryLagMs (how late a tick can be merely because of how it is fetched),
//   t.wire ('v2': binary ticks, 'json', or null before the first connection opens),
//   t.connectedUrl (where the latest connect went: a WebSocket's URL, or the polled origin)
//
//   handlers: onOpen(wasReconnect), onMessage(msg), onDown(code), onRetryScheduled(at),
//             onFatal(code, reason), onKind(kind) (optional: the transport in use changed)
//
// Every transport starts as a spectator and hands the world's `hello` to onMessage right
// after onOpen, as a WebSocket does. A dead link is noticed (silence), and reconnecting
// uses exponential backoff (0.5 s doubling to 5 s, with jitter so that a restarted server
// is not hit by every client in the same millisecond).
//
// A WebSocket counts as open only once the server's `hello` has come through it: a proxy
// can accept the upgrade and then pass nothing on, and such a socket is as useless as a
// refused one.
//
// 'auto' tries a WebSocket first; if the upgrade fails or no `hello` comes through within
// 3 s (a proxy that blocks WebSocket, or one that opens it and stays silent, or a server too
// busy to answer in time), it plays over long polling. A round in which both fail (the server
// is down) is retried with backoff, WebSocket first again. While it plays over long polling it
// tries a WebSocket again now and then (10 s after, then 20, 40 s ... up to every 5 minutes):
// when one says `hello`, the page moves onto it (its player rejoins with its token, as after
// a reconnect) and the polling session is ended once the join has its answer (before that, or
// without one, it ends with ?away=1, so the player is never made to leave), so a slow moment
// at the start does not cost the tab its WebSocket for good. A polling connection that drops,
// or a reconnect() (to another world), starts these tries over. A WebSocket moved to that drops
// starts a new round (WebSocket, else long polling): this path has failed WebSockets before.
//
// A WebSocket offers the subprotocol `skirmish.v2` (unless options.wire is 'json', or the page
// says `?protocol=json`): when the server picks it, ticks come as binary messages
// (tick_v2.js) and are decoded into the same objects a JSON tick parses to, so nobody past
// this file knows the difference. A server that does not speak v2 picks nothing, and the
// socket plays v1 as before. The polling API is always JSON.
//
// Worlds: a server may run several worlds (GET /worlds). options.world() is read at each
// connect: a name pins the connection to that world (`/ws?world=NAME`, or `"world"` in the
// polling session's POST /session); null lets the server place it. The server may move an
// unpinned viewer to another world when it joins (or a token's player lives elsewhere): it
// then sends that world's `hello` on the same connection, and a v2 socket starts a new
// decoder from it (the server's next frame for it is a full one). reconnect() drops the
// connection and opens a new one at once (to switch worlds).
//
// A fleet (several processes, POST /place): options.endpoint(), read at each connect instead of
// options.world(), may name a whole WebSocket URL (`url`: this process's or another's, with
// `?world=NAME` and maybe `&seat=SEAT`), which a WebSocket then connects to as it is, and
// reconnects to after a drop. The polling API has no cross-origin access, so HTTP polling
// always talks to the page's own server, and takes `world` only from an endpoint on it.

import { TickV2Decoder } from './tick_v2.js';

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 5000;
const STABLE_MS = 10000;       // a connection up this long starts the backoff over
const SILENCE_MS = 5000;       // ticks come many times a second: this much silence means a dead link
const WS_PROBE_MS = 3000;      // 'auto': a WebSocket with no `hello` by then is given up for long polling
const UPGRADE_FIRST_MS = 10000;  // 'auto' on long polling: the first new try of a WebSocket, after this long
const UPGRADE_MAX_MS = 300000;   // ... then twice as long each time, up to this
const UPGRADE_HANDOVER_MS = 5000;  // the polling session left behind ends at the join's answer, or this late
const POLL_MS = 1000;          // short polling: one GET a second
const JOIN_POLL_MS = 120;      // ... and one this soon after a welcome (two ticks at 20 Hz, and a margin)
const JOIN_FAST_POLLS = 8;     // ... and so on until a tick shows the new player, at most this many
const LONGPOLL_S = 25;         // long polling: the server answers [] after this long without news
const REQUEST_TIMEOUT_MS = 8000;
// Close codes that say "your client is broken": reconnecting would only repeat it (1008:
// the client broke the rules). Every other close is retried with backoff, among them 1013
// ("Try Again Later"), which the server sends a client that reads its frames too slowly:
// the client did nothing wrong, so it reconnects and resumes its player.
const FATAL_CLOSE = new Set([1002, 1007, 1008, 1009]);
/** Close code of a WebSocket the server dropped for reading too slowly: retried, not fatal. */
export const CLOSE_TRY_AGAIN_LATER = 1013;
export const CLOSE_GOING_AWAY = 1001;  // the server is stopping (a restart, a redeploy)
/** Our own code for a v2 frame we could not decode: out of step with the server, so reconnect. */
export const CLOSE_OUT_OF_STEP = 4002;
export const SUBPROTOCOL_V2 = 'skirmish.v2';
// WebSocket.readyState values (not read from window.WebSocket: a page may have replaced it).
const WS_CONNECTING = 0;
const WS_OPEN = 1;

export const TRANSPORT_KINDS = ['ws', 'longpoll', 'poll'];
export const TRANSPORT_LABELS = { ws: 'websocket', longpoll: 'long polling', poll: 'short polling' };

/** The transport asked for by `?transport=ws|longpoll|poll`, else 'auto'. */
export function transportFromUrl(search = location.search) {
  const k = new URLSearchParams(search).get('transport');
  return TRANSPORT_KINDS.includes(k) ? k : 'auto';
}

/** The world asked for by `?world=NAME`, else null (the server places us). */
export function worldFromUrl(search = location.search) {
  return new URLSearchParams(search).get('world') || null;
}

/** `url` with `world=NAME` added to its query (unchanged for no world). */
export function withWorld(url, world) {
  if (!world) return url;
  return `${url}${url.includes('?') ? '&' : '?'}world=${encodeURIComponent(world)}`;
}

/** 'json' when the page says `?protocol=json` (v1 text ticks, for debugging), else 'v2'. */
export function wireFromUrl(search = location.search) {
  return new URLSearchParams(search).get('protocol') === 'json' ? 'json' : 'v2';
}

export function defaultUrl(path = '/ws') {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  return scheme + location.host + path;
}

/** True when the ws(s):// (or http(s)://) `url` reaches the page's own server (same host and scheme family). */
export function isPageServer(url) {
  try {
    const u = new URL(url, location.href);
    const secure = u.protocol === 'wss:' || u.protocol === 'https:';
    return u.host === location.host && secure === (location.protocol === 'https:');
  } catch {
    return false;
  }
}

/**
 * @param {'auto'|'ws'|'longpoll'|'poll'} kind
 * @param {object} handlers see the top of this file
 * @param {{wsUrl?: string, base?: string, watchPoint?: () => {x: number, y: number}, wire?: 'v2'|'json',
 *          world?: () => (string|null)}} options
 *   wsUrl: ws:// URL of /ws; base: URL prefix of the HTTP paths ('' = this origin);
 *   watchPoint: where an HTTP spectator session starts looking;
 *   wire: 'json' offers no subprotocol to the WebSocket (default 'v2': offer skirmish.v2);
 *   world: the world to connect to, read at each connect (null or '': the server places us)
 *   endpoint: instead of world, read at each connect: {world?: string|null, url?: string|null}
 *     (url: a whole ws(s):// URL a WebSocket connects to as it is, maybe another server's)
 */
export function createTransport(kind, handlers, options = {}) {
  if (kind === 'auto') return new AutoTransport(handlers, options);
  if (kind === 'ws') return new WsTransport(handlers, options);
  if (kind === 'longpoll' || kind === 'poll') return new HttpTransport(kind, handlers, options);
  throw new Error(`unknown transport ${kind}`);
}

// Bytes a received frame (text or binary) took on the wire: payload plus the 2-10 byte frame
// header (server frames are not masked).
const encoder = new TextEncoder();
export function wsFrameBytes(payloadBytes) {
  return payloadBytes + (payloadBytes < 126 ? 2 : payloadBytes < 65536 ? 4 : 10);
}
// The server's 101 answer: status line, Upgrade, Connection, a 28-character accept key
// (plus the chosen subprotocol's header, when there is one: wsHandshakeBytes).
export const WS_HANDSHAKE_BYTES =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: 0000000000000000000000000000\r\n\r\n'.length;
export function wsHandshakeBytes(protocol) {
  return WS_HANDSHAKE_BYTES + (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n`.length : 0);
}

// fetch() hides the raw response head: estimate it as status line + "name: value\r\n" per
// header + the blank line, plus the body.
export function httpResponseBytes(res, bodyBytes) {
  let n = `HTTP/1.1 ${res.status} ${res.statusText || ''}\r\n`.length + 2 + bodyBytes;
  for (const [name, value] of res.headers) n += name.length + 2 + encoder.encode(value).length + 2;
  return n;
}

class Backoff {
  constructor() {
    this.attempt = 0;
  }

  next() {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    this.attempt++;
    return base * (0.75 + Math.random() * 0.5);
  }

  reset() {
    this.attempt = 0;
  }
}

// What the two real transports share: retry scheduling, silence watchdog, and "probe" mode
// (used by 'auto': a first connection that fails is reported with onProbeFailed instead of
// being retried here).
class BaseTransport {
  constructor(kind, handlers, options) {
    this.kind = kind;
    this.h = handlers;
    this.opts = options;
    this.backoff = new Backoff();
    this.retryTimer = null;
    this.everOpened = false;
    this.stopped = false;
    this.probe = !!handlers.onProbeFailed;
    this.lastMessageAt = 0;
    this.openedAt = 0;
    this.meter = { requests: 0, bytesIn: 0, deliveries: 0 };
    this.deliveryLagMs = kind === 'poll' ? POLL_MS : 0;
    this.wire = kind === 'ws' ? null : 'json';  // a WebSocket knows once its server has answered
    this.watchdog = null;
    this.switching = false;  // reconnect() in progress: the next open is not a recovery from a drop
    this.connectedUrl = null;  // where the latest connect went (a WebSocket's URL, or the polled origin)
  }

  /** Where this connection goes (options.endpoint, else options.world, read now): {world, url}. */
  endpointNow() {
    const ep = this.opts.endpoint ? this.opts.endpoint() || {} : { world: this.opts.world ? this.opts.world() : null };
    return {
      world: typeof ep.world === 'string' && ep.world ? ep.world : null,
      url: typeof ep.url === 'string' && ep.url ? ep.url : null,
    };
  }

  // Called by connect(): not stopped any more, watchdog running, no retry pending.
  starting() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopped = false;
    if (!this.watchdog) this.watchdog = setInterval(() => this.checkSilence(), 1000);
    this.connectStartedAt = performance.now();
  }

  // The link went away (or never came up): tell, then retry later (or report a failed probe).
  lost(code) {
    this.drop();
    this.switching = false;  // the next open, if any, recovers from this drop
    if (this.stopped) return;
    if (this.probe && !this.everOpened) {
      this.stopped = true;
      clearInterval(this.watchdog);
      this.watchdog = null;
      this.h.onProbeFailed(code);
      return;
    }
    this.h.onDown(code);
    this.scheduleRetry();
  }

  scheduleRetry() {
    if (this.stopped || this.retryTimer) return;
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.h.onRetryScheduled(performance.now() + delay);
  }

  opened() {
    // The backoff starts over only once this connection has lasted (checkSilence): one that
    // the server closes as soon as it opens (1013 to a client too slow for it, a frame this
    // page cannot read) is retried later each time, not twice a second for ever.
    this.openedAt = performance.now();
    this.lastMessageAt = this.openedAt;
    const wasReconnect = this.everOpened && !this.switching;
    this.everOpened = true;
    this.switching = false;
    this.h.onOpen(wasReconnect);
  }

  deliver(msg) {
    if (!msg || typeof msg.type !== 'string') return;
    try {
      this.h.onMessage(msg);
    } catch (err) {
      // Report it as an event handler's error would be, without killing a polling loop.
      setTimeout(() => { throw err; }, 0);
    }
  }

  /** Try again right away (the "Retry now" button, or the browser coming back online). */
  retryNow() {
    if (this.isOpen || this.connecting) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopped = false;
    this.backoff.reset();
    this.connect();
  }

  /**
   * Drop the connection (if any) and connect again right away, asking options.world()
   * afresh: switching worlds. The old connection ends cleanly (a polling session is deleted).
   * Its onOpen says wasReconnect = false: nothing went wrong.
   */
  reconnect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.backoff.reset();
    this.drop(true);
    this.switching = this.everOpened;
    this.connect();
  }

  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    clearInterval(this.watchdog);
    this.watchdog = null;
    this.drop(true);
  }

  /**
   * The page is going (pagehide: closed, reloaded, navigated away). A WebSocket needs nothing:
   * the browser closes it and the server keeps the player, away, for its token. A polling
   * session says so itself (HttpTransport). connect() again if the page comes back.
   */
  leavePage() {}

  // A socket or a session can stay "open" while the path to the server is gone (a laptop
  // waking up, a NAT timeout); silence is the only sign. Drop it and reconnect. A connect
  // attempt that hangs (packets silently dropped) is given up the same way.
  checkSilence() {
    const now = performance.now();
    const silent = this.isOpen && now - this.lastMessageAt > SILENCE_MS + this.deliveryLagMs;
    const limit = this.probe && !this.everOpened ? WS_PROBE_MS : SILENCE_MS;
    const stuck = this.connecting && now - this.connectStartedAt > limit;
    if (silent || stuck) {
      this.lost(4000);
      return;
    }
    if (this.isOpen && now - this.openedAt >= STABLE_MS) this.backoff.reset();
  }
}

// ------------------------------------------------------------------ WebSocket

class WsTransport extends BaseTransport {
  constructor(handlers, options) {
    super('ws', handlers, options);
    this.url = options.wsUrl || defaultUrl();
    this.ws = null;
    this.helloSeen = false;  // the socket carries the game: its `hello` came through
    this.offerV2 = options.wire !== 'json';
    this.decoder = null;     // per connection: v2 ticks are coded against this socket's earlier frames
  }

  get isOpen() {
    return !!this.ws && this.ws.readyState === WS_OPEN && this.helloSeen;
  }

  // Until the `hello`, an open socket is still connecting: the silence watchdog gives it up
  // after WS_PROBE_MS ('auto') or SILENCE_MS, as it does a socket that never opens.
  get connecting() {
    return !!this.ws && (this.ws.readyState === WS_CONNECTING || (this.ws.readyState === WS_OPEN && !this.helloSeen));
  }

  connect() {
    this.starting();
    this.drop();
    let ws;
    try {
      const ep = this.endpointNow();
      const url = ep.url || withWorld(this.url, ep.world);
      this.connectedUrl = url;
      ws = this.offerV2 ? new WebSocket(url, SUBPROTOCOL_V2) : new WebSocket(url);
    } catch (err) {
      setTimeout(() => this.lost(4001), 0);  // after connect() returns, like a failed socket
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.helloSeen = false;
    this.decoder = null;
    this.meter.requests++;  // the upgrade request
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.meter.bytesIn += wsHandshakeBytes(ws.protocol);
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.lastMessageAt = performance.now();
      let msg;
      if (typeof ev.data !== 'string') {
        this.meter.bytesIn += wsFrameBytes(ev.data.byteLength);
        // Only a v2 socket past its hello gets binary ticks; anything else is as broken.
        try {
          if (!this.decoder) throw new Error('a binary message on a socket that has no v2 decoder');
          msg = this.decoder.decode(ev.data);
        } catch (err) {
          console.warn(`skirmish: dropping the connection, a binary tick did not decode (${err.message})`);
          this.lost(CLOSE_OUT_OF_STEP);
          return;
        }
      } else {
        this.meter.bytesIn += wsFrameBytes(encoder.encode(ev.data).length);
        try {
          msg = JSON.parse(ev.data);
        } catch {
          return;  // not ours to fix; the server only sends JSON
        }
      }
      if (!this.helloSeen) {
        if (!msg || msg.type !== 'hello') return;  // the server says hello first; anything else is not it
        this.helloSeen = true;
        this.wire = ws.protocol === SUBPROTOCOL_V2 ? 'v2' : 'json';
        // v2 names monster kinds by their index in hello's list.
        if (this.wire === 'v2') this.decoder = new TickV2Decoder((msg.monster_kinds || []).map((k) => k.name));
        this.opened();
        if (ws !== this.ws) return;  // onOpen may have closed us
      } else if (msg && msg.type === 'hello' && this.wire === 'v2') {
        // Moved to another world on this socket: its ticks are coded against the new
        // world's hello and start over with a full frame.
        this.decoder = new TickV2Decoder((msg.monster_kinds || []).map((k) => k.name));
      }
      if (msg && msg.type === 'tick') this.meter.deliveries++;
      this.deliver(msg);
    };
    // A failed connect fires error then close; handling close alone covers both.
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      if (FATAL_CLOSE.has(ev.code)) {
        this.stopped = true;
        clearInterval(this.watchdog);  // nothing more to watch
        this.watchdog = null;
        this.h.onFatal(ev.code, ev.reason);
        return;
      }
      this.lost(ev.code);
    };
  }

  drop(normal = false) {
    const ws = this.ws;
    this.ws = null;
    this.helloSeen = false;
    this.decoder = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      ws.close(normal ? 1000 : undefined);
    } catch {
      // already closed
    }
  }

  send(obj) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(obj));
    this.meter.requests++;
    return true;
  }
}

// ------------------------------------------------------------------ HTTP polling

// One session (POST /session) per connection; ticks come from a loop of long polls (each
// answered the moment a tick exists) or of short polls (one a second, answered at once);
// messages go one by one, in order, to POST /session/{id}/input, whose answer holds the
// replies (pong, welcome, error).
class HttpTransport extends BaseTransport {
  constructor(kind, handlers, options) {
    super(kind, handlers, options);
    this.base = options.base || '';
    this.session = null;
    this.gen = 0;             // bumped per connection: stale loops and replies see it and stop
    this.aborts = new Set();  // in-flight requests of this connection
    this.queue = [];
    this.sending = false;
    this.connecting = false;
    this.wakePoll = null;     // ends a short poll's wait early (set while it waits)
    this.showSoon = null;     // short polling after a welcome: { id, polls } until a tick shows id
  }

  get isOpen() {
    return this.session !== null;
  }

  async connect() {
    this.starting();
    this.drop();
    const gen = ++this.gen;
    this.connecting = true;
    const p = (this.opts.watchPoint && this.opts.watchPoint()) || { x: 1600, y: 1600 };
    let r;
    try {
      const body = { type: 'watch', x: Math.round(p.x), y: Math.round(p.y) };
      // Polling reaches only the page's own server: a world elsewhere is not asked for here
      // (the server places us, and a token brings our player back where it can).
      const ep = this.endpointNow();
      const world = ep.url && !isPageServer(ep.url) ? null : ep.world;
      if (world) body.world = world;
      this.connectedUrl = new URL(this.base || '/', location.href).origin;
      r = await this.request('POST', '/session', body, gen);
    } catch {
      if (gen === this.gen) this.lost(4000);
      return;
    }
    if (gen !== this.gen) return;
    this.connecting = false;
    const answer = parseJson(r.text);
    if (r.status !== 200 || !answer || typeof answer.session !== 'string') {
      if (r.status >= 400 && r.status < 500 && r.status !== 404 && r.status !== 429) {
        // Our request is wrong: asking again would only repeat it.
        this.stopped = true;
        clearInterval(this.watchdog);
        this.watchdog = null;
        this.h.onFatal(r.status, answer && answer.message);
        return;
      }
      this.lost(r.status === 503 ? 4503 : 4000);
      return;
    }
    this.session = answer.session;
    this.opened();
    if (gen !== this.gen) return;  // onOpen may have closed us
    if (answer.hello) this.deliver(answer.hello);
    this.pollLoop(gen);
    this.pump();
  }

  leavePage() {
    // Ended with ?away=1: the player stays, away, as a closed WebSocket's does (a plain
    // DELETE would make it leave, and no DELETE would leave it "online" until the session
    // expired).
    this.closeKeepingSession()(true);
  }

  // Ends a server session: its player leaves, or with `away` stays away for its token.
  // keepalive lets the request outlive a closing page.
  endSession(session, away) {
    fetch(`${this.base}/session/${session}${away ? '?away=1' : ''}`, { method: 'DELETE', keepalive: true }).catch(() => {});
  }

  /**
   * Closes this connection but leaves its server session (and the player in it) for now;
   * returns the function that ends the session: end(away). For a move to a WebSocket: a plain
   * `DELETE` before the WebSocket's join has taken the player over would make the player
   * leave, so unless that join is known to have been answered it ends with ?away=1 (a player
   * taken over is not the session's any more either way).
   */
  closeKeepingSession() {
    const session = this.session;
    this.session = null;  // not deleted by close()
    this.close();
    return (away) => {
      if (session) this.endSession(session, away);
    };
  }

  // Ends this connection: stale requests are aborted and their answers ignored.
  drop(deleteSession = false) {
    this.gen++;
    for (const ctrl of this.aborts) ctrl.abort();
    this.aborts.clear();
    if (deleteSession && this.session) {
      // Leaving for good (closing a spectator): free the server's session now rather than
      // when it expires.
      this.endSession(this.session, false);
    }
    this.session = null;
    this.connecting = false;
    this.queue = [];
    this.sending = false;
    this.wakePoll = null;
    this.showSoon = null;
  }

  async request(method, path, body, gen, timeoutMs = REQUEST_TIMEOUT_MS) {
    const ctrl = new AbortController();
    this.aborts.add(ctrl);
    const timer = setTimeout(() => ctrl.abort(), timeoutMs);
    try {
      this.meter.requests++;
      const res = await fetch(this.base + path, {
        method, cache: 'no-store', signal: ctrl.signal,
        ...(body ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {}),
      });
      const buf = await res.arrayBuffer();
      if (gen === this.gen) this.meter.bytesIn += httpResponseBytes(res, buf.byteLength);
      return { status: res.status, text: new TextDecoder().decode(buf), res };
    } finally {
      clearTimeout(timer);
      this.aborts.delete(ctrl);
    }
  }

  async pollLoop(gen) {
    const path = this.kind === 'poll'
      ? `/session/${this.session}/poll`
      : `/session/${this.session}/longpoll?timeout=${LONGPOLL_S}`;
    const timeout = this.kind === 'poll' ? REQUEST_TIMEOUT_MS : LONGPOLL_S * 1000 + REQUEST_TIMEOUT_MS;
    while (gen === this.gen) {
      const started = performance.now();
      let r;
      try {
        r = await this.request('GET', path, null, gen, timeout);
      } catch {
        if (gen === this.gen) this.lost(4000);
        return;
      }
      if (gen !== this.gen) return;
      let wait = this.kind === 'poll' ? POLL_MS - (performance.now() - started) : 0;
      if (r.status === 200) {
        this.lastMessageAt = performance.now();
        const msgs = parseJson(r.text);
        if (Array.isArray(msgs)) {
          if (msgs.some((m) => m && m.type === 'tick')) this.meter.deliveries++;
          let closing = null;
          for (const m of msgs) {
            if (m && m.type === 'closing') {
              closing = m;  // what a WebSocket's close frame would say: after what came with it
              continue;
            }
            this.deliver(m);
            if (gen !== this.gen) return;  // a handler closed or reconnected us
          }
          if (closing) {
            // The server is stopping (a restart): its session goes with it. Said as a
            // WebSocket's 1001 would be, so the page says it is restarting, not "lost".
            this.lost(closing.code === CLOSE_GOING_AWAY ? CLOSE_GOING_AWAY : 4000);
            return;
          }
          if (this.showSoon && msgs.some((m) => showsEntity(m, this.showSoon.id))) this.showSoon = null;
        }
      } else if (r.status === 404) {
        this.lost(4004);  // the session expired, or the server restarted: a new one
        return;
      } else if (r.status === 503) {
        wait = Math.max(wait, 1000 * (Number(r.res.headers.get('Retry-After')) || 2));  // too many waiting
      } else {
        wait = Math.max(wait, 1000);  // unexpected: do not spin
      }
      if (this.showSoon && r.status === 200) {
        // A welcome came and no tick has shown our player yet: ask again soon, not in a second
        // (the poll that was on its way when the welcome came may have been answered before
        // the player was in a tick).
        wait = Math.min(wait, JOIN_POLL_MS - (performance.now() - started));
        if (--this.showSoon.polls <= 0) this.showSoon = null;
      }
      if (wait > 0) {
        // A short poll's usual second may be cut short by a welcome (see pump); a back-off
        // (503's Retry-After, an error) may not.
        const wakeable = this.kind === 'poll' && r.status === 200;
        await new Promise((res) => {
          if (wakeable) this.wakePoll = res;
          setTimeout(res, wait);
        });
        if (this.wakePoll && gen === this.gen) this.wakePoll = null;
      }
    }
  }

  send(obj) {
    if (!this.isOpen) return false;
    // Messages go one at a time, in order. Movement is held server-side, so an input still
    // waiting behind a slow request is replaced by a newer one (keeping its attack).
    const last = this.queue[this.queue.length - 1];
    if (obj.type === 'input' && last && last.type === 'input') {
      this.queue[this.queue.length - 1] = { ...obj, attack: !!(obj.attack || last.attack) };
    } else {
      this.queue.push(obj);
    }
    this.pump();
    return true;
  }

  async pump() {
    if (this.sending || !this.session) return;
    this.sending = true;
    const gen = this.gen;
    const path = `/session/${this.session}/input`;
    try {
      while (gen === this.gen && this.queue.length) {
        const msg = this.queue.shift();
        const r = await this.request('POST', path, msg, gen);
        if (gen !== this.gen) return;
        if (r.status === 404) {
          this.lost(4004);
          return;
        }
        // 200: an array of replies; 400: one error object, as a WebSocket would send it.
        const body = parseJson(r.text);
        const game = r.status === 204 || (r.status === 200 ? Array.isArray(body) : !!body && typeof body.type === 'string');
        if (!game) {
          // No answer of the game's (the HTTP layer's 503 or 413, a proxy's error page): the
          // message is lost, and a join would wait for a welcome that will not come. Start
          // over on a new session (a player joins again with its token), after the backoff.
          this.lost(4000);
          return;
        }
        for (const m of Array.isArray(body) ? body : body ? [body] : []) {
          this.deliver(m);
          if (gen !== this.gen) return;
          // Now a player: poll for the ticks that show it as soon as there are some (the next
          // tick or two), rather than up to a second later with the card gone and nobody on
          // the screen.
          if (m && m.type === 'welcome' && this.kind === 'poll') {
            this.showSoon = { id: m.id, polls: JOIN_FAST_POLLS };
            setTimeout(() => { if (gen === this.gen && this.wakePoll) this.wakePoll(); }, JOIN_POLL_MS);
          }
        }
      }
    } catch {
      if (gen === this.gen) this.lost(4000);
    } finally {
      if (gen === this.gen) this.sending = false;
    }
  }
}

// Whether a polled message is a tick that carries the entity `id`.
function showsEntity(m, id) {
  return !!m && m.type === 'tick' && Array.isArray(m.entities) && m.entities.some((e) => e && e.id === id);
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ auto: WebSocket, else long polling

class AutoTransport {
  constructor(handlers, options) {
    this.h = handlers;
    this.opts = options;
    this.inner = null;
    this.settled = false;   // one transport has opened: it handles its own reconnects from now on
    this.backoff = new Backoff();
    this.retryTimer = null;
    this.stopped = false;
    this.upgrade = null;        // on long polling: a WebSocket being tried, until its hello or failure
    this.upgradeTimer = null;   // ... or the timer of the next try
    this.upgradeDelay = UPGRADE_FIRST_MS;
    this.endPolling = null;     // after a move to a WebSocket: ends the polling session left behind
    this.endPollingTimer = null;
  }

  get kind() { return this.inner ? this.inner.kind : 'ws'; }
  get isOpen() { return !!this.inner && this.inner.isOpen; }
  get meter() { return this.inner ? this.inner.meter : { requests: 0, bytesIn: 0, deliveries: 0 }; }
  get deliveryLagMs() { return this.inner ? this.inner.deliveryLagMs : 0; }
  get wire() { return this.inner ? this.inner.wire : null; }
  get connectedUrl() { return this.inner ? this.inner.connectedUrl : null; }

  connect() {
    this.stopped = false;
    this.attempt('ws');
  }

  attempt(kind) {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopUpgrade();
    this.finishPolling(true);
    if (this.inner) this.inner.close();
    const handlers = {
      ...this.h,
      onOpen: (wasReconnect) => {
        this.settled = true;
        this.backoff.reset();
        this.h.onOpen(wasReconnect);
        if (kind === 'longpoll') this.scheduleUpgrade();
      },
      onDown: (code) => {
        // Long polling lost its server: the tries start over once it is back.
        this.stopUpgrade();
        this.upgradeDelay = UPGRADE_FIRST_MS;
        this.h.onDown(code);
      },
      onProbeFailed: () => {
        if (this.stopped) return;
        if (kind === 'ws') this.attempt('longpoll');
        else this.scheduleRound();
      },
    };
    const t = createTransport(kind, handlers, this.opts);
    this.inner = t;
    if (this.h.onKind) this.h.onKind(kind);
    t.connect();
  }

  // On long polling (the WebSocket failed or was slow): try one again after a while.
  scheduleUpgrade() {
    if (this.stopped || this.upgrade || this.upgradeTimer) return;
    this.upgradeTimer = setTimeout(() => {
      this.upgradeTimer = null;
      this.tryUpgrade();
    }, this.upgradeDelay * (0.75 + Math.random() * 0.5));
  }

  // A WebSocket beside the polling connection; nothing of it reaches the page until its hello,
  // when it takes the polling connection's place. One that fails is tried again later.
  tryUpgrade() {
    const polling = this.inner;
    if (this.stopped || !polling || polling.kind !== 'longpoll' || !polling.isOpen) return;
    let t = null;
    const mine = () => this.inner === t;  // past the hello, t is the page's connection
    const handlers = {};
    for (const name of Object.keys(this.h)) {
      handlers[name] = (...args) => { if (mine()) this.h[name](...args); };
    }
    handlers.onOpen = (wasReconnect) => {
      if (mine()) {
        this.h.onOpen(wasReconnect);
        return;
      }
      if (this.upgrade !== t) return;
      this.upgrade = null;
      this.upgradeDelay = UPGRADE_FIRST_MS;
      // The polling session keeps the player until the join that follows the hello has taken
      // it over (the join's answer), then ends: ended now, the player would leave first.
      this.endPolling = polling.closeKeepingSession();
      this.endPollingTimer = setTimeout(() => this.finishPolling(true), UPGRADE_HANDOVER_MS);
      this.inner = t;
      if (this.h.onKind) this.h.onKind('ws');
      this.h.onOpen(false);  // a switch, not a recovery: the hello that follows rejoins
    };
    handlers.onMessage = (msg) => {
      if (!mine()) return;
      // A welcome: the player is the WebSocket's now, and whatever the session still holds
      // (a join of its own that crossed the move) leaves. An error (the join refused?) proves
      // nothing: the session's player, if any, is left away for its token.
      if (msg.type === 'welcome') this.finishPolling(false);
      else if (msg.type === 'error') this.finishPolling(true);
      this.h.onMessage(msg);
    };
    // The WebSocket moved to drops: a new round, WebSocket first and long polling if it fails
    // (this path let one through once; it may not again), rather than its own retries for ever.
    handlers.onDown = (code) => {
      if (!mine()) return;  // a try's failure before its hello is onProbeFailed
      this.finishPolling(true);
      this.h.onDown(code);
      this.settled = false;
      this.attempt('ws');
    };
    handlers.onProbeFailed = () => {
      if (this.upgrade !== t) return;
      this.upgrade = null;
      this.upgradeDelay = Math.min(UPGRADE_MAX_MS, this.upgradeDelay * 2);
      this.scheduleUpgrade();
    };
    // Closed as broken before its hello (1008 from a proxy?): a failed try like any other.
    handlers.onFatal = (code, reason) => {
      if (mine()) this.h.onFatal(code, reason);
      else handlers.onProbeFailed();
    };
    t = createTransport('ws', handlers, this.opts);
    this.upgrade = t;
    t.connect();
  }

  // Ends the polling session a move to a WebSocket left behind (see tryUpgrade): `away`
  // leaves a player still in it away, for its token.
  finishPolling(away = true) {
    clearTimeout(this.endPollingTimer);
    this.endPollingTimer = null;
    const end = this.endPolling;
    this.endPolling = null;
    if (end) end(away);
  }

  stopUpgrade() {
    clearTimeout(this.upgradeTimer);
    this.upgradeTimer = null;
    const t = this.upgrade;
    this.upgrade = null;
    if (t) t.close();
  }

  // Neither transport got through (the server is down?): try again later, WebSocket first.
  scheduleRound() {
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => this.attempt('ws'), delay);
    this.h.onRetryScheduled(performance.now() + delay);
  }

  send(obj) {
    return this.inner ? this.inner.send(obj) : false;
  }

  retryNow() {
    if (this.settled) {
      this.inner.retryNow();
    } else if (this.retryTimer) {
      this.backoff.reset();
      this.attempt('ws');
    }
  }

  /** A new connection now (see BaseTransport.reconnect): on the transport that worked, else a new round. */
  reconnect() {
    this.stopped = false;
    this.stopUpgrade();  // it went where the page was; a long poll that opens again tries anew
    this.upgradeDelay = UPGRADE_FIRST_MS;
    this.finishPolling(true);
    if (this.settled && this.inner) {
      this.inner.reconnect();
    } else {
      this.backoff.reset();
      this.attempt('ws');
    }
  }

  close() {
    this.stopAll();
    if (this.inner) this.inner.close();
  }

  leavePage() {
    this.stopAll();
    if (this.inner) this.inner.leavePage();
  }

  // No more rounds or tries; a polling session a move left behind ends (its player away).
  stopAll() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopUpgrade();
    this.finishPolling(true);
  }
}
