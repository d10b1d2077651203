// The minimap: the whole world, its rocks, what the server lets you see, and where you are.

import { kindStyle, ME_COLOR, ALLY_COLOR, AWAY_ALPHA } from './sprites.js';

export class Minimap {
  constructor(canvas) {
    this.canvas = canvas;
    this.g = canvas.getContext('2d');
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    this.size = canvas.width;
    canvas.width = canvas.height = Math.round(this.size * dpr);
    this.g.scale(dpr, dpr);
  }

  /** items: [{e, p, isMe}]; focus: the view centre; viewRadius in world units;
   *  respawn: {x, y} where you will come back while dead (else null). */
  draw(world, items, focus, viewRadius, respawn = null, now = 0) {
    const { g, size } = this;
    const pad = 6;
    const k = (size - pad * 2) / Math.max(world.width, world.height);
    const X = (x) => pad + x * k;
    const Y = (y) => pad + y * k;
    g.clearRect(0, 0, size, size);
    g.fillStyle = 'rgba(44,67,48,0.9)';
    g.fillRect(X(0), Y(0), world.width * k, world.height * k);
    if (world.safeZone) {
      g.fillStyle = 'rgba(245,215,140,0.22)';
      g.beginPath();
      g.arc(X(world.safeZone.x), Y(world.safeZone.y), Math.max(2, world.safeZone.radius * k), 0, Math.PI * 2);
      g.fill();
    }
    g.fillStyle = '#7b8089';
    for (const o of world.obstacles) g.fillRect(X(o.x), Y(o.y), Math.max(1, o.w * k), Math.max(1, o.h * k));

    g.strokeStyle = 'rgba(255,255,255,0.35)';
    g.lineWidth = 1;
    g.beginPath();
    g.arc(X(focus.x), Y(focus.y), viewRadius * k, 0, Math.PI * 2);
    g.stroke();

    let mine = null;
    for (const it of items) {
      if (it.isMe) {
        mine = it;
        continue;
      }
      const e = it.e;
      if (e.state === 'dead') continue;
      g.fillStyle = e.kind === 'player' ? ALLY_COLOR : kindStyle(e.kind).color;
      g.globalAlpha = e.away ? AWAY_ALPHA : 1;
      const r = e.kind === 'player' ? 2.5 : e.kind === 'ogre' ? 2.5 : 1.6;
      g.beginPath();
      g.arc(X(it.p.x), Y(it.p.y), r, 0, Math.PI * 2);
      g.fill();
    }
    g.globalAlpha = 1;
    if (respawn) {
      // Your respawn point, pulsing, so it is found at a glance.
      const pulse = (Math.sin(now / 220) + 1) / 2;
      g.strokeStyle = '#bdf4ff';
      g.lineWidth = 1.5;
      g.beginPath();
      g.arc(X(respawn.x), Y(respawn.y), 4 + pulse * 3, 0, Math.PI * 2);
      g.stroke();
    }
    if (mine) {
      g.fillStyle = ME_COLOR;
      g.strokeStyle = '#10151c';
      g.lineWidth = 1.5;
      g.beginPath();
      g.arc(X(mine.p.x), Y(mine.p.y), 4, 0, Math.PI * 2);
      g.fill();
      g.stroke();
    }
    g.strokeStyle = 'rgba(245,185,66,0.6)';
    g.strokeRect(X(0), Y(0), world.width * k, world.height * k);
  }
}
