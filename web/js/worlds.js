// The world list on the join card. A server may run several worlds (GET /worlds): the card
// shows each with its player count, and "Place me" (the server picks a lively world with
// room: the answer's `placement`), as radio buttons in a fieldset. It is refreshed every few
// seconds while the card is shown, and hidden while the server has only one world (or is an
// older one without /worlds).
//
// A fleet (several processes sharing a directory on Redis): /worlds also lists the worlds of
// the other processes (`local: false`, their own `url` and `process`). Their names may repeat
// ours (every process has a world-1), so an entry is keyed by its name here and by its URL
// elsewhere; the row says where it runs in small text. "Place me" asks POST /place (see
// requestPlacement), which may send us to another process.
//
//   const picker = new WorldPicker({ fieldset, list, choice, onChoose, onList })
//   picker.choice: an entry's key (worldKey: a local world's name), or null for "Place me"
//   picker.world(key) -> the /worlds entry, picker.has(key)
//   picker.polling(on), picker.refresh() -> Promise<doc|null>, picker.setChoice(key)
//   onChoose(key|null): the player picked another entry; onList(doc): a fresh /worlds answer

const POLL_MS = 3000;
const PLACE_TIMEOUT_MS = 5000;

/** A world of another process (an older server says nothing: all its worlds are its own). */
export function isElsewhere(w) {
  return !!w && w.local === false && typeof w.url === 'string' && w.url !== '';
}

/** The picker's key of a /worlds entry: a local world's name (as in `?world=`), another process's world's URL. */
export function worldKey(w) {
  return isElsewhere(w) ? w.url : w.name;
}

/** Where another process's world runs, in a few characters: its URL's host, else the process id. */
export function whereLabel(w) {
  try {
    return new URL(w.url).host || String(w.process || '');
  } catch {
    return String(w.process || '');
  }
}

/**
 * POST /place: the server (the fleet) picks a world with room and maybe reserves a seat.
 *   {kind: 'placed', at: {world, url, seat, process, local}}
 *   {kind: 'full', message}: 503 server_full, no world anywhere has room
 *   {kind: 'unsupported'}: an older server (404, 405), a network error or an answer we cannot
 *     read: do as before (join where we are; the server places us)
 */
export function requestPlacement(timeoutMs = PLACE_TIMEOUT_MS) {
  return bounded(timeoutMs, placement).catch(() => ({ kind: 'unsupported', status: 0 }));
}

// POST /place and what its answer says (requestPlacement).
async function placement(signal) {
  const res = await fetch('place', { method: 'POST', cache: 'no-store', signal });
  let doc = null;
  try {
    doc = await res.json();
  } catch {
    // not JSON: an older server's 404 or 405 page
  }
  // The error as the fleet's spec has it ({"error": {"code", "message"}}) or as the daemon's other errors
  // are ({"type": "error", "code", "message"}).
  const err = doc && (doc.error && typeof doc.error === 'object' ? doc.error : doc);
  if (res.status === 503 && err && err.code === 'server_full') {
    return { kind: 'full', message: typeof err.message === 'string' ? err.message : '' };
  }
  if (res.status !== 200 || !doc || typeof doc.world !== 'string' || !doc.world || !validWsUrl(doc.url)) {
    return { kind: 'unsupported', status: res.status };
  }
  return {
    kind: 'placed',
    at: {
      world: doc.world, url: doc.url, seat: doc.seat == null ? null : String(doc.seat),
      process: doc.process == null ? null : String(doc.process), local: doc.local !== false,
    },
  };
}

function validWsUrl(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'ws:' || u.protocol === 'wss:';
  } catch {
    return false;
  }
}

/** GET /worlds: {placement, worlds: [{name, players, capacity, ...}]}, or null from a server without it. */
export function fetchWorlds(timeoutMs = PLACE_TIMEOUT_MS) {
  // Bounded: a placement waits for this list, and a Play that waits for ever is stuck.
  return bounded(timeoutMs, async (signal) => {
    const res = await fetch('worlds', { cache: 'no-store', signal });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`GET /worlds answered ${res.status}`);
    const doc = await res.json();
    return doc && Array.isArray(doc.worlds) ? doc : null;
  });
}

// fn(signal), aborted after timeoutMs, the reading of the body included. (An AbortController
// rather than AbortSignal.timeout, which Safari has only since 16.)
async function bounded(timeoutMs, fn) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    return await fn(ctrl.signal);
  } finally {
    clearTimeout(timer);
  }
}

export function isFull(w) {
  return typeof w.capacity === 'number' && w.capacity > 0 && w.players >= w.capacity;
}

// "1 player", "3 players".
function players(n) {
  return `${n} player${n === 1 ? '' : 's'}`;
}

export class WorldPicker {
  constructor({ fieldset, list, choice = null, onChoose = () => {}, onList = () => {} }) {
    this.fieldset = fieldset;
    this.list = list;
    this.choice = choice;
    this.onList = onList;
    this.doc = null;          // the last /worlds answer
    this.supported = true;    // false once the server has shown it has no /worlds
    this.timer = null;
    this.inflight = null;
    this.rows = new Map();    // radio value ('' = "Place me") -> {label, input, parts}
    list.addEventListener('change', (e) => {
      const t = e.target;
      if (!t || t.name !== 'world' || !t.checked) return;
      const next = t.value || null;
      if (next === this.choice) return;
      this.choice = next;
      onChoose(next);
    });
  }

  /** How many worlds the server has (null: not known yet, or a server without /worlds). */
  get count() {
    return this.doc ? this.doc.worlds.length : null;
  }

  has(key) {
    return !!this.world(key);
  }

  /** The /worlds entry of a key (worldKey), or null. */
  world(key) {
    return (key && this.doc && this.doc.worlds.find((w) => worldKey(w) === key)) || null;
  }

  /** Refresh now and every POLL_MS while `on` (the join card is shown). */
  polling(on) {
    if (on && !this.timer && this.supported) {
      this.timer = setInterval(() => this.refresh(), POLL_MS);
      this.refresh();
    } else if (!on && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  refresh() {
    if (!this.supported) return Promise.resolve(null);
    if (!this.inflight) {
      this.inflight = fetchWorlds()
        .then((doc) => {
          if (!doc) {
            this.supported = false;
            this.polling(false);
          }
          this.doc = doc;
          this.render();
          this.onList(doc);
          return doc;
        })
        .catch(() => this.doc)  // the server is away: keep what was shown, try again next round
        .finally(() => { this.inflight = null; });
    }
    return this.inflight;
  }

  /** Select an entry without calling onChoose (the page decided, not the player). */
  setChoice(key) {
    this.choice = key || null;
    this.render();
  }

  render() {
    const worlds = this.doc ? this.doc.worlds : [];
    this.fieldset.hidden = worlds.length < 2;
    if (worlds.length < 2) return;
    const entries = [{ value: '' }, ...worlds.map((w) => ({ value: worldKey(w), w }))];
    const keep = new Set(entries.map((e) => e.value));
    for (const [value, row] of this.rows) {
      if (!keep.has(value)) {
        row.label.remove();
        this.rows.delete(value);
      }
    }
    let prev = null;
    for (const { value, w } of entries) {
      let row = this.rows.get(value);
      if (!row) {
        row = this.makeRow(value);
        this.rows.set(value, row);
      }
      // In list order; an element already in place is not moved (moving would drop its focus).
      const want = prev ? prev.nextSibling : this.list.firstChild;
      if (want !== row.label) this.list.insertBefore(row.label, want);
      prev = row.label;
      if (w) {
        const full = isFull(w);
        const elsewhere = isElsewhere(w);
        setText(row.parts.name, w.name);
        setText(row.parts.count, ` · ${players(w.players)}`);
        setText(row.parts.full, full ? ' · full' : '');
        row.parts.full.hidden = !full;
        setText(row.parts.where, elsewhere ? ` · ${whereLabel(w)}` : '');
        row.parts.where.hidden = !elsewhere;
        row.label.classList.toggle('full', full);
        row.label.classList.toggle('elsewhere', elsewhere);
        const on = elsewhere ? ` on another server (${w.process ? `process ${w.process}, ` : ''}${whereLabel(w)})` : '';
        row.label.title = full ? `${w.name}${on} is full (${w.capacity} players): you can watch it` : `${players(w.players)} of ${w.capacity} in ${w.name}${on}`;
      } else {
        const at = this.doc.placement;
        const allFull = worlds.every(isFull);
        setText(row.parts.count, allFull ? ' · every world is full' : at ? ` · ${at}` : '');
        row.label.title = allFull ? 'Every world is full right now: you can watch, or try again in a moment'
          : at ? `The server picks a lively world with room for you: ${at} now` : 'The server picks a world with room for you';
      }
      row.input.checked = value === (this.choice || '');
    }
  }

  makeRow(value) {
    const label = document.createElement('label');
    label.className = 'world-opt';
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'world';
    input.value = value;
    const name = document.createElement('span');
    name.textContent = value || 'Place me';
    const count = document.createElement('small');
    const full = document.createElement('small');
    full.className = 'world-full';
    full.hidden = true;
    // Another process's world: where it runs (its host), after the rest.
    const where = document.createElement('small');
    where.className = 'world-where';
    where.hidden = true;
    label.append(input, name, count, full, where);
    return { label, input, parts: { name, count, full, where } };
  }
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
