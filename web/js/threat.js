// Which monsters are after you. The server does not say whom a monster chases, but the page
// can tell well enough to warn a newcomer: a monster that hit you lately is after you, and so
// is one that chases (state chase or attack) heading straight at you, with no other player
// nearer it in that direction. The others' "!" means only "chasing someone". Pure: positions in,
// a yes or no out.

export const HIT_MEMORY_MS = 3000;    // a hit this recent marks its monster as after you
export const HEADING_TOLERANCE = 0.4; // rad either side of its facing that counts as "at you"

/**
 * m: the monster ({state, facing}), mp: where it is as of the same tick ({x, y}); mep: where you are ({x, y}),
 * null when you have no living player; others: positions of the other living players in view;
 * hitAtMs: when it last hit you (performance.now() ms, undefined if never); now: the same clock.
 */
export function afterYou(m, mp, mep, others, hitAtMs, now) {
  if (!mep || !(m.state === 'chase' || m.state === 'attack')) return false;
  if (hitAtMs !== undefined && now - hitAtMs <= HIT_MEMORY_MS) return true;
  const you = inCone(m, mp, mep);
  if (you === null) return false;
  return !others.some((q) => {
    const d = inCone(m, mp, q);
    return d !== null && d < you;
  });
}

// The distance from the monster to `q` when q lies within HEADING_TOLERANCE of its facing, else null.
function inCone(m, mp, q) {
  const dx = q.x - mp.x, dy = q.y - mp.y;
  const d = Math.hypot(dx, dy);
  if (d === 0) return 0;
  let off = Math.atan2(dy, dx) - (m.facing || 0);
  off = Math.atan2(Math.sin(off), Math.cos(off));  // to -pi..pi
  return Math.abs(off) <= HEADING_TOLERANCE ? d : null;
}
