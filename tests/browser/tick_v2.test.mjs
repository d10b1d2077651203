// Unit test of the demo's decoder of protocol v2's binary tick (web/js/tick_v2.js) on
// hand-built frames (docs/protocol.md, "tick in protocol v2").
//
//   node tests/browser/tick_v2.test.mjs
//
// Plain Node 18+, no dependencies. Exits non-zero if anything failed.

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// web/ has no package.json saying "type": "module", so Node would take the file for
// CommonJS: import a copy named .mjs (it imports nothing itself).
const HERE = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'skirmish-tick-v2-'));
const copy = join(tmp, 'tick_v2.mjs');
copyFileSync(resolve(HERE, '../../web/js/tick_v2.js'), copy);
const { TickV2Decoder, facingOf } = await import(pathToFileURL(copy).href);
rmSync(tmp, { recursive: true, force: true });

// ------------------------------------------------------------------ building frames

const KINDS = ['slime', 'wolf', 'ogre'];
const HEAD = { TICK: 1, FULL: 0x10, ABSOLUTE: 0x20, PLAYERS: 0x40, ACK: 0x80 };
const STATE = { idle: 0, wander: 1, chase: 2, attack: 3, return: 4, dead: 5 };

function varint(n) {
  const out = [];
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const svarint = (n) => varint(n >= 0 ? 2 * n : -2 * n - 1);
const i8 = (n) => (n < 0 ? n + 256 : n);
const bytes = (...parts) => Uint8Array.from(parts.flat(Infinity));

/** A whole frame from its sections (each an array of already-encoded items); PLAYERS when `players` is given. */
function frame({ head = HEAD.TICK, tick, ts, players, ack, updates = [], removed = [], entering = [], events = [] }) {
  if (players !== undefined) head |= HEAD.PLAYERS;
  if (ack !== undefined) head |= HEAD.ACK;
  return bytes(head, varint(tick), head & HEAD.ABSOLUTE ? varint(ts) : svarint(ts),
    players === undefined ? [] : varint(players), ack === undefined ? [] : [varint(ack.seq), varint(ack.ago)],
    varint(updates.length), updates, varint(removed.length), removed.map(varint),
    varint(entering.length), entering, varint(events.length), events);
}
const first = (f) => frame({ head: HEAD.TICK | HEAD.ABSOLUTE | HEAD.PLAYERS, ...f });

function state(name, respawn) {
  if (!respawn) return [STATE[name]];
  return [STATE[name] | 0x80, svarint(respawn.dtick), svarint(respawn.x10), svarint(respawn.y10)];
}
/** An entering record; `id` is the delta from the previous entering id in the frame. */
function enter({ id, kind, x10, y10, facing = 0, hp, maxHp, st = 'idle', respawn, score = 0, away = false, name }) {
  const player = kind === 0;
  const nameBytes = player ? [...new TextEncoder().encode(name)] : [];
  return [varint(id), kind, svarint(x10), svarint(y10), facing, varint(hp), varint(maxHp), state(st, respawn),
    varint(score), player ? [away ? 1 : 0, varint(nameBytes.length), nameBytes] : []];
}
/** An update: `pos` is [form, a, b] (form 1: a and b in -8..7, one byte); `more` {state, respawn, score, away}. */
function update({ skip = 0, pos, facing, hp, more }) {
  let h = Math.min(skip, 7);
  if (pos) h |= pos[0] << 3;
  if (facing !== undefined) h |= 0x20;
  if (hp !== undefined) h |= 0x40;
  let m = 0;
  if (more) {
    h |= 0x80;
    if (more.state) m |= 1;
    if (more.score !== undefined) m |= 2;
    if (more.away !== undefined) m |= 4 | (more.away ? 8 : 0);
  }
  return [h, skip >= 7 ? varint(skip - 7) : [], more ? m : [],
    pos ? (pos[0] === 1 ? [(pos[1] & 0x0f) | ((pos[2] & 0x0f) << 4)] : [svarint(pos[1]), svarint(pos[2])]) : [],
    facing !== undefined ? facing : [], hp !== undefined ? varint(hp) : [],
    more && more.state ? state(more.state, more.respawn) : [], more && more.score !== undefined ? varint(more.score) : []];
}
function event(type, attacker, target, damage, x10, y10) {
  return [{ attack: 0, death: 1, respawn: 2 }[type], varint(attacker), varint(target), varint(damage), svarint(x10), svarint(y10)];
}
const heldIds = (d) => d.held.map((e) => e.id);

// ------------------------------------------------------------------ the cases

const cases = [];
const test = (name, fn) => cases.push({ name, fn });
const TS = 1731412345678;

test('varint and svarint primitives (doc examples, ts-sized values)', () => {
  assert.deepEqual(varint(300), [0xac, 0x02]);
  assert.deepEqual(svarint(-1), [0x01]);
  assert.deepEqual(svarint(100), [0xc8, 0x01]);
  // ts about 1.8e12 (41 bits) and 2^53 - 1 go through a Number exactly.
  for (const ts of [TS, 1.8e12, Number.MAX_SAFE_INTEGER]) {
    const d = new TickV2Decoder(KINDS);
    const m = d.decode(first({ tick: 2 ** 40 + 3, ts, players: 0 }));
    assert.equal(m.ts, ts);
    assert.equal(m.tick, 2 ** 40 + 3);
  }
  // A negative ts step (a clock set back) as an svarint.
  const d = new TickV2Decoder(KINDS);
  d.decode(first({ tick: 10, ts: TS, players: 1 }));
  assert.equal(d.decode(frame({ tick: 1, ts: -70000 })).ts, TS - 70000);
});

test('facing bytes decode into (-pi, pi]', () => {
  assert.equal(facingOf(0), 0);
  assert.equal(facingOf(64), Math.PI / 2);
  assert.equal(facingOf(128), Math.PI);
  assert.equal(facingOf(192), -Math.PI / 2);
  assert.ok(Math.abs(facingOf(255) + (2 * Math.PI) / 256) < 1e-12);
  for (let b = 0; b < 256; b++) assert.ok(facingOf(b) > -Math.PI && facingOf(b) <= Math.PI);
});

test('ABSOLUTE + PLAYERS first frame: entering player and monsters become v1 full records', () => {
  const d = new TickV2Decoder(KINDS);
  const m = d.decode(first({
    tick: 1234, ts: TS, players: 3,
    entering: [
      enter({ id: 17, kind: 2, x10: 17023, y10: 15779, facing: 128, hp: 60, maxHp: 60, st: 'chase' }),
      enter({ id: 42 - 17, kind: 3, x10: 0, y10: -5, facing: 64, hp: 12, maxHp: 250, st: 'attack', score: 0 }),
      enter({ id: 201 - 42, kind: 0, x10: 16105, y10: 15880, facing: 0, hp: 0, maxHp: 100, st: 'dead',
        respawn: { dtick: 80, x10: 16000, y10: 16000 }, score: 7, away: true, name: 'zoë 🗡' }),
      enter({ id: 1, kind: 0, x10: 3, y10: 31999, facing: 192, hp: 100, maxHp: 100, name: 'bob' }),
    ],
  }));
  const v1 = JSON.parse(`{"type":"tick","tick":1234,"ts":${TS},"players":3,"entities":[
    {"id":17,"kind":"wolf","max_hp":60,"x":1702.3,"y":1577.9,"hp":60,"state":"chase","facing":0,"score":0},
    {"id":42,"kind":"ogre","max_hp":250,"x":0,"y":-0.5,"hp":12,"state":"attack","facing":0,"score":0},
    {"id":201,"kind":"player","name":"zoë 🗡","max_hp":100,"x":1610.5,"y":1588,"hp":0,"state":"dead","respawn_tick":1314,"respawn_x":1600,"respawn_y":1600,"facing":0,"score":7,"away":true},
    {"id":202,"kind":"player","name":"bob","max_hp":100,"x":0.3,"y":3199.9,"hp":100,"state":"idle","facing":0,"score":0,"away":false}],
    "removed":[],"events":[]}`);
  // facing is the one value v2 codes differently (bytes, not tenths): set v1's to the byte's.
  v1.entities[0].facing = Math.PI;
  v1.entities[1].facing = Math.PI / 2;
  v1.entities[3].facing = -Math.PI / 2;
  assert.deepEqual(m, v1);
  // Same keys in the same order as v1's JSON (a JSON.stringify of both is the same text).
  assert.equal(JSON.stringify(m), JSON.stringify(v1));
  assert.equal(m.full, undefined, 'no full key on a frame that is not FULL');
  assert.deepEqual(heldIds(d), [17, 42, 201, 202]);
});

// Four held entities (ids 5, 9, 12, 30) at known positions, as the next cases start from.
function withFour() {
  const d = new TickV2Decoder(KINDS);
  d.decode(first({
    tick: 100, ts: TS, players: 2,
    entering: [
      enter({ id: 5, kind: 1, x10: 16105, y10: 15880, hp: 40, maxHp: 40 }),
      enter({ id: 4, kind: 1, x10: 1000, y10: 2000, hp: 40, maxHp: 40 }),
      enter({ id: 3, kind: 2, x10: 5000, y10: 5000, hp: 60, maxHp: 60 }),
      enter({ id: 18, kind: 0, x10: 16000, y10: 16000, hp: 100, maxHp: 100, name: 'al' }),
    ],
  }));
  return d;
}

test('the example frame of docs/protocol.md', () => {
  const d = withFour();
  // All four entered in the previous frame: each is predicted to stand still.
  const m = d.decode(Uint8Array.from([0x01, 0x01, 0x64, 0x02, 0x08, 0xf3, 0x11, 0x03, 0x00, 0x00, 0x00, 0x00]).buffer);
  assert.deepEqual(m, {
    type: 'tick', tick: 101, ts: TS + 50, players: 2,
    entities: [{ id: 5, x: 1610.8, y: 1587.9 }, { id: 12, x: 499.8, y: 500 }], removed: [], events: [],
  });
  // x10 / 10 is the very Number v1's one-decimal JSON parses to.
  assert.equal(m.entities[0].x, JSON.parse('1610.8'));
  assert.deepEqual(d.held.map((e) => [e.id, e.x10, e.y10]), [[5, 16108, 15879], [9, 1000, 2000], [12, 4998, 5000], [30, 16000, 16000]]);
  // The next frame predicts straight on: 5 moved (+3, -1), so "unchanged" (form 1, 0, 0) is (+3, -1) again.
  const m2 = d.decode(Uint8Array.from([0x01, 0x01, 0x64, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00]).buffer);
  assert.deepEqual(m2.entities, [{ id: 5, x: 1611.1, y: 1587.8 }]);
});

test('updates: position forms 1, 2 and 3, facing, hp; the held position follows', () => {
  const d = withFour();
  let m = d.decode(frame({
    tick: 2, ts: 100,
    updates: [
      update({ pos: [2, -128, 127], facing: 200 }),          // id 5
      update({ pos: [2, 5000, -1999], hp: 33 }),            // id 9
      update({ skip: 1, pos: [3, 123456, -7] }),            // id 30
    ],
  }));
  assert.equal(m.tick, 102);
  assert.equal(m.players, 2, 'players carried over without PLAYERS');
  assert.deepEqual(m.entities, [
    { id: 5, x: 1597.7, y: 1600.7, facing: facingOf(200) },
    { id: 9, x: 600, y: 0.1, hp: 33 },
    { id: 30, x: 12345.6, y: -0.7 },
  ]);
  // Now each is predicted to go on as it went: 5 from (16105, 15880) to (15977, 16007) is
  // predicted at (15849, 16134); 30 from (16000, 16000) to (123456, -7) at (230912, -16014).
  m = d.decode(frame({ tick: 1, ts: 50, players: 4, updates: [update({ pos: [1, 3, -1] }), update({ skip: 2, pos: [2, -6, 16014] })] }));
  assert.equal(m.players, 4);
  assert.deepEqual(m.entities, [{ id: 5, x: 1585.2, y: 1613.3 }, { id: 30, x: 23090.6, y: 0 }]);
  assert.equal(Object.is(m.entities[1].y, 0), true, 'y10 0 is 0, not -0');
});

test('skip escape (skip >= 7) and MORE: state, score, away', () => {
  const d = new TickV2Decoder(KINDS);
  const ents = [];
  for (let i = 0; i < 20; i++) ents.push(enter({ id: i === 0 ? 100 : 1, kind: i % 2 ? 0 : 1, x10: i * 10, y10: i * 10, hp: 40, maxHp: 40, name: `p${i}` }));
  d.decode(first({ tick: 5, ts: TS, players: 10, entering: ents }));
  const m = d.decode(frame({
    tick: 1, ts: 50,
    updates: [
      update({ skip: 7, more: { away: true } }),                       // held[7] = 107
      update({ skip: 7 + 0, hp: 0, more: { state: 'dead', respawn: { dtick: 60, x10: 16000, y10: -16000 }, score: 3 } }), // held[15] = 115
      update({ skip: 0, more: { state: 'wander', away: false } }),      // held[16] = 116
      update({ skip: 2, more: { score: 300 } }),                        // held[19] = 119
    ],
  }));
  assert.deepEqual(m.entities, [
    { id: 107, away: true },
    { id: 115, hp: 0, state: 'dead', respawn_tick: 66, respawn_x: 1600, respawn_y: -1600, score: 3 },
    { id: 116, state: 'wander', away: false },
    { id: 119, score: 300 },
  ]);
  // Key order as v1 prints it.
  assert.deepEqual(Object.keys(m.entities[1]), ['id', 'hp', 'state', 'respawn_tick', 'respawn_x', 'respawn_y', 'score']);
  // A skip far past 7 (escape with a multi-byte extra) and its bytes.
  assert.deepEqual(update({ skip: 7 + 200 }), [7, [0xc8, 0x01], [], [], [], [], [], []]);
  const d2 = new TickV2Decoder(KINDS);
  const many = [];
  for (let i = 0; i < 300; i++) many.push(enter({ id: i === 0 ? 1 : 1, kind: 1, x10: 0, y10: 0, hp: 1, maxHp: 40 }));
  d2.decode(first({ tick: 1, ts: TS, players: 0, entering: many }));
  const m2 = d2.decode(frame({ tick: 1, ts: 1, updates: [update({ skip: 207, hp: 9 }), update({ skip: 91, hp: 8 })] }));
  assert.deepEqual(m2.entities, [{ id: 208, hp: 9 }, { id: 300, hp: 8 }]);
});

test('removals by skip; entering ids merge into the held list in order', () => {
  const d = withFour();  // 5, 9, 12, 30
  const m = d.decode(frame({
    tick: 1, ts: 50,
    updates: [update({ skip: 3, hp: 90 })],                // id 30
    removed: [1, 0],                                       // held[1] = 9, held[2] = 12
    entering: [enter({ id: 7, kind: 1, x10: 70, y10: 80, hp: 40, maxHp: 40, st: 'wander' }),
      enter({ id: 40 - 7, kind: 0, x10: 1, y10: 2, hp: 100, maxHp: 100, name: 'x' })],
  }));
  assert.deepEqual(m.removed, [9, 12]);
  // Entities in id order, as v1 lists them: entering 7, update 30, entering 40.
  assert.deepEqual(m.entities.map((e) => e.id), [7, 30, 40]);
  assert.deepEqual(heldIds(d), [5, 7, 30, 40]);
  // The next frame's indexes are into the new list: held[1] is now 7, and its base is (70, 80).
  const m2 = d.decode(frame({ tick: 1, ts: 50, updates: [update({ skip: 1, pos: [1, 1, 1] })], removed: [3] }));
  assert.deepEqual(m2.entities, [{ id: 7, x: 7.1, y: 8.1 }]);
  assert.deepEqual(m2.removed, [40]);
  assert.deepEqual(heldIds(d), [5, 7, 30]);
});

test('an entering id already held replaces it (and is not reported removed)', () => {
  const d = withFour();
  const m = d.decode(frame({
    tick: 1, ts: 50,
    removed: [2],                                                  // 12 leaves ...
    entering: [enter({ id: 9, kind: 2, x10: 10, y10: 10, hp: 60, maxHp: 60 }),   // 9 again, in full
      enter({ id: 3, kind: 2, x10: 20, y10: 20, hp: 60, maxHp: 60 })],            // ... and 12 comes back
  }));
  assert.deepEqual(m.removed, []);
  assert.deepEqual(m.entities.map((e) => e.id), [9, 12]);
  assert.deepEqual(d.held.map((e) => [e.id, e.x10]), [[5, 16105], [9, 10], [12, 20], [30, 16000]]);
});

test('FULL frame: everything held is dropped first; full: true', () => {
  const d = withFour();
  const m = d.decode(frame({
    head: HEAD.TICK | HEAD.FULL | HEAD.ABSOLUTE | HEAD.PLAYERS, tick: 500, ts: TS + 20000, players: 1,
    entering: [enter({ id: 12, kind: 2, x10: 1, y10: 1, hp: 60, maxHp: 60 }), enter({ id: 88 - 12, kind: 1, x10: 2, y10: 2, hp: 4, maxHp: 40 })],
  }));
  assert.equal(m.full, true);
  assert.equal(m.tick, 500);
  assert.deepEqual(m.removed, [], 'a v1 full frame lists no removals: the client drops what is not listed');
  assert.deepEqual(Object.keys(m), ['type', 'tick', 'ts', 'players', 'full', 'entities', 'removed', 'events']);
  assert.deepEqual(heldIds(d), [12, 88]);
  const m2 = d.decode(frame({ tick: 1, ts: 50, updates: [update({ skip: 1, hp: 3 })] }));
  assert.deepEqual(m2.entities, [{ id: 88, hp: 3 }]);
  // A decoder may start at a FULL frame.
  const fresh = new TickV2Decoder(KINDS);
  assert.equal(fresh.decode(frame({ head: HEAD.TICK | HEAD.FULL | HEAD.ABSOLUTE | HEAD.PLAYERS, tick: 9, ts: TS, players: 0 })).full, true);
});

test('events, oldest first', () => {
  const d = withFour();
  const m = d.decode(frame({
    tick: 3, ts: 150,
    events: [event('attack', 17, 201, 8, 16105, 15880), event('death', 201, 17, 30, -5, 0), event('respawn', 0, 201, 0, 16000, 16000)],
  }));
  assert.deepEqual(m.events, [
    { type: 'attack', attacker: 17, target: 201, damage: 8, x: 1610.5, y: 1588 },
    { type: 'death', attacker: 201, target: 17, damage: 30, x: -0.5, y: 0 },
    { type: 'respawn', attacker: 0, target: 201, damage: 0, x: 1600, y: 1600 },
  ]);
  assert.deepEqual(m.entities, []);
});

test('ACK: our last applied input, as ticks back from this one', () => {
  const d = new TickV2Decoder(KINDS);
  const m = d.decode(first({ tick: 1000, ts: TS, players: 1, ack: { seq: 300, ago: 3 } }));
  assert.deepEqual(m.ack, { seq: 300, tick: 997 });
  const n = d.decode(frame({ tick: 1, ts: 50, ack: { seq: 4294967295, ago: 0 } }));
  assert.deepEqual(n.ack, { seq: 4294967295, tick: 1001 });
  assert.equal(d.decode(frame({ tick: 1, ts: 50 })).ack, undefined);
});

test('malformed frames throw, and the decoder stays out of step after one', () => {
  const ok = () => frame({ tick: 1, ts: 50 });
  const bad = {
    'non-ABSOLUTE first frame': [new TickV2Decoder(KINDS), ok(), /without a previous/],
    'first frame without PLAYERS': [new TickV2Decoder(KINDS), frame({ head: HEAD.TICK | HEAD.ABSOLUTE, tick: 1, ts: TS }), /players count/],
    'a later ABSOLUTE frame without PLAYERS': [withFour(), frame({ head: HEAD.TICK | HEAD.ABSOLUTE, tick: 1, ts: TS }), /players count/],
    'an update with no field': [withFour(), frame({ tick: 1, ts: 50, updates: [[0x00]] }), /no field/],
    'head kind 2': [withFour(), bytes(0x02, 1, 0x64, 0, 0, 0, 0), /message kind 2/],
    'head kind 0': [withFour(), bytes(0x00, 1, 0x64, 0, 0, 0, 0), /message kind 0/],
    'ACK cut short': [withFour(), bytes(0x81, 1, 0x64, 7), /truncated/],
    'ACK before tick 0': [new TickV2Decoder(KINDS), first({ tick: 2, ts: TS, players: 0, ack: { seq: 7, ago: 3 } }), /ack before tick 0/],
    'empty message': [withFour(), bytes(), /truncated/],
    'update skips past the held list': [withFour(), frame({ tick: 1, ts: 50, updates: [update({ skip: 4, hp: 1 })] }), /update skips past/],
    'second update past the end': [withFour(), frame({ tick: 1, ts: 50, updates: [update({ skip: 3, hp: 1 }), update({ hp: 1 })] }), /update skips past/],
    'removal past the end': [withFour(), frame({ tick: 1, ts: 50, removed: [2, 1] }), /removal skips past/],
    'update in a FULL frame (nothing is held)': [withFour(), frame({ head: 0x71, tick: 1, ts: TS, players: 0, updates: [update({ hp: 1 })] }), /update skips past/],
    'truncated varint': [withFour(), bytes(0x01, 0x81), /truncated/],
    'truncated update': [withFour(), bytes(0x01, 1, 0x64, 1, 0x08, 0x2b), /truncated/],
    'missing sections': [withFour(), bytes(0x01, 1, 0x64, 0), /truncated/],
    'bytes left over': [withFour(), bytes([...ok()], 0), /1 bytes left over/],
    'varint longer than 10 bytes': [withFour(), bytes(0x01, Array(10).fill(0x80), 1, 0x64, 0, 0, 0, 0), /longer than 10/],
    'varint past 2^53': [new TickV2Decoder(KINDS), bytes(0x61, 1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 0, 0, 0, 0, 0), /too large/],
    'unknown kind': [new TickV2Decoder(KINDS), first({ tick: 1, ts: TS, players: 0, entering: [enter({ id: 1, kind: 4, x10: 0, y10: 0, hp: 1, maxHp: 1 })] }), /unknown kind 4/],
    'unknown state': [new TickV2Decoder(KINDS), first({ tick: 1, ts: TS, players: 0, entering: [[1, 1, 0, 0, 0, 1, 1, 6, 0]] }), /unknown state 6/],
    'unknown state in an update': [withFour(), frame({ tick: 1, ts: 50, updates: [[0x80, 0x01, 0x7f]] }), /unknown state 127/],
    'unknown event': [withFour(), frame({ tick: 1, ts: 50, events: [[3, 1, 2, 3, 0, 0]] }), /unknown event 3/],
    'reserved bits of MORE': [withFour(), frame({ tick: 1, ts: 50, updates: [[0x80, 0x10]] }), /reserved bits/],
    'reserved bits of player flags': [new TickV2Decoder(KINDS), first({ tick: 1, ts: TS, players: 0, entering: [[1, 0, 0, 0, 0, 1, 1, 0, 0, 2, 0]] }), /reserved bits/],
    'entering ids not ascending': [new TickV2Decoder(KINDS), first({ tick: 1, ts: TS, players: 0, entering: [
      enter({ id: 3, kind: 1, x10: 0, y10: 0, hp: 1, maxHp: 1 }), enter({ id: 0, kind: 1, x10: 0, y10: 0, hp: 1, maxHp: 1 })] }), /do not ascend/],
    'name cut short': [new TickV2Decoder(KINDS), bytes(0x61, 1, 1, 0, 0, 0, 1, [1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 5, 0x61]), /truncated/],
    'name not UTF-8': [new TickV2Decoder(KINDS), first({ tick: 1, ts: TS, players: 0, entering: [[1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 2, 0xc3, 0x28]] }), /not UTF-8/],
  };
  for (const [what, [d, buf, why]] of Object.entries(bad)) {
    const before = d.held.map((e) => ({ ...e }));
    assert.throws(() => d.decode(buf), why, `${what}: should throw ${why}`);
    assert.deepEqual(d.held, before, `${what}: a failed frame changes nothing held`);
    // Out of step for good: even a well-formed frame is refused now.
    assert.throws(() => d.decode(ok()), /out of step/, `${what}: the decoder must stay broken`);
  }
  // The frames above are only malformed where they say: the same builders make good ones.
  assert.doesNotThrow(() => withFour().decode(frame({ tick: 1, ts: 50, updates: [update({ skip: 3, hp: 1 })], removed: [1, 1] })));
  assert.doesNotThrow(() => new TickV2Decoder(KINDS).decode(first({ tick: 1, ts: TS, players: 0, entering: [enter({ id: 1, kind: 3, x10: 0, y10: 0, hp: 1, maxHp: 1 })] })));
});

// ------------------------------------------------------------------ run

let failed = 0;
for (const { name, fn } of cases) {
  try {
    fn();
    console.log(`  ok ${name}`);
  } catch (err) {
    failed++;
    console.log(`  FAIL ${name}\n      ${String(err && err.stack || err).split('\n').join('\n      ')}`);
  }
}
console.log(`${cases.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
