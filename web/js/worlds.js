// The world list on the join card. A server may run several worlds (GET /worlds): the card
// shows each with its player count, and "Place me" (the server picks a lively world with
// room: the answer's `placement`), as radio buttons in a fieldset. It is refreshed every few
// seconds while the card is shown, and hidden while the server has only one world (or is an
// older one without /worlds).
//
//   const picker = new WorldPicker({ fieldset, list, choice, onChoose, onList })
//   picker.choice: a world's name, or null for "Place me"
//   picker.polling(on), picker.refresh() -> Promise<doc|null>, picker.setChoice(name)
//   onChoose(name|null): the player picked another entry; onList(doc): a fresh /worlds answer

const POLL_MS = 3000;

/** GET /worlds: {placement, worlds: [{name, players, capacity, ...}]}, or null from a server without it. */
export async function fetchWorlds() {
  const res = await fetch('worlds', { cache: 'no-store' });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET /worlds answered ${res.status}`);
  const doc = await res.json();
  return doc && Array.isArray(doc.worlds) ? doc : null;
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

  has(name) {
    return !!this.doc && this.doc.worlds.some((w) => w.name === name);
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
  setChoice(name) {
    this.choice = name || null;
    this.render();
  }

  render() {
    const worlds = this.doc ? this.doc.worlds : [];
    this.fieldset.hidden = worlds.length < 2;
    if (worlds.length < 2) return;
    const entries = [{ value: '' }, ...worlds.map((w) => ({ value: w.name, w }))];
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
        setText(row.parts.count, ` · ${players(w.players)}`);
        setText(row.parts.full, full ? ' · full' : '');
        row.parts.full.hidden = !full;
        row.label.classList.toggle('full', full);
        row.label.title = full ? `${w.name} is full (${w.capacity} players): you can watch it` : `${players(w.players)} of ${w.capacity} in ${w.name}`;
      } else {
        const at = this.doc.placement;
        setText(row.parts.count, at ? ` · ${at}` : '');
        row.label.title = at ? `The server picks a lively world with room for you: ${at} now` : 'The server picks a world with room for you';
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
    label.append(input, name, count, full);
    return { label, input, parts: { count, full } };
  }
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
