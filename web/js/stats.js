// The live stats page: polls /stats.json once a second and draws each series as a small
// line chart of the last few minutes, with a time axis (seconds ago) and round y values
// (1-2-5 steps; whole numbers for counts). Plain canvas, no library. Above them, a panel of
// the send rate as it stands: under load the daemon sends each viewer a frame only every k-th
// tick (watchers first, then players) and past that sheds some due viewers (server/
// send_scheduler.h). Those fields are newer than the rest: an older daemon lacks them, and the
// page shows "–" for them.
//
// A daemon running several worlds keeps a history per world: /stats.json lists them
// (`worlds`), and the page then shows a selector; the charts poll /stats.json?world=NAME
// (`?world=NAME` in the page's URL picks one from the start).

const CHARTS = [
  { title: 'players', series: [['players', 'players']], unit: '', integer: true },
  // The process's connections, whichever world is shown (a connection is not in a world until its hello).
  { title: 'connections (all worlds)', series: [['connections', 'connections']], unit: '', integer: true },
  { title: 'tick duration', series: [['tick_p50_ms', 'p50'], ['tick_p99_ms', 'p99']], unit: ' ms', digits: 2 },
  { title: 'late ticks (run over a tick after due)', series: [['late_ticks', 'per second']], unit: '/s', integer: true },
  { title: 'tick frames sent', series: [['frames_per_s', 'frames/s']], unit: '/s', integer: true },
  { title: 'bytes sent', series: [['bytes_per_s', 'KB/s']], unit: ' KB/s', scale: 1 / 1024 },
  { title: 'frames skipped (slow clients)', series: [['skipped_per_s', 'per second']], unit: '/s', integer: true },
  // Frames a second each viewer actually gets; the y axis reaches at least the game's tick
  // rate, so a rate under it shows as a drop from the top.
  {
    title: 'send rate per viewer', series: [['send_rate_players', 'players'], ['send_rate_watchers', 'watchers']],
    unit: '/s', optional: true, atLeast: ['game_ticks_per_s'],
  },
];
const COLORS = ['#f5b942', '#5cc8f5'];
const AXIS_W = 34;   // px left of the plot for the y labels
const AXIS_H = 14;   // px under the plot for the time labels
const SHED_LEVEL = 7;  // send_level at which due viewers are shed

// A sample's field as a number, or null when the daemon does not send it.
function num(sample, key) {
  const v = sample ? sample[key] : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

// A round step (1, 2 or 5 times a power of ten) giving at most `maxTicks` intervals up to
// `max`; at least 1 for counts, which have no fractions.
export function niceStep(max, maxTicks = 4, integer = false) {
  const raw = Math.max(max, 1e-9) / maxTicks;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw * (1 - 1e-9));
  return integer ? Math.max(1, Math.round(step)) : step;
}

// The y ticks: 0, step, 2 step ... up to the first at or over the data's maximum.
export function niceTicks(max, integer = false) {
  const step = niceStep(max, 4, integer);
  const top = Math.max(step, Math.ceil(max / step - 1e-9) * step);
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { step, ticks, top: ticks[ticks.length - 1] };
}

function fmtTick(v, step) {
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v >= 10000 ? `${Number((v / 1000).toFixed(Math.max(0, digits - 3)))}k` : v.toFixed(digits);
}

// Time ticks, in seconds before the newest sample: every 15 s, 30 s, 1 or 2 min, so that
// four to six fit.
function timeStep(spanS) {
  return [5, 10, 15, 30, 60, 120, 300].find((s) => spanS / s <= 6) || 600;
}

function fmtAgo(s) {
  if (s === 0) return 'now';
  return s % 60 === 0 ? `-${s / 60}m` : s > 60 ? `-${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}` : `-${s}s`;
}

function makeChart(spec) {
  const box = document.createElement('section');
  box.className = 'chart';
  const h = document.createElement('h2');
  const name = document.createElement('span');
  name.textContent = spec.title;
  const now = document.createElement('b');
  h.append(name, now);
  const canvas = document.createElement('canvas');
  const legend = document.createElement('div');
  legend.className = 'legend';
  spec.series.forEach(([, label], i) => {
    const swatch = document.createElement('i');
    swatch.style.background = COLORS[i];
    legend.append(swatch, label);
  });
  box.append(h, canvas, legend);
  document.getElementById('charts').append(box);
  return { spec, canvas, now };
}

function draw(chart, samples) {
  const { spec, canvas } = chart;
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const g = canvas.getContext('2d');
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, h);
  const scale = spec.scale || 1;
  // An optional field may be absent (an older daemon): null, drawn as a gap, not as 0.
  const values = spec.series.map(([key]) => samples.map((s) => {
    const v = num(s, key);
    return v == null ? (spec.optional ? null : 0) : v * scale;
  }));
  const floor = (spec.atLeast || []).flatMap((key) => samples.map((s) => (num(s, key) ?? 0) * scale));
  const present = values.flat().filter((v) => v != null);
  // Nothing to scale by at all: an axis of 0..1 rather than one of vanishing steps.
  const y = niceTicks(Math.max(spec.optional && !present.length ? 1 : 0, ...present, ...floor), !!spec.integer);
  // The plot: right of the y labels, above the time labels. x is time: the newest sample
  // at the right edge, older ones by their own timestamps (a gap in sampling shows).
  const x0 = AXIS_W, x1 = w - 4, y0 = 6, y1 = h - AXIS_H;
  const tNew = samples.length ? samples[samples.length - 1].t : 0;
  const tOld = samples.length ? samples[0].t : 0;
  const spanS = Math.max(60, Math.ceil((tNew - tOld) / 1000));
  const X = (t) => x1 - ((tNew - t) / 1000 / spanS) * (x1 - x0);
  const Y = (v) => y1 - (v / y.top) * (y1 - y0);
  g.font = '10px system-ui, sans-serif';
  g.lineWidth = 1;
  // y grid and labels.
  g.strokeStyle = 'rgba(255,255,255,0.08)';
  g.fillStyle = '#93a1b0';
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  g.beginPath();
  for (const v of y.ticks) {
    const py = Math.round(Y(v)) + 0.5;
    g.moveTo(x0, py);
    g.lineTo(x1, py);
    g.fillText(fmtTick(v, y.step), x0 - 5, py);
  }
  g.stroke();
  // Time axis: seconds before the newest sample.
  const ts = timeStep(spanS);
  const xTicks = [];
  g.textAlign = 'center';
  g.textBaseline = 'top';
  g.beginPath();
  for (let s = 0; s <= spanS; s += ts) {
    const px = Math.round(X(tNew - s * 1000)) + 0.5;
    g.moveTo(px, y1);
    g.lineTo(px, y1 + 3);
    const label = fmtAgo(s);
    xTicks.push(label);
    g.fillText(label, Math.min(x1 - 10, Math.max(x0 + 10, px)), y1 + 3);
  }
  g.stroke();
  chart.axes = { yTicks: y.ticks, yLabels: y.ticks.map((v) => fmtTick(v, y.step)), yStep: y.step, xTicks };
  values.forEach((vals, i) => {
    g.strokeStyle = COLORS[i];
    g.lineWidth = 1.5;
    g.beginPath();
    let pen = false;  // false after a gap: the next point starts a new piece of line
    vals.forEach((v, k) => {
      if (v == null) {
        pen = false;
        return;
      }
      const px = X(samples[k].t ?? tNew - (samples.length - 1 - k) * 1000);
      if (pen) g.lineTo(px, Y(v)); else g.moveTo(px, Y(v));
      pen = true;
    });
    g.stroke();
  });
  const last = values.map((v) => (v.length ? v[v.length - 1] : spec.optional ? null : 0));
  const shown = last.map((v) => (v == null ? '–' : v.toFixed(spec.digits ?? (v < 10 && v % 1 ? 1 : 0))));
  chart.now.textContent = shown.join(' / ') + (last.some((v) => v != null) ? spec.unit : '');
}

// ------------------------------------------------------------------ the send-rate panel

// "every tick", "every 2nd tick", "every 3rd tick", "every 4th tick".
export function everyKth(k) {
  if (k == null) return '–';
  if (k <= 1) return 'every tick';
  const suffix = k % 100 >= 11 && k % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[k % 10] || 'th');
  return `every ${k}${suffix} tick`;
}

// What a send level means, in words (server/send_scheduler.h).
export function levelText(level) {
  if (level == null) return '–';
  if (level <= 0) return 'everyone every tick';
  if (level <= 3) return 'watchers thinned';
  if (level < SHED_LEVEL) return 'players thinned too';
  return 'shedding viewers';
}

function fmtRate(v, unit) {
  return v == null ? '–' : `${v.toFixed(v % 1 ? 1 : 0)} ${unit}`;
}

function makeSendPanel() {
  const box = document.createElement('section');
  box.className = 'chart send';
  const h = document.createElement('h2');
  const name = document.createElement('span');
  name.textContent = 'send rate now';
  const level = document.createElement('b');
  h.append(name, level);
  const dl = document.createElement('dl');
  const rows = {};
  for (const [key, label, title] of [
    ['game', 'game time', 'Simulation ticks a second: should stay at the tick rate whatever the load'],
    ['players', 'players', 'How often a player is sent a frame, and the frames a second each player gets'],
    ['watchers', 'watchers', 'How often a spectator is sent a frame, and the frames a second each gets'],
    ['shed', 'shed', 'Frames due but not sent a second (only at the last send level)'],
  ]) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    dt.title = title;
    const dd = document.createElement('dd');
    dd.textContent = '–';
    dl.append(dt, dd);
    rows[key] = dd;
  }
  const note = document.createElement('p');
  note.className = 'note';
  box.append(h, dl, note);
  document.getElementById('charts').append(box);
  return { level, rows, note, values: {} };
}

function updateSendPanel(panel, samples) {
  const s = samples.length ? samples[samples.length - 1] : null;
  const v = {
    gameTicksPerS: num(s, 'game_ticks_per_s'),
    sendLevel: num(s, 'send_level'),
    kPlayers: num(s, 'k_players'),
    kWatchers: num(s, 'k_watchers'),
    sendRatePlayers: num(s, 'send_rate_players'),
    sendRateWatchers: num(s, 'send_rate_watchers'),
    shedPerS: num(s, 'viewers_shed_per_s'),
  };
  panel.values = v;
  const lvl = v.sendLevel;
  panel.level.textContent = lvl == null ? '–' : `level ${lvl}`;
  panel.level.className = lvl == null || lvl === 0 ? '' : lvl >= SHED_LEVEL ? 'bad' : 'warn';
  panel.rows.game.textContent = fmtRate(v.gameTicksPerS, 'ticks/s');
  panel.rows.players.textContent = v.kPlayers == null && v.sendRatePlayers == null
    ? '–' : `${everyKth(v.kPlayers)} · ${fmtRate(v.sendRatePlayers, 'frames/s')}`;
  panel.rows.watchers.textContent = v.kWatchers == null && v.sendRateWatchers == null
    ? '–' : `${everyKth(v.kWatchers)} · ${fmtRate(v.sendRateWatchers, 'frames/s')}`;
  panel.rows.shed.textContent = v.shedPerS == null ? '–' : `${v.shedPerS.toFixed(v.shedPerS % 1 ? 1 : 0)} /s`;
  panel.rows.shed.className = v.shedPerS ? 'bad' : '';
  panel.note.textContent = lvl == null
    ? (s ? 'This daemon does not report its send rate.' : '')
    : levelText(lvl);
}

const sendPanel = makeSendPanel();
const charts = CHARTS.map(makeChart);
const status = document.getElementById('status');
// For tests and the curious: each chart's axis labels as last drawn, and the send-rate
// panel's values (null where the daemon does not send them).
const worldPick = document.getElementById('world-pick');
const worldSelect = document.getElementById('world-select');
let world = new URLSearchParams(location.search).get('world') || null;  // null: the daemon's first world
let shownWorld = null;  // the world of the history drawn last (the answer's `world`)
window.statsPage = {
  get charts() { return charts.map((c) => ({ title: c.spec.title, integer: !!c.spec.integer, ...c.axes })); },
  get send() { return { ...sendPanel.values }; },
  /** The world whose history is drawn (null from a daemon with one world that does not say). */
  get world() { return shownWorld; },
};

// The URL says which world, so that a reload (or a shared link) shows the same one.
function setWorld(name) {
  world = name || null;
  const u = new URL(location.href);
  if (world) u.searchParams.set('world', world);
  else u.searchParams.delete('world');
  history.replaceState(history.state, '', u);
}

worldSelect.addEventListener('change', () => {
  missingWorld = null;
  setWorld(worldSelect.value);
  poll();
});

// The selector: only where the daemon has more than one world.
function showWorlds(doc) {
  const names = Array.isArray(doc.worlds) ? doc.worlds.filter((n) => typeof n === 'string') : [];
  worldPick.hidden = names.length < 2;
  if (names.length < 2) return;
  if ([...worldSelect.options].map((o) => o.value).join('\n') !== names.join('\n')) {
    worldSelect.replaceChildren(...names.map((n) => new Option(n, n)));
  }
  if (typeof doc.world === 'string' && worldSelect.value !== doc.world) worldSelect.value = doc.world;
}

let missingWorld = null;  // a ?world= the server did not know (shown until another is picked)

async function poll() {
  const asked = world;
  try {
    const res = await fetch(asked ? `stats.json?world=${encodeURIComponent(asked)}` : 'stats.json', { cache: 'no-store' });
    if (asked !== world) return;  // another world was picked meanwhile: its own poll draws it
    if (res.status === 404 && asked) {
      setWorld(null);  // no such world (any more): show the first, and say so
      missingWorld = asked;
      poll();
      return;
    }
    const doc = await res.json();
    if (asked !== world) return;
    shownWorld = typeof doc.world === 'string' ? doc.world : null;
    showWorlds(doc);
    updateSendPanel(sendPanel, doc.samples);
    charts.forEach((c) => draw(c, doc.samples));
    const named = missingWorld ? `no world "${missingWorld}" here: showing ${shownWorld || 'the first'} · `
      : shownWorld && !worldPick.hidden ? `${shownWorld} · ` : '';
    status.textContent = `${named}${doc.samples.length} s of history · updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    status.textContent = `cannot reach the server (${err.message}); retrying`;
  }
}

poll();
setInterval(poll, 1000);
window.addEventListener('resize', poll);
