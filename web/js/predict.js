// Client-side prediction of your own player. The server's position of you is one round
// trip old, so drawing it would make the keys feel sluggish. Instead we move a local copy
// the way the server does (player speed, world bounds, obstacles) and nudge it toward the
// server's answer, comparing against where we predicted we were at the moment the server's
// position stands for. Frames say which of our inputs the server applied last and at which
// tick (`ack`), which pins that moment down: when our motion with that input began, plus the
// ticks it has moved us since. Without one (an older server), about one round trip ago.

const DEFAULT_SPEED = 200;  // units/s: game.player_speed's default, for a server whose hello does not say
const SNAP_DISTANCE = 160;  // a bigger disagreement (respawn, resume, lag spike) snaps
const CORRECT_TAU = 0.12;   // s: time constant of the smooth correction
const CATCH_UP_MAX_S = 0.5; // s: the most a start from an older server position is moved on
const CATCH_UP_STEP_MS = 50; // ... in steps no longer than a tick, x then y, as the server moves
const SENT_KEPT = 16;        // moves remembered with their starts (noteMove)

export class Predictor {
  constructor() {
    this.speed = DEFAULT_SPEED;
    this.x = null;
    this.y = null;
    this.history = [];      // [{t, x, y}]: our predicted position over the last ~2 s
    this.pending = { x: 0, y: 0 };
    this.velocity = { x: 0, y: 0 };  // units/s, as of the last step
    this.startsAt = null;   // local time our start position stands for, when it is older than now
    this.sent = [];         // [{t, move}]: the moves we sent, each from when our motion with it began
    // How far off our prediction was at each server position (world units), for the
    // curious and for the tests: { count, sum, max }.
    this.errors = { count: 0, sum: 0, max: 0 };
  }

  // The server's player speed (its hello's player.speed), when it says one.
  setSpeed(unitsPerSecond) {
    if (Number.isFinite(unitsPerSecond) && unitsPerSecond > 0) this.speed = unitsPerSecond;
  }

  get ready() {
    return this.x != null;
  }

  // Start again from (x, y); `at`, when given, is the local time that position stands for
  // (a server position is a tick, a round trip and a transport's lag old): the first step
  // moves it on from then to its own moment.
  reset(x, y, at = null) {
    this.x = x;
    this.y = y;
    this.history = [];
    this.pending = { x: 0, y: 0 };
    this.velocity = { x: 0, y: 0 };
    this.startsAt = Number.isFinite(at) ? at : null;
  }

  // We sent a new move, and our motion with it begins at local time t (as the server's
  // begins at its next step). A start from an older server position is moved on with the
  // moves of the time between.
  noteMove(t, move) {
    const len = Math.hypot(move[0], move[1]);  // as the server does: no faster on a diagonal
    this.sent.push({ t, move: len > 1 ? [move[0] / len, move[1] / len] : [move[0], move[1]] });
    if (this.sent.length > SENT_KEPT) this.sent.shift();
  }

  // A new player (a welcome): the server's movement starts afresh.
  forgetMoves() {
    this.sent = [];
  }

  moveAt(t) {
    for (let i = this.sent.length - 1; i >= 0; i--) if (this.sent[i].t <= t) return this.sent[i].move;
    return [0, 0];
  }

  // Advance by dt seconds with the given move vector (already length <= 1).
  step(now, dt, move, world) {
    if (!this.ready) return;
    let from = now - dt * 1000;
    if (this.startsAt != null) {
      // A start from a server position that stands for an earlier moment (a key held through
      // a join: the first position of us came over a slow link 300 ms after it was made, and
      // every later one looked 60 units ahead of us) moves on from that moment with what we
      // sent meanwhile, and goes into the history along the way, so that server positions
      // standing for moments before this frame are compared with where we were then.
      const start = Math.max(this.startsAt, now - CATCH_UP_MAX_S * 1000);
      if (start >= now) return;  // it stands for a later moment: it moves on from there, later
      this.startsAt = null;
      this.history.push({ t: start, x: this.x, y: this.y });
      for (let t = start; t < from;) {
        const next = Math.min(from, t + CATCH_UP_STEP_MS, this.nextMoveAfter(t));
        this.advance(this.moveAt(t), (next - t) / 1000, world);
        t = next;
        this.history.push({ t, x: this.x, y: this.y });
      }
      from = Math.max(from, start);
    }
    this.advance(move, (now - from) / 1000, world);
    this.velocity = { x: move[0] * this.speed, y: move[1] * this.speed };

    // Apply part of the outstanding correction; shift the history by the same amount so
    // the next comparison only sees what is left of the error.
    const k = 1 - Math.exp(-dt / CORRECT_TAU);
    const cx = this.pending.x * k;
    const cy = this.pending.y * k;
    this.pending.x -= cx;
    this.pending.y -= cy;
    this.x = clamp(this.x + cx, 0, world.width);
    this.y = clamp(this.y + cy, 0, world.height);
    for (const h of this.history) {
      h.x += cx;
      h.y += cy;
    }

    this.history.push({ t: now, x: this.x, y: this.y });
    while (this.history.length && this.history[0].t < now - 2000) this.history.shift();
  }

  // Moves by `move` for `seconds`, as the server does: x first, then y, each stopped by walls.
  advance(move, seconds, world) {
    const dx = move[0] * this.speed * seconds;
    const dy = move[1] * this.speed * seconds;
    if (dx) this.x = moveAxis(this.x, this.y, dx, world, 'x');
    if (dy) this.y = moveAxis(this.y, this.x, dy, world, 'y');
  }

  nextMoveAfter(t) {
    for (const s of this.sent) if (s.t > t) return s.t;
    return Infinity;
  }

  // A server position of us arrived at local time `now`. It reflects the inputs we sent
  // about one round trip (plus half a tick of waiting for the tick) ago.
  reconcile(now, sx, sy, rttMs, tickMs) {
    this.reconcileAt(sx, sy, now - (rttMs ?? 0) - tickMs / 2);
  }

  // A server position of us that stands for where we were at local time `then`.
  reconcileAt(sx, sy, then) {
    // Nothing predicted since the last reset: a newer server position is simply a better
    // start. (Short polling hands over a second of ticks at once: compared with the first
    // of them, the last looked like an error to correct, and we raced to catch up.)
    if (!this.ready || !this.history.length) {
      this.reset(sx, sy, then);
      return;
    }
    const past = this.at(then) || { x: this.x, y: this.y };
    const ex = sx - past.x;
    const ey = sy - past.y;
    const error = Math.hypot(ex, ey);
    if (error > SNAP_DISTANCE) {
      this.reset(sx, sy, then);
      return;
    }
    this.errors.count++;
    this.errors.sum += error;
    this.errors.max = Math.max(this.errors.max, error);
    this.pending = { x: ex, y: ey };
  }

  // Standing still long enough for the server to have seen our last input: the server
  // position is final, and since unchanged positions are not re-sent, aim at it directly.
  settle(sx, sy) {
    if (!this.ready) return;
    const ex = sx - this.x;
    const ey = sy - this.y;
    if (Math.hypot(ex, ey) > SNAP_DISTANCE) this.reset(sx, sy);
    else this.pending = { x: ex, y: ey };
  }

  // Where we were at time t: between two recorded frames, on the line between them. A server
  // step moves us a whole tick at once, so on a quick link its position can stand for a
  // moment just ahead of our last frame: there, where our present motion takes us (walls
  // aside; it is never more than a tick or two).
  at(t) {
    const h = this.history;
    if (!h.length) return null;
    const last = h[h.length - 1];
    if (t > last.t) {
      const ahead = Math.min(t - last.t, 150) / 1000;
      return { t, x: last.x + this.velocity.x * ahead, y: last.y + this.velocity.y * ahead };
    }
    if (t <= h[0].t) return h[0];
    for (let i = h.length - 1; i >= 0; i--) {
      if (h[i].t > t) continue;
      const b = h[i + 1];
      if (!b || b.t === h[i].t) return h[i];
      const k = (t - h[i].t) / (b.t - h[i].t);
      return { t, x: h[i].x + (b.x - h[i].x) * k, y: h[i].y + (b.y - h[i].y) * k };
    }
    return h[h.length - 1];
  }
}

function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

// One axis of the server's ObstacleMap::move_x / move_y: clamp to the world, then stop
// at the first obstacle edge crossed while inside that obstacle's lane.
function moveAxis(pos, other, d, world, axis) {
  const size = axis === 'x' ? world.width : world.height;
  let next = clamp(pos + d, 0, size);
  for (const o of world.obstacles) {
    const [lo, len, olo, olen] = axis === 'x' ? [o.x, o.w, o.y, o.h] : [o.y, o.h, o.x, o.w];
    if (!(other > olo && other < olo + olen)) continue;
    if (next > pos && pos <= lo && next > lo) next = lo;
    else if (next < pos && pos >= lo + len && next < lo + len) next = lo + len;
  }
  return next;
}
