// Unit test of the demo's guess of which monsters are after you (web/js/threat.js): the red
// "!" goes over a monster that hit you lately, or that chases heading at you with nobody nearer
// it that way; not over one chasing someone else, nor one that is calm.
//
//   node tests/browser/threat.test.mjs
//
// Plain Node 18+, no dependencies. Exits non-zero if anything failed.

import assert from 'node:assert/strict';
import { check, finish, importWeb } from './web_module.mjs';

const { afterYou, HIT_MEMORY_MS } = await importWeb('threat.js');

const at = { x: 0, y: 0 };
const east = { state: 'chase', facing: 0 };
const now = 10000;

check('a monster chasing straight at you is after you', () => {
  assert.equal(afterYou(east, at, { x: 200, y: 10 }, [], undefined, now), true);
  assert.equal(afterYou({ state: 'attack', facing: Math.PI / 2 }, at, { x: 0, y: 50 }, [], undefined, now), true);
  // Facing is an angle: just under pi and just over -pi are the same way.
  assert.equal(afterYou({ state: 'chase', facing: 3.1 }, at, { x: -300, y: -5 }, [], undefined, now), true);
});

check('one heading elsewhere, or calm, is not', () => {
  assert.equal(afterYou(east, at, { x: -200, y: 0 }, [], undefined, now), false);
  assert.equal(afterYou(east, at, { x: 0, y: 200 }, [], undefined, now), false);
  for (const state of ['idle', 'wander', 'return', 'dead']) {
    assert.equal(afterYou({ state, facing: 0 }, at, { x: 200, y: 0 }, [], undefined, now), false, state);
  }
});

check('another player nearer it the same way is the one it chases', () => {
  assert.equal(afterYou(east, at, { x: 300, y: 0 }, [{ x: 150, y: 20 }], undefined, now), false);
  // Nearer, but not that way; or that way but farther: still you.
  assert.equal(afterYou(east, at, { x: 300, y: 0 }, [{ x: 0, y: 100 }], undefined, now), true);
  assert.equal(afterYou(east, at, { x: 300, y: 0 }, [{ x: 500, y: 0 }], undefined, now), true);
});

check('a monster that hit you lately is after you whichever way it faces', () => {
  assert.equal(afterYou(east, at, { x: -60, y: 0 }, [{ x: 40, y: 0 }], now - 500, now), true);
  assert.equal(afterYou(east, at, { x: -60, y: 0 }, [{ x: 40, y: 0 }], now - HIT_MEMORY_MS - 1, now), false);
  // A calm one is not, hit or not: it gave up.
  assert.equal(afterYou({ state: 'return', facing: 0 }, at, { x: 60, y: 0 }, [], now - 100, now), false);
});

check('without a living player of yours nothing is after you', () => {
  assert.equal(afterYou(east, at, null, [], now - 100, now), false);
});

finish();
