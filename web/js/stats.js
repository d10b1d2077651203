// The live stats page: polls /stats.json once a second and draws each series as a small
// line chart of the last few minutes, with a time axis (seconds ago) and round y values
// (1-2-5 steps; whole numbers for counts). Plain canvas, no library.

const CHARTS = [
  { title: 'players', series: [['players', 'players']], unit: '', integer: true },
  { title: 'connections', series: [['connections', 'connections']], unit: '', integer: true },
  { title: 'tick duration', series: [['tick_p50_ms', 'p50'], ['tick_p99_ms', 'p99']], unit: ' ms', digits: 2 },
  { title: 'late ticks', series: [['late_ticks', 'per second']], unit: '/s', integer: true },
  { title: 'tick frames sent', series: [['frames_per_s', 'frames/s']], unit: '/s', integer: true },
  { title: 'bytes sent', series: [['bytes_per_s', 'KB/s']], unit: ' KB/s', scale: 1 / 1024 },
  { title: 'frames skipped (slow clients)', series: [['skipped_per_s', 'per second']], unit: '/s', integer: true },
];
const COLORS = ['#f5b942', '#5cc8f5'];
const AXIS_W = 34;   // px left of the plot for the y labels
const AXIS_H = 14;   // px under the plot for the time labels

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
  const values = spec.series.map(([key]) => samples.map((s) => (s[key] || 0) * scale));
  const y = niceTicks(Math.max(0, ...values.flat()), !!spec.integer);
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
    vals.forEach((v, k) => {
      const px = X(samples[k].t ?? tNew - (samples.length - 1 - k) * 1000);
      if (k === 0) g.moveTo(px, Y(v)); else g.lineTo(px, Y(v));
    });
    g.stroke();
  });
  const last = values.map((v) => (v.length ? v[v.length - 1] : 0));
  chart.now.textContent = last.map((v) => v.toFixed(spec.digits ?? (v < 10 && v % 1 ? 1 : 0))).join(' / ') + spec.unit;
}

const charts = CHARTS.map(makeChart);
const status = document.getElementById('status');
// For tests and the curious: each chart's axis labels as last drawn.
window.statsPage = { get charts() { return charts.map((c) => ({ title: c.spec.title, integer: !!c.spec.integer, ...c.axes })); } };

async function poll() {
  try {
    const res = await fetch('stats.json', { cache: 'no-store' });
    const doc = await res.json();
    charts.forEach((c) => draw(c, doc.samples));
    status.textContent = `${doc.samples.length} s of history · updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    status.textContent = `cannot reach the server (${err.message}); retrying`;
  }
}

poll();
setInterval(poll, 1000);
window.addEventListener('resize', poll);
