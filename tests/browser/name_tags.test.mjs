// Unit test of the demo's name-tag placement (web/js/name_tags.js): tags of crowded players
// do not cover each other, yours never moves, the nearest are placed first.
//
//   node tests/browser/name_tags.test.mjs
//
// Plain Node 18+, no dependencies. Exits non-zero if anything failed.

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// web/ is not a Node package: import a copy named .mjs (it imports nothing itself).
const HERE = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'skirmish-name-tags-'));
const copy = join(tmp, 'name_tags.mjs');
copyFileSync(resolve(HERE, '../../web/js/name_tags.js'), copy);
const { placeNameTags, MAX_LIFT } = await import(pathToFileURL(copy).href);
rmSync(tmp, { recursive: true, force: true });

const LINE = 15;
const tag = (x, bottom, extra = {}) => ({ x, bottom, width: 80, height: 14, isMe: false, dead: false, distance: 0, ...extra });
const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n${e.stack}`);
  }
}

check('tags apart stay where they are', () => {
  const out = placeNameTags([tag(0, 0), tag(200, 0), tag(0, 100)], LINE);
  assert.deepEqual(out.map((o) => [o.lift, o.hidden]), [[0, false], [0, false], [0, false]]);
  assert.deepEqual(out[1], { lift: 0, hidden: false, left: 160, right: 240, bottom: 0, top: -14 });
});

check('a crowd on one spot: no two written tags overlap, the rest are not written', () => {
  const tags = Array.from({ length: 6 }, (_, i) => tag(i * 3, 0, { distance: i, isMe: i === 2 }));
  const out = placeNameTags(tags, LINE);
  const shown = out.filter((o) => !o.hidden);
  for (let i = 0; i < shown.length; i++)
    for (let j = i + 1; j < shown.length; j++) assert.ok(!overlap(shown[i], shown[j]), `${JSON.stringify(shown[i])} covers ${JSON.stringify(shown[j])}`);
  assert.equal(shown.length, 1 + MAX_LIFT, 'one line each, up to the highest lift');
  assert.deepEqual([out[2].lift, out[2].hidden], [0, false], 'yours is placed first and not lifted');
  // The others nearest you first: distance 0 and 1 get the lifts, 3..5 are not written.
  assert.deepEqual(out.map((o) => o.hidden), [false, false, false, true, true, true]);
  assert.deepEqual([out[0].lift, out[1].lift], [1, 2]);
  assert.equal(out[1].bottom, -2 * LINE);
});

check('yours is written where it is even over a tag placed in its way', () => {
  const out = placeNameTags([tag(0, 0, { distance: 0 }), tag(10, 5, { isMe: true, distance: 9 })], LINE);
  assert.deepEqual([out[1].lift, out[1].hidden], [0, false]);
  assert.equal(out[0].lift, 1, 'the other gives way');
});

check('the dead give way to the living', () => {
  const out = placeNameTags([tag(0, 0, { dead: true, distance: 0 }), tag(0, 0, { distance: 50 })], LINE);
  assert.equal(out[1].lift, 0);
  assert.equal(out[0].lift, 1);
});

check('a lifted tag finds a gap between lines', () => {
  // One tag on the base line, one two lines up: the third takes the free line between.
  const out = placeNameTags([tag(0, 0, { distance: 0 }), tag(0, -2 * LINE, { distance: 1 }), tag(0, 0, { distance: 2 })], LINE);
  assert.deepEqual(out.map((o) => o.lift), [0, 0, 1]);
});

check('two tags do not swap as you walk past them: last frame\'s places come first', () => {
  // B nearer now, but A kept the base line last frame and B was lifted: they stay so.
  const out = placeNameTags([tag(0, 0, { distance: 50, prev: 0 }), tag(10, 0, { distance: 10, prev: 1 })], LINE);
  assert.deepEqual(out.map((o) => o.lift), [0, 1]);
  // Once they are apart, the lifted one comes down.
  const apart = placeNameTags([tag(0, 0, { distance: 50, prev: 0 }), tag(200, 0, { distance: 10, prev: 1 })], LINE);
  assert.deepEqual(apart.map((o) => o.lift), [0, 0]);
  // A new tag comes after those on the base line, before those lifted.
  const mixed = placeNameTags([tag(0, 0, { distance: 30, prev: 1 }), tag(5, 0, { distance: 40 }), tag(9, 0, { distance: 50, prev: 0 })], LINE);
  assert.deepEqual(mixed.map((o) => o.lift), [2, 1, 0]);
  // One not written last frame comes after every one that was.
  const hidden = placeNameTags([tag(0, 0, { distance: 1, prev: -1 }), tag(5, 0, { distance: 90, prev: 2 })], LINE);
  assert.deepEqual(hidden.map((o) => o.lift), [1, 0]);
});

check('another\'s tag does not cover your body and hp bar (blocked): it is lifted clear, or not written', () => {
  // You at the origin, your body and bar from -31 to 15; another player 40 below you: its tag
  // (baseline 3, top -11) would sit on your body.
  const body = { left: -19, right: 19, top: -31, bottom: 15 };
  const me = tag(0, -37, { isMe: true });
  const out = placeNameTags([me, tag(0, 3, { distance: 40 })], LINE, [body]);
  assert.equal(out[0].lift, 0);
  assert.ok(out[1].hidden || !overlap(out[1], body), JSON.stringify(out[1]));
  // Without the block, the same tag would have stayed on your body.
  const before = placeNameTags([me, tag(0, 3, { distance: 40 })], LINE);
  assert.ok(!before[1].hidden && overlap(before[1], body), JSON.stringify(before[1]));
  // A tag beside your body, not on it, keeps its place; yours is written over a block too.
  const beside = placeNameTags([me, tag(120, 3, { distance: 120 })], LINE, [body]);
  assert.deepEqual(beside.map((o) => [o.lift, o.hidden]), [[0, false], [0, false]]);
  const mine = placeNameTags([tag(0, 0, { isMe: true })], LINE, [body]);
  assert.deepEqual([mine[0].lift, mine[0].hidden], [0, false]);
});

check('nothing in, nothing out', () => assert.deepEqual(placeNameTags([], LINE), []));

if (failed) {
  console.log(`${failed} failed`);
  process.exit(1);
}
console.log('all passed');
