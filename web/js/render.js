// The canvas: ground, rocks, entities and effects, seen through a camera that follows
// you (or the spectator point). Reads the store; never changes it.

import { placeNameTags } from './name_tags.js';
import {
  drawMonster, drawMonsterOverlay, drawPlayer, drawPlayerOverlay, nameTagBaseline, nameTagFont, nameTagHeight, nameTagLine,
  outlinedText, playerLabel, PLAYER_R,
} from './sprites.js';

const TILE = 100;  // world units per ground tile

export class Renderer {
  constructor(canvas) {
    this.canvas = canvas;
    this.g = canvas.getContext('2d');
    this.w = 0;
    this.h = 0;
    this.dpr = 1;
    this.cam = { x: 0, y: 0, scale: 1 };
    this.resize();
    addEventListener('resize', () => this.resize());
  }

  resize() {
    this.dpr = Math.min(window.devicePixelRatio || 1, 2);
    this.w = window.innerWidth;
    this.h = window.innerHeight;
    this.canvas.width = Math.round(this.w * this.dpr);
    this.canvas.height = Math.round(this.h * this.dpr);
    // Show roughly 850 world units across the short side of the screen.
    this.cam.scale = Math.max(0.5, Math.min(1.3, Math.min(this.w, this.h) / 850));
  }

  /**
   * scene: {world, focus:{x,y}, viewRadius, items:[{e, p, isMe}], fx, fxNow, flashNow, now, posOf,
   *         respawn: {x, y} where you will come back while you are dead (else null)}
   */
  draw(scene) {
    const { g, w, h, cam } = this;
    cam.x = scene.focus.x;
    cam.y = scene.focus.y;
    const px = (n) => n / cam.scale;

    g.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    g.fillStyle = '#0f1512';
    g.fillRect(0, 0, w, h);

    // World transform: 1 unit = cam.scale CSS px, camera at the screen centre.
    g.setTransform(this.dpr * cam.scale, 0, 0, this.dpr * cam.scale, this.dpr * (w / 2 - cam.x * cam.scale), this.dpr * (h / 2 - cam.y * cam.scale));
    const view = {
      x0: cam.x - w / 2 / cam.scale,
      y0: cam.y - h / 2 / cam.scale,
      x1: cam.x + w / 2 / cam.scale,
      y1: cam.y + h / 2 / cam.scale,
    };
    this.ground(scene.world, view, px);
    if (scene.world.safeZone) camp(g, scene.world.safeZone, px);
    for (const o of scene.world.obstacles) if (overlaps(o, view)) rock(g, o);
    if (scene.respawn) respawnMark(g, scene.respawn, scene.now, px, view);

    // Dead players under the living; then top to bottom so nearer things overlap.
    const items = [...scene.items].sort((a, b) => (a.e.state === 'dead') - (b.e.state === 'dead') || a.p.y - b.p.y);
    const opts = items.map((it) => ({ now: scene.now, flash: scene.fx.flashAmount(it.e.id, scene.flashNow), px, isMe: it.isMe, afterMe: it.afterMe, shielded: it.shielded }));
    items.forEach((it, i) => (it.e.kind === 'player' ? drawPlayer : drawMonster)(g, it.e, it.p, opts[i]));
    scene.fx.draw(g, scene.fxNow, scene.posOf, px);
    // Labels, bars and "!" last; yours on top of all. Name tags placed first, clear of each other.
    this.tags = this.placeTags(items, scene.focus, px);
    items.forEach((it, i) => { opts[i].tag = this.tags.get(it); });
    items.forEach((it, i) => !it.isMe && (it.e.kind === 'player' ? drawPlayerOverlay : drawMonsterOverlay)(g, it.e, it.p, opts[i]));
    items.forEach((it, i) => it.isMe && drawPlayerOverlay(g, it.e, it.p, opts[i]));

    this.fog(scene.focus, scene.viewRadius, view);
    g.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
  }

  /** Each player item's tag place ({lift, hidden, left, right, top, bottom}, world units). */
  placeTags(items, focus, px) {
    const { g } = this;
    const players = items.filter((it) => it.e.kind === 'player');
    g.save();
    const boxes = players.map((it) => {
      g.font = nameTagFont(it.isMe, px);
      return {
        x: it.p.x, bottom: nameTagBaseline(it.p, px), height: nameTagHeight(px),
        width: g.measureText(playerLabel(it.e, it.isMe)).width + px(3),  // and the outline
        isMe: it.isMe, dead: it.e.state === 'dead', distance: Math.hypot(it.p.x - focus.x, it.p.y - focus.y),
        prev: this.lastLifts ? this.lastLifts.get(it.e.id) : undefined,
      };
    });
    g.restore();
    // Your body and hp bar stay clear of the others' tags.
    const blocked = players.filter((it) => it.isMe).map((it) => ({
      left: it.p.x - PLAYER_R - px(4), right: it.p.x + PLAYER_R + px(4), top: it.p.y - PLAYER_R - px(16), bottom: it.p.y + PLAYER_R,
    }));
    const places = placeNameTags(boxes, nameTagLine(px), blocked);
    this.lastLifts = new Map(players.map((it, i) => [it.e.id, places[i].hidden ? -1 : places[i].lift]));
    return new Map(players.map((it, i) => [it, places[i]]));
  }

  ground(world, view, px) {
    const g = this.g;
    const { width: W, height: H } = world;
    // Soft edge outside the world, then the field itself.
    g.fillStyle = '#2c4330';
    g.fillRect(0, 0, W, H);
    const c0 = Math.max(0, Math.floor(view.x0 / TILE));
    const c1 = Math.min(Math.ceil(W / TILE), Math.ceil(view.x1 / TILE));
    const r0 = Math.max(0, Math.floor(view.y0 / TILE));
    const r1 = Math.min(Math.ceil(H / TILE), Math.ceil(view.y1 / TILE));
    // Tiles of slightly different shades (a stable hash of the cell) read as grass.
    for (let r = r0; r < r1; r++) {
      for (let c = c0; c < c1; c++) {
        const n = hash(c, r);
        const shade = 40 + ((n & 7) - 3);
        g.fillStyle = `hsl(${128 + ((n >> 3) & 7)}, 22%, ${(shade * 0.62).toFixed(1)}%)`;
        g.fillRect(c * TILE, r * TILE, Math.min(TILE, W - c * TILE), Math.min(TILE, H - r * TILE));
        // A few tufts per tile.
        g.fillStyle = 'rgba(190,230,160,0.10)';
        for (let k = 0; k < 3; k++) {
          const hx = ((n >> (6 + k * 5)) & 31) / 31;
          const hy = ((n >> (9 + k * 5)) & 31) / 31;
          const tx = c * TILE + 8 + hx * (TILE - 16);
          const ty = r * TILE + 8 + hy * (TILE - 16);
          if (tx < W && ty < H) g.fillRect(tx, ty, 3, 3);
        }
      }
    }
    // The grid.
    g.strokeStyle = 'rgba(255,255,255,0.05)';
    g.lineWidth = px(1);
    g.beginPath();
    for (let c = c0; c <= c1; c++) {
      g.moveTo(c * TILE, Math.max(0, view.y0));
      g.lineTo(c * TILE, Math.min(H, view.y1));
    }
    for (let r = r0; r <= r1; r++) {
      g.moveTo(Math.max(0, view.x0), r * TILE);
      g.lineTo(Math.min(W, view.x1), r * TILE);
    }
    g.stroke();
    // The world's edge: nobody walks past it.
    g.strokeStyle = 'rgba(245,185,66,0.55)';
    g.lineWidth = px(3);
    g.setLineDash([px(14), px(10)]);
    g.strokeRect(0, 0, W, H);
    g.setLineDash([]);
  }

  // Everything beyond the view radius is not sent by the server: dim it.
  fog(focus, radius, view) {
    const g = this.g;
    g.save();
    g.beginPath();
    g.rect(view.x0 - 10, view.y0 - 10, view.x1 - view.x0 + 20, view.y1 - view.y0 + 20);
    g.arc(focus.x, focus.y, radius, 0, Math.PI * 2, true);
    g.fillStyle = 'rgba(8,10,14,0.45)';
    g.fill('evenodd');
    g.restore();
  }
}

// The camp where players join and respawn: monsters never come in. A lighter, warm disc
// with a dotted edge, so that "safe" reads at a glance.
function camp(g, z, px) {
  g.save();
  g.fillStyle = 'rgba(245,215,140,0.07)';
  g.beginPath();
  g.arc(z.x, z.y, z.radius, 0, Math.PI * 2);
  g.fill();
  g.strokeStyle = 'rgba(245,215,140,0.35)';
  g.lineWidth = px(2);
  g.setLineDash([px(3), px(9)]);
  g.stroke();
  g.restore();
}

// Where a dead player will come back: a pulsing dashed ring on the ground, and words.
function respawnMark(g, r, now, px, view) {
  const pulse = (Math.sin(now / 220) + 1) / 2;
  g.save();
  g.strokeStyle = `rgba(189,244,255,${0.55 + pulse * 0.4})`;
  g.lineWidth = px(3);
  g.setLineDash([px(8), px(6)]);
  g.lineDashOffset = -now / 40;
  g.beginPath();
  g.arc(r.x, r.y, 22 + pulse * 8, 0, Math.PI * 2);
  g.stroke();
  g.setLineDash([]);
  g.fillStyle = 'rgba(189,244,255,0.18)';
  g.beginPath();
  g.arc(r.x, r.y, 14, 0, Math.PI * 2);
  g.fill();
  // The words stay whole on screen when the ring is near its edge (a ring off screen is on
  // the minimap): shifted in, never past the ring's own side.
  const font = `700 ${px(13)}px system-ui, sans-serif`;
  g.font = font;
  const half = g.measureText('you will respawn here').width / 2 + px(6);
  const x = Math.max(Math.min(r.x, view.x1 - half), view.x0 + half);
  const tx = Math.abs(x - r.x) < half ? x : r.x;
  outlinedText(g, 'you will respawn here', tx, r.y + 34, {
    font, baseline: 'top', width: px(3), stroke: 'rgba(10,14,20,0.85)', fill: '#bdf4ff',
  });
  g.restore();
}

function rock(g, o) {
  const r = Math.min(18, o.w / 4, o.h / 4);
  g.save();
  g.fillStyle = 'rgba(0,0,0,0.3)';
  roundRect(g, o.x + 6, o.y + 8, o.w, o.h, r);
  g.fill();
  const grad = g.createLinearGradient(o.x, o.y, o.x, o.y + o.h);
  grad.addColorStop(0, '#8b8f96');
  grad.addColorStop(1, '#5a5e66');
  g.fillStyle = grad;
  roundRect(g, o.x, o.y, o.w, o.h, r);
  g.fill();
  g.strokeStyle = '#3b3f46';
  g.lineWidth = 3;
  g.stroke();
  // A lighter top face and a couple of cracks so it reads as stone, not a UI box.
  g.fillStyle = 'rgba(255,255,255,0.10)';
  roundRect(g, o.x + 6, o.y + 6, o.w - 12, Math.min(o.h * 0.35, 40), r * 0.6);
  g.fill();
  g.strokeStyle = 'rgba(40,42,48,0.55)';
  g.lineWidth = 2;
  const n = hash(Math.round(o.x), Math.round(o.y));
  g.beginPath();
  g.moveTo(o.x + o.w * (0.2 + (n & 7) / 40), o.y + o.h * 0.45);
  g.lineTo(o.x + o.w * 0.42, o.y + o.h * 0.62);
  g.lineTo(o.x + o.w * (0.5 + ((n >> 3) & 7) / 40), o.y + o.h * 0.85);
  g.moveTo(o.x + o.w * 0.75, o.y + o.h * 0.3);
  g.lineTo(o.x + o.w * 0.68, o.y + o.h * 0.5);
  g.stroke();
  g.restore();
}

function roundRect(g, x, y, w, h, r) {
  g.beginPath();
  g.moveTo(x + r, y);
  g.arcTo(x + w, y, x + w, y + h, r);
  g.arcTo(x + w, y + h, x, y + h, r);
  g.arcTo(x, y + h, x, y, r);
  g.arcTo(x, y, x + w, y, r);
  g.closePath();
}

function overlaps(o, v) {
  return o.x < v.x1 && o.x + o.w > v.x0 && o.y < v.y1 && o.y + o.h > v.y0;
}

function hash(a, b) {
  let h = (a * 374761393 + b * 668265263) | 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return (h ^ (h >>> 16)) >>> 0;
}
