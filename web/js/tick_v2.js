// Protocol v2's binary `tick` (subprotocol `skirmish.v2`, docs/protocol.md): decoded into the
// very message v1 would have sent as JSON, so that nothing past the transport knows which
// format came over the wire.
//
// v2 codes values against what both ends already hold (the previous frame, the sorted list of
// held entities and their last positions), so a decoder is per connection and cannot skip a
// frame. Any frame that does not follow the rules throws: the client is out of step with the
// server and must reconnect (a new connection starts from an ABSOLUTE frame).

const STATES = ['idle', 'wander', 'chase', 'attack', 'return', 'dead'];
const EVENTS = ['attack', 'death', 'respawn'];
const TWO_PI = 2 * Math.PI;

const HEAD_KIND = 0x0f, HEAD_FULL = 0x10, HEAD_ABSOLUTE = 0x20, HEAD_PLAYERS = 0x40, HEAD_ACK = 0x80;
const KIND_TICK = 1;
const UPD_SKIP = 0x07, UPD_FACING = 0x20, UPD_HP = 0x40, UPD_MORE = 0x80;
const MORE_STATE = 0x01, MORE_SCORE = 0x02, MORE_AWAY = 0x04, MORE_AWAY_VALUE = 0x08, MORE_RESERVED = 0xf0;
const STATE_RESPAWN = 0x80;
const FLAG_AWAY = 0x01;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Radians of a facing byte, in (-pi, pi] like v1's atan2 (byte 128 is +pi). */
export function facingOf(byte) {
  const a = (byte * TWO_PI) / 256;
  return a > Math.PI ? a - TWO_PI : a;
}

// A cursor over one message; every read checks the end, so a truncated frame throws.
class Reader {
  constructor(buf) {
    this.b = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
    this.i = 0;
  }

  get left() {
    return this.b.length - this.i;
  }

  u8() {
    if (this.i >= this.b.length) throw new Error('tick v2: truncated frame');
    return this.b[this.i++];
  }

  i8() {
    const v = this.u8();
    return v >= 128 ? v - 256 : v;
  }

  // LEB128. Multiplies instead of shifting: JS shifts are 32-bit, and ts needs ~41 bits.
  // Values past 2^53 cannot be held exactly in a Number: refused rather than rounded.
  varint() {
    let v = 0;
    let mul = 1;
    for (let n = 0; n < 10; n++) {
      const c = this.u8();
      v += (c & 0x7f) * mul;
      if (c < 0x80) {
        if (v > Number.MAX_SAFE_INTEGER) throw new Error('tick v2: varint too large');
        return v;
      }
      mul *= 128;
    }
    throw new Error('tick v2: varint longer than 10 bytes');
  }

  // Zigzag without shifts (same 32-bit reason): even -> n/2, odd -> -(n+1)/2.
  svarint() {
    const u = this.varint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  utf8(n) {
    if (n > this.left) throw new Error('tick v2: truncated frame');
    const bytes = this.b.subarray(this.i, this.i + n);
    this.i += n;
    try {
      return utf8.decode(bytes);
    } catch {
      throw new Error('tick v2: a name that is not UTF-8');
    }
  }
}

export class TickV2Decoder {
  /** @param {string[]} kinds hello's monster_kinds names, in order (kind code n is kinds[n - 1]) */
  constructor(kinds = []) {
    this.kinds = kinds;
    this.held = [];             // [{id, x10, y10, px10, py10}] sorted by id: what we hold, and where as of the frame before
    this.decodedAny = false;    // a frame was decoded: the relative fields have a base
    this.tick = 0;
    this.ts = 0;
    this.players = 0;
    this.broken = false;
  }

  /**
   * One binary message -> the v1 tick object. Throws on a malformed frame; the decoder is
   * then unusable (out of step with the server): reconnect and make a new one.
   * @param {ArrayBuffer|Uint8Array} buf
   */
  decode(buf) {
    if (this.broken) throw new Error('tick v2: decoder is out of step (an earlier frame failed)');
    try {
      return this.decodeFrame(new Reader(buf));
    } catch (err) {
      this.broken = true;
      throw err;
    }
  }

  // Nothing is committed to `this` until the whole frame has been read, so a frame that
  // fails leaves the last good state (for whoever looks at it while reconnecting).
  decodeFrame(r) {
    const head = r.u8();
    if ((head & HEAD_KIND) !== KIND_TICK) throw new Error(`tick v2: message kind ${head & HEAD_KIND}`);
    const full = !!(head & HEAD_FULL);
    let tick, ts, players;
    if (head & HEAD_ABSOLUTE) {
      tick = r.varint();
      ts = r.varint();
    } else {
      if (!this.decodedAny) throw new Error('tick v2: relative frame without a previous one');
      tick = this.tick + r.varint();
      ts = this.ts + r.svarint();
    }
    // An ABSOLUTE frame is a starting point: it always says how many players are online.
    if (head & HEAD_PLAYERS) players = r.varint();
    else if (this.decodedAny && !(head & HEAD_ABSOLUTE)) players = this.players;
    else throw new Error('tick v2: ABSOLUTE frame without a players count');
    // ACK: our last input the server applied (its seq), and how many ticks back it was.
    let ack = null;
    if (head & HEAD_ACK) {
      const seq = r.varint();
      const ago = r.varint();
      if (seq > 0xffffffff) throw new Error('tick v2: ack seq out of range');
      if (ago > tick) throw new Error('tick v2: ack before tick 0');
      ack = { seq, tick: tick - ago };
    }

    // FULL: whatever we held is gone before the frame is read (its indexes start from none).
    const held = full ? [] : this.held;
    const msg = { type: 'tick', tick, ts, players };
    if (full) msg.full = true;
    if (ack) msg.ack = ack;

    // Updates: named by index in the held list (as it was before this frame).
    const updates = [];
    const moved = new Map();  // held index -> [x10, y10] after this frame
    let cursor = 0;
    for (let n = r.varint(); n > 0; n--) {
      const h = r.u8();
      let skip = h & UPD_SKIP;
      if (skip === 7) skip += r.varint();
      const index = cursor + skip;
      if (index >= held.length) throw new Error(`tick v2: update skips past the held list (${index} of ${held.length})`);
      cursor = index + 1;
      const e = held[index];
      const m = h & UPD_MORE ? r.u8() : 0;
      if (m & MORE_RESERVED) throw new Error('tick v2: reserved bits set in an update');
      const rec = { id: e.id };
      const form = (h >> 3) & 3;
      if (form !== 0) {
        // Forms 1 and 2 correct a prediction: straight on at the speed seen between our last
        // two frames (an entity that just entered stands still).
        const predX = 2 * e.x10 - e.px10, predY = 2 * e.y10 - e.py10;
        let x10, y10;
        if (form === 1) {
          const b = r.u8();
          x10 = predX + (((b & 0x0f) ^ 8) - 8);
          y10 = predY + (((b >> 4) ^ 8) - 8);
        } else if (form === 2) {
          x10 = predX + r.svarint();
          y10 = predY + r.svarint();
        } else {
          x10 = r.svarint();
          y10 = r.svarint();
        }
        moved.set(index, [x10, y10]);
        rec.x = x10 / 10;
        rec.y = y10 / 10;
      }
      // Read in wire order (facing before hp), but keys set in v1's order.
      const facing = h & UPD_FACING ? facingOf(r.u8()) : undefined;
      if (h & UPD_HP) rec.hp = r.varint();
      if (m & MORE_STATE) this.readState(r, tick, rec);
      if (facing !== undefined) rec.facing = facing;
      if (m & MORE_SCORE) rec.score = r.varint();
      if (m & MORE_AWAY) rec.away = !!(m & MORE_AWAY_VALUE);
      if (Object.keys(rec).length === 1) throw new Error('tick v2: an update with no field');
      updates.push(rec);
    }

    // Removals: their own cursor over the same (old) list.
    const gone = new Set();  // held indexes
    cursor = 0;
    for (let n = r.varint(); n > 0; n--) {
      const index = cursor + r.varint();
      if (index >= held.length) throw new Error(`tick v2: removal skips past the held list (${index} of ${held.length})`);
      cursor = index + 1;
      gone.add(index);
    }

    // Entering records: full v1 records, ids ascending as deltas.
    const entering = [];
    let lastId = 0;
    for (let n = r.varint(), first = true; n > 0; n--, first = false) {
      const delta = r.varint();
      if (!first && delta === 0) throw new Error('tick v2: entering ids do not ascend');
      const id = lastId + delta;
      lastId = id;
      const code = r.varint();
      const player = code === 0;
      if (!player && code > this.kinds.length) throw new Error(`tick v2: unknown kind ${code}`);
      const x10 = r.svarint();
      const y10 = r.svarint();
      const facing = facingOf(r.u8());
      const hp = r.varint();
      const maxHp = r.varint();
      const rec = { id, kind: player ? 'player' : this.kinds[code - 1] };
      const tail = { x: x10 / 10, y: y10 / 10, hp };
      this.readState(r, tick, tail);
      tail.facing = facing;
      tail.score = r.varint();
      if (player) {
        const flags = r.u8();
        if (flags & ~FLAG_AWAY) throw new Error('tick v2: reserved bits set in an entering record');
        tail.away = !!(flags & FLAG_AWAY);
        const name = r.utf8(r.varint());
        if (name) rec.name = name;  // v1 leaves an empty name out
      }
      rec.max_hp = maxHp;
      Object.assign(rec, tail);
      entering.push({ rec, x10, y10 });
    }

    const events = [];
    for (let n = r.varint(); n > 0; n--) {
      const code = r.u8();
      if (code >= EVENTS.length) throw new Error(`tick v2: unknown event ${code}`);
      const attacker = r.varint();
      const target = r.varint();
      const damage = r.varint();
      const x = r.svarint() / 10;
      const y = r.svarint() / 10;
      events.push({ type: EVENTS[code], attacker, target, damage, x, y });
    }
    if (r.left !== 0) throw new Error(`tick v2: ${r.left} bytes left over`);

    // The new held list: the old one minus removals (moved entries at their new positions),
    // merged with the entering ids (an entering id already held replaces that entry).
    const enteringIds = new Set(entering.map((e) => e.rec.id));
    const kept = [];
    const removed = [];
    held.forEach((e, i) => {
      if (gone.has(i)) {
        // Removed and entering again in one frame: a v1 client must end up holding it, so
        // it is not reported as removed (v1 applies `removed` after `entities`).
        if (!enteringIds.has(e.id)) removed.push(e.id);
      } else if (!enteringIds.has(e.id)) {
        // Where it was as of this frame's predecessor is what the next frame predicts from.
        const p = moved.get(i);
        kept.push(p ? { id: e.id, x10: p[0], y10: p[1], px10: e.x10, py10: e.y10 }
                    : { id: e.id, x10: e.x10, y10: e.y10, px10: e.x10, py10: e.y10 });
      }
    });
    const next = [];
    let k = 0;
    for (const { rec, x10, y10 } of entering) {
      while (k < kept.length && kept[k].id < rec.id) next.push(kept[k++]);
      next.push({ id: rec.id, x10, y10, px10: x10, py10: y10 });
    }
    while (k < kept.length) next.push(kept[k++]);

    // v1 lists entities in id order: updates (held order) and entering (ascending) merged.
    const entities = [];
    let u = 0;
    for (const { rec } of entering) {
      while (u < updates.length && updates[u].id < rec.id) entities.push(updates[u++]);
      entities.push(rec);
    }
    while (u < updates.length) entities.push(updates[u++]);

    msg.entities = entities;
    msg.removed = removed;
    msg.events = events;
    this.held = next;
    this.tick = tick;
    this.ts = ts;
    this.players = players;
    this.decodedAny = true;
    return msg;
  }

  // A state byte, and for a dead player where and when it comes back (as v1's fields).
  readState(r, tick, rec) {
    const s = r.u8();
    const code = s & ~STATE_RESPAWN;
    if (code >= STATES.length) throw new Error(`tick v2: unknown state ${code}`);
    rec.state = STATES[code];
    if (s & STATE_RESPAWN) {
      rec.respawn_tick = tick + r.svarint();
      rec.respawn_x = r.svarint() / 10;
      rec.respawn_y = r.svarint() / 10;
    }
  }
}
