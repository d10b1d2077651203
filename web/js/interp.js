// Entity interpolation. Positions arrive once per tick (20 Hz by default) but we draw at
// the display's rate, so every entity keeps a short timeline of server positions and is
// drawn where it was about INTERP_MS ago, between two known samples.
//
// Samples are stamped with their tick number, not a local time: a tick's local time is
// `offset + tick * tickMs` (see noteTick), worked out when drawing. So samples are always
// exactly one tick apart, however they arrived (short polling hands over ~20 at once).

const INTERP_MS = 100;
const DELAY_SLEW = 0.1;     // ms of drawing delay added per ms of real time, at most (taken away: SLEW)
const DELAY_SNAP_MS = 600;  // a bigger change of the delay is taken at once
const KEEP_MS = 1500;  // history kept per entity
// The drawing clock follows changes of the offset at most 5 % faster or slower than real
// time, so that a batch arriving earlier than any before (the offset drops by up to a tick)
// slows motion a little for a while instead of making everything hop forward at once.
const SLEW = 0.05;
const SNAP_MS = 250;   // a bigger change (first frames, a stall, a restart) is taken at once

export class Timelines {
  constructor() {
    this.byId = new Map();  // id -> [{tick, x, y, jump}] in tick order
    this.offset = null;     // local ms of tick 0 (see noteTick)
    this.tickMs = 50;
    this.lastTick = null;
    this.prevTick = null;
    this.gaps = [];
    this.frameGap = 1;      // ticks between frames (the largest of the last 20)
    this.shownDelay = null; // the drawing delay in use: follows delayMs() slowly
    // Extra drawing delay for transports that deliver ticks in batches (short polling
    // fetches a second's worth at once): drawn that much later, motion stays smooth.
    this.extraDelayMs = 0;
    this.batch = null;      // {base, est}: the batch of ticks being handled in this task
    this.shownOffset = null;  // the offset the drawing clock uses: follows `offset` at SLEW
    this.shownAt = null;      // performance.now() of the last renderTime()
    // Entities that left (out of view, dead, gone) at a tick the drawing clock has not reached:
    // id -> [{tl, fromTick, untilTick, entity}], one per leaving. They are drawn until then, so that nothing vanishes
    // before the moves and hits that led up to it are shown.
    this.leaving = new Map();
    this.lates = [];        // how late recent ticks arrived against the offset (ms)
    this.lateMs = 0;        // the second largest of them: the jitter the delay must cover
  }

  clear() {
    this.byId.clear();
    this.offset = null;
    this.shownOffset = null;
    this.lastTick = null;
    this.prevTick = null;
    this.gaps = [];
    this.frameGap = 1;
    this.shownDelay = null;
    this.batch = null;
    this.leaving.clear();
    this.lates = [];
    this.lateMs = 0;
  }

  // Maps tick numbers to local time. Frames arrive with network jitter, so rather than
  // stamping samples with their arrival time we fit `time = offset + tick * tickMs` and
  // keep the offset at the earliest (least delayed) arrival, drifting slowly upward so
  // a server that runs a little slow does not leave us behind forever.
  //
  // Ticks handed over together in one task (a short poll's batch) are one arrival: the
  // offset moves once per batch, from where it was before the batch, by the batch's least
  // delayed tick (its newest). Nudging it per tick would count the batch's older ticks as
  // late arrivals and pull the clock up and down within every batch.
  noteTick(tick, arrival, tickMs) {
    this.tickMs = tickMs;
    // The tick of the frame before this one: a server that sheds send rate (or catches up
    // after a stall) sends frames 2, 3 or 4 ticks apart, each with all that changed since.
    this.prevTick = this.lastTick;
    this.lastTick = tick;
    // Ticks between frames, the largest of the last few: the drawing delay must cover it.
    if (this.prevTick != null && tick > this.prevTick) {
      this.gaps.push(Math.min(tick - this.prevTick, 8));
      if (this.gaps.length > 20) this.gaps.shift();
      this.frameGap = Math.max(...this.gaps);
    }
    const est = arrival - tick * tickMs;
    if (!this.batch) {
      this.batch = { base: this.offset, est };
      queueMicrotask(() => { this.batch = null; });  // after every message of this task
    } else {
      this.batch.est = Math.min(this.batch.est, est);
    }
    const { base, est: best } = this.batch;
    if (base == null || Math.abs(best - base) > 1000 + this.extraDelayMs) this.offset = best;  // first frame, or a stall / restart
    else if (best < base) this.offset = best;
    else this.offset = base + (best - base) * 0.02;
    // Jitter: a tick that came later than the offset says (long polling hands over two ticks
    // at once now and then, the older a tick late) needs that much more delay, or the drawing
    // clock runs past the newest tick and motion stops, then jumps. Batched transports have
    // their own margin (extraDelayMs) for this.
    this.lates.push(Math.min(500, Math.max(0, arrival - this.timeOf(tick))));
    if (this.lates.length > 40) this.lates.shift();
    this.lateMs = this.lates.length < 2 ? 0 : [...this.lates].sort((a, b) => b - a)[1];
  }

  // The tick (fractional) drawn at local time `at`.
  tickAt(at) {
    return this.offset == null ? -Infinity : (at - this.offset) / this.tickMs;
  }

  timeOf(tick) {
    return this.offset + tick * this.tickMs;
  }

  // How far behind "now" we draw: about 100 ms, but always at least ~1.5 frame intervals so
  // that a slow tick rate, or a server sending every k-th tick, still has two samples to blend.
  delayMs() {
    const jitter = this.extraDelayMs ? 0 : this.lateMs;
    return Math.max(INTERP_MS, this.tickMs * (this.frameGap + 0.5) + 15 + jitter) + this.extraDelayMs;
  }

  push(id, tick, x, y, jump = false) {
    if (x === undefined || y === undefined) return;
    let tl = this.byId.get(id);
    if (!tl) {
      tl = [];
      this.byId.set(id, tl);
      // (Back while its leaving is still to be drawn: the two are drawn in turn, the one that
      // left until its tick, this one from the tick it entered.)
    }
    const last = tl[tl.length - 1];
    // Unchanged entities are not sent, so the previous sample may be many ticks old: it held
    // until the previous frame (the client knew no change then). Pin the old position at that
    // frame's tick, so the entity moves over the ticks between the two frames (one tick
    // apart, or k when the server sends every k-th tick) and not across the whole gap.
    const pinAt = this.prevTick != null && this.prevTick < tick ? this.prevTick : tick - 1;
    if (last && !jump && pinAt > last.tick) {
      tl.push({ tick: pinAt, x: last.x, y: last.y, jump: false });
    }
    if (last && last.tick >= tick) tl.length = tl.findIndex((s) => s.tick >= tick);  // same tick again: replace
    tl.push({ tick, x, y, jump });
    const keepTicks = (KEEP_MS + this.extraDelayMs) / this.tickMs;
    while (tl.length > 2 && tl[1].tick < tick - keepTicks) tl.shift();
  }

  // `entity` left as of `tick`: kept, with its timeline, until the drawing clock gets there
  // (drawn from the tick it entered, if the clock is not there yet either). An id may leave
  // again before the first leaving is drawn: each leaving is kept.
  retire(id, tick, entity) {
    const tl = this.byId.get(id);
    this.byId.delete(id);
    if (!tl || !tl.length || !entity) return;
    const fromTick = entity.enteredTick ?? -Infinity;
    const list = this.leaving.get(id);
    if (list) list.push({ tl, fromTick, untilTick: tick, entity });
    else this.leaving.set(id, [{ tl, fromTick, untilTick: tick, entity }]);
    // A tab in the background draws nothing (so leavingAt forgets nothing) while ticks still
    // come: what is far behind every drawing delay is forgotten here.
    if (this.leaving.size > 256) this.forgetLeavingsBy(tick - (KEEP_MS + this.extraDelayMs) / this.tickMs);
  }

  // Forgets the leavings at or before `tick`.
  forgetLeavingsBy(tick) {
    for (const [id, list] of this.leaving) {
      if (list.every((g) => g.untilTick > tick)) continue;
      const kept = list.filter((g) => g.untilTick > tick);
      if (kept.length) this.leaving.set(id, kept);
      else this.leaving.delete(id);
    }
  }

  // The entities that left but are still to be drawn at local time `at`, with where
  // ([{e, p}]); forgets those whose leaving the clock has reached.
  leavingAt(at) {
    const out = [];
    const tick = this.tickAt(at);
    this.forgetLeavingsBy(tick);
    for (const list of this.leaving.values()) {
      for (const g of list) if (tick >= g.fromTick) out.push({ e: g.entity, p: this.sampleOf(g.tl, tick) });
    }
    return out;
  }

  // The position of `id` at local time `at` (performance.now() based), or null.
  sample(id, at) {
    const tl = this.byId.get(id);
    if (!tl || !tl.length || this.offset == null) return null;
    return this.sampleOf(tl, this.tickAt(at));
  }

  sampleOf(tl, tick) {
    if (tick <= tl[0].tick) return tl[0];
    for (let i = tl.length - 1; i > 0; i--) {
      const a = tl[i - 1];
      const b = tl[i];
      if (tick >= a.tick && tick <= b.tick) {
        if (b.jump) return a;  // a teleport (respawn): no sliding across the map
        const k = (tick - a.tick) / (b.tick - a.tick || 1);
        return { x: a.x + (b.x - a.x) * k, y: a.y + (b.y - a.y) * k };
      }
    }
    return tl[tl.length - 1];  // past the newest sample: hold it
  }

  /** Local times of `id`'s samples, oldest first (for tests: they are whole ticks apart). */
  times(id) {
    return (this.byId.get(id) || []).map((s) => this.timeOf(s.tick));
  }

  // The local time to draw at, on the clock of timeOf() and sample(). Called once a frame.
  renderTime(now) {
    const dt = this.shownAt == null ? 0 : Math.max(0, now - this.shownAt);
    this.shownAt = now;
    // The delay follows the frame interval (a server shedding send rate spaces frames 2-4
    // ticks apart), but it changes slowly: a sudden change would move the drawing clock by
    // the difference at once, a hop of everything on screen.
    // (A change of transport, e.g. short polling's batches, is taken at once.)
    const target = this.delayMs();
    const change = target - (this.shownDelay ?? target);
    if (this.shownDelay == null || Math.abs(change) > DELAY_SNAP_MS) this.shownDelay = target;
    else this.shownDelay += Math.max(-SLEW * dt, Math.min(DELAY_SLEW * dt, change));
    const base = now - this.shownDelay;
    if (this.offset == null) return base;
    const diff = this.offset - (this.shownOffset ?? this.offset);
    if (this.shownOffset == null || Math.abs(diff) > SNAP_MS) this.shownOffset = this.offset;
    else this.shownOffset += Math.max(-SLEW * dt, Math.min(SLEW * dt, diff));
    // Drawing at tick (base - shownOffset) / tickMs is sampling at this time on offset's clock.
    return base + this.offset - this.shownOffset;
  }
}
