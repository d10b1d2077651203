// The transports page: the same live game watched over a WebSocket (twice: v1 JSON ticks and
// v2 binary ones), over long polling and over short polling, side by side, each by a
// spectator of its own (net.js transports), with what each costs (requests, bytes including
// headers) and what it gives (updates per second, delay from a tick being made to it
// arriving). Plain canvas, no library.

import { createTransport } from './net.js';
import { kindStyle, ALLY_COLOR } from './sprites.js';

// id: the panel's (and window.transportsPage's) name; kind: the net.js transport; wire: what
// its WebSocket offers ('json': no subprotocol, 'v2': skirmish.v2).
const PANELS = [
  { id: 'ws', kind: 'ws', wire: 'json', title: 'WebSocket · JSON', label: 'websocket (JSON)', color: '#6fd08c', how: 'one connection; frames pushed as they happen, as JSON text' },
  { id: 'ws2', kind: 'ws', wire: 'v2', title: 'WebSocket · v2 binary', label: 'websocket (v2)', color: '#c39bf5', how: 'the same push, each tick a compact binary frame (skirmish.v2)' },
  { id: 'longpoll', kind: 'longpoll', title: 'Long polling', label: 'long polling', color: '#5cc8f5', how: 'a request held open until there is news; one per answer' },
  { id: 'poll', kind: 'poll', title: 'Short polling', label: 'short polling', color: '#f0a040', how: 'a request every second, news or not' },
];
const RATE_WINDOW_MS = 5000;
const DELAY_WINDOW_MS = 10000;
const CHART_MS = 20000;
// The first second after a (re)connection's hello is left out of the delays: the backlog
// and the cold connection make a spike that says nothing about the transport in play.
const WARMUP_MS = 1000;

const $ = (id) => document.getElementById(id);
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtBytes = (n) => (n < 1024 ? `${Math.round(n)} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(2)} MB`);
const fmtMs = (v) => (v == null ? '–' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);

// ------------------------------------------------------------------ one panel

class Panel {
  constructor(spec) {
    this.spec = spec;
    this.id = spec.id;
    this.kind = spec.kind;
    this.world = { width: 3200, height: 3200, obstacles: [] };
    this.viewRadius = 800;
    this.center = null;        // the spectator point (the world's centre)
    this.entities = new Map();
    this.players = 0;
    this.ticks = 0;            // tick messages received
    this.arrivals = [];        // performance.now() of each tick's arrival (RATE_WINDOW_MS)
    this.delays = [];          // [performance.now(), delay ms] (CHART_MS), not in the warm-up
    this.countFrom = Infinity; // performance.now() from which delays count: WARMUP_MS after a hello
    this.firstDelayAt = null;  // when the first delay was counted (for tests)
    this.samples = [];         // once a second: [t, requests, bytesIn, deliveries, ticks]
    this.status = 'connecting';
    this.retryAt = 0;
    this.build();
    this.t = createTransport(spec.kind, {
      onOpen: () => { this.status = 'open'; },
      onMessage: (msg) => this.onMessage(msg),
      onDown: () => { this.status = 'reconnecting'; this.retryAt = 0; },
      onRetryScheduled: (at) => { this.status = 'reconnecting'; this.retryAt = at; },
      onFatal: (code) => { this.status = 'closed'; console.warn(`transports: ${spec.id} gave up (${code})`); },
    }, { watchPoint: () => this.center || { x: this.world.width / 2, y: this.world.height / 2 }, wire: spec.wire });
    this.t.connect();
  }

  build() {
    const s = this.spec;
    const el = document.createElement('section');
    el.className = `panel k-${s.id}`;
    el.id = `panel-${s.id}`;
    el.style.setProperty('--k', s.color);
    el.innerHTML = `
      <div class="head">
        <h2><i class="swatch"></i>${s.title}</h2>
        <span class="state"><i class="dot"></i><span data-f="status">connecting</span></span>
      </div>
      <p class="how">${s.how}</p>
      <canvas class="view" width="300" height="300" aria-label="${s.title}: live view"></canvas>
      <dl class="metrics">
        <div><dt>updates / s</dt><dd data-f="updates">–</dd><dd class="sub" data-f="answers">&nbsp;</dd></div>
        <div><dt>delay p50</dt><dd data-f="p50">–</dd><dd class="sub" data-f="p99">p99 –</dd></div>
        <div><dt>requests sent</dt><dd data-f="requests">–</dd><dd class="sub" data-f="reqrate">&nbsp;</dd></div>
        <div><dt title="bytes received, HTTP headers included">received (all bytes)</dt><dd data-f="bytes">–</dd><dd class="sub" data-f="byterate">&nbsp;</dd></div>
      </dl>
      <div class="chart-head"><span>delay of each tick, last 20 s</span><span data-f="perupdate"></span></div>
      <canvas class="spark" aria-label="${s.title}: delay per tick"></canvas>`;
    $('panels').append(el);
    this.el = el;
    this.f = {};
    for (const node of el.querySelectorAll('[data-f]')) this.f[node.dataset.f] = node;
    this.view = el.querySelector('canvas.view');
    this.spark = el.querySelector('canvas.spark');
    this.last = {};
  }

  onMessage(msg) {
    if (msg.type === 'hello') {
      this.countFrom = performance.now() + WARMUP_MS;
      const w = msg.world || {};
      this.world = { width: w.width || 3200, height: w.height || 3200, obstacles: w.obstacles || [] };
      this.worldName = typeof w.name === 'string' && w.name ? w.name : null;
      this.viewRadius = msg.view_radius || 800;
      this.entities.clear();
      const c = { x: this.world.width / 2, y: this.world.height / 2 };
      // An HTTP session starts where we asked before we knew the world: look at its centre.
      if (this.kind !== 'ws' && (!this.center || this.center.x !== c.x || this.center.y !== c.y)) {
        this.t.send({ type: 'watch', x: c.x, y: c.y });
      }
      this.center = c;
    } else if (msg.type === 'tick') {
      this.applyTick(msg);
    }
  }

  // The same merge as the game's store (state.js), without the game's extras.
  applyTick(msg) {
    const now = performance.now();
    this.ticks++;
    this.arrivals.push(now);
    if (typeof msg.ts === 'number' && now >= this.countFrom) {
      this.delays.push([now, Math.max(0, Date.now() - msg.ts)]);
      this.firstDelayAt ??= now;
    }
    this.players = msg.players ?? this.players;
    if (msg.full) {
      const listed = new Set((msg.entities || []).map((e) => e.id));
      for (const id of [...this.entities.keys()]) if (!listed.has(id)) this.entities.delete(id);
    }
    for (const upd of msg.entities || []) {
      const e = this.entities.get(upd.id);
      if (e) Object.assign(e, upd);
      else this.entities.set(upd.id, { ...upd });
    }
    for (const id of msg.removed || []) this.entities.delete(id);
  }

  // Once a second: remember the counters, so rates can be taken over a window.
  sample(now) {
    const m = this.t.meter;
    this.samples.push([now, m.requests, m.bytesIn, m.deliveries, this.ticks]);
    while (this.samples.length > 2 && this.samples[1][0] < now - RATE_WINDOW_MS - 50) this.samples.shift();
  }

  prune(now) {
    while (this.arrivals.length && this.arrivals[0] < now - RATE_WINDOW_MS) this.arrivals.shift();
    while (this.delays.length && this.delays[0][0] < now - CHART_MS) this.delays.shift();
  }

  get metrics() {
    const now = performance.now();
    this.prune(now);
    const m = this.t.meter;
    const first = this.samples[0];
    const span = first ? (now - first[0]) / 1000 : 0;
    const rate = (i, v) => (first && span >= 0.9 ? (v - first[i]) / span : null);
    const recent = this.delays.filter(([t]) => t >= now - DELAY_WINDOW_MS).map(([, d]) => d).sort((a, b) => a - b);
    const pick = (q) => (recent.length ? recent[Math.min(recent.length - 1, Math.floor(q * recent.length))] : null);
    const tickRate = rate(4, this.ticks);
    const byteRate = rate(2, m.bytesIn);
    return {
      id: this.id,
      kind: this.kind,
      wire: this.t.wire,  // 'v2' only once the server picked skirmish.v2
      status: this.status,
      connected: this.status === 'open',
      ticks: this.ticks,
      requests: m.requests,
      bytesIn: m.bytesIn,
      updatesPerSec: tickRate,
      answersPerSec: rate(3, m.deliveries),
      requestsPerSec: rate(1, m.requests),
      bytesPerSec: byteRate,
      bytesPerUpdate: tickRate ? byteRate / tickRate : null,
      countFrom: this.countFrom,
      firstDelayAt: this.firstDelayAt,
      delayP50: pick(0.5),
      delayP99: pick(0.99),
    };
  }

  set(key, text) {
    if (this.last[key] === text) return;
    this.last[key] = text;
    this.f[key].textContent = text;
  }

  updateText(now, k) {
    const secs = Math.max(0, Math.ceil((this.retryAt - now) / 1000));
    const status = { connecting: 'connecting…', open: 'live', closed: 'gave up',
      reconnecting: this.retryAt > now ? `reconnecting in ${secs}s` : 'reconnecting…' }[this.status];
    // The v2 panel on a server that does not speak skirmish.v2 gets JSON: say so.
    this.set('status', this.spec.wire === 'v2' && k.wire === 'json' && this.status === 'open' ? 'live (server: JSON only)' : status);
    this.el.dataset.status = this.status;
    this.set('updates', k.updatesPerSec == null ? '–' : k.updatesPerSec.toFixed(1));
    this.set('answers', k.answersPerSec == null ? '\u00a0' : `in ${k.answersPerSec.toFixed(1)} answer${k.answersPerSec >= 0.95 && k.answersPerSec < 1.05 ? '' : 's'} / s`);
    this.set('p50', fmtMs(k.delayP50));
    this.set('p99', `p99 ${fmtMs(k.delayP99)}`);
    this.set('requests', fmtInt(k.requests));
    this.set('reqrate', k.requestsPerSec == null ? '\u00a0' : `${k.requestsPerSec.toFixed(1)} / s`);
    this.set('bytes', fmtBytes(k.bytesIn));
    this.set('byterate', k.bytesPerSec == null ? '\u00a0' : `${fmtBytes(k.bytesPerSec)} / s`);
    this.set('perupdate', k.bytesPerUpdate == null ? '' : `${fmtInt(k.bytesPerUpdate)} B per update`);
  }

  // The spectated area as the transport last left it: no interpolation, so you see updates
  // arrive (short polling: a jump a second).
  drawView() {
    const c = this.view;
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    const cw = c.clientWidth, ch = c.clientHeight;
    if (!cw || !ch) return;
    if (c.width !== Math.round(cw * dpr) || c.height !== Math.round(ch * dpr)) {
      c.width = Math.round(cw * dpr);
      c.height = Math.round(ch * dpr);
    }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cw, ch);
    const { width: W, height: H } = this.world;
    const ctr = this.center || { x: W / 2, y: H / 2 };
    const R = this.viewRadius;
    // The part of the world in view (a square around the spectator point, inside the world).
    const x0 = Math.max(0, ctr.x - R), x1 = Math.min(W, ctr.x + R);
    const y0 = Math.max(0, ctr.y - R), y1 = Math.min(H, ctr.y + R);
    const k = Math.min((cw - 8) / (x1 - x0 || 1), (ch - 8) / (y1 - y0 || 1));
    const ox = (cw - (x1 - x0) * k) / 2 - x0 * k;
    const oy = (ch - (y1 - y0) * k) / 2 - y0 * k;
    g.fillStyle = '#1d2a22';
    g.fillRect(ox + x0 * k, oy + y0 * k, (x1 - x0) * k, (y1 - y0) * k);
    g.save();
    g.beginPath();
    g.rect(ox + x0 * k, oy + y0 * k, (x1 - x0) * k, (y1 - y0) * k);
    g.clip();
    g.strokeStyle = 'rgba(255,255,255,0.12)';
    g.beginPath();
    g.arc(ox + ctr.x * k, oy + ctr.y * k, R * k, 0, Math.PI * 2);
    g.stroke();
    g.fillStyle = '#5d636c';
    for (const o of this.world.obstacles) g.fillRect(ox + o.x * k, oy + o.y * k, o.w * k, o.h * k);
    const r = Math.max(2.5, Math.min(6, 14 * k));
    for (const e of this.entities.values()) {
      if (typeof e.x !== 'number') continue;
      const isPlayer = e.kind === 'player';
      const s = isPlayer ? null : kindStyle(e.kind);
      g.fillStyle = e.state === 'dead' ? '#555b63' : isPlayer ? ALLY_COLOR : s.color;
      g.beginPath();
      g.arc(ox + e.x * k, oy + e.y * k, isPlayer ? r * 1.3 : r, 0, Math.PI * 2);
      g.fill();
      if (isPlayer) {
        g.strokeStyle = '#fff';
        g.lineWidth = 1;
        g.stroke();
      }
    }
    g.restore();
  }

  drawSpark(now, scaleMs) {
    const c = this.spark;
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    const w = c.clientWidth, h = c.clientHeight;
    if (!w || !h) return;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const X = (t) => w - ((now - t) / CHART_MS) * w;
    const Y = (d) => h - 2 - (Math.min(d, scaleMs) / scaleMs) * (h - 6);
    // Grid: 0 and the scale's top, plus a line every 250 ms when the scale is that large.
    g.strokeStyle = 'rgba(255,255,255,0.07)';
    g.lineWidth = 1;
    g.beginPath();
    for (let v = 0; v <= scaleMs; v += scaleMs > 600 ? 250 : scaleMs > 60 ? 25 : 5) {
      g.moveTo(0, Math.round(Y(v)) + 0.5);
      g.lineTo(w, Math.round(Y(v)) + 0.5);
    }
    g.stroke();
    g.fillStyle = '#93a1b0';
    g.font = '10px system-ui, sans-serif';
    g.fillText(`${scaleMs} ms`, 3, 10);
    // The delays: a line through every tick, and a dot per tick.
    const color = this.spec.color;
    g.strokeStyle = color;
    g.globalAlpha = 0.55;
    g.lineWidth = 1.2;
    g.beginPath();
    this.delays.forEach(([t, d], i) => (i ? g.lineTo(X(t), Y(d)) : g.moveTo(X(t), Y(d))));
    g.stroke();
    g.globalAlpha = 1;
    g.fillStyle = color;
    for (const [t, d] of this.delays) g.fillRect(X(t) - 1, Y(d) - 1, 2, 2);
  }
}

// ------------------------------------------------------------------ the page

const panels = PANELS.map((spec) => new Panel(spec));
const byId = Object.fromEntries(panels.map((p) => [p.id, p]));
const status = $('status');

// For tests and the curious: each panel's numbers, e.g. transportsPage.poll.metrics.requests
// (panels: ws, ws2, longpoll, poll).
window.transportsPage = Object.freeze(Object.fromEntries(PANELS.map(({ id }) => [id, {
  get metrics() { return byId[id].metrics; },
}])));

// The charts share one scale, rounded up to a "nice" number, so that the panels compare at a glance.
function niceScale(max) {
  for (const v of [10, 20, 50, 100, 200, 500, 1000, 1500, 2000, 5000, 10000]) if (max <= v) return v;
  return Math.ceil(max / 10000) * 10000;
}

let lastText = 0;
let lastSample = 0;
function frame(now) {
  if (now - lastSample >= 1000) {
    lastSample = now;
    for (const p of panels) p.sample(now);
  }
  for (const p of panels) p.prune(now);
  const maxDelay = Math.max(0, ...panels.flatMap((p) => p.delays.map(([, d]) => d)));
  const scale = niceScale(Math.max(10, maxDelay));
  for (const p of panels) {
    p.drawView();
    p.drawSpark(now, scale);
  }
  if (now - lastText >= 250) {
    lastText = now;
    const ks = panels.map((p) => p.metrics);
    panels.forEach((p, i) => p.updateText(now, ks[i]));
    const live = ks.filter((k) => k.connected).length;
    const players = Math.max(...panels.map((p) => p.players));
    // The world the feeds watch (the server's first, with several): named, so its count is not taken for the server's.
    const name = panels.map((p) => p.worldName).find(Boolean);
    status.textContent = `${live} of ${panels.length} live · ${players} player${players === 1 ? '' : 's'} in ${name ? name : 'the world'} · ` +
      PANELS.map(({ label }) => label).join(' / ');
  }
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

// Free the HTTP sessions at once when the page goes (they would expire on their own).
addEventListener('pagehide', () => panels.forEach((p) => p.t.close()));
addEventListener('pageshow', (e) => { if (e.persisted) panels.forEach((p) => p.t.connect()); });
