// How each kind of entity looks. Everything is drawn with canvas paths in world units
// (no image files), so the page stays a handful of small text files.

const KINDS = {
  slime: { color: '#7bd389', dark: '#3f8f57', r: 13, shape: 'slime' },
  wolf: { color: '#a9b4c2', dark: '#5b6573', r: 15, shape: 'wolf' },
  ogre: { color: '#c07f5a', dark: '#7a4a30', r: 24, shape: 'ogre' },
};
const UNKNOWN = { color: '#d66be0', dark: '#7c3585', r: 15, shape: 'unknown' };

export const PLAYER_R = 15;
export const ME_COLOR = '#f5b942';
export const ALLY_COLOR = '#5cc8f5';

export function kindStyle(kind) {
  return KINDS[kind] || UNKNOWN;
}

/** o: {now (ms), flash (0..1), px (screen px -> world)} */
export function drawMonster(g, e, p, o) {
  const s = kindStyle(e.kind);
  const f = e.facing || 0;
  g.save();
  g.translate(p.x, p.y);
  shadow(g, s.r);
  if (s.shape === 'slime') {
    // A jelly blob that wobbles; it squashes more while chasing.
    const w = Math.sin(o.now / 180 + e.id) * (e.state === 'chase' ? 0.14 : 0.07);
    g.scale(1 + w, 1 - w);
    g.fillStyle = s.color;
    g.strokeStyle = s.dark;
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(-s.r, 4);
    g.bezierCurveTo(-s.r, -s.r * 1.2, s.r, -s.r * 1.2, s.r, 4);
    g.quadraticCurveTo(s.r, s.r * 0.75, 0, s.r * 0.75);
    g.quadraticCurveTo(-s.r, s.r * 0.75, -s.r, 4);
    g.fill();
    g.stroke();
    g.fillStyle = 'rgba(255,255,255,0.45)';
    g.beginPath();
    g.ellipse(-4, -5, 3.5, 2.2, -0.5, 0, Math.PI * 2);
    g.fill();
    eyes(g, Math.cos(f) * 3, -1 + Math.sin(f) * 2, 4, 2.2);
  } else if (s.shape === 'wolf') {
    // A pointed body facing where it runs, with ears and a tail.
    g.rotate(f);
    g.fillStyle = s.color;
    g.strokeStyle = s.dark;
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(s.r + 6, 0);
    g.lineTo(s.r * 0.2, -s.r * 0.75);
    g.lineTo(-s.r, -s.r * 0.55);
    g.lineTo(-s.r - 9, 0);  // tail
    g.lineTo(-s.r, s.r * 0.55);
    g.lineTo(s.r * 0.2, s.r * 0.75);
    g.closePath();
    g.fill();
    g.stroke();
    // A darker stripe down the back makes it read as fur, not a paper dart.
    g.strokeStyle = s.dark;
    g.lineWidth = 3;
    g.beginPath();
    g.moveTo(s.r * 0.2, 0);
    g.lineTo(-s.r - 6, 0);
    g.stroke();
    g.fillStyle = s.dark;
    for (const side of [-1, 1]) {
      g.beginPath();
      g.moveTo(s.r * 0.35, side * 4);
      g.lineTo(s.r * 0.05, side * 12);
      g.lineTo(s.r * 0.65, side * 7);
      g.closePath();
      g.fill();
    }
    g.fillStyle = e.state === 'chase' || e.state === 'attack' ? '#ff5a5a' : '#fff2a8';
    for (const side of [-1, 1]) {
      g.beginPath();
      g.arc(s.r * 0.75, side * 3.5, 1.8, 0, Math.PI * 2);
      g.fill();
    }
  } else if (s.shape === 'ogre') {
    // A big round brute with tusks and a club on its facing side.
    g.fillStyle = s.color;
    g.strokeStyle = s.dark;
    g.lineWidth = 3;
    g.beginPath();
    g.arc(0, 0, s.r, 0, Math.PI * 2);
    g.fill();
    g.stroke();
    g.rotate(f);
    g.fillStyle = '#6b4a2f';
    g.strokeStyle = '#3b2817';
    g.lineWidth = 2;
    g.beginPath();
    g.ellipse(s.r * 0.55, s.r * 0.85, 5, 13, 0.5, 0, Math.PI * 2);
    g.fill();
    g.stroke();
    g.fillStyle = '#f3ead2';
    for (const side of [-1, 1]) {
      g.beginPath();
      g.moveTo(s.r * 0.7, side * 5);
      g.lineTo(s.r * 1.05, side * 8);
      g.lineTo(s.r * 0.7, side * 9);
      g.closePath();
      g.fill();
    }
    g.rotate(-f);
    eyes(g, Math.cos(f) * 7, Math.sin(f) * 7 - 4, 6, 3);
  } else {
    // An unknown kind (a newer server): a clearly "other" diamond with a question mark.
    g.rotate(Math.PI / 4);
    g.fillStyle = s.color;
    g.strokeStyle = s.dark;
    g.lineWidth = 2;
    g.fillRect(-s.r * 0.8, -s.r * 0.8, s.r * 1.6, s.r * 1.6);
    g.strokeRect(-s.r * 0.8, -s.r * 0.8, s.r * 1.6, s.r * 1.6);
    g.rotate(-Math.PI / 4);
    g.fillStyle = '#fff';
    g.font = '700 14px system-ui, sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText('?', 0, 1);
  }
  g.restore();
  if (o.flash > 0) flashDisc(g, p, s.r + 2, o.flash);
}

/** What floats above a monster (drawn after every body, so nothing covers it). */
export function drawMonsterOverlay(g, e, p, o) {
  const s = kindStyle(e.kind);
  // Red and large: after you (threat.js); amber and smaller: chasing someone else.
  if (e.state === 'chase' || e.state === 'attack') alertMark(g, p.x, p.y - s.r - o.px(e.hp < e.max_hp ? 13 : 6), o.px, o.afterMe);
  // Full health needs no bar: it only clutters a calm field.
  if (e.hp < e.max_hp) hpBar(g, p.x, p.y - s.r - o.px(10), Math.max(24, s.r * 1.8), e.hp, e.max_hp, o.px, '#e85d6a');
}

// How opaque a player is drawn: the dead and the away (disconnected: they cannot be hurt
// and do not move) are see-through, so nobody mistakes them for someone to fight or save.
export const AWAY_ALPHA = 0.4;
export function playerAlpha(e) {
  return e.state === 'dead' ? 0.35 : e.away ? AWAY_ALPHA : 1;
}

/** o: {now, flash, px, isMe} */
export function drawPlayer(g, e, p, o) {
  const dead = e.state === 'dead';
  const color = o.isMe ? ME_COLOR : ALLY_COLOR;
  g.save();
  g.globalAlpha = playerAlpha(e);
  if (o.isMe && !dead) {
    // A pulsing ring under you: the first thing the eye finds.
    const pulse = (Math.sin(o.now / 260) + 1) / 2;
    g.strokeStyle = `rgba(245,185,66,${0.35 + pulse * 0.35})`;
    g.lineWidth = o.px(3);
    g.beginPath();
    g.arc(p.x, p.y, PLAYER_R + 8 + pulse * 4, 0, Math.PI * 2);
    g.stroke();
  }
  if (o.shielded) {
    // Spawn protection: a pale dome around you while monsters leave you be (it ends when
    // you attack, or after the server's spawn_protection_ms).
    g.fillStyle = 'rgba(150,210,255,0.13)';
    g.strokeStyle = 'rgba(170,225,255,0.75)';
    g.lineWidth = o.px(2);
    g.setLineDash([o.px(5), o.px(4)]);
    g.beginPath();
    g.arc(p.x, p.y, PLAYER_R + 20, 0, Math.PI * 2);
    g.fill();
    g.stroke();
    g.setLineDash([]);
  }
  g.translate(p.x, p.y);
  shadow(g, PLAYER_R);
  const f = e.facing || 0;
  // A sword on the facing side, swung while attacking.
  g.save();
  g.rotate(f + (e.state === 'attack' ? Math.sin(o.now / 40) * 0.6 : 0.35));
  g.strokeStyle = '#e9eef3';
  g.lineWidth = 3.5;
  g.lineCap = 'round';
  g.beginPath();
  g.moveTo(PLAYER_R - 2, 6);
  g.lineTo(PLAYER_R + 16, 6);
  g.stroke();
  g.strokeStyle = '#6b4a2f';
  g.beginPath();
  g.moveTo(PLAYER_R - 4, 1);
  g.lineTo(PLAYER_R - 4, 11);
  g.stroke();
  g.restore();
  g.fillStyle = dead ? '#7d858e' : color;
  g.strokeStyle = 'rgba(0,0,0,0.55)';
  g.lineWidth = 2.5;
  g.beginPath();
  g.arc(0, 0, PLAYER_R, 0, Math.PI * 2);
  g.fill();
  g.stroke();
  eyes(g, Math.cos(f) * 5, Math.sin(f) * 5, 4.5, 2.4);
  g.restore();
  if (o.flash > 0) flashDisc(g, p, PLAYER_R + 2, o.flash);
}

/** A player's name tag: its name ("(you)" on yours), "away" while away. */
export function playerLabel(e, isMe) {
  let label = isMe ? `${e.name} (you)` : e.name || 'player';
  if (e.away && e.state !== 'dead') label += ' · away';
  return e.state === 'dead' ? `${label} ✝` : label;
}

/** The tag's font, for drawing and for measuring (name_tags.js places the tags). */
export function nameTagFont(isMe, px) {
  return `${isMe ? 700 : 600} ${px(13)}px system-ui, sans-serif`;
}

/** Where a tag's baseline sits above its body before any lift, and one lift's height. */
export const nameTagBaseline = (p, px) => p.y - PLAYER_R - px(22);
export const nameTagLine = (px) => px(15);
export const nameTagHeight = (px) => px(14);

/**
 * A player's name tag and hp bar, drawn above every body. o.tag (from placeNameTags): the tag
 * lifted so many lines over a neighbour's, centred over its own body still, or not written.
 */
export function drawPlayerOverlay(g, e, p, o) {
  const dead = e.state === 'dead';
  const tag = o.tag || { lift: 0, hidden: false };
  const y = nameTagBaseline(p, o.px) - tag.lift * nameTagLine(o.px);
  g.save();
  g.globalAlpha = e.away && !dead ? 0.7 : 1;
  if (e.away && !dead) {
    // "zzz" beside the head: asleep at the keyboard, nobody to fight.
    g.font = `italic 700 ${o.px(12)}px system-ui, sans-serif`;
    g.fillStyle = '#c9d6e3';
    g.textAlign = 'left';
    g.fillText('zzz', p.x + PLAYER_R + o.px(2), p.y - PLAYER_R + o.px(2));
  }
  if (!tag.hidden) {
    outlinedText(g, playerLabel(e, o.isMe), p.x, y, {
      font: nameTagFont(o.isMe, o.px), baseline: 'bottom', width: o.px(3),
      stroke: 'rgba(10,14,20,0.85)', fill: dead ? '#b9c0c8' : o.isMe ? ME_COLOR : '#dff4ff',
    });
  }
  if (!dead) hpBar(g, p.x, p.y - PLAYER_R - o.px(12), 34, e.hp, e.max_hp, o.px, o.isMe ? '#5fd47f' : '#4fb6e8');
  g.restore();
}

function shadow(g, r) {
  g.fillStyle = 'rgba(0,0,0,0.25)';
  g.beginPath();
  g.ellipse(2, r * 0.7, r * 0.95, r * 0.38, 0, 0, Math.PI * 2);
  g.fill();
}

function eyes(g, cx, cy, spread, r) {
  g.fillStyle = '#fff';
  for (const side of [-1, 1]) {
    g.beginPath();
    g.arc(cx + side * spread * 0.7, cy, r, 0, Math.PI * 2);
    g.fill();
  }
  g.fillStyle = '#1a1a1a';
  for (const side of [-1, 1]) {
    g.beginPath();
    g.arc(cx + side * spread * 0.7 + 0.6, cy + 0.4, r * 0.5, 0, Math.PI * 2);
    g.fill();
  }
}

function flashDisc(g, p, r, k) {
  g.save();
  g.globalAlpha = k * 0.7;
  g.fillStyle = '#ffffff';
  g.beginPath();
  g.arc(p.x, p.y, r, 0, Math.PI * 2);
  g.fill();
  g.restore();
}

function alertMark(g, x, y, px, afterMe) {
  g.save();
  outlinedText(g, '!', x, y, afterMe
    ? { font: `900 ${px(20)}px system-ui, sans-serif`, baseline: 'bottom', width: px(3.5), stroke: '#2a0b0b', fill: '#ff4d5a' }
    : { font: `900 ${px(14)}px system-ui, sans-serif`, baseline: 'bottom', width: px(3), stroke: '#2a1d0b', fill: '#e8b04a' });
  g.restore();
}

/**
 * Text with a dark outline, readable over any ground: names, marks, damage numbers. Sets the
 * font and styles on `g` (callers save and restore around it); `g.measureText` then measures
 * in the same font.
 */
export function outlinedText(g, text, x, y, { font, align = 'center', baseline, width, stroke, fill }) {
  g.font = font;
  g.textAlign = align;
  g.textBaseline = baseline;
  g.lineWidth = width;
  g.strokeStyle = stroke;
  g.fillStyle = fill;
  g.strokeText(text, x, y);
  g.fillText(text, x, y);
}

function hpBar(g, x, y, w, hp, max, px, color) {
  if (hp == null || !max) return;
  const h = px(5);
  const k = Math.max(0, Math.min(1, hp / max));
  g.fillStyle = 'rgba(0,0,0,0.6)';
  g.fillRect(x - w / 2 - px(1), y - px(1), w + px(2), h + px(2));
  g.fillStyle = k > 0.5 ? color : k > 0.25 ? '#f0b43c' : '#ef4f5e';
  g.fillRect(x - w / 2, y, w * k, h);
}
