// Short-lived visual effects for game events: strike lines, floating damage numbers,
// death puffs, respawn rings and hit flashes. They live on the same clock as the
// interpolated entities (a tick's local time), so a hit shows when the attacker is
// drawn in range, not 100 ms earlier.

import { kindStyle, outlinedText, PLAYER_R } from './sprites.js';

const MAX_FX = 300;  // a huge fight must not grow this forever

export class Effects {
  constructor() {
    this.list = [];
    this.flashes = new Map();  // entity id -> time it was last hit
    this.drawnNumbers = [];    // last frame's damage numbers, in screen px around their target (tests)
  }

  clear() {
    this.list = [];
    this.flashes.clear();
  }

  /** ev: a tick event; t0: its local time; ctx: {myId, entities} for colours. */
  add(ev, t0, ctx) {
    const target = ctx.entities.get(ev.target);
    if (ev.type === 'attack') {
      this.flashes.set(ev.target, t0);
      const color = ev.target === ctx.myId ? '#ff6b78' : ev.attacker === ctx.myId ? '#ffd166' : '#ffffff';
      this.push({ type: 'strike', t0, dur: 220, from: ev.attacker, to: ev.target, x: ev.x, y: ev.y, mine: ev.attacker === ctx.myId });
      // Beside the body, not on the name and hp bar above it: a random side and a little
      // jitter so that quick hits do not stack into one blot; they rise a short way and fade.
      const r = target ? (target.kind === 'player' ? PLAYER_R : kindStyle(target.kind).r) : PLAYER_R;
      const side = Math.random() < 0.5 ? -1 : 1;
      this.push({
        type: 'number', t0, dur: 900, target: ev.target, x: ev.x, y: ev.y, text: `-${ev.damage}`, color,
        r, side, gap: 8 + Math.random() * 10, y0: -2 + Math.random() * 8, rise: 16, drift: 4 + Math.random() * 6,
      });
    } else if (ev.type === 'death') {
      const color = target ? (target.kind === 'player' ? '#9aa3ad' : kindStyle(target.kind).color) : '#cccccc';
      const parts = Array.from({ length: 12 }, (_, i) => ({ a: (i / 12) * Math.PI * 2 + Math.random() * 0.4, v: 30 + Math.random() * 40 }));
      this.push({ type: 'puff', t0, dur: 650, x: ev.x, y: ev.y, color, parts });
      if (ev.attacker === ctx.myId && ev.target !== ctx.myId) {
        // On you, beside your body (where your eyes are, and clear of your name above it),
        // not over the kill: beside you, a monster's "+1" covered your name.
        this.push({
          type: 'number', t0: t0 + 150, dur: 1100, target: ctx.myId, x: ev.x, y: ev.y, text: '+1', color: '#ffd166',
          r: PLAYER_R, side: 1, gap: 10, y0: 4, rise: 22, drift: 0, big: true,
        });
      }
    } else if (ev.type === 'respawn') {
      this.push({ type: 'ring', t0, dur: 600, x: ev.x, y: ev.y });
    }
  }

  push(fx) {
    this.list.push(fx);
    if (this.list.length > MAX_FX) this.list.shift();
  }

  flashAmount(id, now) {
    const t = this.flashes.get(id);
    if (t == null) return 0;
    const k = (now - t) / 160;
    if (k < 0) return 0;
    if (k >= 1) {
      this.flashes.delete(id);
      return 0;
    }
    return 1 - k;
  }

  /**
   * Draw in world coordinates. `now` is the render clock; `posOf(id)` gives an
   * entity's drawn position (or null); `px` converts screen pixels to world units.
   */
  draw(g, now, posOf, px) {
    this.list = this.list.filter((f) => now < f.t0 + f.dur);
    this.drawnNumbers = [];
    for (const f of this.list) {
      const k = (now - f.t0) / f.dur;
      if (k < 0) continue;  // not due yet
      g.save();
      if (f.type === 'strike') drawStrike(g, f, k, posOf, px);
      else if (f.type === 'number') this.drawnNumbers.push(drawNumber(g, f, k, posOf, px));
      else if (f.type === 'puff') drawPuff(g, f, k);
      else if (f.type === 'ring') drawRing(g, f, k, px);
      g.restore();
    }
  }
}

function drawStrike(g, f, k, posOf, px) {
  const a = posOf(f.from);
  const b = posOf(f.to) || { x: f.x, y: f.y };
  g.globalAlpha = 1 - k;
  if (a) {
    g.strokeStyle = f.mine ? '#ffd166' : '#ff8a8a';
    g.lineWidth = px(3.5) * (1 - k * 0.6);
    g.lineCap = 'round';
    g.beginPath();
    g.moveTo(a.x, a.y);
    g.lineTo(b.x, b.y);
    g.stroke();
  }
  // A burst on the target.
  g.fillStyle = '#fff3c4';
  g.beginPath();
  g.arc(b.x, b.y, px(6) + k * px(14), 0, Math.PI * 2);
  g.globalAlpha = (1 - k) * 0.55;
  g.fill();
}

// A number follows its target (where it is drawn) on one side of its body: screen px
// gap + drift beyond the body's radius, from y0 up by `rise`, fading over the second half.
// Returns where it went, in screen px around the target's centre.
function drawNumber(g, f, k, posOf, px) {
  const at = (f.target != null && posOf(f.target)) || { x: f.x, y: f.y };
  const alpha = k < 0.45 ? 1 : Math.max(0, 1 - (k - 0.45) / 0.55);
  g.globalAlpha = alpha;
  const off = f.side * (f.r + px(f.gap + f.drift * k));
  const x = at.x + off;
  const y = at.y + px(f.y0 - f.rise * easeOut(k));
  outlinedText(g, f.text, x, y, {
    font: `800 ${px(f.big ? 20 : 15)}px system-ui, sans-serif`, align: f.side > 0 ? 'left' : f.side < 0 ? 'right' : 'center',
    baseline: 'middle', width: px(3.5), stroke: 'rgba(0,0,0,0.75)', fill: f.color,
  });
  const w = g.measureText(f.text).width / px(1);
  const h = (f.big ? 20 : 15) / 2;
  const cx = off / px(1);
  const left = f.side > 0 ? cx : f.side < 0 ? cx - w : cx - w / 2;
  const cy = (y - at.y) / px(1);
  return { target: f.target, left, right: left + w, top: cy - h, bottom: cy + h, alpha, k, scale: 1 / px(1) };
}

function drawPuff(g, f, k) {
  g.fillStyle = f.color;
  for (const p of f.parts) {
    const d = p.v * easeOut(k);
    g.globalAlpha = (1 - k) * 0.85;
    g.beginPath();
    g.arc(f.x + Math.cos(p.a) * d, f.y + Math.sin(p.a) * d, 6 * (1 - k) + 2, 0, Math.PI * 2);
    g.fill();
  }
}

function drawRing(g, f, k, px) {
  g.globalAlpha = 1 - k;
  g.strokeStyle = '#bdf4ff';
  g.lineWidth = px(3);
  g.beginPath();
  g.arc(f.x, f.y, 10 + 40 * easeOut(k), 0, Math.PI * 2);
  g.stroke();
}

function easeOut(k) {
  return 1 - (1 - k) * (1 - k);
}
