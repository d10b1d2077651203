// Entity interpolation. Positions arrive once per tick (20 Hz by default) but we draw at
// the display's rate, so every entity keeps a short timeline of server positions and is
// drawn where it was about INTERP_MS ago, between two known samples.

const INTERP_MS = 100;
const KEEP_MS = 1500;  // history kept per entity

export class Timelines {
  constructor() {
    this.byId = new Map();  // id -> [{t, x, y, jump}] in time order
    this.offset = null;     // local ms of tick 0 (see noteTick)
    this.tickMs = 50;
    this.lastTick = null;
    // Extra drawing delay for transports that deliver ticks in batches (short polling
    // fetches a second's worth at once): drawn that much later, motion stays smooth.
    this.extraDelayMs = 0;
  }

  clear() {
    this.byId.clear();
    this.offset = null;
    this.lastTick = null;
  }

  // Maps tick numbers to local time. Frames arrive with network jitter, so rather than
  // stamping samples with their arrival time we fit `time = offset + tick * tickMs` and
  // keep the offset at the earliest (least delayed) arrival, drifting slowly upward so
  // a server that runs a little slow does not leave us behind forever.
  noteTick(tick, arrival, tickMs) {
    this.tickMs = tickMs;
    this.lastTick = tick;
    const est = arrival - tick * tickMs;
    if (this.offset == null || Math.abs(est - this.offset) > 1000 + this.extraDelayMs) this.offset = est;  // first frame, or a stall / restart
    else if (est < this.offset) this.offset = est;
    else this.offset += (est - this.offset) * 0.02;
  }

  timeOf(tick) {
    return this.offset + tick * this.tickMs;
  }

  // How far behind "now" we draw: about 100 ms, but always at least ~1.5 ticks so that a
  // slow tick rate still has two samples to blend.
  delayMs() {
    return Math.max(INTERP_MS, this.tickMs * 1.5 + 15) + this.extraDelayMs;
  }

  push(id, tick, x, y, jump = false) {
    if (x === undefined || y === undefined) return;
    let tl = this.byId.get(id);
    if (!tl) {
      tl = [];
      this.byId.set(id, tl);
    }
    const t = this.timeOf(tick);
    const last = tl[tl.length - 1];
    // Unchanged entities are not sent, so the previous sample may be many ticks old.
    // Pin the old position at the tick before this one; otherwise we would slide across
    // the whole gap instead of moving during the one tick it actually took.
    if (last && !jump && t - last.t > this.tickMs * 1.5) {
      tl.push({ t: t - this.tickMs, x: last.x, y: last.y, jump: false });
    }
    if (last && last.t >= t) tl.length = tl.findIndex((s) => s.t >= t);  // same tick again: replace
    tl.push({ t, x, y, jump });
    while (tl.length > 2 && tl[1].t < t - KEEP_MS - this.extraDelayMs) tl.shift();
  }

  remove(id) {
    this.byId.delete(id);
  }

  // The position of `id` at local time `at` (performance.now() based), or null.
  sample(id, at) {
    const tl = this.byId.get(id);
    if (!tl || !tl.length) return null;
    if (at <= tl[0].t) return tl[0];
    for (let i = tl.length - 1; i > 0; i--) {
      const a = tl[i - 1];
      const b = tl[i];
      if (at >= a.t && at <= b.t) {
        if (b.jump) return a;  // a teleport (respawn): no sliding across the map
        const k = (at - a.t) / (b.t - a.t || 1);
        return { x: a.x + (b.x - a.x) * k, y: a.y + (b.y - a.y) * k };
      }
    }
    return tl[tl.length - 1];  // past the newest sample: hold it
  }

  renderTime(now) {
    return now - this.delayMs();
  }
}
