// Browser test of the web demo against the real daemon.
//
//   node tests/browser/demo.test.mjs [path/to/skirmishd]
//
// Env: SKIRMISHD (daemon path; argv wins), SKIRMISH_WEB_ROOT (serve web/ from disk instead of
// the files built into the binary), CHROMIUM (default /usr/bin/chromium).
// Drives Debian's chromium through playwright-core (no browser download), headless, with a
// fresh profile and no network beyond 127.0.0.1. Screenshots go to tests/browser/screenshots/.
// Ends with a line "N passed, N failed" and exits non-zero if anything failed.
//
// Steps (a)-(g) play the demo over WebSocket (restart and touch included); (h)-(j) check the
// other transports: a page whose WebSocket is blocked plays over long polling, ?transport=poll
// plays over short polling, and /transports.html shows the three side by side.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const SHOTS = join(HERE, 'screenshots');
const DAEMON = process.argv[2] || process.env.SKIRMISHD || resolve(HERE, '../../build/server/skirmishd');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WEB_ROOT = process.env.SKIRMISH_WEB_ROOT || '';
const NAME = 'tester';
const CHROME_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

// ------------------------------------------------------------------ the daemon

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

class Daemon {
  constructor(args) {
    this.args = args;
    this.proc = null;
    this.log = [];
  }

  start(timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const proc = spawn(DAEMON, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc = proc;
      this.exited = new Promise((res) => proc.on('exit', (code, signal) => res({ code, signal })));
      const timer = setTimeout(() => reject(new Error(`daemon did not report listening within ${timeoutMs} ms`)), timeoutMs);
      let buf = '';
      const onData = (chunk) => {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          this.log.push(line);
          if (this.log.length > 400) this.log.shift();
          const m = /listening on \S*:(\d+)/.exec(line);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        }
      };
      proc.stdout.setEncoding('utf8').on('data', onData);
      proc.stderr.setEncoding('utf8').on('data', onData);
      proc.on('error', (err) => { clearTimeout(timer); reject(err); });
      proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`daemon exited with ${code} before listening:\n${this.log.join('\n')}`)); });
    });
  }

  get alive() {
    return this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop(signal = 'SIGTERM', timeoutMs = 8000) {
    if (!this.alive) return;
    this.proc.kill(signal);
    const t = new Promise((res) => setTimeout(() => res(null), timeoutMs));
    if ((await Promise.race([this.exited, t])) === null) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}

// ------------------------------------------------------------------ a tiny runner

const results = [];
let stopAfterFailure = false;

// A new group of steps that do not depend on the earlier ones: run them even after a failure.
function group() {
  stopAfterFailure = false;
}

async function step(name, fn) {
  if (stopAfterFailure) {
    results.push({ name, ok: false, skipped: true });
    console.log(`  -  ${name} (not run: an earlier step failed)`);
    return;
  }
  const t0 = Date.now();
  try {
    const note = await fn();
    results.push({ name, ok: true });
    console.log(`  ok ${name} (${Date.now() - t0} ms)${note ? ` - ${note}` : ''}`);
  } catch (err) {
    results.push({ name, ok: false });
    stopAfterFailure = true;  // the steps build on each other
    console.log(`  FAIL ${name} (${Date.now() - t0} ms)\n      ${String(err && err.stack || err).split('\n').join('\n      ')}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

// ------------------------------------------------------------------ the test

const tmp = mkdtempSync(join(tmpdir(), 'skirmish-browser-'));
const profile = join(tmp, 'profile');
const stateFile = join(tmp, 'state.json');
mkdirSync(SHOTS, { recursive: true });

let help = '';
try {
  help = execFileSync(DAEMON, ['--help'], { encoding: 'utf8' });
} catch (err) {
  console.log(`cannot run the daemon ${DAEMON}: ${err.message}\n0 passed, 1 failed`);
  process.exit(1);
}
const hasStateFile = help.includes('--state-file');
const port = await freePort();
const daemonArgs = [
  '--host', '127.0.0.1', '--port', String(port), '--log-level', 'info',
  // A small crowded world: a monster is never far from the spawn point.
  '--world-size', '700', '--monsters', '25', '--obstacles', '0',
  ...(hasStateFile ? ['--state-file', stateFile] : []),
  ...(WEB_ROOT ? ['--web-root', WEB_ROOT] : []),
];
const daemon = new Daemon(daemonArgs);
const origin = `http://127.0.0.1:${port}`;
let context = null;
let mobile = null;
let nows = null;    // a browser whose WebSocket is blocked
let polled = null;  // a browser on ?transport=poll (and the transports page)
const consoleErrors = [];   // every console error / page error, with the step it happened in
let phase = 'load';
const foreignRequests = [];

const shot = (page, file) => page.screenshot({ path: join(SHOTS, file) });
const sk = (page, expr) => page.evaluate(expr);
const waitFor = (page, fn, arg, timeout = 10000) => page.waitForFunction(fn, arg, { timeout, polling: 50 });

function watchPage(page, label) {
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push({ phase, label, text: msg.text() }); });
  page.on('pageerror', (err) => consoleErrors.push({ phase, label, text: `pageerror: ${err.message}` }));
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(origin) && !url.startsWith(`ws://127.0.0.1:${port}`) && !url.startsWith('data:')) foreignRequests.push(url);
  });
}

// While the daemon is down Chromium itself logs each failed WebSocket connect as a console
// error; those (and only those) are expected during the restart.
const expectedDuringRestart = (e) => e.phase === 'restart' && /WebSocket connection to .* failed/.test(e.text);
const unexpectedErrors = () => consoleErrors.filter((e) => !expectedDuringRestart(e));

console.log(`skirmish browser test: daemon ${DAEMON} on 127.0.0.1:${port}${WEB_ROOT ? `, web root ${WEB_ROOT}` : ' (embedded web files)'}` +
  `, --state-file ${hasStateFile ? 'supported' : 'NOT supported: the "same player after restart" check is skipped'}`);

try {
  await daemon.start();
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROME_ARGS, viewport: { width: 1280, height: 720 },
  });
  const page = context.pages()[0] || (await context.newPage());
  watchPage(page, 'desktop');
  let hello = null;
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    if (!hello && typeof f.payload === 'string' && f.payload.includes('"hello"')) hello = JSON.parse(f.payload);
  }));

  await step('(a) the page loads without console errors or outside requests', async () => {
    const resp = await page.goto(origin + '/', { waitUntil: 'load', timeout: 15000 });
    assert(resp && resp.status() === 200, `GET / answered ${resp && resp.status()}`);
    await waitFor(page, () => window.skirmish !== undefined && document.querySelector('#overlay:not([hidden])'));
    assert(await page.isVisible('#name'), 'the name input is visible');
    assert(await page.isVisible('#play'), 'the Play button is visible');
    await page.waitForTimeout(300);  // let module errors, if any, surface
    await shot(page, '01-loaded.png');
    assert(consoleErrors.length === 0, `console errors: ${JSON.stringify(consoleErrors)}`);
    assert(foreignRequests.length === 0, `requests outside the daemon: ${foreignRequests.join(', ')}`);
  });

  await step('(b) it connects', async () => {
    await waitFor(page, () => window.skirmish.connection === 'open' && window.skirmish.lastTick !== null);
    assert(await page.textContent('#conn-text') === 'connected', 'the HUD says connected');
    assert(await sk(page, () => window.skirmish.transport) === 'ws', 'plays over a WebSocket when it can');
    assert(await page.textContent('#conn-transport') === '· websocket', `the HUD names the transport: ${await page.textContent('#conn-transport')}`);
    assert(await page.isHidden('#banner'), 'no connection banner while connected');
    await waitFor(page, () => window.skirmish.rttMs !== null && window.skirmish.tickDelayMs !== null, undefined, 5000);
    await shot(page, '02-connected.png');
    return `rtt ${(await sk(page, () => window.skirmish.rttMs)).toFixed(1)} ms`;
  });

  let firstId = null;
  await step('(c) joins through the name prompt and sees itself', async () => {
    await page.fill('#name', NAME);
    await page.click('#play');
    await waitFor(page, () => window.skirmish.joined && window.skirmish.me !== null);
    const me = await sk(page, () => window.skirmish.me);
    assert(me.name === 'tester' && me.kind === 'player', `me is our player: ${JSON.stringify(me)}`);
    assert(typeof me.x === 'number' && typeof me.y === 'number' && typeof me.hp === 'number', 'me has x, y, hp');
    assert(await page.isHidden('#overlay'), 'the prompt is gone');
    assert(await page.isVisible('#me-panel'), 'the hp / score panel is shown');
    firstId = await sk(page, () => window.skirmish.myId);
    await page.waitForTimeout(250);  // a few frames of interpolation for the picture
    await shot(page, '03-joined.png');
    return `id ${firstId} at (${me.x.toFixed(0)}, ${me.y.toFixed(0)})`;
  });

  await step('(d) holding a key moves the player on the server', async () => {
    // Movement needs a living player, and the crowded world may kill it mid-walk:
    // a walk during which it died is tried again (at most 3 times).
    const width = await sk(page, () => window.skirmish.world.width);
    for (let attempt = 1; ; attempt++) {
      await waitFor(page, () => window.skirmish.me && window.skirmish.me.state !== 'dead', undefined, 8000);
      const before = await sk(page, () => window.skirmish.me);
      // 'd' unless we stand at the right edge; then 'a' and expect the opposite.
      const right = before.x < width - 120;
      const key = right ? 'd' : 'a';
      await page.keyboard.down(key);
      await page.waitForTimeout(500);
      // Mid-walk the drawn (predicted) player is a little ahead of the server's, never far off.
      const mid = await sk(page, () => ({ p: window.skirmish.predicted, me: window.skirmish.me }));
      await page.waitForTimeout(500);
      await page.keyboard.up(key);
      await waitFor(page, ([x0, right]) => {
        const me = window.skirmish.me;
        return me && (right ? me.x > x0 + 40 : me.x < x0 - 40);
      }, [before.x, right], 3000).catch(() => {});
      const after = await sk(page, () => window.skirmish.me);
      if (after.state === 'dead' && attempt < 3) continue;
      await shot(page, '04-moved.png');
      const moved = right ? after.x - before.x : before.x - after.x;
      assert(moved > 40, `held '${key}' 1 s: server x went ${before.x} -> ${after.x} (state ${after.state})`);
      assert(mid.p && Math.abs(mid.p.x - mid.me.x) < 60, `prediction stays near the server mid-walk: ${JSON.stringify(mid)}`);
      // Once stopped, prediction and server agree (reconciliation converges, no drift).
      await waitFor(page, () => {
        const { predicted: p, me } = window.skirmish;
        return p && me && (me.state === 'dead' || Math.hypot(p.x - me.x, p.y - me.y) < 3);
      }, undefined, 3000);
      return `'${key}' held 1 s: x ${before.x.toFixed(0)} -> ${after.x.toFixed(0)}; mid-walk prediction lead ${(mid.p.x - mid.me.x).toFixed(1)}`;
    }
  });

  await step('(e) sees a monster attack', async () => {
    const deadline = Date.now() + 20000;
    let held = [];
    try {
      while (Date.now() < deadline) {
        if ((await sk(page, () => window.skirmish.monsterAttacks)) > 0) break;
        // Walk toward the nearest monster for a moment, then look again.
        const dir = await sk(page, () => {
          const me = window.skirmish.me;
          if (!me || me.state === 'dead') return null;
          let best = null;
          for (const e of window.skirmish.snapshot()) {
            if (e.kind === 'player') continue;
            const d = Math.hypot(e.x - me.x, e.y - me.y);
            if (!best || d < best.d) best = { d, dx: e.x - me.x, dy: e.y - me.y };
          }
          return best;
        });
        const keys = [];
        if (dir && dir.d > 30) {
          if (dir.dx > 15) keys.push('d'); else if (dir.dx < -15) keys.push('a');
          if (dir.dy > 15) keys.push('s'); else if (dir.dy < -15) keys.push('w');
        }
        for (const k of held) if (!keys.includes(k)) await page.keyboard.up(k);
        for (const k of keys) if (!held.includes(k)) await page.keyboard.down(k);
        held = keys;
        await waitFor(page, () => window.skirmish.monsterAttacks > 0, undefined, 300).catch(() => {});
      }
    } finally {
      for (const k of held) await page.keyboard.up(k);
    }
    const { n, all } = await sk(page, () => ({ n: window.skirmish.monsterAttacks, all: window.skirmish.events }));
    await page.waitForTimeout(120);  // the strike and damage number are drawn ~100 ms late
    await shot(page, '05-attack.png');
    assert(n > 0, 'a monster attacked a player within 20 s');
    assert(all >= n, `events (${all}) counts every attack event, monsters' included (${n})`);
    return `${n} monster attack(s), ${all} attack event(s) in all`;
  });

  await step('(f) survives a daemon restart and gets its player back', async () => {
    phase = 'restart';
    const before = await sk(page, () => ({ id: window.skirmish.myId, reconnects: window.skirmish.reconnects }));
    const stopped = daemon.stop('SIGTERM');
    await waitFor(page, () => window.skirmish.connection === 'reconnecting' && !document.getElementById('banner').hidden, undefined, 10000);
    const banner = await page.textContent('#banner-text');
    assert(/reconnect/i.test(banner), `banner text: ${banner}`);
    await shot(page, '06-reconnecting.png');
    await stopped;
    await daemon.start();
    await waitFor(page, () => window.skirmish.connection === 'open' && window.skirmish.joined && window.skirmish.me !== null, undefined, 20000);
    const after = await sk(page, () => ({
      id: window.skirmish.myId, resumed: window.skirmish.resumed, reconnects: window.skirmish.reconnects, me: window.skirmish.me,
    }));
    assert(after.reconnects === before.reconnects + 1, `reconnects went ${before.reconnects} -> ${after.reconnects}`);
    assert(after.me.name === NAME, `rejoined with the same name (${after.me.name})`);
    assert(await page.isHidden('#banner'), 'the banner is gone once connected');
    assert(await page.isHidden('#overlay'), 'rejoined without asking for the name again');
    if (hasStateFile) {
      assert(after.resumed === true, 'welcome.resumed is true after the restart');
      assert(after.id === before.id, `same player id after the restart (${before.id} -> ${after.id})`);
    }
    await page.waitForTimeout(250);
    await shot(page, '07-reconnected.png');
    phase = 'after';
    return hasStateFile
      ? `resumed player ${after.id}`
      : `new player ${after.id} (was ${before.id}); same-player check skipped: the daemon has no --state-file`;
  });

  await step('(g) a narrow touch screen gets the on-screen controls', async () => {
    mobile = await chromium.launchPersistentContext(join(tmp, 'profile-mobile'), {
      executablePath: CHROMIUM, headless: true, args: CHROME_ARGS,
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    });
    const p = mobile.pages()[0] || (await mobile.newPage());
    watchPage(p, 'mobile');
    await p.goto(origin + '/', { waitUntil: 'load', timeout: 15000 });
    await waitFor(p, () => window.skirmish && window.skirmish.connection === 'open');
    await shot(p, '08-mobile-prompt.png');
    await p.fill('#name', 'thumbs');
    await p.tap('#play');
    await waitFor(p, () => window.skirmish.joined && window.skirmish.me !== null);
    await waitFor(p, () => !document.getElementById('touch').hidden, undefined, 3000);
    assert(await p.isVisible('#stick') && await p.isVisible('#touch-attack'), 'stick and attack button are visible');
    const fits = await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert(fits, 'nothing overflows the 390 px width');
    // Drag the stick to the right for a moment: the player moves.
    const x0 = await sk(p, () => window.skirmish.me.x);
    const box = await p.locator('#stick').boundingBox();
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    const dir = x0 < 580 ? 1 : -1;
    const cdp = await mobile.newCDPSession(p);
    const touch = (type, x) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y: cy, id: 1 }] });
    await touch('touchStart', cx);
    await touch('touchMove', cx + dir * 45);
    await p.waitForTimeout(800);
    await p.waitForTimeout(100);
    await shot(p, '09-mobile-play.png');
    await touch('touchEnd', cx);
    await waitFor(p, ([x0, dir]) => window.skirmish.me && (window.skirmish.me.x - x0) * dir > 30, [x0, dir], 3000).catch(() => {});
    const x1 = await sk(p, () => window.skirmish.me.x);
    assert((x1 - x0) * dir > 30, `the touch stick moved the player: x ${x0} -> ${x1}`);
    return `stick moved x ${x0.toFixed(0)} -> ${x1.toFixed(0)}`;
  });

  // ---------------------------------------------------------------- the other transports
  // Independent of the steps above: each starts a browser of its own.
  group();

  await step('(h) WebSocket blocked: falls back to long polling, plays and moves', async () => {
    phase = 'longpoll';
    nows = await chromium.launchPersistentContext(join(tmp, 'profile-nows'), {
      executablePath: CHROMIUM, headless: true, args: CHROME_ARGS, viewport: { width: 1280, height: 720 },
    });
    const p = nows.pages()[0] || (await nows.newPage());
    watchPage(p, 'no-websocket');
    // What a proxy that blocks WebSocket looks like to a page: every connection fails at once.
    await p.addInitScript(() => {
      window.__wsAttempts = 0;
      window.WebSocket = class BlockedWebSocket {
        static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
        constructor(url) {
          window.__wsAttempts++;
          this.url = url;
          this.readyState = 0;
          setTimeout(() => {
            this.readyState = 3;
            this.onerror?.(new Event('error'));
            this.onclose?.({ code: 1006, reason: '', wasClean: false });
          }, 0);
        }
        send() { throw new DOMException('still in CONNECTING state', 'InvalidStateError'); }
        close() { this.readyState = 3; }
      };
    });
    const sockets = [];
    p.on('websocket', (ws) => sockets.push(ws.url()));
    await p.goto(origin + '/', { waitUntil: 'load', timeout: 15000 });
    await waitFor(p, () => window.skirmish && window.skirmish.connection === 'open' && window.skirmish.lastTick !== null, undefined, 10000);
    const info = await sk(p, () => ({ transport: window.skirmish.transport, attempts: window.__wsAttempts }));
    assert(info.transport === 'longpoll', `transport is ${info.transport}`);
    assert(info.attempts >= 1, 'a WebSocket was tried first');
    assert(sockets.length === 0, `no real WebSocket was opened: ${sockets.join(', ')}`);
    assert(await p.textContent('#conn-transport') === '· long polling', `HUD: ${await p.textContent('.conn')}`);
    assert(await p.locator('a.stats-link[href="transports.html"]').count() === 1, 'the HUD links the transports page');

    await p.fill('#name', 'poller');
    await p.click('#play');
    await waitFor(p, () => window.skirmish.joined && window.skirmish.me !== null);
    const width = await sk(p, () => window.skirmish.world.width);
    let walked = null;
    for (let attempt = 1; attempt <= 3 && !walked; attempt++) {
      await waitFor(p, () => window.skirmish.me && window.skirmish.me.state !== 'dead', undefined, 8000);
      const before = await sk(p, () => window.skirmish.me);
      const right = before.x < width - 120;
      const key = right ? 'd' : 'a';
      await p.keyboard.down(key);
      await p.waitForTimeout(1000);
      await p.keyboard.up(key);
      await waitFor(p, ([x0, right]) => {
        const me = window.skirmish.me;
        return me && (right ? me.x > x0 + 40 : me.x < x0 - 40);
      }, [before.x, right], 3000).catch(() => {});
      const after = await sk(p, () => window.skirmish.me);
      const moved = right ? after.x - before.x : before.x - after.x;
      if (moved > 40) walked = { key, x0: before.x, x1: after.x };
      else assert(after.state === 'dead' && attempt < 3, `held '${key}' 1 s: server x went ${before.x} -> ${after.x} (state ${after.state})`);
    }
    await shot(p, '10-longpoll.png');
    const t0 = await sk(p, () => window.skirmish.lastTick);
    await p.waitForTimeout(1000);
    const t1 = await sk(p, () => window.skirmish.lastTick);
    assert(t1 >= t0 + 10, `ticks keep arriving over long polling: ${t0} -> ${t1} in 1 s`);
    const rtt = await sk(p, () => window.skirmish.rttMs);
    assert(rtt !== null, 'pings are answered over HTTP (pong)');
    return `'${walked.key}' held 1 s: x ${walked.x0.toFixed(0)} -> ${walked.x1.toFixed(0)}; ${t1 - t0} ticks in 1 s; ping ${rtt.toFixed(1)} ms`;
  });

  await step('(i) ?transport=poll plays over short polling', async () => {
    phase = 'poll';
    polled = await chromium.launchPersistentContext(join(tmp, 'profile-poll'), {
      executablePath: CHROMIUM, headless: true, args: CHROME_ARGS, viewport: { width: 1280, height: 720 },
    });
    const p = polled.pages()[0] || (await polled.newPage());
    watchPage(p, 'poll');
    const sockets = [];
    const polls = [];
    p.on('websocket', (ws) => sockets.push(ws.url()));
    p.on('request', (r) => { if (/\/session\/[^/]+\/poll$/.test(r.url())) polls.push(Date.now()); });
    await p.goto(origin + '/?transport=poll', { waitUntil: 'load', timeout: 15000 });
    await waitFor(p, () => window.skirmish && window.skirmish.connection === 'open' && window.skirmish.lastTick !== null, undefined, 10000);
    assert(await sk(p, () => window.skirmish.transport) === 'poll', 'transport is poll');
    assert(await p.textContent('#conn-transport') === '· short polling', `HUD: ${await p.textContent('.conn')}`);
    await p.click('#watch');
    const t0 = await sk(p, () => window.skirmish.lastTick);
    const n0 = polls.length;
    await p.waitForTimeout(3000);
    const t1 = await sk(p, () => window.skirmish.lastTick);
    const n = polls.length - n0;
    assert(t1 >= t0 + 30, `ticks arrive: ${t0} -> ${t1} in 3 s`);
    assert(n >= 2 && n <= 4, `about one GET /poll a second: ${n} in 3 s`);
    assert(sockets.length === 0, `no WebSocket: ${sockets.join(', ')}`);
    const delay = await sk(p, () => window.skirmish.tickDelayMs);
    await shot(p, '11-poll.png');
    return `${t1 - t0} ticks in ${n} polls over 3 s; median tick delay ${Math.round(delay)} ms`;
  });

  await step('(j) the transports page: three live feeds side by side', async () => {
    phase = 'transports';
    const p = await (polled || context).newPage();
    watchPage(p, 'transports');
    await p.setViewportSize({ width: 1280, height: 900 });
    const resp = await p.goto(origin + '/transports.html', { waitUntil: 'load', timeout: 15000 });
    assert(resp && resp.status() === 200, `GET /transports.html answered ${resp && resp.status()}`);
    const metrics = () => sk(p, () => Object.fromEntries(['ws', 'longpoll', 'poll'].map((k) => [k, window.transportsPage[k].metrics])));
    await waitFor(p, () => ['ws', 'longpoll', 'poll'].every((k) => window.transportsPage[k].metrics.updatesPerSec > 0), undefined, 10000);
    await p.waitForTimeout(2500);
    const a = await metrics();
    await p.waitForTimeout(3000);
    const b = await metrics();
    for (const k of ['ws', 'longpoll', 'poll']) {
      assert(b[k].connected, `${k} is live (${b[k].status})`);
      assert(b[k].updatesPerSec > 0, `${k}: updates per second ${b[k].updatesPerSec}`);
      const shown = Number(await p.textContent(`#panel-${k} [data-f="updates"]`));
      assert(shown > 0, `${k}: the panel shows updates per second (${shown})`);
      assert(b[k].ticks > a[k].ticks, `${k}: ticks keep coming (${a[k].ticks} -> ${b[k].ticks})`);
      assert(b[k].bytesIn > a[k].bytesIn, `${k}: bytes received grow`);
    }
    assert(b.ws.requests <= 3 && b.ws.requests === a.ws.requests, `WebSocket requests stay small: ${a.ws.requests} -> ${b.ws.requests}`);
    assert(b.poll.requests >= a.poll.requests + 2, `short polling keeps asking: ${a.poll.requests} -> ${b.poll.requests}`);
    assert(b.longpoll.requests > b.poll.requests, `long polling makes a request per answer: ${b.longpoll.requests} vs ${b.poll.requests}`);
    assert(b.poll.delayP50 > b.ws.delayP50, `short polling is later than WebSocket: p50 ${b.poll.delayP50} vs ${b.ws.delayP50} ms`);
    await shot(p, '12-transports.png');
    await p.setViewportSize({ width: 390, height: 844 });
    await p.waitForTimeout(400);
    const fits = await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert(fits, 'nothing overflows a 390 px width');
    await shot(p, '13-transports-narrow.png');
    const bad = consoleErrors.filter((e) => e.label === 'transports');
    assert(bad.length === 0, `console errors on the transports page: ${JSON.stringify(bad)}`);
    await p.close();
    const f = (k) => `${k} ${b[k].requests} req, ${b[k].updatesPerSec.toFixed(1)} upd/s, p50 ${b[k].delayP50} ms`;
    return ['ws', 'longpoll', 'poll'].map(f).join('; ');
  });

  await step('no unexpected console errors and no outside requests over the whole run', async () => {
    const bad = unexpectedErrors();
    assert(bad.length === 0, `console errors: ${JSON.stringify(bad, null, 1)}`);
    assert(foreignRequests.length === 0, `requests outside the daemon: ${foreignRequests.join(', ')}`);
  });
} catch (err) {
  results.push({ name: 'setup', ok: false });
  console.log(`  FAIL setup: ${err && err.stack || err}`);
} finally {
  await mobile?.close().catch(() => {});
  await nows?.close().catch(() => {});
  await polled?.close().catch(() => {});
  await context?.close().catch(() => {});
  await daemon.stop('SIGTERM').catch(() => {});
  if (results.some((r) => !r.ok)) console.log(`--- daemon log (last 30 lines) ---\n${daemon.log.slice(-30).join('\n')}\n---`);
  rmSync(tmp, { recursive: true, force: true });
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`screenshots in ${SHOTS}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
