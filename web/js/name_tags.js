// Where each player's name tag goes, so that tags do not cover each other when players
// crowd together (the camp, a fight over one monster). Pure: boxes in, places out.
//
// Yours is placed first and never moves. Then the others: those that kept the base line
// last frame, then new ones, then those lifted last frame (lowest first), then those not
// written last frame, each group nearest you first, so that two tags do not swap places as
// you walk past them. A tag that would cover one already placed is lifted a line at a time,
// at most MAX_LIFT lines; one that still finds no room is not written this frame (its hp bar
// and body still are). Dead players come last: a corpse's name matters least. Nor does a tag
// cover a `blocked` box: your own body and hp bar (play-test: another's tag sat on you).

export const MAX_LIFT = 2;

/**
 * tags: [{x, bottom, width, height, isMe, dead, distance, prev}] in world units (x the tag's
 * centre, bottom its baseline before any lift; prev: last frame's lift, -1 when it was not
 * written, undefined when it was not drawn). line: how far one lift moves it.
 * blocked: [{left, right, top, bottom}] that no tag but yours may cover.
 * Returns, in the same order, {lift (lines), hidden, left, right, top, bottom} (the box
 * where it is drawn).
 */
export function placeNameTags(tags, line, blocked = []) {
  const order = tags.map((t, i) => i).sort((a, b) => rank(tags[a]) - rank(tags[b]) || tags[a].distance - tags[b].distance);
  const placed = [...blocked];
  const out = new Array(tags.length);
  for (const i of order) {
    const t = tags[i];
    let spot = null;
    for (let lift = 0; lift <= (t.isMe ? 0 : MAX_LIFT) && !spot; lift++) {
      const box = { left: t.x - t.width / 2, right: t.x + t.width / 2, bottom: t.bottom - lift * line };
      box.top = box.bottom - t.height;
      if (t.isMe || !placed.some((b) => overlap(b, box))) spot = { lift, hidden: false, ...box };
    }
    if (spot) placed.push(spot);
    else {
      const box = { left: t.x - t.width / 2, right: t.x + t.width / 2, bottom: t.bottom, top: t.bottom - t.height };
      spot = { lift: 0, hidden: true, ...box };
    }
    out[i] = spot;
  }
  return out;
}

function rank(t) {
  if (t.isMe) return 0;
  if (t.dead) return 10;
  if (t.prev === undefined) return 1.5;
  return t.prev < 0 ? 5 : 1 + t.prev;
}

function overlap(a, b) {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}
