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

// The server's side of a walk: from (x0, y0), a step a tick, with the move in effect at the
// tick's start (`moves`: [[local ms, move], ...], each taking effect at a tick's start), x
// first then y, each stopped by the world's edges and obstacles (as game/ does). Written
// apart from predict.js so that the two can disagree.
function serverPath({ x0, y0, moves, untilMs, world }) {
  const moveAt = (t) => moves.reduce((m, [at, mv]) => (at <= t ? mv : m), [0, 0]);
  const axis = (pos, other, d, size, lane) => {
    let next = Math.min(Math.max(pos + d, 0), size);
    for (const o of world.obstacles) {
      const [lo, len, olo, olen] = lane(o);
      if (!(other > olo && other < olo + olen)) continue;
      if (d > 0 && pos <= lo && next > lo) next = lo;
      if (d < 0 && pos >= lo + len && next < lo + len) next = lo + len;
    }
    return next;
  };
  const path = [{ t: 0, x: x0, y: y0 }];
  let x = x0;
  let y = y0;
  for (let t = 0; t < untilMs; t += TICK_MS) {
    const [mx, my] = moveAt(t);
    x = axis(x, y, mx * SPEED * TICK_MS / 1000, world.width, (o) => [o.x, o.w, o.y, o.h]);
    y = axis(y, x, my * SPEED * TICK_MS / 1000, world.height, (o) => [o.y, o.h, o.x, o.w]);
    path.push({ t: t + TICK_MS, x, y });
  }
  return path;
}

// A walk from local time 0 (`moves` as above), played through the predictor as the page
// does: each new move noted when it starts, a step every 16 ms frame with the move of the
// moment, and each server position (at tick k: where the server had us at k ticks) handed
// over `lagMs` after the moment it stands for, or with short polling (`pollMs`) in the first
// poll answer (every pollMs, the first at `firstPollMs`) at least that late. Returns the
// predictor and the server's path.
function walk({ x0 = 1000, y0 = 1000, lagMs, pollMs = 0, firstPollMs = 0, untilMs = 3000,
  moves = [[0, [1, 0]]], world = WORLD }) {
  const p = new Predictor();
  p.setSpeed(SPEED);
  const path = serverPath({ x0, y0, moves, untilMs, world });
  const arrives = (t) => (pollMs ? firstPollMs + Math.ceil(Math.max(0, t + lagMs - firstPollMs) / pollMs) * pollMs : t + lagMs);
  let k = 1;
  let noted = 0;
  for (let now = 0; now <= untilMs; now += FRAME_MS) {
    while (noted < moves.length && moves[noted][0] <= now) {
      p.noteMove(now - FRAME_MS, moves[noted][1]);  // as the page: from the frame's start
      noted++;
    }
    while (k < path.length && arrives(path[k].t) <= now) {  // positions that have arrived by now
      p.reconcileAt(path[k].x, path[k].y, path[k].t);
      k++;
    }
    const move = noted ? moves[noted - 1][1] : [0, 0];
    if (p.ready) p.step(now, FRAME_MS / 1000, move, world);
  }
  return { p, path };
}

test('the first position of us, 300 ms old when it comes, is moved on to now', () => {
  const p = new Predictor();
  p.setSpeed(SPEED);
  p.noteMove(500, [1, 0]);
  p.reconcileAt(1000, 1000, 700);  // stands for t = 700
  assert.equal(p.x, 1000);
  p.step(1000, FRAME_MS / 1000, [1, 0], WORLD);
  assert.ok(Math.abs(p.x - (1000 + SPEED * 0.3)) < 1e-6, `x after the first step: ${p.x}`);
  p.step(1016, FRAME_MS / 1000, [1, 0], WORLD);
  assert.ok(Math.abs(p.x - (1000 + SPEED * 0.316)) < 1e-6, `the next step moves one frame: ${p.x}`);
});

test('walking with every position 300 ms late, the prediction agrees with the server', () => {
  // (Before the start was moved on, each comparison was about 60 units off: 200 u/s x 0.3 s.)
  const { p } = walk({ lagMs: 300 });
  assert.ok(p.errors.count > 40, `comparisons: ${p.errors.count}`);
  assert.ok(p.errors.max < 5, `off by at most ${p.errors.max.toFixed(1)} units`);
});

test('short polling: a second of positions at once, each answer 300 ms on its way', () => {
  // The first answer after the join shows the player (its last position 300 ms old); the
  // later ones hand over a second of positions, the first of them older than our start.
  const { p } = walk({ lagMs: 300, pollMs: 1000, firstPollMs: 420, untilMs: 4000 });
  assert.ok(p.errors.count > 40, `comparisons: ${p.errors.count}`);
  assert.ok(p.errors.max < 5, `off by at most ${p.errors.max.toFixed(1)} units`);
});

test('walking with positions 40 ms late, as over a quick WebSocket', () => {
  const { p } = walk({ lagMs: 40 });
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

test('a very old start is moved on by half a second at most; one for a later moment, from that moment', () => {
  const p = new Predictor();
  p.setSpeed(SPEED);
  p.noteMove(0, [1, 0]);
  p.reconcileAt(1000, 1000, 0);
  p.step(3000, FRAME_MS / 1000, [1, 0], WORLD);
  assert.ok(Math.abs(p.x - (1000 + SPEED * 0.5)) < 1e-6, `x: ${p.x}`);
  const q = new Predictor();
  q.setSpeed(SPEED);
  q.noteMove(0, [1, 0]);
  q.reconcileAt(1000, 1000, 1910);  // stands for a moment after this frame's
  q.step(1900, FRAME_MS / 1000, [1, 0], WORLD);
  assert.equal(q.x, 1000);
  q.step(1916, FRAME_MS / 1000, [1, 0], WORLD);  // ... and moves on from that moment
  assert.ok(Math.abs(q.x - (1000 + SPEED * 0.006)) < 1e-6, `x: ${q.x}`);
});

test('a diagonal noted as the controls give it (0.71, 0.71) is no faster than on the server', () => {
  const p = new Predictor();
  p.setSpeed(SPEED);
  p.noteMove(0, [0.71, 0.71]);
  p.reconcileAt(1000, 1000, 0);
  p.step(400, FRAME_MS / 1000, [Math.SQRT1_2, Math.SQRT1_2], WORLD);
  const moved = Math.hypot(p.x - 1000, p.y - 1000);
  assert.ok(Math.abs(moved - SPEED * 0.4) < 1e-6, `moved ${moved.toFixed(3)} units in 400 ms`);
});

test('a snap (a position far from ours: a respawn, a lag spike) is moved on from its moment too', () => {
  const { p } = walk({ lagMs: 40, untilMs: 1000 });
  p.reconcileAt(3000, 1000, 900);  // 2,000 units away: snaps
  p.step(1100, FRAME_MS / 1000, [1, 0], WORLD);
  assert.ok(Math.abs(p.x - (3000 + SPEED * 0.2)) < 1e-6, `x: ${p.x}`);
});

test('a turn and a stop while the first position was on its way are walked as sent', () => {
  // Right from 0, left from 200 ms, standing from 500; positions arrive 300 ms late, so the
  // first (50 ms) comes at 350, with the page already walking left: moved on with the move of
  // each moment, not the present one (that was 80 units off).
  const { p, path } = walk({ lagMs: 300, untilMs: 1500, moves: [[0, [1, 0]], [200, [-1, 0]], [500, [0, 0]]] });
  assert.ok(p.errors.count > 10, `comparisons: ${p.errors.count}`);
  assert.ok(p.errors.max < 5, `off by at most ${p.errors.max.toFixed(1)} units`);
  const end = path[path.length - 1];
  assert.ok(Math.abs(p.x - end.x) < 5, `standing at x ${p.x.toFixed(1)}; the server ${end.x}`);
});

test('walking diagonally into the corner of an obstacle while the first position was on its way', () => {
  // The server steps x then y every tick, so it slides down the obstacle's left side; one big
  // x-then-y move would have slid along its top, 55 units away.
  const world = { width: 4000, height: 4000, obstacles: [{ x: 1050, y: 1020, w: 60, h: 80 }] };
  const d = Math.SQRT1_2;
  const { p, path } = walk({ lagMs: 450, untilMs: 650, moves: [[0, [d, d]]], world });
  const end = path[path.length - 1];
  assert.equal(end.x, 1050, 'the server stops at the left side');
  assert.ok(p.errors.max < 5, `off by at most ${p.errors.max.toFixed(1)} units`);
  assert.ok(Math.abs(p.x - end.x) < 5 && Math.abs(p.y - end.y) < 10,
    `at (${p.x.toFixed(1)}, ${p.y.toFixed(1)}); the server (${end.x}, ${end.y.toFixed(1)})`);
});

test('a moment that is not a number is no moment', () => {
  const p = new Predictor();
  p.setSpeed(SPEED);
  p.noteMove(0, [1, 0]);
  p.reconcileAt(1000, 1000, NaN);
  p.step(1000, FRAME_MS / 1000, [1, 0], WORLD);
  assert.ok(Math.abs(p.x - (1000 + SPEED * FRAME_MS / 1000)) < 1e-6, `x: ${p.x}`);
});

if (failed) {
  console.log(`${failed} failed`);
  process.exit(1);
}
console.log('all passed');
