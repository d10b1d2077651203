// Unit test of the demo's prediction of your own player (web/js/predict.js): a start from a
// server position that stands for an earlier moment, and the comparisons after it.
//
//   node tests/browser/predict.test.mjs
//
// Plain Node 18+, no dependencies. Exits non-zero if anything failed.

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// web/ has no package.json saying "type": "module": import a copy named .mjs.
const HERE = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'skirmish-predict-'));
const copy = join(tmp, 'predict.mjs');
copyFileSync(resolve(HERE, '../../web/js/predict.js'), copy);
const { Predictor } = await import(pathToFileURL(copy).href);
rmSync(tmp, { recursive: true, force: true });

const WORLD = { width: 4000, height: 4000, obstacles: [] };
const SPEED = 200;     // units/s
const FRAME_MS = 16;
const TICK_MS = 50;

let failed = 0;
function test(name, fn) {
  try {
    fn();
    console.log(`ok ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}\n  ${String(err && err.stack || err).split('\n').join('\n  ')}`);
  }
}

// A player walking right from x0 at `walkFrom` (local ms), as the server moves it: its
// position at tick k stands for walkFrom + k ticks. Each server position arrives `lagMs`
// after the moment it stands for, or with short polling (`pollMs`) at the first poll answer
// (every pollMs, the first at `firstPollMs`) at least that late; frames run every 16 ms.
// Returns the predictor.
function walk({ x0 = 1000, walkFrom = 0, lagMs, pollMs = 0, firstPollMs = 0, untilMs = 3000, move = [1, 0] }) {
  const p = new Predictor();
  p.setSpeed(SPEED);
  const serverAt = (t) => x0 + move[0] * SPEED * Math.max(0, t - walkFrom) / 1000;
  const arrives = (t) => (pollMs ? firstPollMs + Math.ceil(Math.max(0, t + lagMs - firstPollMs) / pollMs) * pollMs : t + lagMs);
  let nextTick = walkFrom + TICK_MS;
  for (let now = walkFrom; now <= untilMs; now += FRAME_MS) {
    while (arrives(nextTick) <= now) {  // positions that have arrived by now
      p.reconcileAt(serverAt(nextTick), 1000, nextTick);
      nextTick += TICK_MS;
    }
    if (p.ready) p.step(now, FRAME_MS / 1000, move, WORLD);
  }
  return p;
}

test('the first position of us, 300 ms old when it comes, is moved on to now', () => {
  const p = new Predictor();
  p.setSpeed(SPEED);
  p.reconcileAt(1000, 1000, 700);  // stands for t = 700
  assert.equal(p.x, 1000);
  p.step(1000, FRAME_MS / 1000, [1, 0], WORLD);
  assert.ok(Math.abs(p.x - (1000 + SPEED * 0.3)) < 1e-6, `x after the first step: ${p.x}`);
  p.step(1016, FRAME_MS / 1000, [1, 0], WORLD);
  assert.ok(Math.abs(p.x - (1000 + SPEED * 0.316)) < 1e-6, `the next step moves one frame: ${p.x}`);
});

test('walking with every position 300 ms late, the prediction agrees with the server', () => {
  // (Before the start was moved on, each comparison was about 60 units off: 200 u/s x 0.3 s.)
  const p = walk({ lagMs: 300 });
  assert.ok(p.errors.count > 40, `comparisons: ${p.errors.count}`);
  assert.ok(p.errors.max < 5, `off by at most ${p.errors.max.toFixed(1)} units`);
});

test('short polling: a second of positions at once, each answer 300 ms on its way', () => {
  // The first answer after the join shows the player (its last position 300 ms old); the
  // later ones hand over a second of positions, the first of them older than our start.
  const p = walk({ lagMs: 300, pollMs: 1000, firstPollMs: 420, untilMs: 4000 });
  assert.ok(p.errors.count > 40, `comparisons: ${p.errors.count}`);
  assert.ok(p.errors.max < 5, `off by at most ${p.errors.max.toFixed(1)} units`);
});

test('walking with positions 40 ms late, as over a quick WebSocket', () => {
  const p = walk({ lagMs: 40 });
  assert.ok(p.errors.count > 40, `comparisons: ${p.errors.count}`);
  assert.ok(p.errors.max < 5, `off by at most ${p.errors.max.toFixed(1)} units`);
});

test('a start standing still is not moved', () => {
  const p = new Predictor();
  p.reconcileAt(500, 600, 0);
  p.step(400, FRAME_MS / 1000, [0, 0], WORLD);
  assert.deepEqual([p.x, p.y], [500, 600]);
});

test('a start without a moment (the server position as it is drawn) moves one frame only', () => {
  const p = new Predictor();
  p.setSpeed(SPEED);
  p.reset(1000, 1000);
  p.step(5000, FRAME_MS / 1000, [1, 0], WORLD);
  assert.ok(Math.abs(p.x - (1000 + SPEED * FRAME_MS / 1000)) < 1e-6, `x: ${p.x}`);
});

test('a very old start is moved on by half a second at most, and never backwards', () => {
  const p = new Predictor();
  p.setSpeed(SPEED);
  p.reconcileAt(1000, 1000, 0);
  p.step(3000, FRAME_MS / 1000, [1, 0], WORLD);
  assert.ok(Math.abs(p.x - (1000 + SPEED * 0.5)) < 1e-6, `x: ${p.x}`);
  const q = new Predictor();
  q.setSpeed(SPEED);
  q.reconcileAt(1000, 1000, 2000);  // stands for a moment after this frame's
  q.step(1900, FRAME_MS / 1000, [1, 0], WORLD);
  assert.equal(q.x, 1000);
});

test('a snap (a position far from ours: a respawn, a lag spike) is moved on from its moment too', () => {
  const p = walk({ lagMs: 40, untilMs: 1000 });
  p.reconcileAt(3000, 1000, 900);  // 2,000 units away: snaps
  p.step(1100, FRAME_MS / 1000, [1, 0], WORLD);
  assert.ok(Math.abs(p.x - (3000 + SPEED * 0.2)) < 1e-6, `x: ${p.x}`);
});

if (failed) {
  console.log(`${failed} failed`);
  process.exit(1);
}
console.log('all passed');
