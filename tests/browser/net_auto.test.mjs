// Unit test of the demo's 'auto' transport (web/js/net.js): a WebSocket first, long polling
// when it fails or stays silent, and back onto a WebSocket when one works again, with the
// WebSocket, fetch and the clock played by the test.
//
//   node tests/browser/net_auto.test.mjs
//
// Plain Node 18+ (node:test), no dependencies. Exits non-zero if anything failed. The whole
// path through a real browser and the real daemon is browser_demo's step (l).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// ---------------------------------------------------------------- a clock the test moves

const clock = { now: 0, seq: 0, timers: new Map() };
Object.defineProperty(globalThis, 'performance', { value: { now: () => clock.now }, configurable: true, writable: true });
globalThis.setTimeout = (fn, ms = 0) => {
  const id = ++clock.seq;
  clock.timers.set(id, { at: clock.now + Math.max(0, ms), fn, every: 0 });
  return id;
};
globalThis.setInterval = (fn, ms) => {
  const id = ++clock.seq;
  clock.timers.set(id, { at: clock.now + ms, fn, every: ms });
  return id;
};
globalThis.clearTimeout = globalThis.clearInterval = (id) => clock.timers.delete(id);

// Lets the promises settled so far run their continuations (fetch answers, awaits).
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

// Moves the clock on by `ms`, running each timer as it falls due.
async function advance(ms) {
  const end = clock.now + ms;
  await settle();
  for (;;) {
    let next = null;
    for (const [id, t] of clock.timers) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
    if (!next) break;
    const [id, t] = next;
    clock.now = t.at;
    if (t.every) t.at += t.every;
    else clock.timers.delete(id);
    t.fn();
    await settle();
  }
  clock.now = end;
  await settle();
}

// ---------------------------------------------------------------- the page's world

globalThis.location = { protocol: 'http:', host: '127.0.0.1:8080', href: 'http://127.0.0.1:8080/', search: '' };

// WebSockets the page opens; the test opens them, says hello, closes them.
const sockets = [];
class FakeWebSocket {
  constructor(url, protocol) {
    this.url = url;
    this.protocol = '';
    this.offered = protocol;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    sockets.push(this);
  }
  send(data) { this.sent.push(JSON.parse(data)); }
  close(code) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedWith = code ?? 1005;
  }
  // The test's side:
  accept() { this.readyState = 1; if (this.onopen) this.onopen({}); }
  message(obj) { if (this.onmessage) this.onmessage({ data: JSON.stringify(obj) }); }
  // The server's ticks, every `ms` while the socket lives (a link silent for 5 s is dead).
  tickEvery(ms) {
    const timer = setInterval(() => (this.live ? this.message({ type: 'tick', tick: 1, entities: [] }) : clearInterval(timer)), ms);
  }
  serverClose(code) { this.readyState = 3; if (this.onclose) this.onclose({ code, reason: '' }); }
  get live() { return this.readyState !== 3; }
}
globalThis.WebSocket = FakeWebSocket;

// The polling API: a session per POST; a long poll is answered with a tick 500 ms after it
// comes (the page takes a link silent for 5 s for dead).
const server = { sessions: 0, requests: [], down: false, stopping: false };
globalThis.fetch = (url, init = {}) => {
  const method = init.method || 'GET';
  const path = String(url).replace(/^https?:\/\/[^/]+/, '');
  server.requests.push({ method, path, body: init.body ? JSON.parse(init.body) : null });
  const json = (status, body) => Promise.resolve(new Response(body === null ? null : JSON.stringify(body), { status }));
  if (server.down) return Promise.reject(new TypeError('Failed to fetch'));
  if (method === 'POST' && path === '/session') {
    server.sessions++;
    return json(200, { session: `s${server.sessions}`, hello: HELLO });
  }
  if (method === 'GET' && /\/longpoll/.test(path)) {
    return new Promise((res, reject) => {
      // A stopping server answers with its `closing` notice first, then the frames held.
      const closing = server.stopping ? [{ type: 'closing', code: 1001, reason: 'server shutting down' }] : [];
      const timer = setTimeout(() => res(new Response(JSON.stringify([...closing, { type: 'tick', tick: 1, entities: [] }]))), 500);
      init.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  }
  if (method === 'POST' && /\/input$/.test(path)) return json(200, []);
  if (method === 'DELETE') return json(204, null);
  return json(404, { type: 'error', code: 'not_found' });
};
const HELLO = { type: 'hello', protocol: 1, tick_rate: 20, world: { name: 'w', width: 3200, height: 3200 } };
const deletes = () => server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);

// net.js imports ./tick_v2.js: copy both into a folder that says its .js files are modules.
const HERE = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'skirmish-net-'));
writeFileSync(join(tmp, 'package.json'), '{"type": "module"}\n');
for (const f of ['net.js', 'tick_v2.js']) copyFileSync(resolve(HERE, '../../web/js', f), join(tmp, f));
const { createTransport } = await import(pathToFileURL(join(tmp, 'net.js')).href);
rmSync(tmp, { recursive: true, force: true });

// A page: the handlers record what the transport tells it; a hello is answered by a join.
function page() {
  const seen = { opens: [], kinds: [], messages: [], downs: [], fatals: [] };
  let t;
  t = createTransport('auto', {
    onOpen: (wasReconnect) => seen.opens.push({ kind: t.kind, wasReconnect }),
    onMessage: (msg) => {
      seen.messages.push({ kind: t.kind, type: msg.type });
      if (msg.type === 'hello') t.send({ type: 'join', name: 'p', token: 'tok' });
    },
    onDown: (code) => seen.downs.push(code),
    onRetryScheduled: () => {},
    onFatal: (code) => seen.fatals.push(code),
    onKind: (kind) => seen.kinds.push(kind),
  }, { wire: 'json' });
  t.connect();
  return { t, seen };
}

// Each test starts from nothing: no timer of an earlier page, no socket, no request.
function fresh() {
  clock.timers.clear();
  sockets.length = 0;
  server.requests.length = 0;
  server.sessions = 0;
  server.down = false;
  server.stopping = false;
}

// After close() or leavePage(), nothing of the transport runs on: no timer, no interval.
async function assertAllStopped() {
  await settle();
  assert.deepEqual([...clock.timers.values()].map((t) => t.fn.toString().slice(0, 60)), [], 'timers left running');
}

// Starts the page with its first WebSocket silent, so that it plays over long polling.
async function onLongPolling() {
  fresh();
  const p = page();
  await settle();
  assert.equal(sockets.length, 1, 'a WebSocket first');
  sockets[0].accept();  // opened, then nothing
  await advance(4500);  // given up at the watchdog's first look past 3 s
  assert.equal(p.t.kind, 'longpoll');
  assert.equal(p.t.isOpen, true, 'open on long polling');
  return p;
}

const liveSockets = () => sockets.filter((s) => s.live);


// Moves the clock on until the page opens another WebSocket (at most `limitMs`); returns it
// and how long that took, or null.
async function nextTry(limitMs = 400000) {
  const before = sockets.length;
  const t0 = clock.now;
  while (sockets.length === before && clock.now - t0 < limitMs) await advance(250);
  return sockets.length === before ? null : { ws: sockets.at(-1), after: clock.now - t0 };
}

test('a silent WebSocket is given up for long polling, which then tries a WebSocket again', async () => {
  const p = await onLongPolling();  // open on long polling at 4 s, 0.5 s ago
  assert.equal(sockets[0].live, false, 'the silent socket was closed');
  const t = await nextTry();
  // 10 s after the long poll opened, +-25 %.
  assert.ok(t && t.after >= 7000 && t.after <= 12250, `the next try came ${t && t.after} ms later`);
  assert.equal(p.t.kind, 'longpoll');
  p.t.close();
});

test('a WebSocket that says hello takes the polling connection\'s place; the session ends at the join\'s answer', async () => {
  const p = await onLongPolling();
  const { ws } = await nextTry();
  ws.accept();
  await settle();
  assert.equal(p.t.kind, 'longpoll', 'still long polling until the hello');
  ws.message({ type: 'tick', tick: 1, entities: [] });  // before the hello: not ours
  ws.message(HELLO);
  await settle();
  assert.equal(p.t.kind, 'ws');
  assert.deepEqual(p.seen.opens.at(-1), { kind: 'ws', wasReconnect: false });
  assert.equal(p.seen.kinds.at(-1), 'ws');
  assert.deepEqual(p.seen.messages.filter((m) => m.kind === 'ws').map((m) => m.type), ['hello'], 'nothing of the socket before its hello');
  assert.deepEqual(ws.sent.map((m) => m.type), ['join'], 'the page rejoined over the WebSocket');
  assert.deepEqual(deletes(), [], 'the polling session is kept until the join is answered');
  const polls = server.requests.filter((r) => /longpoll/.test(r.path)).length;
  ws.message({ type: 'welcome', id: 7, token: 'tok', resumed: true });
  ws.tickEvery(500);
  await settle();
  assert.deepEqual(deletes(), ['/session/s1'], 'then ended');
  await advance(30000);
  assert.equal(server.requests.filter((r) => /longpoll/.test(r.path)).length, polls, 'no long poll since the move');
  assert.equal(p.t.kind, 'ws');
  assert.equal(liveSockets().length, 1, 'one WebSocket');
  p.t.close();
});

test('a spectator\'s polling session (no join answered) ends 5 s after the move', async () => {
  const p = await onLongPolling();
  const { ws } = await nextTry();
  ws.accept();
  ws.message(HELLO);
  await advance(4000);
  assert.deepEqual(deletes(), []);
  await advance(1500);
  assert.deepEqual(deletes(), ['/session/s1?away=1'], 'ended, leaving a player it may hold away');
  p.t.close();
});

test('a drop between the hello and the join\'s answer leaves the player away and starts a new round', async () => {
  const p = await onLongPolling();
  const { ws } = await nextTry();
  ws.accept();
  ws.message(HELLO);
  await settle();
  ws.serverClose(1006);
  await settle();
  assert.deepEqual(deletes(), ['/session/s1?away=1'], 'not a plain DELETE: the player would leave');
  // A new round at once: a WebSocket first (silent here), then long polling.
  const next = sockets.at(-1);
  assert.ok(next !== ws && next.live, 'a WebSocket first');
  next.accept();
  await advance(4500);
  assert.equal(p.t.kind, 'longpoll');
  assert.equal(p.t.isOpen, true, 'back on long polling');
  p.t.close();
});

test('the WebSocket moved to drops later: a new round falls back to long polling if WebSockets fail again', async () => {
  const p = await onLongPolling();
  const { ws } = await nextTry();
  ws.accept();
  ws.message(HELLO);
  ws.message({ type: 'welcome', id: 7, token: 'tok', resumed: true });
  ws.tickEvery(500);
  await advance(20000);
  assert.equal(p.t.kind, 'ws');
  ws.serverClose(1006);
  await settle();
  const sessions = server.sessions;
  for (let i = 0; i < 40 && !(p.t.kind === 'longpoll' && p.t.isOpen); i++) {
    const t = await nextTry(1000);
    if (t) t.ws.accept();  // silent: the path lets WebSockets through no longer
    await advance(500);
  }
  assert.equal(p.t.kind, 'longpoll', 'on long polling again');
  assert.equal(p.t.isOpen, true);
  assert.equal(server.sessions, sessions + 1, 'a new polling session');
  p.t.close();
  await assertAllStopped();
});

test('a try that fails is made again later, each time twice as late', async () => {
  const p = await onLongPolling();
  const gaps = [];
  for (let i = 0; i < 4; i++) {
    const t = await nextTry();
    gaps.push(t.after);
    t.ws.serverClose(1006);  // refused
    await settle();
  }
  gaps.shift();  // the first try's wait is the first test's
  // 20, 40, 80 s, each +-25 %.
  assert.ok(gaps[0] >= 15000 && gaps[0] <= 25250, `gaps ${gaps}`);
  assert.ok(gaps[1] >= 30000 && gaps[1] <= 50250, `gaps ${gaps}`);
  assert.ok(gaps[2] >= 60000 && gaps[2] <= 100250, `gaps ${gaps}`);
  assert.equal(p.t.kind, 'longpoll');
  assert.equal(p.seen.downs.length, 0, 'the page never saw the failed tries');
  p.t.close();
});

test('a try closed as broken before its hello (1008) is a failed try, not the page\'s end', async () => {
  const p = await onLongPolling();
  (await nextTry()).ws.serverClose(1008);
  await settle();
  assert.deepEqual(p.seen.fatals, []);
  assert.equal(p.t.isOpen, true);
  const again = await nextTry();
  assert.ok(again && again.after >= 15000, `tried again ${again && again.after} ms later`);
  again.ws.serverClose(1008);
  p.t.close();
  await assertAllStopped();
});

test('a silent try is given up after 3 s and the page stays on long polling', async () => {
  const p = await onLongPolling();
  const { ws } = await nextTry();
  ws.accept();
  await advance(4500);
  assert.equal(ws.live, false);
  assert.equal(p.t.kind, 'longpoll');
  assert.equal(p.t.isOpen, true);
  assert.equal(p.seen.downs.length, 0);
  p.t.close();
});

test('a long poll answered with the server\'s `closing` (1001) is a restart, said as a WebSocket\'s 1001', async () => {
  const p = await onLongPolling();
  const ticks = p.seen.messages.filter((m) => m.type === 'tick').length;
  server.stopping = true;
  await advance(1100);  // the long poll on its way was asked before: the next one is told
  assert.deepEqual(p.seen.downs, [1001], 'the page was told the server is stopping');
  assert.equal(p.seen.messages.filter((m) => m.type === 'tick').length, ticks + 2, 'the frame that came with it was delivered (and the one before)');
  assert.ok(!p.seen.messages.some((m) => m.type === 'closing'), 'the notice is the transport\'s, not a game message');
  assert.equal(p.t.isOpen, false);
  server.stopping = false;
  server.down = true;  // the restart: the next tries fail
  await advance(3000);
  assert.ok(p.seen.downs.length > 1 && p.seen.downs.slice(1).every((c) => c !== 1001), `then failed tries: ${p.seen.downs}`);
  server.down = false;  // back: a new session
  const sessions = server.sessions;
  await advance(10000);
  assert.equal(p.t.isOpen, true, 'connected again');
  assert.equal(server.sessions, sessions + 1, 'on a new polling session');
  p.t.close();
});

// Fails the page's next `n` tries (refused), so that the one after would be long in coming.
async function failTries(n) {
  for (let i = 0; i < n; i++) {
    (await nextTry()).ws.serverClose(1006);
    await settle();
  }
}

test('reconnect() (another world) drops a try on its way; the new long poll tries afresh, soon', async () => {
  const p = await onLongPolling();
  await failTries(2);  // the next try would be 40 s away (+-25 %)
  const { ws } = await nextTry();
  p.t.reconnect();
  await settle();
  assert.equal(ws.live, false, 'the try went where the page was');
  assert.equal(p.t.kind, 'longpoll');
  assert.equal(server.sessions, 2, 'a new polling session');
  const t = await nextTry();
  assert.ok(t && t.after <= 12500 + 250, `a new try ${t && t.after} ms after the reconnect`);
  p.t.close();
  await assertAllStopped();
});

test('a long poll that drops starts the tries over', async () => {
  const p = await onLongPolling();
  await failTries(3);  // the next try would be 80 s away (+-25 %)
  server.down = true;  // the server goes, and comes back
  await advance(2000);
  assert.ok(p.seen.downs.length >= 1, 'the page saw the drop');
  server.down = false;
  const sessions = server.sessions;
  const upAt = clock.now;
  while (server.sessions === sessions && clock.now - upAt < 60000) await advance(250);  // a new session: open again
  assert.equal(server.sessions, sessions + 1, 'a new polling session once the server was back');
  const t = await nextTry();
  assert.ok(t.after <= 12500 + 250, `a try ${t.after} ms after the long poll opened again (the tries started over)`);
  p.t.close();
  await assertAllStopped();
});

// close(): the player leaves (a plain DELETE); leavePage() (the page is going): it stays, away.
for (const [end, deleted] of [['close', '/session/s1'], ['leavePage', '/session/s1?away=1']]) {
  test(`${end}() ends a try on its way and the polling session (${deleted}), and tries nothing more`, async () => {
    const p = await onLongPolling();
    const { ws } = await nextTry();
    p.t[end]();
    await settle();
    assert.equal(ws.live, false);
    assert.deepEqual(deletes(), [deleted]);
    await assertAllStopped();
    assert.equal(await nextTry(600000), null, `nothing tried after ${end}()`);
    assert.equal(server.requests.filter((r) => r.method === 'POST' && r.path === '/session').length, 1, 'no new session');
  });
}

test('a page whose WebSocket works never tries anything else', async () => {
  fresh();
  const p = page();
  await settle();
  sockets[0].accept();
  sockets[0].message(HELLO);
  sockets[0].tickEvery(500);
  await settle();
  assert.equal(p.t.kind, 'ws');
  assert.equal(await nextTry(120000), null);
  p.t.close();
});
