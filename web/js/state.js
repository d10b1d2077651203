// The one game state store. Every server message is applied here; renderers and the HUD
// only read it. `window.skirmish` (see exposeForTests) is a read-only view of it.

import { Timelines } from './interp.js';
import { playerAlpha } from './sprites.js';

const MAX_SAMPLES = 40;     // tick delays kept for the median
const RATE_FRAMES = 100;   // frames the measured tick rate averages over (~5 s at 20 Hz)

export const state = {
  connection: 'connecting',  // 'connecting' | 'open' | 'reconnecting' | 'closed'
  transport: 'ws',           // 'ws' | 'longpoll' | 'poll': how messages travel (net.js)
  wire: null,                // 'v2' (binary ticks) | 'json' | null (not connected yet)
  retryAt: 0,                // performance.now() of the next reconnect attempt
  downSince: 0,              // performance.now() when the connection last went down
  downCode: null,            // while reconnecting: why the link went down (a close code; 1013 = too slow)
  reconnects: 0,             // successful re-opens after a drop

  // From `hello` (and `welcome`).
  protocol: null,
  tickRate: 20,
  viewRadius: 800,
  world: { width: 3200, height: 3200, obstacles: [] },
  kinds: new Map(),          // monster kind name -> {max_hp, speed, attack_range, aggro_radius}
  worldName: null,           // hello's (and welcome's) world.name, e.g. "world-2"; null from an older server
  worldCount: null,          // worlds on the server (GET /worlds; main.js), null while not known
  // Where the connection went (main.js): the WebSocket's URL (maybe another process of a fleet,
  // sent there by POST /place or picked from the list), or the page's origin when polling;
  // worldWhere: that process's host when it is not the page's own server, else null.
  serverUrl: null,
  worldWhere: null,

  // Who we are.
  mode: 'prompt',            // 'prompt' (name overlay) | 'play' | 'watch' | 'taken' (another tab has our player)
  joined: false,
  myId: null,
  resumed: false,
  spectator: { x: 1600, y: 1600 },
  predicted: null,           // {x, y}: where your player is drawn (local prediction), set per frame
  lastFrame: null,           // {renderAt, items, respawn, tags}: what the last frame drew (main.js)

  // The server's view, merged frame by frame.
  entities: new Map(),       // id -> entity object (server fields only)
  timelines: new Timelines(),
  lastTick: null,
  lastTickAt: null,          // performance.now() when the last tick frame came
  serverQuiet: false,        // connected, yet no tick for a second past the transport's lag (main.js)
  lostFrames: 0,
  players: 0,
  attackEvents: 0,
  monsterAttacks: 0,         // attack events whose target is a player (only monsters hit players)
  hitMeAt: new Map(),        // monster id -> performance.now() of its last hit on your player (threat.js)

  // Measurements.
  rttMs: null,               // median of the last few round trips (the first after a connect is not counted)
  rtts: [],
  pongs: 0,                  // pongs received in all
  skipPong: false,           // the next pong is the first of a connection: cold, not counted
  clockOffsetMs: null,       // the server's clock minus ours (from the pong with the shortest round trip)
  pongSamples: [],           // recent [rttMs, offsetMs]
  tickDelayMs: null,
  tickDelays: [],
  tickStamps: [],            // `ts` of recent tick frames
  measuredTickRate: null,
};

// --- tiny pub/sub so effects and HUD can react to game events without owning state ---
const listeners = new Map();
export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, []);
  listeners.get(name).push(fn);
}
function emit(name, payload) {
  for (const fn of listeners.get(name) || []) fn(payload);
}

export function setConnection(status, retryAt = 0) {
  // A new connection's first round trip pays for warming it up (and over HTTP may wait
  // behind the session's first requests): it says nothing about the game's ping.
  if (status === 'open' && state.connection !== 'open') state.skipPong = true;
  const down = (c) => c === 'reconnecting' || c === 'closed';
  if (down(status) && !down(state.connection)) state.downSince = performance.now();
  state.connection = status;
  state.retryAt = retryAt;
  emit('connection', status);
}

export function setTransport(kind) {
  state.transport = kind;
  emit('transport', kind);
}

export function setWire(wire) {
  state.wire = wire;
}

export function me() {
  return state.myId == null ? null : state.entities.get(state.myId) || null;
}

// A display label for an entity id: a player's name, or "a wolf" for a monster. Monster
// ids are the server's bookkeeping: "slime#157" means nothing to a player. `unknown`: what
// to say of one this page never held (one that entered the view and died in one frame).
export function labelOf(id, unknown = 'someone') {
  const e = state.entities.get(id);
  if (!e) return unknown;
  if (e.kind === 'player') return e.name || 'a player';
  return `${/^[aeiou]/i.test(e.kind || '') ? 'an' : 'a'} ${e.kind || 'monster'}`;
}

function insideWorld(p) {
  return !!p && p.x >= 0 && p.y >= 0 && p.x <= state.world.width && p.y <= state.world.height;
}

export function applyHello(msg) {
  state.protocol = msg.protocol;
  state.tickRate = msg.tick_rate || 20;
  state.viewRadius = msg.view_radius || 800;
  const w = msg.world || {};
  // The same world again (a reconnect): same name and map size.
  const sameWorld = state.worldName != null && state.worldName === (typeof w.name === 'string' ? w.name : null) &&
    state.world.width === (w.width || 3200) && state.world.height === (w.height || 3200);
  const z = w.safe_zone;  // the camp where players join and respawn: no monster comes in
  state.world = {
    width: w.width || 3200, height: w.height || 3200, obstacles: w.obstacles || [],
    safeZone: z && typeof z.x === 'number' && typeof z.y === 'number' && z.radius > 0 ? { x: z.x, y: z.y, radius: z.radius } : null,
  };
  state.kinds = new Map((msg.monster_kinds || []).map((k) => [k.name, k]));
  state.worldName = typeof w.name === 'string' && w.name ? w.name : null;
  // A new connection (maybe to a restarted server), or a move to another world: forget
  // everything we saw before.
  state.entities.clear();
  state.timelines.clear();
  state.hitMeAt.clear();
  state.lastTick = null;
  state.lastTickAt = null;
  state.tickStamps = [];
  state.measuredTickRate = null;
  state.tickDelays = [];
  state.myId = null;
  state.joined = false;
  // A spectator back on the same world (a reconnect) keeps looking where it was; another
  // world starts at its centre.
  if (state.mode !== 'play' && !(sameWorld && insideWorld(state.spectator))) {
    state.spectator = { x: state.world.width / 2, y: state.world.height / 2 };
  }
  emit('hello', msg);
}

export function applyWelcome(msg) {
  state.myId = msg.id;
  state.joined = true;
  state.resumed = !!msg.resumed;
  state.mode = 'play';
  if (msg.tick_rate) state.tickRate = msg.tick_rate;
  if (msg.view_radius) state.viewRadius = msg.view_radius;
  if (msg.world && typeof msg.world.name === 'string' && msg.world.name) state.worldName = msg.world.name;
  emit('welcome', msg);
}

export function applyLeft() {
  state.joined = false;
  state.myId = null;
}

export function applyPong(msg) {
  const now = performance.timeOrigin + performance.now();
  if (typeof msg.t !== 'number') return;
  const rtt = Math.max(0, now - msg.t);
  state.pongs++;
  if (state.skipPong) {
    state.skipPong = false;
    return;
  }
  pushBounded(state.rtts, rtt, 5);
  state.rttMs = median(state.rtts);
  if (typeof msg.server_ts === 'number') {
    pushBounded(state.pongSamples, [rtt, msg.server_ts - (msg.t + rtt / 2)], 10);
    state.clockOffsetMs = state.pongSamples.reduce((best, s) => (s[0] < best[0] ? s : best))[1];
  }
}

function pushBounded(arr, v, max = MAX_SAMPLES) {
  arr.push(v);
  if (arr.length > max) arr.shift();
}

function median(arr) {
  if (!arr.length) return null;
  const s = [...arr].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function applyTick(msg) {
  const arrival = performance.now();
  state.lastTickAt = arrival;
  if (state.lastTick != null && msg.tick > state.lastTick + 1) state.lostFrames += msg.tick - state.lastTick - 1;
  state.lastTick = msg.tick;
  state.players = msg.players ?? state.players;

  // Delay against the server's wall clock (assumes the clocks agree, as on one machine).
  if (typeof msg.ts === 'number') {
    pushBounded(state.tickDelays, Date.now() - msg.ts);
    state.tickDelayMs = median(state.tickDelays);
  }
  // Frames per second of the server's clock: a busy page (or a background tab) handles
  // frames in bursts, so local arrival times would over- and under-count.
  if (typeof msg.ts === 'number') pushBounded(state.tickStamps, msg.ts, RATE_FRAMES);
  const a = state.tickStamps;
  if (a.length >= 10 && a[a.length - 1] > a[0]) state.measuredTickRate = ((a.length - 1) * 1000) / (a[a.length - 1] - a[0]);

  const tl = state.timelines;
  tl.noteTick(msg.tick, arrival, 1000 / state.tickRate);

  // A resync (after the server skipped frames to a slow client) lists everything in view
  // in full: whatever it does not list is gone.
  if (msg.full) {
    const listed = new Set((msg.entities || []).map((e) => e.id));
    for (const [id, e] of [...state.entities]) {
      if (!listed.has(id)) {
        state.entities.delete(id);
        state.hitMeAt.delete(id);
        tl.retire(id, msg.tick, e);
      }
    }
  }
  // What the first frame of a connection or a resync shows is there already; anything that
  // enters later is drawn from its first sample's tick, not at once where it will be.
  const entering = tl.prevTick == null || msg.full ? -Infinity : msg.tick;

  const movedNow = new Set();  // ids whose position this frame gives (as of its tick)
  for (const upd of msg.entities || []) {
    let e = state.entities.get(upd.id);
    const isNew = !e;
    if (isNew) {
      e = { id: upd.id, enteredTick: entering };
      state.entities.set(upd.id, e);
    }
    const wasDead = e.state === 'dead';
    Object.assign(e, upd);
    if (upd.x !== undefined || upd.y !== undefined || isNew) {
      // A revived player reappears at its spawn: jump there instead of sliding.
      const jump = isNew || (wasDead && e.state !== 'dead');
      tl.push(e.id, msg.tick, e.x, e.y, jump);
      movedNow.add(e.id);
    }
    if (isNew) emit('enter', e);
  }

  // Events before removals, so that a monster killed this tick still has a name.
  for (const ev of msg.events || []) {
    if (ev.type === 'attack') {
      state.attackEvents++;
      if (state.entities.get(ev.target)?.kind === 'player') state.monsterAttacks++;
      if (ev.target === state.myId && state.myId != null) state.hitMeAt.set(ev.attacker, performance.now());
    }
    if (ev.type === 'respawn') {
      // A frame may carry several ticks' events (a server sending every k-th tick): where the
      // frame also gives the entity's position, that is newer than the respawn point.
      const e = state.entities.get(ev.target);
      if (e && !movedNow.has(e.id)) tl.push(e.id, msg.tick, ev.x, ev.y, true);
    }
    emit('event', ev);
  }

  // Gone as of this tick: drawn until the drawing clock gets there (interp.js).
  for (const id of msg.removed || []) {
    const e = state.entities.get(id);
    state.entities.delete(id);
    state.hitMeAt.delete(id);
    tl.retire(id, msg.tick, e);
  }
  emit('tick', msg);
}

// A frozen, read-only window onto the store for tests and the curious.
// extra.fx: the effects, whose last drawn damage numbers are shown; extra.predictor: the
// predictor of your own position.
export function exposeForTests(extra = {}) {
  const copy = (e) => (e ? Object.freeze({ ...e }) : null);
  const api = {
    get connection() { return state.connection; },
    /** performance.now() when the connection last went down (0: never). */
    get downSince() { return state.downSince; },
    get transport() { return state.transport; },
    /** How ticks are encoded on the current connection: 'v2' (binary) or 'json'. */
    get wire() { return state.wire; },
    get mode() { return state.mode; },
    get me() { return copy(me()); },
    get myId() { return state.myId; },
    /** Where a spectator looks (the point it watches). */
    get spectator() { return copy(state.spectator); },
    get predicted() { return state.predicted ? Object.freeze({ ...state.predicted }) : null; },
    get entities() { return state.entities.size; },
    get lastTick() { return state.lastTick; },
    get lostFrames() { return state.lostFrames; },
    get players() { return state.players; },
    get rttMs() { return state.rttMs; },
    /** The round trips the shown ping is the median of, and all pongs (the first of each connection is not counted). */
    get rtts() { return Object.freeze([...state.rtts]); },
    get pongs() { return state.pongs; },
    get tickDelayMs() { return state.tickDelayMs; },
    get tickRate() { return state.tickRate; },
    get measuredTickRate() { return state.measuredTickRate; },
    get events() { return state.attackEvents; },
    get monsterAttacks() { return state.monsterAttacks; },
    get joined() { return state.joined; },
    get serverQuiet() { return state.serverQuiet; },
    get resumed() { return state.resumed; },
    get reconnects() { return state.reconnects; },
    /** Where the connection went: a WebSocket's URL (maybe another process's), or the polled origin. */
    get serverUrl() { return state.serverUrl; },
    get worldWhere() { return state.worldWhere; },
    get world() { return Object.freeze({ width: state.world.width, height: state.world.height, obstacles: state.world.obstacles.length }); },
    /** Every entity in view, as frozen copies. */
    snapshot() { return Object.freeze([...state.entities.values()].map(copy)); },
    /** Local times of an entity's interpolation samples (whole ticks apart, however they came). */
    sampleTimes(id) { return Object.freeze(state.timelines.times(id)); },
    get tickMs() { return state.timelines.tickMs; },
    /** The last frame: its render time, each entity where and how opaque it was drawn, the respawn mark. */
    frame() {
      const f = state.lastFrame;
      if (!f) return null;
      return Object.freeze({
        now: f.now,
        renderAt: f.renderAt,
        newest: state.lastTick == null ? null : state.timelines.timeOf(state.lastTick),  // renderAt past it: no news to draw
        respawn: f.respawn ? Object.freeze({ ...f.respawn }) : null,
        items: Object.freeze(f.items.map((it) => Object.freeze({
          id: it.e.id, kind: it.e.kind, x: it.p.x, y: it.p.y, isMe: it.isMe, shielded: !!it.shielded, afterMe: !!it.afterMe,
          alpha: it.e.kind === 'player' ? playerAlpha(it.e) : 1,
          tag: f.tags && f.tags.get(it) ? Object.freeze({ ...f.tags.get(it) }) : null,  // a player's name tag, world units
        }))),
      });
    },
    /** How far off the predicted own position was at each server position: { count, sum, max } (units). */
    /** How much longer your spawn protection's ring shows (ms; 0: none). */
    get shieldMs() { return extra.shieldMs ? extra.shieldMs() : 0; },
    get predictionErrors() { return extra.predictor ? Object.freeze({ ...extra.predictor.errors }) : null; },
    /** Damage numbers of the last frame, in screen px around their target's centre. */
    damageNumbers() { return Object.freeze((extra.fx ? extra.fx.drawnNumbers : []).map((n) => Object.freeze({ ...n }))); },
  };
  Object.defineProperty(window, 'skirmish', { value: Object.freeze(api), writable: false, configurable: false });
}
