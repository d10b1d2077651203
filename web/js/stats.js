// The live stats page: polls /stats.json once a second and draws each series as a small
// line chart of the last few minutes. Plain canvas, no library.

const CHARTS = [
  { title: 'players', series: [['players', 'players']], unit: '' },
  { title: 'connections', series: [['connections', 'connections']], unit: '' },
  { title: 'tick duration', series: [['tick_p50_ms', 'p50'], ['tick_p99_ms', 'p99']], unit: ' ms', digits: 2 },
  { title: 'late ticks', series: [['late_ticks', 'per second']], unit: '/s' },
  { title: 'tick frames sent', series: [['frames_per_s', 'frames/s']], unit: '/s' },
  { title: 'bytes sent', series: [['bytes_per_s', 'KB/s']], unit: ' KB/s', scale: 1 / 1024 },
  { title: 'frames skipped (slow clients)', series: [['skipped_per_s', 'per second']], unit: '/s' },
];
const COLORS = ['#f5b942', '#5cc8f5'];

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
  const max = Math.max(1e-9, ...values.flat()) * 1.15;
  // Grid: zero line and the top value.
  g.strokeStyle = 'rgba(255,255,255,0.08)';
  g.fillStyle = '#93a1b0';
  g.font = '10px system-ui, sans-serif';
  g.beginPath();
  g.moveTo(0, h - 0.5);
  g.lineTo(w, h - 0.5);
  g.moveTo(0, 0.5);
  g.lineTo(w, 0.5);
  g.stroke();
  g.fillText(max.toFixed(spec.digits ?? (max < 10 ? 1 : 0)), 2, 10);
  const n = samples.length;
  values.forEach((vals, i) => {
    g.strokeStyle = COLORS[i];
    g.lineWidth = 1.5;
    g.beginPath();
    vals.forEach((v, k) => {
      const x = n <= 1 ? w : (k / (n - 1)) * w;
      const y = h - (v / max) * (h - 4) - 1;
      if (k === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  });
  const last = values.map((v) => (v.length ? v[v.length - 1] : 0));
  chart.now.textContent = last.map((v) => v.toFixed(spec.digits ?? (v < 10 && v % 1 ? 1 : 0))).join(' / ') + spec.unit;
}

const charts = CHARTS.map(makeChart);
const status = document.getElementById('status');

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
